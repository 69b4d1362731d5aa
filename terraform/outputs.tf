output "alb_dns_name" {
  description = "DNS name of the ALB: verify with curl http://<this>/api/health (https:// with a certificate)."
  value       = module.alb.alb_dns_name
}

output "alb_zone_id" {
  description = "Route 53 zone ID of the ALB, for an alias record."
  value       = module.alb.alb_zone_id
}

output "target_group_arn" {
  description = "ARN of the app target group (aws elbv2 describe-target-health)."
  value       = module.alb.target_group_arn
}

output "db_writer_endpoint" {
  description = "Aurora cluster (writer) endpoint."
  value       = module.database.writer_endpoint
}

output "db_reader_endpoint" {
  description = "Aurora reader endpoint."
  value       = module.database.reader_endpoint
}

output "db_app_user_secret_arn" {
  description = "ARN of the application MySQL user's secret (the daemon's credentials; no automatic rotation, see docs/runbook.md)."
  value       = module.database.app_user_secret_arn
}

output "web_acl_arn" {
  description = "ARN of the WAF web ACL on the ALB (null when the WAF is off)."
  value       = module.alb.web_acl_arn
}

output "log_group_names" {
  description = "CloudWatch log groups the instances write to."
  value       = module.compute.log_group_names
}

output "db_master_secret_arn" {
  description = "ARN of the RDS-managed secret with the master credentials."
  value       = module.database.master_user_secret_arn
}

output "db_max_connections" {
  description = "max_connections set on the cluster (sized from asg_max_size x workers_per_instance)."
  value       = module.database.max_connections
}

output "redis_primary_endpoint" {
  description = "ElastiCache primary endpoint (TLS; the instances reach it through stunnel)."
  value       = module.cache.primary_endpoint
}

output "redis_auth_token_secret_arn" {
  description = "ARN of the secret holding the Redis AUTH token."
  value       = module.cache.auth_token_secret_arn
}

output "admin_token_secret_arn" {
  description = "ARN of the secret holding the admin API token."
  value       = module.compute.admin_token_secret_arn
}

output "admission_secret_arn" {
  description = "ARN of the secret holding the waiting room's admission HMAC key (rotating it invalidates outstanding tickets and admission tokens: docs/runbook.md)."
  value       = module.compute.admission_secret_arn
}

output "auth_mode" {
  description = "The daemon's auth_mode (jwt: reservations need a bearer token from the identity provider)."
  value       = var.auth_mode
}

output "sns_topic_arn" {
  description = "ARN of the alarm SNS topic."
  value       = module.monitoring.sns_topic_arn
}

output "autoscaling_group_name" {
  description = "Name of the app Auto Scaling group."
  value       = module.compute.autoscaling_group_name
}

output "vpc_id" {
  description = "ID of the VPC."
  value       = module.network.vpc_id
}

output "nat_public_ips" {
  description = "Public IPs the instances reach the internet from (for allow-lists)."
  value       = module.network.nat_public_ips
}

output "dashboard_name" {
  description = "CloudWatch dashboard name."
  value       = module.monitoring.dashboard_name
}
