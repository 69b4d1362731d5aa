################################################################################
# General
################################################################################

variable "project" {
  description = "Project name, the first part of every resource name."
  type        = string
  default     = "boxoffice"

  validation {
    condition     = can(regex("^[a-z][a-z0-9-]{1,14}$", var.project))
    error_message = "project must be 2-15 lower-case letters, digits or hyphens, starting with a letter."
  }
}

variable "environment" {
  description = "Environment name (prod, staging, dev); the second part of every resource name."
  type        = string
  default     = "prod"

  validation {
    condition     = can(regex("^[a-z][a-z0-9]{1,9}$", var.environment))
    error_message = "environment must be 2-10 lower-case letters or digits, starting with a letter."
  }
}

variable "region" {
  description = "AWS region to deploy to."
  type        = string
  default     = "us-east-1"

  validation {
    condition     = can(regex("^[a-z]{2}(-gov)?-[a-z]+-[0-9]$", var.region))
    error_message = "region must be an AWS region name such as us-east-1."
  }
}

variable "azs" {
  description = "Availability zones in var.region (2 to 4). The Aurora writer and the Redis primary go in the first, their replicas in the second."
  type        = list(string)
  default     = ["us-east-1a", "us-east-1b"]

  validation {
    condition     = length(var.azs) >= 2 && length(var.azs) <= 4 && length(distinct(var.azs)) == length(var.azs)
    error_message = "azs must list 2 to 4 distinct availability zones."
  }
}

variable "tags" {
  description = "Extra tags for every resource (merged over the project/environment defaults)."
  type        = map(string)
  default     = {}
}

################################################################################
# Network
################################################################################

variable "vpc_cidr" {
  description = "IPv4 CIDR of the VPC (/16 to /18: the ALB needs public subnets of at least /27)."
  type        = string
  default     = "10.20.0.0/16"

  validation {
    condition     = can(cidrhost(var.vpc_cidr, 0)) && can(regex("^[0-9.]+/1[678]$", var.vpc_cidr))
    error_message = "vpc_cidr must be a valid IPv4 CIDR with a prefix length between /16 and /18."
  }
}

variable "single_nat_gateway" {
  description = "Cost toggle: one NAT gateway for all AZs instead of one per AZ (less resilient)."
  type        = bool
  default     = false
}

################################################################################
# Load balancer
################################################################################

variable "certificate_arn" {
  description = "ACM certificate ARN for HTTPS. Required when environment is prod or production; null (HTTP only) is accepted elsewhere, for a first test deploy."
  type        = string
  default     = null

  validation {
    condition     = var.certificate_arn == null || can(regex("^arn:aws[a-z-]*:acm:[a-z0-9-]+:[0-9]{12}:certificate/[0-9a-f-]+$", var.certificate_arn))
    error_message = "certificate_arn must be null or an ACM certificate ARN."
  }

  validation {
    condition     = var.certificate_arn != null || !contains(["prod", "production"], var.environment)
    error_message = "certificate_arn is required in production (environment prod or production): production serves HTTPS only. Use another environment name for an HTTP-only test stack."
  }
}

variable "enable_waf" {
  description = "WAF web ACL (per-IP rate limit + AWS managed common rules) on the ALB. null = on in production (environment prod or production), off elsewhere."
  type        = bool
  default     = null
}

variable "waf_rate_limit" {
  description = "Requests one client address may send in 5 minutes before the WAF blocks it. An on-sale crowd behind one carrier NAT shares an address: keep it generous."
  type        = number
  default     = 3000

  validation {
    condition     = var.waf_rate_limit >= 10 && var.waf_rate_limit <= 2000000000
    error_message = "waf_rate_limit must be between 10 and 2000000000."
  }
}

variable "alb_deletion_protection" {
  description = "Protect the ALB against deletion."
  type        = bool
  default     = true
}

################################################################################
# Compute
################################################################################

variable "artifact_bucket_name" {
  description = "S3 bucket holding release bundles under releases/ (created by the release pipeline)."
  type        = string

  validation {
    condition     = can(regex("^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$", var.artifact_bucket_name))
    error_message = "artifact_bucket_name must be a valid S3 bucket name."
  }
}

variable "release_version" {
  description = "boxoffice release to install (s3://<bucket>/releases/boxoffice-release-<version>.tar.gz)."
  type        = string

  validation {
    condition     = can(regex("^[0-9]+\\.[0-9]+\\.[0-9]+([.+~-][0-9A-Za-z.]+)*$", var.release_version))
    error_message = "release_version must be a version such as 0.1.0."
  }
}

variable "instance_type" {
  description = "App instance type (x86_64)."
  type        = string
  default     = "t3.medium"
}

variable "ami_id" {
  description = "AMI for the app instances. null = latest official Debian 12 amd64."
  type        = string
  default     = null
}

variable "asg_min_size" {
  description = "Minimum app instances (at least 2: one per AZ)."
  type        = number
  default     = 2

  validation {
    condition     = var.asg_min_size >= 2
    error_message = "asg_min_size must be at least 2 so that losing one AZ leaves capacity."
  }
}

variable "asg_max_size" {
  description = "Maximum app instances; Aurora max_connections is sized from it."
  type        = number
  default     = 20

  validation {
    condition     = var.asg_max_size >= 2 && var.asg_max_size <= 50
    error_message = "asg_max_size must be between 2 and 50."
  }
}

variable "asg_desired_capacity" {
  description = "Initial app instances (target tracking adjusts it afterwards)."
  type        = number
  default     = 2
}

variable "workers_per_instance" {
  description = "boxoffice-fcgi workers per instance (one MySQL connection each; most of them wait for a shared commit under a surge, see docs/PERFORMANCE.md)."
  type        = number
  default     = 64

  validation {
    condition     = var.workers_per_instance >= 1 && var.workers_per_instance <= 256
    error_message = "workers_per_instance must be between 1 and 256."
  }
}

variable "enable_spot" {
  description = "Use Spot above the on-demand base through a mixed instances policy."
  type        = bool
  default     = false
}

################################################################################
# Identity (bring your own identity provider) and the waiting room
################################################################################

variable "auth_mode" {
  description = "Who a reservation's user is. jwt: the sub of a bearer token signed by your identity provider (Cognito, Auth0, Keycloak, ...) and verified with jwt_public_key_pem. none: the request body's userId is believed (the seed's behaviour; demos and load tests only). Production (environment prod or production) requires jwt."
  type        = string
  default     = "jwt"

  validation {
    condition     = contains(["jwt", "none"], var.auth_mode)
    error_message = "auth_mode must be jwt or none."
  }

  validation {
    condition     = var.auth_mode == "jwt" || !contains(["prod", "production"], var.environment)
    error_message = "auth_mode = none is refused in production (environment prod or production): anyone could reserve and cancel as anyone. Use another environment name for a demo or load-test stack."
  }
}

variable "jwt_algorithm" {
  description = "Signature algorithm of the identity provider's tokens: RS256 (an RSA key) or ES256 (a P-256 key). HS256, a shared secret, is for local stacks only and is not offered here."
  type        = string
  default     = "RS256"

  validation {
    condition     = contains(["RS256", "ES256"], var.jwt_algorithm)
    error_message = "jwt_algorithm must be RS256 or ES256."
  }
}

variable "jwt_public_key_pem" {
  description = "The identity provider's token-signing public key, PEM (SubjectPublicKeyInfo, -----BEGIN PUBLIC KEY-----), matching jwt_algorithm. Required with auth_mode jwt. It is no secret: it travels in the user data, and a new key rolls the fleet (instance refresh). Convert a JWKS entry to PEM first (docs/deploy.md)."
  type        = string
  default     = null

  validation {
    condition     = var.jwt_public_key_pem == null || can(regex("^-----BEGIN PUBLIC KEY-----\n[A-Za-z0-9+/=\n]+\n-----END PUBLIC KEY-----$", trimspace(coalesce(var.jwt_public_key_pem, "-"))))
    error_message = "jwt_public_key_pem must be a PEM public key (-----BEGIN PUBLIC KEY----- ... -----END PUBLIC KEY-----), never a private key, a certificate or a JWKS document."
  }

  validation {
    condition     = var.auth_mode != "jwt" || var.jwt_public_key_pem != null
    error_message = "auth_mode = jwt needs jwt_public_key_pem: the identity provider's public key in PEM."
  }
}

variable "jwt_issuer" {
  description = "The iss claim every token must carry, exactly (e.g. https://cognito-idp.<region>.amazonaws.com/<pool id>). Required with auth_mode jwt: without it, a token the same key signed for another tenant or application would pass."
  type        = string
  default     = null

  validation {
    condition     = var.jwt_issuer == null || can(regex("^[^\\s\"]{1,512}$", coalesce(var.jwt_issuer, "-")))
    error_message = "jwt_issuer must be 1-512 characters without spaces or quotes."
  }

  validation {
    condition     = var.auth_mode != "jwt" || var.jwt_issuer != null
    error_message = "auth_mode = jwt needs jwt_issuer (the iss claim of your identity provider's tokens)."
  }
}

variable "jwt_audience" {
  description = "An aud value every token must carry (e.g. the client or API identifier the identity provider issues boxoffice's tokens for). null accepts any audience: set it unless the issuer issues tokens for boxoffice alone."
  type        = string
  default     = null

  validation {
    condition     = var.jwt_audience == null || can(regex("^[^\\s\"]{1,512}$", coalesce(var.jwt_audience, "-")))
    error_message = "jwt_audience must be 1-512 characters without spaces or quotes."
  }
}

################################################################################
# Data stores
################################################################################

variable "db_instance_class" {
  description = "Aurora instance class (writer and reader)."
  type        = string
  default     = "db.r6g.large"
}

variable "db_engine_version" {
  description = "Aurora MySQL 3 engine version."
  type        = string
  default     = "8.0.mysql_aurora.3.08.2"
}

variable "db_deletion_protection" {
  description = "Protect the Aurora cluster against deletion. Set false and apply before destroying."
  type        = bool
  default     = true
}

variable "db_backup_retention_days" {
  description = "Days of Aurora automated backups."
  type        = number
  default     = 7

  validation {
    condition     = var.db_backup_retention_days >= 7 && var.db_backup_retention_days <= 35
    error_message = "db_backup_retention_days must be between 7 and 35."
  }
}

variable "db_snapshot_identifier" {
  description = "Restore: create the Aurora cluster from this snapshot. Changing it replaces the running cluster (docs/deploy.md, restore from a snapshot)."
  type        = string
  default     = null
}

variable "db_restore_to_point_in_time" {
  description = "Point-in-time recovery: create the Aurora cluster as a copy of source_cluster_identifier at restore_to_time (RFC 3339, UTC; null = latest restorable). Replaces the running cluster (docs/deploy.md)."
  type = object({
    source_cluster_identifier = string
    restore_to_time           = optional(string)
  })
  default = null
}

variable "db_final_snapshot_suffix" {
  description = "Suffix of the final snapshot Aurora takes when the cluster is deleted or replaced: <project>-<environment>-aurora-<suffix>. Use a new one for every replacement."
  type        = string
  default     = "final"
}

variable "redis_node_type" {
  description = "ElastiCache node type (primary and replica)."
  type        = string
  default     = "cache.t4g.small"
}

################################################################################
# Monitoring
################################################################################

variable "log_retention_days" {
  description = "Days CloudWatch Logs keeps the instances' logs (journal, nginx, bootstrap, metrics events) and Aurora's exported logs."
  type        = number
  default     = 30

  validation {
    condition     = contains([1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653], var.log_retention_days)
    error_message = "log_retention_days must be a value CloudWatch Logs accepts (1, 3, 5, 7, 14, 30, 60, 90, ... 3653)."
  }
}

variable "alarm_email" {
  description = "Email address for alarm notifications (null = none; confirm the subscription mail)."
  type        = string
  default     = null
}
