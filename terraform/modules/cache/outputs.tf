output "replication_group_id" {
  description = "ID of the replication group."
  value       = aws_elasticache_replication_group.this.id
}

output "primary_endpoint" {
  description = "Primary endpoint address (the stunnel client's target)."
  value       = aws_elasticache_replication_group.this.primary_endpoint_address
}

output "reader_endpoint" {
  description = "Reader endpoint address."
  value       = aws_elasticache_replication_group.this.reader_endpoint_address
}

output "port" {
  description = "Redis port."
  value       = var.port
}

output "member_cluster_ids" {
  description = "Cache cluster (node) IDs, <replication group>-001 and -002: the CacheClusterId CloudWatch dimension."
  value       = [for i in range(2) : format("%s-%03d", aws_elasticache_replication_group.this.id, i + 1)]
}

output "auth_token_secret_arn" {
  description = "ARN of the Secrets Manager secret holding the Redis AUTH token (plain string)."
  value       = aws_secretsmanager_secret.auth_token.arn
}
