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

run "day2_logs_and_app_user" {
  command = plan

  module {
    source = "./modules/database"
  }

  assert {
    condition     = one([for p in aws_rds_cluster_parameter_group.this.parameter : p.value if p.name == "slow_query_log"]) == "1" && one([for p in aws_rds_cluster_parameter_group.this.parameter : p.value if p.name == "log_output"]) == "FILE" && one([for p in aws_rds_cluster_parameter_group.this.parameter : p.value if p.name == "long_query_time"]) == "0.5"
    error_message = "slowquery is exported, so slow_query_log must be on (FILE, 0.5 s)."
  }

  assert {
    condition     = toset(keys(aws_cloudwatch_log_group.exports)) == toset(["error", "slowquery"]) && aws_cloudwatch_log_group.exports["slowquery"].name == "/aws/rds/cluster/bo-test-aurora/slowquery" && aws_cloudwatch_log_group.exports["error"].retention_in_days == 30
    error_message = "The exported logs' groups must exist with a 30-day retention."
  }

  assert {
    condition     = toset(aws_rds_cluster.this.enabled_cloudwatch_logs_exports) == toset(["error", "slowquery"])
    error_message = "The cluster exports the error and slow query logs."
  }

  assert {
    condition     = aws_secretsmanager_secret.app_user.recovery_window_in_days == 7 && startswith(aws_secretsmanager_secret.app_user.name_prefix, "bo-test/db-app-user-")
    error_message = "The application user has its own secret."
  }

  assert {
    condition     = output.app_username == "boxoffice_app"
    error_message = "The application user is boxoffice_app by default."
  }
}

run "rejects_bad_app_username" {
  command = plan

  module {
    source = "./modules/database"
  }

  variables {
    app_username = "App-User"
  }

  expect_failures = [var.app_username]
}

run "restore_from_snapshot" {
  command = plan

  module {
    source = "./modules/database"
  }

  variables {
    snapshot_identifier   = "bo-test-aurora-before-bad-release"
    final_snapshot_suffix = "before-restore-1"
  }

  assert {
    condition     = aws_rds_cluster.this.snapshot_identifier == "bo-test-aurora-before-bad-release" && length(aws_rds_cluster.this.restore_to_point_in_time) == 0
    error_message = "snapshot_identifier must create the cluster from that snapshot."
  }

  assert {
    condition     = aws_rds_cluster.this.cluster_identifier == "bo-test-aurora" && aws_rds_cluster.this.final_snapshot_identifier == "bo-test-aurora-before-restore-1"
    error_message = "The restored cluster keeps the identifier (same endpoint); the old one leaves a uniquely named final snapshot."
  }
}

run "point_in_time_recovery" {
  command = plan

  module {
    source = "./modules/database"
  }

  variables {
    restore_to_point_in_time = {
      source_cluster_identifier = "bo-test-aurora"
      restore_to_time           = "2026-12-01T13:45:00Z"
    }
  }

  assert {
    condition     = aws_rds_cluster.this.restore_to_point_in_time[0].source_cluster_identifier == "bo-test-aurora" && aws_rds_cluster.this.restore_to_point_in_time[0].restore_to_time == "2026-12-01T13:45:00Z" && aws_rds_cluster.this.restore_to_point_in_time[0].restore_type == "full-copy"
    error_message = "restore_to_point_in_time must restore a full copy of the source cluster at that time."
  }
}

run "point_in_time_recovery_latest" {
  command = plan

  module {
    source = "./modules/database"
  }

  variables {
    restore_to_point_in_time = {
      source_cluster_identifier = "bo-test-aurora"
    }
  }

  assert {
    condition     = aws_rds_cluster.this.restore_to_point_in_time[0].use_latest_restorable_time == true
    error_message = "Without a time, restore to the latest restorable time."
  }
}

run "rejects_snapshot_and_point_in_time_together" {
  command = plan

  module {
    source = "./modules/database"
  }

  variables {
    snapshot_identifier = "some-snapshot"
    restore_to_point_in_time = {
      source_cluster_identifier = "bo-test-aurora"
    }
  }

  expect_failures = [aws_rds_cluster.this]
}

run "rejects_bad_restore_time" {
  command = plan

  module {
    source = "./modules/database"
  }

  variables {
    restore_to_point_in_time = {
      source_cluster_identifier = "bo-test-aurora"
      restore_to_time           = "yesterday at noon"
    }
  }

  expect_failures = [var.restore_to_point_in_time]
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
