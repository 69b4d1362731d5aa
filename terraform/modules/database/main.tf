################################################################################
# Connection budget
#
# The seed ran out of connections: 100 per pool x 20 instances against Aurora's
# default. boxoffice-fcgi holds exactly one MySQL connection per worker, so with
# the root module's defaults (ASG max 20, 64 workers, 30 admin):
#
#   app fleet at max size   20 x 64                  = 1280
#   headroom 25% of that    ceil(1280 x 0.25)        =  320 (a worker being recycled
#                           (max_requests) and its replacement overlap; an instance
#                           draining for 35 s while its replacement connects)
#   admin/migrations/ops                             =   30
#   max_connections                                  = 1630
#
# (64 workers: under a surge most of them wait for a shared commit, and more of
# them make larger batches; 64 confirmed 0.97-1.33x the reservations/s of 32 in
# five full benches, over 1x in four, docs/PERFORMANCE.md.) Aurora derives about 1000 from the memory of
# a db.r6g.large (16 GiB) and accepts more: these connections are mostly idle or
# waiting on a commit, each costs the writer a thread and its buffers, and the
# "connections" alarm fires at 80% of the cap. The cap is set from the fleet,
# not the instance memory: an operator who lowers asg_max_size or
# workers_per_instance lowers it too.
#
# Aurora MySQL accepts max_connections only at the instance level, so it lives
# in the DB parameter group that both instances use; the cluster parameter
# group holds the cluster-wide settings (character set, collation).
################################################################################

locals {
  app_connections = var.app_max_instances * var.app_connections_per_instance
  max_connections = local.app_connections + ceil(local.app_connections * 0.25) + var.admin_connections
}

################################################################################
# Subnet group and parameter group
################################################################################

resource "aws_db_subnet_group" "this" {
  name        = "${var.name}-aurora"
  description = "boxoffice Aurora: private data subnets"
  subnet_ids  = var.subnet_ids

  tags = merge({ "Name" = "${var.name}-aurora" }, var.tags)
}

resource "aws_rds_cluster_parameter_group" "this" {
  name_prefix = "${var.name}-aurora-mysql8-"
  family      = "aurora-mysql8.0"
  description = "boxoffice cluster settings"

  parameter {
    name         = "character_set_server"
    value        = "utf8mb4"
    apply_method = "immediate"
  }

  parameter {
    name         = "collation_server"
    value        = "utf8mb4_0900_ai_ci"
    apply_method = "immediate"
  }

  # The cluster exports "slowquery" to CloudWatch Logs (below): without the
  # slow log on, that export is an empty log group. FILE is what RDS exports.
  parameter {
    name         = "slow_query_log"
    value        = "1"
    apply_method = "immediate"
  }

  parameter {
    name         = "long_query_time"
    value        = tostring(var.long_query_time_seconds)
    apply_method = "immediate"
  }

  parameter {
    name         = "log_output"
    value        = "FILE"
    apply_method = "immediate"
  }

  tags = var.tags

  lifecycle {
    create_before_destroy = true
  }
}

resource "aws_db_parameter_group" "this" {
  name_prefix = "${var.name}-aurora-mysql8-instance-"
  family      = "aurora-mysql8.0"
  description = "boxoffice: max_connections sized from the app fleet"

  parameter {
    name         = "max_connections"
    value        = tostring(local.max_connections)
    apply_method = "immediate"
  }

  # The reservation path holds row locks for milliseconds; fail fast instead of
  # queueing behind a stuck transaction for the 50 s default.
  parameter {
    name         = "innodb_lock_wait_timeout"
    value        = "5"
    apply_method = "immediate"
  }

  tags = var.tags

  lifecycle {
    create_before_destroy = true
  }
}

################################################################################
# Log groups for the exported logs
#
# RDS creates /aws/rds/cluster/<id>/<log> on the first export, with no expiry.
# Created here first, they carry the retention.
################################################################################

locals {
  cluster_identifier = "${var.name}-aurora"
  exported_logs      = ["error", "slowquery"]
}

resource "aws_cloudwatch_log_group" "exports" {
  for_each = toset(local.exported_logs)

  name              = "/aws/rds/cluster/${local.cluster_identifier}/${each.key}"
  retention_in_days = var.log_retention_days

  tags = var.tags
}

################################################################################
# Application user's secret
#
# The app logs in as its own user, not as the master: RDS rotates the master
# secret (every 7 days by default) and only the migration step reads it. The
# migration step creates this user with the master credentials and grants it
# DML on the app's tables only (scripts/migrate --app-user). The secret has no
# automatic rotation; rotating it by hand is a refresh path the instances
# follow (a timer re-reads it and reloads the daemon): docs/runbook.md.
################################################################################

data "aws_secretsmanager_random_password" "app_user" {
  # Letters and digits only: the value passes through SQL, a shell option file
  # and the daemon's config without any quoting question.
  password_length     = 40
  exclude_punctuation = true
  include_space       = false
}

resource "aws_secretsmanager_secret" "app_user" {
  name_prefix             = "${var.name}/db-app-user-"
  description             = "boxoffice application MySQL user (JSON username/password); no automatic rotation"
  recovery_window_in_days = var.secret_recovery_window_days

  tags = merge({ "Name" = "${var.name}-db-app-user" }, var.tags)
}

resource "aws_secretsmanager_secret_version" "app_user" {
  secret_id = aws_secretsmanager_secret.app_user.id
  secret_string = jsonencode({
    username = var.app_username
    password = data.aws_secretsmanager_random_password.app_user.random_password
  })

  # The data source yields a new value on every plan: keep the first one.
  # A rotation writes a new version outside Terraform (runbook).
  lifecycle {
    ignore_changes = [secret_string]
  }
}

################################################################################
# Cluster
################################################################################

resource "aws_rds_cluster" "this" {
  cluster_identifier = local.cluster_identifier
  engine             = "aurora-mysql"
  engine_mode        = "provisioned"
  engine_version     = var.engine_version
  database_name      = var.database_name
  port               = 3306

  # The master password never appears in Terraform: RDS generates it and keeps
  # it in a Secrets Manager secret ({"username","password"}) that it rotates.
  master_username             = var.master_username
  manage_master_user_password = true

  db_subnet_group_name            = aws_db_subnet_group.this.name
  vpc_security_group_ids          = [var.security_group_id]
  db_cluster_parameter_group_name = aws_rds_cluster_parameter_group.this.name

  storage_encrypted = true

  backup_retention_period      = var.backup_retention_days
  preferred_backup_window      = "02:00-03:00"
  preferred_maintenance_window = "mon:03:30-mon:04:30"
  copy_tags_to_snapshot        = true
  skip_final_snapshot          = false
  final_snapshot_identifier    = "${var.name}-aurora-${var.final_snapshot_suffix}"
  deletion_protection          = var.deletion_protection

  # Restores (docs/deploy.md): a new cluster from a snapshot, or from another cluster at a
  # point in time. Setting either on a running stack replaces the cluster: Terraform takes
  # the final snapshot of the old one, then creates the restored one under the same
  # identifier, so the endpoint name the instances use does not change.
  snapshot_identifier = var.snapshot_identifier

  dynamic "restore_to_point_in_time" {
    for_each = var.restore_to_point_in_time == null ? [] : [var.restore_to_point_in_time]

    content {
      source_cluster_identifier  = restore_to_point_in_time.value.source_cluster_identifier
      restore_type               = "full-copy"
      restore_to_time            = restore_to_point_in_time.value.restore_to_time
      use_latest_restorable_time = restore_to_point_in_time.value.restore_to_time == null ? true : null
    }
  }

  enabled_cloudwatch_logs_exports = local.exported_logs

  tags = merge({ "Name" = "${var.name}-aurora" }, var.tags)

  # The log groups exist (with their retention) before RDS first exports.
  depends_on = [aws_cloudwatch_log_group.exports]

  lifecycle {
    precondition {
      condition     = var.snapshot_identifier == null || var.restore_to_point_in_time == null
      error_message = "Restore from a snapshot or to a point in time, not both."
    }
  }
}

################################################################################
# Instances: one writer, one reader in another AZ (failover target)
################################################################################

resource "aws_rds_cluster_instance" "writer" {
  identifier         = "${var.name}-aurora-1"
  cluster_identifier = aws_rds_cluster.this.id
  engine             = aws_rds_cluster.this.engine
  engine_version     = aws_rds_cluster.this.engine_version
  instance_class     = var.instance_class
  availability_zone  = var.azs[0]
  promotion_tier     = 0

  db_subnet_group_name       = aws_db_subnet_group.this.name
  db_parameter_group_name    = aws_db_parameter_group.this.name
  publicly_accessible        = false
  auto_minor_version_upgrade = true

  performance_insights_enabled          = true
  performance_insights_retention_period = var.performance_insights_retention_days

  tags = merge({ "Name" = "${var.name}-aurora-1", "Role" = "writer" }, var.tags)
}

resource "aws_rds_cluster_instance" "reader" {
  identifier         = "${var.name}-aurora-2"
  cluster_identifier = aws_rds_cluster.this.id
  engine             = aws_rds_cluster.this.engine
  engine_version     = aws_rds_cluster.this.engine_version
  instance_class     = var.instance_class
  availability_zone  = var.azs[1]
  promotion_tier     = 1

  db_subnet_group_name       = aws_db_subnet_group.this.name
  db_parameter_group_name    = aws_db_parameter_group.this.name
  publicly_accessible        = false
  auto_minor_version_upgrade = true

  performance_insights_enabled          = true
  performance_insights_retention_period = var.performance_insights_retention_days

  tags = merge({ "Name" = "${var.name}-aurora-2", "Role" = "reader" }, var.tags)

  # Created after the writer, so that the first instance really is the writer.
  depends_on = [aws_rds_cluster_instance.writer]
}
