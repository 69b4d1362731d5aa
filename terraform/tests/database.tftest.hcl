mock_provider "aws" {}

variables {
  name                         = "bo-test"
  subnet_ids                   = ["subnet-0000000000000000a", "subnet-0000000000000000b"]
  security_group_id            = "sg-0123456789abcdef0"
  azs                          = ["us-east-1a", "us-east-1b"]
  app_max_instances            = 20
  app_connections_per_instance = 16
}

run "aurora_cluster" {
  command = plan

  module {
    source = "./modules/database"
  }

  assert {
    condition     = one([for p in aws_db_parameter_group.this.parameter : p.value if p.name == "max_connections"]) == "430"
    error_message = "max_connections must be 20 x 16 + 80 + 30 = 430."
  }

  assert {
    condition     = aws_db_parameter_group.this.family == "aurora-mysql8.0" && aws_rds_cluster_parameter_group.this.family == "aurora-mysql8.0"
    error_message = "Both parameter groups must be for Aurora MySQL 8.0 (version 3)."
  }

  assert {
    condition     = aws_rds_cluster.this.engine == "aurora-mysql" && startswith(aws_rds_cluster.this.engine_version, "8.0.mysql_aurora.3.")
    error_message = "The cluster must be Aurora MySQL 3."
  }

  assert {
    condition     = aws_rds_cluster.this.manage_master_user_password == true && aws_rds_cluster.this.master_password == null
    error_message = "The master password must be managed by RDS in Secrets Manager."
  }

  assert {
    condition     = aws_rds_cluster.this.storage_encrypted == true && aws_rds_cluster.this.backup_retention_period == 7 && aws_rds_cluster.this.deletion_protection == true && aws_rds_cluster.this.skip_final_snapshot == false
    error_message = "Encryption, 7-day backups, deletion protection and a final snapshot are required."
  }

  assert {
    condition     = aws_rds_cluster_instance.writer.availability_zone == "us-east-1a" && aws_rds_cluster_instance.reader.availability_zone == "us-east-1b"
    error_message = "Writer and reader must be in different AZs."
  }

  assert {
    condition     = aws_rds_cluster_instance.writer.performance_insights_enabled == true && aws_rds_cluster_instance.reader.performance_insights_enabled == true && aws_rds_cluster_instance.writer.publicly_accessible == false
    error_message = "Performance Insights on, and never publicly accessible."
  }
}

run "rejects_aurora_mysql_2" {
  command = plan

  module {
    source = "./modules/database"
  }

  variables {
    engine_version = "5.7.mysql_aurora.2.11.2"
  }

  expect_failures = [var.engine_version]
}

run "rejects_reserved_master_username" {
  command = plan

  module {
    source = "./modules/database"
  }

  variables {
    master_username = "admin"
  }

  expect_failures = [var.master_username]
}
