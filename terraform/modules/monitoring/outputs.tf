output "sns_topic_arn" {
  description = "ARN of the alarm topic."
  value       = aws_sns_topic.this.arn
}

output "dashboard_name" {
  description = "Name of the CloudWatch dashboard."
  value       = aws_cloudwatch_dashboard.this.dashboard_name
}

output "alarm_names" {
  description = "Names of every alarm this module creates."
  value = concat(
    [
      aws_cloudwatch_metric_alarm.asg_cpu_high.alarm_name,
      aws_cloudwatch_metric_alarm.alb_5xx.alarm_name,
      aws_cloudwatch_metric_alarm.target_5xx.alarm_name,
      aws_cloudwatch_metric_alarm.target_response_time.alarm_name,
      aws_cloudwatch_metric_alarm.unhealthy_hosts.alarm_name,
      aws_cloudwatch_metric_alarm.healthy_hosts_low.alarm_name,
      aws_cloudwatch_metric_alarm.alb_5xx_rate.alarm_name,
      aws_cloudwatch_metric_alarm.app_db_errors.alarm_name,
      aws_cloudwatch_metric_alarm.app_gate_compensations.alarm_name,
      aws_cloudwatch_metric_alarm.db_cpu.alarm_name,
      aws_cloudwatch_metric_alarm.db_connections.alarm_name,
      aws_cloudwatch_metric_alarm.db_replica_lag.alarm_name,
      aws_cloudwatch_metric_alarm.db_freeable_memory.alarm_name,
    ],
    aws_cloudwatch_metric_alarm.redis_memory[*].alarm_name,
    aws_cloudwatch_metric_alarm.redis_evictions[*].alarm_name,
    aws_cloudwatch_metric_alarm.redis_cpu[*].alarm_name,
  )
}

output "db_event_subscription_names" {
  description = "Names of the Aurora event subscriptions (cluster and instances)."
  value       = [aws_db_event_subscription.cluster.name, aws_db_event_subscription.instances.name]
}
