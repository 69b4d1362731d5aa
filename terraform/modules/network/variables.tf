variable "name" {
  description = "Name prefix for every resource in this module (e.g. boxoffice-prod)."
  type        = string

  validation {
    condition     = can(regex("^[a-z][a-z0-9-]{1,30}[a-z0-9]$", var.name))
    error_message = "name must be 3-32 characters of lower-case letters, digits and hyphens, starting with a letter."
  }
}

variable "cidr" {
  description = "IPv4 CIDR of the VPC. A /16 to /18: public subnets are 1/256 of it and the ALB needs at least a /27 per subnet."
  type        = string
  default     = "10.20.0.0/16"

  validation {
    condition     = can(cidrhost(var.cidr, 0)) && can(regex("^[0-9.]+/1[678]$", var.cidr))
    error_message = "cidr must be a valid IPv4 CIDR with a prefix length between /16 and /18."
  }
}

variable "azs" {
  description = "Availability zones to spread the subnets over (2 to 4, e.g. [\"eu-west-1a\", \"eu-west-1b\"])."
  type        = list(string)

  validation {
    condition     = length(var.azs) >= 2 && length(var.azs) <= 4 && length(distinct(var.azs)) == length(var.azs)
    error_message = "azs must list 2 to 4 distinct availability zones."
  }
}

variable "single_nat_gateway" {
  description = "Cost toggle: one shared NAT gateway instead of one per AZ. Saves a NAT's hourly charge per extra AZ, but an AZ outage then cuts egress for every private-app subnet."
  type        = bool
  default     = false
}

variable "tags" {
  description = "Tags added to every resource."
  type        = map(string)
  default     = {}
}
