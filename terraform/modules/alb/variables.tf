variable "name" {
  description = "Name prefix for the load balancer and target group (at most 26 characters, so that the suffixes fit AWS's 32)."
  type        = string

  validation {
    condition     = length(var.name) <= 26
    error_message = "name must be at most 26 characters: ALB and target group names are limited to 32."
  }
}

variable "vpc_id" {
  description = "ID of the VPC for the target group."
  type        = string
}

variable "subnet_ids" {
  description = "Public subnet IDs for the internet-facing ALB (one per AZ, at least 2)."
  type        = list(string)

  validation {
    condition     = length(var.subnet_ids) >= 2
    error_message = "An ALB needs subnets in at least 2 AZs."
  }
}

variable "security_group_id" {
  description = "ID of the ALB's security group."
  type        = string
}

variable "app_port" {
  description = "Port the target group sends traffic and health checks to (the instances' nginx)."
  type        = number
  default     = 8080
}

variable "certificate_arn" {
  description = "ACM certificate ARN for the HTTPS listener. null = no HTTPS listener, and the HTTP listener forwards instead of redirecting (for a first test deploy only)."
  type        = string
  default     = null

  validation {
    condition     = var.certificate_arn == null || can(regex("^arn:aws[a-z-]*:acm:[a-z0-9-]+:[0-9]{12}:certificate/[0-9a-f-]+$", var.certificate_arn))
    error_message = "certificate_arn must be null or an ACM certificate ARN (arn:aws:acm:<region>:<account>:certificate/<id>)."
  }
}

variable "ssl_policy" {
  description = "TLS security policy of the HTTPS listener."
  type        = string
  default     = "ELBSecurityPolicy-TLS13-1-2-2021-06"
}

variable "health_check_path" {
  description = "Target group health check path: the liveness endpoint, which calls no dependency (so a DB or Redis outage never drains the whole fleet)."
  type        = string
  default     = "/api/health"

  validation {
    condition     = startswith(var.health_check_path, "/")
    error_message = "health_check_path must start with /."
  }
}

variable "deregistration_delay" {
  description = "Seconds the ALB keeps draining a deregistering target. Set a little above the daemon's graceful_timeout_s (30) so in-flight requests finish before the instance stops."
  type        = number
  default     = 35

  validation {
    condition     = var.deregistration_delay >= 0 && var.deregistration_delay <= 3600
    error_message = "deregistration_delay must be between 0 and 3600 seconds."
  }
}

variable "idle_timeout" {
  description = "ALB idle timeout in seconds. The instances' nginx keeps idle client connections open longer (keepalive_timeout 75s in its site), so the ALB always closes first and never reuses a connection nginx is closing (a sporadic 502)."
  type        = number
  default     = 60

  validation {
    condition     = var.idle_timeout >= 1 && var.idle_timeout <= 4000
    error_message = "idle_timeout must be between 1 and 4000 seconds."
  }
}

variable "enable_deletion_protection" {
  description = "Protect the ALB against deletion (turn off before terraform destroy)."
  type        = bool
  default     = true
}

variable "create_waf" {
  description = "Put a WAF web ACL (per-IP rate limit + AWS managed common rules) in front of the ALB."
  type        = bool
  default     = false
}

variable "waf_rate_limit" {
  description = "Requests one client address may send in 5 minutes before the WAF blocks it (WAFv2 allows 10 to 2,000,000,000)."
  type        = number
  default     = 3000

  validation {
    condition     = var.waf_rate_limit >= 10 && var.waf_rate_limit <= 2000000000 && floor(var.waf_rate_limit) == var.waf_rate_limit
    error_message = "waf_rate_limit must be a whole number between 10 and 2000000000."
  }
}

variable "tags" {
  description = "Tags added to every resource."
  type        = map(string)
  default     = {}
}
