output "autoscaling_group_name" {
  description = "Name of the Auto Scaling group."
  value       = aws_autoscaling_group.this.name
}

output "autoscaling_group_arn" {
  description = "ARN of the Auto Scaling group."
  value       = aws_autoscaling_group.this.arn
}

output "launch_template_id" {
  description = "ID of the launch template."
  value       = aws_launch_template.this.id
}

output "ami_id" {
  description = "AMI the launch template uses."
  value       = local.ami_id
}

output "iam_role_name" {
  description = "Name of the instance IAM role."
  value       = aws_iam_role.this.name
}

output "admin_token_secret_arn" {
  description = "ARN of the Secrets Manager secret holding the admin API token."
  value       = aws_secretsmanager_secret.this["admin_token"].arn
}

output "admission_secret_arn" {
  description = "ARN of the Secrets Manager secret holding the waiting room's admission HMAC key."
  value       = aws_secretsmanager_secret.this["admission_secret"].arn
}

output "bootstrap_vars" {
  description = "The Ansible extra vars the user data writes to /etc/boxoffice/bootstrap-vars.json (no secrets: ARNs, endpoints, and the identity provider's public key)."
  value       = local.bootstrap_vars
}

output "log_group_names" {
  description = "CloudWatch log groups the instances' agent writes to, by content (journal, nginx_access, nginx_error, bootstrap, metrics)."
  value       = { for k, g in aws_cloudwatch_log_group.this : k => g.name }
}

output "launch_hook_name" {
  description = "Name of the launch lifecycle hook the user data completes once /api/ready answers 200."
  value       = local.launch_hook_name
}
