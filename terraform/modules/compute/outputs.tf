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
  value       = aws_secretsmanager_secret.admin_token.arn
}

output "bootstrap_vars" {
  description = "The Ansible extra vars the user data writes to /etc/boxoffice/bootstrap-vars.json (no secrets)."
  value       = local.bootstrap_vars
}
