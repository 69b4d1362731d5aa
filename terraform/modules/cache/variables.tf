variable "name" {
  description = "Name prefix for the replication group, subnet group, parameter group and secret."
  type        = string

  validation {
    condition     = length(var.name) <= 34
    error_message = "name must be at most 34 characters (replication group IDs are limited to 40)."
  }
}

variable "subnet_ids" {
  description = "Private data subnet IDs (one per AZ, at least 2)."
  type        = list(string)

  validation {
    condition     = length(var.subnet_ids) >= 2
    error_message = "The cache subnet group needs subnets in at least 2 AZs."
  }
}

variable "security_group_id" {
  description = "ID of the ElastiCache security group."
  type        = string
}

variable "azs" {
  description = "Availability zones: the primary goes in azs[0], the replica in azs[1]."
  type        = list(string)

  validation {
    condition     = length(var.azs) >= 2 && try(var.azs[0] != var.azs[1], false)
    error_message = "azs must hold at least 2 distinct AZs."
  }
}

variable "node_type" {
  description = "ElastiCache node type of the primary and the replica."
  type        = string
  default     = "cache.t4g.small"

  validation {
    condition     = can(regex("^cache\\.[a-z0-9]+\\.[a-z0-9]+$", var.node_type))
    error_message = "node_type must look like cache.t4g.small."
  }
}

variable "engine_version" {
  description = "Redis 7 engine version."
  type        = string
  default     = "7.1"

  validation {
    condition     = can(regex("^7\\.[0-9]+$", var.engine_version))
    error_message = "engine_version must be a Redis 7 version such as 7.1."
  }
}

variable "port" {
  description = "Redis port."
  type        = number
  default     = 6379
}

variable "snapshot_retention_days" {
  description = "Days of daily snapshots (0 = none). Redis holds only rebuildable state here."
  type        = number
  default     = 3

  validation {
    condition     = var.snapshot_retention_days >= 0 && var.snapshot_retention_days <= 35
    error_message = "snapshot_retention_days must be between 0 and 35."
  }
}

variable "secret_recovery_window_days" {
  description = "Recovery window of the auth token secret when it is deleted (0 = immediately)."
  type        = number
  default     = 7

  validation {
    condition     = var.secret_recovery_window_days == 0 || (var.secret_recovery_window_days >= 7 && var.secret_recovery_window_days <= 30)
    error_message = "secret_recovery_window_days must be 0 or between 7 and 30."
  }
}

variable "notification_topic_arn" {
  description = "SNS topic for ElastiCache events (failover, node replacement, maintenance); null = none."
  type        = string
  default     = null
}

variable "tags" {
  description = "Tags added to every resource."
  type        = map(string)
  default     = {}
}
