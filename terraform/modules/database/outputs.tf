output "cluster_id" {
  description = "Identifier of the Aurora cluster (the DBClusterIdentifier CloudWatch dimension)."
  value       = aws_rds_cluster.this.id
}

output "cluster_arn" {
  description = "ARN of the Aurora cluster."
  value       = aws_rds_cluster.this.arn
}

output "writer_endpoint" {
  description = "Cluster (writer) endpoint. Known only once the writer instance exists: a cluster without an instance accepts no connection, so instances that boot on this value must not come first."
  value       = aws_rds_cluster.this.endpoint

  depends_on = [aws_rds_cluster_instance.writer]
}

output "reader_endpoint" {
  description = "Reader endpoint (load-balanced over the readers)."
  value       = aws_rds_cluster.this.reader_endpoint
}

output "port" {
  description = "MySQL port."
  value       = aws_rds_cluster.this.port
}

output "database_name" {
  description = "Name of the application database."
  value       = aws_rds_cluster.this.database_name
}

output "app_user_secret_arn" {
  description = "ARN of the secret with the application user's credentials (JSON username/password)."
  value       = aws_secretsmanager_secret.app_user.arn
}

output "app_username" {
  description = "Name of the application MySQL user the migration step creates."
  value       = var.app_username
}

output "log_group_names" {
  description = "CloudWatch log groups of the exported Aurora logs."
  value       = [for g in aws_cloudwatch_log_group.exports : g.name]
}

output "master_user_secret_arn" {
  description = "ARN of the RDS-managed Secrets Manager secret with the master credentials."
  value       = try(aws_rds_cluster.this.master_user_secret[0].secret_arn, null)
}

output "instance_ids" {
  description = "Identifiers of the writer and reader instances."
  value       = [aws_rds_cluster_instance.writer.id, aws_rds_cluster_instance.reader.id]
}

output "max_connections" {
  description = "max_connections set in the instances' DB parameter group (see the arithmetic in main.tf)."
  value       = local.max_connections
}
