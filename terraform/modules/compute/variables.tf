variable "name" {
  description = "Name prefix for the instances, launch template, Auto Scaling group and IAM role."
  type        = string
}

variable "subnet_ids" {
  description = "Private app subnet IDs the Auto Scaling group spreads over (one per AZ)."
  type        = list(string)

  validation {
    condition     = length(var.subnet_ids) >= 2
    error_message = "The Auto Scaling group needs subnets in at least 2 AZs."
  }
}

variable "security_group_id" {
  description = "ID of the app instances' security group."
  type        = string
}

variable "target_group_arn" {
  description = "ARN of the ALB target group the instances register with."
  type        = string
}

variable "alb_arn_suffix" {
  description = "ARN suffix of the ALB (for the ALBRequestCountPerTarget scaling metric)."
  type        = string
}

variable "target_group_arn_suffix" {
  description = "ARN suffix of the target group (for the ALBRequestCountPerTarget scaling metric)."
  type        = string
}

variable "instance_type" {
  description = "EC2 instance type (x86_64: the default AMI lookup is Debian 12 amd64)."
  type        = string
  default     = "t3.medium"

  validation {
    condition     = can(regex("^[a-z][a-z0-9-]*\\.[a-z0-9]+$", var.instance_type))
    error_message = "instance_type must look like an EC2 instance type, e.g. t3.medium."
  }
}

variable "ami_id" {
  description = "AMI to launch. null = the latest official Debian 12 (bookworm) amd64 AMI."
  type        = string
  default     = null

  validation {
    condition     = var.ami_id == null || can(regex("^ami-[0-9a-f]{8,17}$", var.ami_id))
    error_message = "ami_id must be null or an AMI ID (ami-xxxxxxxx)."
  }
}

variable "root_volume_size" {
  description = "Size of the encrypted gp3 root volume in GiB (Debian + build toolchain + logs)."
  type        = number
  default     = 20

  validation {
    condition     = var.root_volume_size >= 8 && var.root_volume_size <= 1024
    error_message = "root_volume_size must be between 8 and 1024 GiB."
  }
}

variable "min_size" {
  description = "Minimum number of instances. At least 2, one per AZ, so one AZ can fail."
  type        = number
  default     = 2

  validation {
    condition     = var.min_size >= 2 && floor(var.min_size) == var.min_size
    error_message = "min_size must be a whole number of at least 2 (one instance per AZ)."
  }
}

variable "max_size" {
  description = "Maximum number of instances. Aurora's max_connections is sized from it, so raise both together."
  type        = number
  default     = 20

  validation {
    condition     = var.max_size >= 2 && var.max_size <= 50 && floor(var.max_size) == var.max_size
    error_message = "max_size must be a whole number between 2 and 50."
  }
}

variable "desired_capacity" {
  description = "Initial number of instances (scaling policies own it afterwards)."
  type        = number
  default     = 2
}

variable "workers_per_instance" {
  description = "boxoffice-fcgi workers per instance (each holds one MySQL connection)."
  type        = number
  default     = 64

  validation {
    condition     = var.workers_per_instance >= 1 && var.workers_per_instance <= 256 && floor(var.workers_per_instance) == var.workers_per_instance
    error_message = "workers_per_instance must be a whole number between 1 and 256."
  }
}

variable "health_check_grace_period" {
  description = "Seconds after an instance enters InService before ELB health counts. The launch hook already held it until /api/ready answered, so this only covers the target group's first checks."
  type        = number
  default     = 120

  validation {
    condition     = var.health_check_grace_period >= 60 && var.health_check_grace_period <= 3600
    error_message = "health_check_grace_period must be between 60 and 3600 seconds."
  }
}

variable "cpu_target_percent" {
  description = "Target tracking: average CPU utilisation of the group."
  type        = number
  default     = 70

  validation {
    condition     = var.cpu_target_percent >= 10 && var.cpu_target_percent <= 90
    error_message = "cpu_target_percent must be between 10 and 90."
  }
}

variable "requests_per_target" {
  description = "Target tracking: ALB requests per target per minute (ALBRequestCountPerTarget)."
  type        = number
  default     = 6000

  validation {
    condition     = var.requests_per_target > 0
    error_message = "requests_per_target must be positive."
  }
}

variable "enable_spot" {
  description = "Run part of the group on Spot through a mixed instances policy (on-demand base below)."
  type        = bool
  default     = false
}

variable "spot_instance_types" {
  description = "Instance types the mixed instances policy may use (more types = better Spot availability)."
  type        = list(string)
  default     = ["t3.medium", "t3a.medium", "m5.large", "m6i.large"]

  validation {
    condition     = length(var.spot_instance_types) >= 1
    error_message = "spot_instance_types must list at least one instance type."
  }
}

variable "on_demand_base_capacity" {
  description = "With Spot: instances that are always on-demand (keep at least min_size)."
  type        = number
  default     = 2

  validation {
    condition     = var.on_demand_base_capacity >= 0
    error_message = "on_demand_base_capacity must not be negative."
  }
}

variable "on_demand_percentage_above_base" {
  description = "With Spot: percentage of on-demand instances above the base capacity."
  type        = number
  default     = 25

  validation {
    condition     = var.on_demand_percentage_above_base >= 0 && var.on_demand_percentage_above_base <= 100
    error_message = "on_demand_percentage_above_base must be between 0 and 100."
  }
}

variable "artifact_bucket_name" {
  description = "S3 bucket holding the release bundles under releases/ (created by the release pipeline, not here)."
  type        = string

  validation {
    condition     = can(regex("^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$", var.artifact_bucket_name))
    error_message = "artifact_bucket_name must be a valid S3 bucket name."
  }
}

variable "release_version" {
  description = "Release to install: s3://<bucket>/releases/boxoffice-release-<version>.tar.gz."
  type        = string

  validation {
    condition     = can(regex("^[0-9]+\\.[0-9]+\\.[0-9]+([.+~-][0-9A-Za-z.]+)*$", var.release_version))
    error_message = "release_version must be a version such as 0.1.0 (digits, dots, and an optional -suffix)."
  }
}

variable "db_host" {
  description = "Aurora writer endpoint."
  type        = string
}

variable "db_port" {
  description = "Aurora port."
  type        = number
  default     = 3306
}

variable "db_name" {
  description = "Database name."
  type        = string
}

variable "db_app_secret_arn" {
  description = "ARN of the application MySQL user's secret (JSON username/password): the daemon's credentials."
  type        = string
}

variable "db_master_secret_arn" {
  description = "ARN of the Aurora-managed master user secret: read only by the migration step, which creates the application user."
  type        = string
}

variable "redis_host" {
  description = "ElastiCache primary endpoint (reached through the local stunnel client)."
  type        = string
}

variable "redis_port" {
  description = "ElastiCache port."
  type        = number
  default     = 6379
}

variable "redis_secret_arn" {
  description = "ARN of the Secrets Manager secret holding the Redis auth token."
  type        = string
}

variable "secret_recovery_window_days" {
  description = "Recovery window of the admin token and admission secrets when they are deleted (0 = immediately)."
  type        = number
  default     = 7

  validation {
    condition     = var.secret_recovery_window_days == 0 || (var.secret_recovery_window_days >= 7 && var.secret_recovery_window_days <= 30)
    error_message = "secret_recovery_window_days must be 0 or between 7 and 30."
  }
}

variable "auth_mode" {
  description = "The daemon's auth_mode: jwt (the user is the verified bearer token's sub) or none (the request body's userId is believed)."
  type        = string
  default     = "jwt"
  nullable    = false

  validation {
    condition     = contains(["jwt", "none"], var.auth_mode)
    error_message = "auth_mode must be jwt or none."
  }
}

variable "jwt_algorithm" {
  description = "Signature algorithm of the identity provider's tokens: RS256 or ES256 (public-key algorithms only; HS256 is for local stacks)."
  type        = string
  default     = "RS256"
  nullable    = false

  validation {
    condition     = contains(["RS256", "ES256"], var.jwt_algorithm)
    error_message = "jwt_algorithm must be RS256 or ES256."
  }
}

variable "jwt_public_key_pem" {
  description = "The identity provider's token-signing public key in PEM (-----BEGIN PUBLIC KEY-----). Not a secret: it travels in the user data. Empty only with auth_mode none."
  type        = string
  default     = ""
  nullable    = false

  validation {
    condition     = var.jwt_public_key_pem == "" || can(regex("^-----BEGIN PUBLIC KEY-----\n[A-Za-z0-9+/=\n]+\n-----END PUBLIC KEY-----$", trimspace(var.jwt_public_key_pem)))
    error_message = "jwt_public_key_pem must be a PEM public key (-----BEGIN PUBLIC KEY----- ... -----END PUBLIC KEY-----), never a private key or a certificate."
  }
}

variable "jwt_issuer" {
  description = "The iss claim tokens must carry (exact match). Empty accepts any issuer (only with auth_mode none)."
  type        = string
  default     = ""
  nullable    = false

  validation {
    condition     = can(regex("^[^\\s\"]{0,512}$", var.jwt_issuer))
    error_message = "jwt_issuer must be at most 512 characters without spaces or quotes."
  }
}

variable "jwt_audience" {
  description = "An aud value tokens must carry. Empty accepts any audience."
  type        = string
  default     = ""
  nullable    = false

  validation {
    condition     = can(regex("^[^\\s\"]{0,512}$", var.jwt_audience))
    error_message = "jwt_audience must be at most 512 characters without spaces or quotes."
  }
}

variable "app_port" {
  description = "Port nginx listens on (the target group's port); the user data checks /api/ready there."
  type        = number
  default     = 8080

  validation {
    condition     = var.app_port >= 1024 && var.app_port <= 65535
    error_message = "app_port must be an unprivileged TCP port."
  }
}

variable "bootstrap_timeout" {
  description = "Seconds the first boot may take before /api/ready is polled (packages, the build, Ansible)."
  type        = number
  default     = 1200

  validation {
    condition     = var.bootstrap_timeout >= 300 && var.bootstrap_timeout <= 5400
    error_message = "bootstrap_timeout must be between 300 and 5400 seconds."
  }
}

variable "ready_timeout" {
  description = "Seconds the user data waits for /api/ready to answer 200 through nginx before it abandons the launch."
  type        = number
  default     = 300

  validation {
    condition     = var.ready_timeout >= 30 && var.ready_timeout <= 1800
    error_message = "ready_timeout must be between 30 and 1800 seconds."
  }
}

variable "instance_warmup" {
  description = "Seconds after an instance is InService before the instance refresh counts it healthy and moves on."
  type        = number
  default     = 60

  validation {
    condition     = var.instance_warmup >= 0 && var.instance_warmup <= 3600
    error_message = "instance_warmup must be between 0 and 3600 seconds."
  }
}

variable "log_retention_days" {
  description = "Retention of the instances' log groups (journal, nginx, bootstrap, metrics events)."
  type        = number
  default     = 30

  validation {
    condition     = contains([1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653], var.log_retention_days)
    error_message = "log_retention_days must be a value CloudWatch Logs accepts (1, 3, 5, 7, 14, 30, 60, 90, ... 3653)."
  }
}

variable "metrics_namespace" {
  description = "CloudWatch namespace the agent publishes the scraped /api/metrics counters in."
  type        = string
  default     = "boxoffice"

  validation {
    condition     = can(regex("^[A-Za-z0-9_./#:-]{1,255}$", var.metrics_namespace)) && !startswith(var.metrics_namespace, "AWS/")
    error_message = "metrics_namespace must be 1-255 characters of letters, digits and . _ / # : - and must not start with AWS/."
  }
}

variable "tags" {
  description = "Tags added to every resource (and propagated to the instances)."
  type        = map(string)
  default     = {}
}
