variable "name" {
  description = "Name prefix for the topic, alarms and dashboard."
  type        = string
}

variable "alarm_email" {
  description = "Email address subscribed to the alarm topic (null = no subscription; the recipient must confirm it)."
  type        = string
  default     = null

  validation {
    condition     = var.alarm_email == null || can(regex("^[^@\\s]+@[^@\\s]+\\.[^@\\s]+$", var.alarm_email))
    error_message = "alarm_email must be null or an email address."
  }
}

variable "enable_sns_encryption" {
  description = "Encrypt the topic with a customer-managed KMS key that CloudWatch may use (the AWS-managed aws/sns key would silently drop alarm notifications)."
  type        = bool
  default     = true
}

variable "autoscaling_group_name" {
  description = "Name of the app Auto Scaling group."
  type        = string
}

variable "alb_arn_suffix" {
  description = "ARN suffix of the ALB (LoadBalancer dimension)."
  type        = string
}

variable "target_group_arn_suffix" {
  description = "ARN suffix of the target group (TargetGroup dimension)."
  type        = string
}

variable "db_cluster_id" {
  description = "Aurora cluster identifier (DBClusterIdentifier dimension)."
  type        = string
}

variable "db_max_connections" {
  description = "max_connections of the cluster; the connections alarm fires at db_connections_alarm_percent of it."
  type        = number
}

variable "redis_cluster_ids" {
  description = "ElastiCache node IDs (CacheClusterId dimension), primary and replica."
  type        = list(string)

  validation {
    condition     = length(var.redis_cluster_ids) >= 1
    error_message = "redis_cluster_ids must list at least one node."
  }
}

variable "asg_cpu_threshold" {
  description = "ASG average CPU (%) that alarms: above the 70% scaling target, so it means scaling is not keeping up."
  type        = number
  default     = 85

  validation {
    condition     = var.asg_cpu_threshold > 0 && var.asg_cpu_threshold <= 100
    error_message = "asg_cpu_threshold must be a percentage."
  }
}

variable "alb_5xx_threshold" {
  description = "ALB- and target-generated 5xx responses per minute that alarm."
  type        = number
  default     = 10

  validation {
    condition     = var.alb_5xx_threshold >= 0
    error_message = "alb_5xx_threshold must not be negative."
  }
}

variable "response_time_p99_threshold" {
  description = "Target response time p99 in seconds that alarms."
  type        = number
  default     = 1

  validation {
    condition     = var.response_time_p99_threshold > 0
    error_message = "response_time_p99_threshold must be positive."
  }
}

variable "db_cpu_threshold" {
  description = "Aurora CPU (%) that alarms."
  type        = number
  default     = 80

  validation {
    condition     = var.db_cpu_threshold > 0 && var.db_cpu_threshold <= 100
    error_message = "db_cpu_threshold must be a percentage."
  }
}

variable "db_connections_alarm_percent" {
  description = "Percentage of max_connections in use that alarms."
  type        = number
  default     = 80

  validation {
    condition     = var.db_connections_alarm_percent > 0 && var.db_connections_alarm_percent <= 100
    error_message = "db_connections_alarm_percent must be a percentage."
  }
}

variable "db_replica_lag_threshold_ms" {
  description = "Maximum Aurora replica lag in milliseconds that alarms."
  type        = number
  default     = 1000

  validation {
    condition     = var.db_replica_lag_threshold_ms > 0
    error_message = "db_replica_lag_threshold_ms must be positive."
  }
}

variable "db_freeable_memory_threshold_bytes" {
  description = "Aurora freeable memory (bytes) below which it alarms."
  type        = number
  default     = 1073741824

  validation {
    condition     = var.db_freeable_memory_threshold_bytes > 0
    error_message = "db_freeable_memory_threshold_bytes must be positive."
  }
}

variable "redis_memory_threshold" {
  description = "Redis DatabaseMemoryUsagePercentage that alarms."
  type        = number
  default     = 80

  validation {
    condition     = var.redis_memory_threshold > 0 && var.redis_memory_threshold <= 100
    error_message = "redis_memory_threshold must be a percentage."
  }
}

variable "redis_cpu_threshold" {
  description = "Redis EngineCPUUtilization (%) that alarms (Redis is single-threaded)."
  type        = number
  default     = 80

  validation {
    condition     = var.redis_cpu_threshold > 0 && var.redis_cpu_threshold <= 100
    error_message = "redis_cpu_threshold must be a percentage."
  }
}

variable "min_healthy_hosts" {
  description = "Healthy targets below which the fleet is under its floor: the Auto Scaling group's min_size."
  type        = number

  validation {
    condition     = var.min_healthy_hosts >= 1
    error_message = "min_healthy_hosts must be at least 1."
  }
}

variable "db_instance_ids" {
  description = "Aurora instance identifiers (writer and reader), for the instance event subscription."
  type        = list(string)
}

variable "alb_5xx_rate_threshold_percent" {
  description = "Percentage of requests answered 5xx (by the ALB or the app) that alarms."
  type        = number
  default     = 5

  validation {
    condition     = var.alb_5xx_rate_threshold_percent > 0 && var.alb_5xx_rate_threshold_percent <= 100
    error_message = "alb_5xx_rate_threshold_percent must be a percentage."
  }
}

variable "metrics_namespace" {
  description = "CloudWatch namespace of the app's scraped /api/metrics counters (the CloudWatch agent's setting)."
  type        = string
  default     = "boxoffice"
}

variable "app_db_errors_threshold" {
  description = "boxoffice_db_errors_total increase over 5 minutes (whole fleet) that alarms."
  type        = number
  default     = 20

  validation {
    condition     = var.app_db_errors_threshold >= 0
    error_message = "app_db_errors_threshold must not be negative."
  }
}

variable "app_gate_compensations_threshold" {
  description = "boxoffice_gate_compensations_total increase over 5 minutes (whole fleet) that alarms."
  type        = number
  default     = 20

  validation {
    condition     = var.app_gate_compensations_threshold >= 0
    error_message = "app_gate_compensations_threshold must not be negative."
  }
}

variable "tags" {
  description = "Tags added to every resource."
  type        = map(string)
  default     = {}
}
