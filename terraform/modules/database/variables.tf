variable "name" {
  description = "Name prefix for the cluster, instances, subnet group and parameter group."
  type        = string
}

variable "subnet_ids" {
  description = "Private data subnet IDs (one per AZ, at least 2)."
  type        = list(string)

  validation {
    condition     = length(var.subnet_ids) >= 2
    error_message = "Aurora needs a subnet group spanning at least 2 AZs."
  }
}

variable "security_group_id" {
  description = "ID of the Aurora security group."
  type        = string
}

variable "azs" {
  description = "Availability zones: the writer goes in azs[0], the reader in azs[1]."
  type        = list(string)

  validation {
    condition     = length(var.azs) >= 2 && try(var.azs[0] != var.azs[1], false)
    error_message = "azs must hold at least 2 distinct AZs (writer and reader in different AZs)."
  }
}

variable "engine_version" {
  description = "Aurora MySQL 3 (MySQL 8.0-compatible) engine version."
  type        = string
  default     = "8.0.mysql_aurora.3.08.2"

  validation {
    condition     = can(regex("^8\\.0\\.mysql_aurora\\.3\\.[0-9]{2}\\.[0-9]+$", var.engine_version))
    error_message = "engine_version must be an Aurora MySQL 3 version, e.g. 8.0.mysql_aurora.3.08.2."
  }
}

variable "instance_class" {
  description = "Instance class of the writer and the reader."
  type        = string
  default     = "db.r6g.large"

  validation {
    condition     = can(regex("^db\\.[a-z0-9]+\\.[a-z0-9]+$", var.instance_class))
    error_message = "instance_class must look like db.r6g.large."
  }
}

variable "database_name" {
  description = "Name of the database created in the cluster."
  type        = string
  default     = "boxoffice"

  validation {
    condition     = can(regex("^[A-Za-z][A-Za-z0-9_]{0,63}$", var.database_name))
    error_message = "database_name must start with a letter and hold only letters, digits and underscores (max 64)."
  }
}

variable "master_username" {
  description = "Master user name. Its password is generated and rotated by RDS in Secrets Manager."
  type        = string
  default     = "boxoffice_admin"

  validation {
    condition     = can(regex("^[A-Za-z][A-Za-z0-9_]{0,15}$", var.master_username)) && !contains(["admin", "root", "rdsadmin"], lower(var.master_username))
    error_message = "master_username must be 1-16 letters, digits or underscores, start with a letter, and not be a reserved name."
  }
}

variable "app_max_instances" {
  description = "Maximum app instances (the Auto Scaling group's max_size); sizes max_connections."
  type        = number

  validation {
    condition     = var.app_max_instances >= 1
    error_message = "app_max_instances must be at least 1."
  }
}

variable "app_connections_per_instance" {
  description = "MySQL connections one app instance holds (boxoffice-fcgi opens one per worker)."
  type        = number

  validation {
    condition     = var.app_connections_per_instance >= 1
    error_message = "app_connections_per_instance must be at least 1."
  }
}

variable "admin_connections" {
  description = "Connections reserved beyond the app fleet: migrations, operators, monitoring."
  type        = number
  default     = 30

  validation {
    condition     = var.admin_connections >= 0
    error_message = "admin_connections must not be negative."
  }
}

variable "backup_retention_days" {
  description = "Days of automated backups (point-in-time recovery window)."
  type        = number
  default     = 7

  validation {
    condition     = var.backup_retention_days >= 7 && var.backup_retention_days <= 35
    error_message = "backup_retention_days must be between 7 and 35."
  }
}

variable "deletion_protection" {
  description = "Protect the cluster from deletion. Turn off (and apply) before terraform destroy."
  type        = bool
  default     = true
}

variable "performance_insights_retention_days" {
  description = "Performance Insights retention (7 is the free tier)."
  type        = number
  default     = 7

  validation {
    condition     = contains([7, 31, 62, 93, 186, 372, 731], var.performance_insights_retention_days)
    error_message = "performance_insights_retention_days must be 7, a multiple of 31 up to 372, or 731."
  }
}

variable "app_username" {
  description = "MySQL user the application logs in as (created by the migration step, DML on the app's tables only)."
  type        = string
  default     = "boxoffice_app"

  validation {
    condition     = can(regex("^[a-z][a-z0-9_]{0,31}$", var.app_username))
    error_message = "app_username must be 1-32 lower-case letters, digits or underscores, starting with a letter."
  }
}

variable "secret_recovery_window_days" {
  description = "Recovery window of the application user's secret when it is deleted (0 = immediately)."
  type        = number
  default     = 7

  validation {
    condition     = var.secret_recovery_window_days == 0 || (var.secret_recovery_window_days >= 7 && var.secret_recovery_window_days <= 30)
    error_message = "secret_recovery_window_days must be 0 or between 7 and 30."
  }
}

variable "long_query_time_seconds" {
  description = "Statements slower than this many seconds go to the slow query log (exported to CloudWatch Logs)."
  type        = number
  default     = 0.5

  validation {
    condition     = var.long_query_time_seconds >= 0 && var.long_query_time_seconds <= 60
    error_message = "long_query_time_seconds must be between 0 and 60."
  }
}

variable "log_retention_days" {
  description = "Retention of the exported Aurora logs (error, slowquery) in CloudWatch Logs."
  type        = number
  default     = 30

  validation {
    condition     = contains([1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653], var.log_retention_days)
    error_message = "log_retention_days must be a value CloudWatch Logs accepts (1, 3, 5, 7, 14, 30, 60, 90, ... 3653)."
  }
}

variable "snapshot_identifier" {
  description = "Create the cluster from this snapshot (identifier or ARN). null = a new, empty cluster. Changing it on a running stack replaces the cluster: see docs/deploy.md, restore."
  type        = string
  default     = null

  validation {
    condition     = var.snapshot_identifier == null || can(regex("^(arn:aws[a-z-]*:rds:[a-z0-9-]+:[0-9]{12}:cluster-snapshot:)?[A-Za-z][A-Za-z0-9:-]{0,254}$", var.snapshot_identifier))
    error_message = "snapshot_identifier must be null, a DB cluster snapshot identifier or its ARN."
  }
}

variable "restore_to_point_in_time" {
  description = "Create the cluster as a copy of source_cluster_identifier at restore_to_time (RFC 3339 UTC), or at the latest restorable time when restore_to_time is null. null = no point-in-time restore."
  type = object({
    source_cluster_identifier = string
    restore_to_time           = optional(string)
  })
  default = null

  validation {
    condition     = var.restore_to_point_in_time == null || try(var.restore_to_point_in_time.restore_to_time == null || can(formatdate("YYYY", var.restore_to_point_in_time.restore_to_time)), false)
    error_message = "restore_to_point_in_time.restore_to_time must be null or an RFC 3339 time such as 2026-12-01T13:45:00Z."
  }
}

variable "final_snapshot_suffix" {
  description = "Suffix of the final snapshot taken when the cluster is deleted or replaced (<name>-aurora-<suffix>). Give a new one for each replacement: snapshot names are unique."
  type        = string
  default     = "final"

  validation {
    condition     = can(regex("^[a-z0-9]([a-z0-9-]{0,38}[a-z0-9])?$", var.final_snapshot_suffix))
    error_message = "final_snapshot_suffix must be 1-40 lower-case letters, digits or hyphens, not starting or ending with a hyphen."
  }
}

variable "tags" {
  description = "Tags added to every resource."
  type        = map(string)
  default     = {}
}
