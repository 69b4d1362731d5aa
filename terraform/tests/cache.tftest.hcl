mock_provider "aws" {}

variables {
  name              = "bo-test"
  subnet_ids        = ["subnet-0000000000000000a", "subnet-0000000000000000b"]
  security_group_id = "sg-0123456789abcdef0"
  azs               = ["us-east-1a", "us-east-1b"]
}

run "redis_replication_group" {
  command = plan

  module {
    source = "./modules/cache"
  }

  assert {
    condition     = aws_elasticache_replication_group.this.engine == "redis" && startswith(aws_elasticache_replication_group.this.engine_version, "7.")
    error_message = "The cache must be Redis 7."
  }

  assert {
    condition     = aws_elasticache_replication_group.this.num_cache_clusters == 2 && aws_elasticache_replication_group.this.automatic_failover_enabled == true && aws_elasticache_replication_group.this.multi_az_enabled == true
    error_message = "A primary and a replica with Multi-AZ automatic failover."
  }

  assert {
    condition     = tostring(aws_elasticache_replication_group.this.at_rest_encryption_enabled) == "true" && tostring(aws_elasticache_replication_group.this.transit_encryption_enabled) == "true"
    error_message = "Encryption at rest and in transit."
  }

  assert {
    condition     = one([for p in aws_elasticache_parameter_group.this.parameter : p.value if p.name == "maxmemory-policy"]) == "volatile-lru"
    error_message = "maxmemory-policy must be volatile-lru (gate counters and locks have no TTL)."
  }

  assert {
    condition     = aws_elasticache_replication_group.this.preferred_cache_cluster_azs == tolist(["us-east-1a", "us-east-1b"])
    error_message = "Primary and replica in the first two AZs."
  }

  assert {
    condition     = data.aws_secretsmanager_random_password.auth_token.exclude_punctuation == true && data.aws_secretsmanager_random_password.auth_token.password_length >= 16
    error_message = "The auth token must be long and free of characters ElastiCache rejects."
  }
}

run "rejects_redis_6" {
  command = plan

  module {
    source = "./modules/cache"
  }

  variables {
    engine_version = "6.2"
  }

  expect_failures = [var.engine_version]
}
