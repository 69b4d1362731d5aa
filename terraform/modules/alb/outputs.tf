output "alb_arn" {
  description = "ARN of the load balancer."
  value       = aws_lb.this.arn
}

output "alb_arn_suffix" {
  description = "ARN suffix of the load balancer (the LoadBalancer CloudWatch dimension)."
  value       = aws_lb.this.arn_suffix
}

output "alb_dns_name" {
  description = "DNS name of the load balancer."
  value       = aws_lb.this.dns_name
}

output "alb_zone_id" {
  description = "Route 53 zone ID of the load balancer (for an alias record)."
  value       = aws_lb.this.zone_id
}

output "target_group_arn" {
  description = "ARN of the app target group."
  value       = aws_lb_target_group.this.arn
}

output "target_group_arn_suffix" {
  description = "ARN suffix of the target group (the TargetGroup CloudWatch dimension)."
  value       = aws_lb_target_group.this.arn_suffix
}

output "https_enabled" {
  description = "Whether the HTTPS listener exists (a certificate was given)."
  value       = local.create_https
}

output "web_acl_arn" {
  description = "ARN of the WAF web ACL on the ALB (null when create_waf is false)."
  value       = try(aws_wafv2_web_acl.this[0].arn, null)
}
