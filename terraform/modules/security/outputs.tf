output "alb_security_group_id" {
  description = "ID of the ALB's security group."
  value       = aws_security_group.alb.id
}

output "app_security_group_id" {
  description = "ID of the app instances' security group."
  value       = aws_security_group.app.id
}

output "db_security_group_id" {
  description = "ID of the Aurora security group."
  value       = aws_security_group.db.id
}

output "redis_security_group_id" {
  description = "ID of the ElastiCache security group."
  value       = aws_security_group.redis.id
}
