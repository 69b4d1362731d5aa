data "aws_region" "current" {}
data "aws_partition" "current" {}
data "aws_caller_identity" "current" {}

locals {
  alarm_actions = [aws_sns_topic.this.arn]
  region        = data.aws_region.current.name
  alb_dims      = { LoadBalancer = var.alb_arn_suffix }
  tg_dims       = { LoadBalancer = var.alb_arn_suffix, TargetGroup = var.target_group_arn_suffix }
  db_dims       = { DBClusterIdentifier = var.db_cluster_id }
}

################################################################################
# SNS topic (every alarm notifies it)
################################################################################

data "aws_iam_policy_document" "sns_kms" {
  count = var.enable_sns_encryption ? 1 : 0

  statement {
    sid       = "AccountAdministers"
    actions   = ["kms:*"]
    resources = ["*"]

    principals {
      type        = "AWS"
      identifiers = ["arn:${data.aws_partition.current.partition}:iam::${data.aws_caller_identity.current.account_id}:root"]
    }
  }

  # CloudWatch alarms and RDS event notifications publish to the encrypted
  # topic as services; without the key they fail silently.
  statement {
    sid       = "ServicesPublishToEncryptedTopic"
    actions   = ["kms:Decrypt", "kms:GenerateDataKey*"]
    resources = ["*"]

    principals {
      type        = "Service"
      identifiers = ["cloudwatch.amazonaws.com", "events.rds.amazonaws.com"]
    }
  }
}

resource "aws_kms_key" "sns" {
  count = var.enable_sns_encryption ? 1 : 0

  description             = "${var.name} alarm topic"
  enable_key_rotation     = true
  deletion_window_in_days = 7
  policy                  = data.aws_iam_policy_document.sns_kms[0].json

  tags = var.tags
}

resource "aws_kms_alias" "sns" {
  count = var.enable_sns_encryption ? 1 : 0

  name          = "alias/${var.name}-alarms"
  target_key_id = aws_kms_key.sns[0].key_id
}

resource "aws_sns_topic" "this" {
  name              = "${var.name}-alarms"
  kms_master_key_id = var.enable_sns_encryption ? aws_kms_key.sns[0].arn : null

  tags = var.tags
}

# The topic's policy: the account administers it; CloudWatch and RDS events may
# publish, for this account's resources only.
data "aws_iam_policy_document" "sns" {
  statement {
    sid       = "AccountAdministers"
    actions   = ["sns:Publish", "sns:Subscribe", "sns:GetTopicAttributes", "sns:SetTopicAttributes", "sns:ListSubscriptionsByTopic", "sns:DeleteTopic", "sns:AddPermission", "sns:RemovePermission", "sns:Receive"]
    resources = [aws_sns_topic.this.arn]

    principals {
      type        = "AWS"
      identifiers = ["arn:${data.aws_partition.current.partition}:iam::${data.aws_caller_identity.current.account_id}:root"]
    }
  }

  statement {
    sid       = "ServicesPublish"
    actions   = ["sns:Publish"]
    resources = [aws_sns_topic.this.arn]

    principals {
      type        = "Service"
      identifiers = ["cloudwatch.amazonaws.com", "events.rds.amazonaws.com"]
    }

    condition {
      test     = "StringEquals"
      variable = "aws:SourceAccount"
      values   = [data.aws_caller_identity.current.account_id]
    }
  }
}

resource "aws_sns_topic_policy" "this" {
  arn    = aws_sns_topic.this.arn
  policy = data.aws_iam_policy_document.sns.json
}

resource "aws_sns_topic_subscription" "email" {
  count = var.alarm_email == null ? 0 : 1

  topic_arn = aws_sns_topic.this.arn
  protocol  = "email"
  endpoint  = var.alarm_email
}

################################################################################
# App tier: Auto Scaling group and ALB
################################################################################

resource "aws_cloudwatch_metric_alarm" "asg_cpu_high" {
  alarm_name          = "${var.name}-asg-cpu-high"
  alarm_description   = "App fleet CPU above ${var.asg_cpu_threshold}% for 10 minutes: target tracking (70%) is not keeping up, or the group is at max size."
  namespace           = "AWS/EC2"
  metric_name         = "CPUUtilization"
  dimensions          = { AutoScalingGroupName = var.autoscaling_group_name }
  statistic           = "Average"
  period              = 60
  evaluation_periods  = 10
  datapoints_to_alarm = 8
  threshold           = var.asg_cpu_threshold
  comparison_operator = "GreaterThanThreshold"
  treat_missing_data  = "missing"
  alarm_actions       = local.alarm_actions
  ok_actions          = local.alarm_actions

  tags = var.tags
}

resource "aws_cloudwatch_metric_alarm" "alb_5xx" {
  alarm_name          = "${var.name}-alb-5xx"
  alarm_description   = "The ALB itself answered 5xx (502/503/504: no healthy target, connection errors, timeouts)."
  namespace           = "AWS/ApplicationELB"
  metric_name         = "HTTPCode_ELB_5XX_Count"
  dimensions          = local.alb_dims
  statistic           = "Sum"
  period              = 60
  evaluation_periods  = 3
  datapoints_to_alarm = 2
  threshold           = var.alb_5xx_threshold
  comparison_operator = "GreaterThanThreshold"
  treat_missing_data  = "notBreaching"
  alarm_actions       = local.alarm_actions
  ok_actions          = local.alarm_actions

  tags = var.tags
}

resource "aws_cloudwatch_metric_alarm" "target_5xx" {
  alarm_name          = "${var.name}-target-5xx"
  alarm_description   = "boxoffice answered 5xx (INTERNAL_SERVER_ERROR / SERVICE_UNAVAILABLE)."
  namespace           = "AWS/ApplicationELB"
  metric_name         = "HTTPCode_Target_5XX_Count"
  dimensions          = local.tg_dims
  statistic           = "Sum"
  period              = 60
  evaluation_periods  = 3
  datapoints_to_alarm = 2
  threshold           = var.alb_5xx_threshold
  comparison_operator = "GreaterThanThreshold"
  treat_missing_data  = "notBreaching"
  alarm_actions       = local.alarm_actions
  ok_actions          = local.alarm_actions

  tags = var.tags
}

resource "aws_cloudwatch_metric_alarm" "target_response_time" {
  alarm_name          = "${var.name}-target-response-time-p99"
  alarm_description   = "p99 target response time above ${var.response_time_p99_threshold}s."
  namespace           = "AWS/ApplicationELB"
  metric_name         = "TargetResponseTime"
  dimensions          = local.tg_dims
  extended_statistic  = "p99"
  period              = 60
  evaluation_periods  = 5
  datapoints_to_alarm = 3
  threshold           = var.response_time_p99_threshold
  comparison_operator = "GreaterThanThreshold"
  treat_missing_data  = "notBreaching"
  alarm_actions       = local.alarm_actions
  ok_actions          = local.alarm_actions

  tags = var.tags
}

resource "aws_cloudwatch_metric_alarm" "unhealthy_hosts" {
  alarm_name          = "${var.name}-unhealthy-hosts"
  alarm_description   = "At least one target fails the /api/health check."
  namespace           = "AWS/ApplicationELB"
  metric_name         = "UnHealthyHostCount"
  dimensions          = local.tg_dims
  statistic           = "Maximum"
  period              = 60
  evaluation_periods  = 3
  datapoints_to_alarm = 2
  threshold           = 0
  comparison_operator = "GreaterThanThreshold"
  treat_missing_data  = "breaching"
  alarm_actions       = local.alarm_actions
  ok_actions          = local.alarm_actions

  tags = var.tags
}

# Capacity, not a single sick target: fewer healthy targets than the group's
# minimum means the fleet is below its floor (an AZ lost, a bad release).
resource "aws_cloudwatch_metric_alarm" "healthy_hosts_low" {
  alarm_name          = "${var.name}-healthy-hosts-below-min"
  alarm_description   = "Fewer than ${var.min_healthy_hosts} healthy targets (the Auto Scaling group's minimum) for 3 minutes."
  namespace           = "AWS/ApplicationELB"
  metric_name         = "HealthyHostCount"
  dimensions          = local.tg_dims
  statistic           = "Minimum"
  period              = 60
  evaluation_periods  = 3
  datapoints_to_alarm = 3
  threshold           = var.min_healthy_hosts
  comparison_operator = "LessThanThreshold"
  treat_missing_data  = "breaching"
  alarm_actions       = local.alarm_actions
  ok_actions          = local.alarm_actions

  tags = var.tags
}

# The share of requests that ended in a 5xx (from the ALB or the app), so a
# surge does not trip it and a quiet hour with a few errors does.
resource "aws_cloudwatch_metric_alarm" "alb_5xx_rate" {
  alarm_name          = "${var.name}-alb-5xx-rate"
  alarm_description   = "More than ${var.alb_5xx_rate_threshold_percent}% of requests answered 5xx (ALB or target) over 5 minutes."
  evaluation_periods  = 5
  datapoints_to_alarm = 3
  threshold           = var.alb_5xx_rate_threshold_percent
  comparison_operator = "GreaterThanThreshold"
  treat_missing_data  = "notBreaching"
  alarm_actions       = local.alarm_actions
  ok_actions          = local.alarm_actions

  metric_query {
    id          = "rate"
    expression  = "IF(requests > 0, 100 * (elb5xx + target5xx) / requests, 0)"
    label       = "5xx % of requests"
    return_data = true
  }

  metric_query {
    id = "requests"

    metric {
      namespace   = "AWS/ApplicationELB"
      metric_name = "RequestCount"
      dimensions  = local.alb_dims
      stat        = "Sum"
      period      = 60
    }
  }

  metric_query {
    id = "elb5xx"

    metric {
      namespace   = "AWS/ApplicationELB"
      metric_name = "HTTPCode_ELB_5XX_Count"
      dimensions  = local.alb_dims
      stat        = "Sum"
      period      = 60
    }
  }

  metric_query {
    id = "target5xx"

    metric {
      namespace   = "AWS/ApplicationELB"
      metric_name = "HTTPCode_Target_5XX_Count"
      dimensions  = local.tg_dims
      stat        = "Sum"
      period      = 60
    }
  }

  tags = var.tags
}

################################################################################
# The app's own metrics (/api/metrics, scraped by the CloudWatch agent on each
# instance; counters arrive as per-scrape deltas, summed over the fleet)
################################################################################

locals {
  # The agent tags every scraped metric Stack=<name> (ansible: cloudwatch_agent).
  app_dims = { Stack = var.name }
}

resource "aws_cloudwatch_metric_alarm" "app_db_errors" {
  alarm_name          = "${var.name}-app-db-errors"
  alarm_description   = "boxoffice_db_errors_total rose by more than ${var.app_db_errors_threshold} in 5 minutes across the fleet: the app cannot talk to Aurora (failover, credentials, connections)."
  namespace           = var.metrics_namespace
  metric_name         = "boxoffice_db_errors_total"
  dimensions          = local.app_dims
  statistic           = "Sum"
  period              = 300
  evaluation_periods  = 1
  threshold           = var.app_db_errors_threshold
  comparison_operator = "GreaterThanThreshold"
  treat_missing_data  = "notBreaching"
  alarm_actions       = local.alarm_actions
  ok_actions          = local.alarm_actions

  tags = var.tags
}

resource "aws_cloudwatch_metric_alarm" "app_gate_compensations" {
  alarm_name          = "${var.name}-app-gate-compensations"
  alarm_description   = "boxoffice_gate_compensations_total rose by more than ${var.app_gate_compensations_threshold} in 5 minutes: admissions given back because the database step failed."
  namespace           = var.metrics_namespace
  metric_name         = "boxoffice_gate_compensations_total"
  dimensions          = local.app_dims
  statistic           = "Sum"
  period              = 300
  evaluation_periods  = 1
  threshold           = var.app_gate_compensations_threshold
  comparison_operator = "GreaterThanThreshold"
  treat_missing_data  = "notBreaching"
  alarm_actions       = local.alarm_actions
  ok_actions          = local.alarm_actions

  tags = var.tags
}

################################################################################
# Aurora
################################################################################

# Failovers, failures, maintenance and notifications of the cluster and its
# instances reach the same topic as the alarms.
resource "aws_db_event_subscription" "cluster" {
  name        = "${var.name}-aurora-cluster"
  sns_topic   = aws_sns_topic.this.arn
  source_type = "db-cluster"
  source_ids  = [var.db_cluster_id]

  event_categories = ["failover", "failure", "maintenance", "notification"]

  tags = var.tags
}

resource "aws_db_event_subscription" "instances" {
  name        = "${var.name}-aurora-instances"
  sns_topic   = aws_sns_topic.this.arn
  source_type = "db-instance"
  source_ids  = var.db_instance_ids

  event_categories = ["availability", "failover", "failure", "maintenance", "notification", "recovery"]

  tags = var.tags
}

resource "aws_cloudwatch_metric_alarm" "db_cpu" {
  alarm_name          = "${var.name}-aurora-cpu-high"
  alarm_description   = "Aurora CPU above ${var.db_cpu_threshold}%."
  namespace           = "AWS/RDS"
  metric_name         = "CPUUtilization"
  dimensions          = local.db_dims
  statistic           = "Maximum"
  period              = 60
  evaluation_periods  = 5
  datapoints_to_alarm = 4
  threshold           = var.db_cpu_threshold
  comparison_operator = "GreaterThanThreshold"
  treat_missing_data  = "missing"
  alarm_actions       = local.alarm_actions
  ok_actions          = local.alarm_actions

  tags = var.tags
}

resource "aws_cloudwatch_metric_alarm" "db_connections" {
  alarm_name          = "${var.name}-aurora-connections-high"
  alarm_description   = "Aurora connections above ${var.db_connections_alarm_percent}% of max_connections (${var.db_max_connections})."
  namespace           = "AWS/RDS"
  metric_name         = "DatabaseConnections"
  dimensions          = local.db_dims
  statistic           = "Maximum"
  period              = 60
  evaluation_periods  = 3
  datapoints_to_alarm = 2
  threshold           = floor(var.db_max_connections * var.db_connections_alarm_percent / 100)
  comparison_operator = "GreaterThanThreshold"
  treat_missing_data  = "missing"
  alarm_actions       = local.alarm_actions
  ok_actions          = local.alarm_actions

  tags = var.tags
}

resource "aws_cloudwatch_metric_alarm" "db_replica_lag" {
  alarm_name          = "${var.name}-aurora-replica-lag"
  alarm_description   = "Aurora reader lags the writer by more than ${var.db_replica_lag_threshold_ms} ms."
  namespace           = "AWS/RDS"
  metric_name         = "AuroraReplicaLagMaximum"
  dimensions          = local.db_dims
  statistic           = "Maximum"
  period              = 60
  evaluation_periods  = 5
  datapoints_to_alarm = 3
  threshold           = var.db_replica_lag_threshold_ms
  comparison_operator = "GreaterThanThreshold"
  treat_missing_data  = "missing"
  alarm_actions       = local.alarm_actions
  ok_actions          = local.alarm_actions

  tags = var.tags
}

resource "aws_cloudwatch_metric_alarm" "db_freeable_memory" {
  alarm_name          = "${var.name}-aurora-freeable-memory-low"
  alarm_description   = "Aurora freeable memory below ${var.db_freeable_memory_threshold_bytes} bytes."
  namespace           = "AWS/RDS"
  metric_name         = "FreeableMemory"
  dimensions          = local.db_dims
  statistic           = "Minimum"
  period              = 300
  evaluation_periods  = 3
  datapoints_to_alarm = 2
  threshold           = var.db_freeable_memory_threshold_bytes
  comparison_operator = "LessThanThreshold"
  treat_missing_data  = "missing"
  alarm_actions       = local.alarm_actions
  ok_actions          = local.alarm_actions

  tags = var.tags
}

################################################################################
# ElastiCache (per node: primary and replica)
################################################################################

resource "aws_cloudwatch_metric_alarm" "redis_memory" {
  count = length(var.redis_cluster_ids)

  alarm_name          = "${var.name}-redis-memory-high-${count.index + 1}"
  alarm_description   = "Redis memory above ${var.redis_memory_threshold}% of maxmemory on ${var.redis_cluster_ids[count.index]} (volatile-lru evicts only TTL keys)."
  namespace           = "AWS/ElastiCache"
  metric_name         = "DatabaseMemoryUsagePercentage"
  dimensions          = { CacheClusterId = var.redis_cluster_ids[count.index] }
  statistic           = "Maximum"
  period              = 300
  evaluation_periods  = 2
  threshold           = var.redis_memory_threshold
  comparison_operator = "GreaterThanThreshold"
  treat_missing_data  = "missing"
  alarm_actions       = local.alarm_actions
  ok_actions          = local.alarm_actions

  tags = var.tags
}

resource "aws_cloudwatch_metric_alarm" "redis_evictions" {
  count = length(var.redis_cluster_ids)

  alarm_name          = "${var.name}-redis-evictions-${count.index + 1}"
  alarm_description   = "Redis evicted keys on ${var.redis_cluster_ids[count.index]}: the cache is too small for the working set."
  namespace           = "AWS/ElastiCache"
  metric_name         = "Evictions"
  dimensions          = { CacheClusterId = var.redis_cluster_ids[count.index] }
  statistic           = "Sum"
  period              = 300
  evaluation_periods  = 1
  threshold           = 0
  comparison_operator = "GreaterThanThreshold"
  treat_missing_data  = "notBreaching"
  alarm_actions       = local.alarm_actions
  ok_actions          = local.alarm_actions

  tags = var.tags
}

resource "aws_cloudwatch_metric_alarm" "redis_cpu" {
  count = length(var.redis_cluster_ids)

  alarm_name          = "${var.name}-redis-engine-cpu-high-${count.index + 1}"
  alarm_description   = "Redis engine CPU above ${var.redis_cpu_threshold}% on ${var.redis_cluster_ids[count.index]}."
  namespace           = "AWS/ElastiCache"
  metric_name         = "EngineCPUUtilization"
  dimensions          = { CacheClusterId = var.redis_cluster_ids[count.index] }
  statistic           = "Average"
  period              = 60
  evaluation_periods  = 5
  datapoints_to_alarm = 4
  threshold           = var.redis_cpu_threshold
  comparison_operator = "GreaterThanThreshold"
  treat_missing_data  = "missing"
  alarm_actions       = local.alarm_actions
  ok_actions          = local.alarm_actions

  tags = var.tags
}

################################################################################
# Dashboard
################################################################################

locals {
  widget = {
    type   = "metric"
    width  = 12
    height = 6
  }

  dashboard_widgets = [
    { title = "Requests and 5xx", metrics = [
      ["AWS/ApplicationELB", "RequestCount", "LoadBalancer", var.alb_arn_suffix, { stat = "Sum" }],
      ["AWS/ApplicationELB", "HTTPCode_ELB_5XX_Count", "LoadBalancer", var.alb_arn_suffix, { stat = "Sum" }],
      ["AWS/ApplicationELB", "HTTPCode_Target_5XX_Count", "LoadBalancer", var.alb_arn_suffix, "TargetGroup", var.target_group_arn_suffix, { stat = "Sum" }],
    ] },
    { title = "Target response time (p50, p99)", metrics = [
      ["AWS/ApplicationELB", "TargetResponseTime", "LoadBalancer", var.alb_arn_suffix, "TargetGroup", var.target_group_arn_suffix, { stat = "p50" }],
      ["AWS/ApplicationELB", "TargetResponseTime", "LoadBalancer", var.alb_arn_suffix, "TargetGroup", var.target_group_arn_suffix, { stat = "p99" }],
    ] },
    { title = "Fleet: healthy hosts and CPU", metrics = [
      ["AWS/ApplicationELB", "HealthyHostCount", "LoadBalancer", var.alb_arn_suffix, "TargetGroup", var.target_group_arn_suffix, { stat = "Minimum" }],
      ["AWS/ApplicationELB", "UnHealthyHostCount", "LoadBalancer", var.alb_arn_suffix, "TargetGroup", var.target_group_arn_suffix, { stat = "Maximum" }],
      ["AWS/EC2", "CPUUtilization", "AutoScalingGroupName", var.autoscaling_group_name, { stat = "Average", yAxis = "right" }],
    ] },
    { title = "Aurora: CPU, connections, replica lag", metrics = [
      ["AWS/RDS", "CPUUtilization", "DBClusterIdentifier", var.db_cluster_id, { stat = "Maximum" }],
      ["AWS/RDS", "DatabaseConnections", "DBClusterIdentifier", var.db_cluster_id, { stat = "Maximum", yAxis = "right" }],
      ["AWS/RDS", "AuroraReplicaLagMaximum", "DBClusterIdentifier", var.db_cluster_id, { stat = "Maximum" }],
    ] },
    { title = "Healthy hosts vs the minimum, 5xx %", metrics = [
      ["AWS/ApplicationELB", "HealthyHostCount", "LoadBalancer", var.alb_arn_suffix, "TargetGroup", var.target_group_arn_suffix, { stat = "Minimum", label = "healthy (min ${var.min_healthy_hosts})" }],
      [{ expression = "IF(req > 0, 100 * (e5 + t5) / req, 0)", label = "5xx %", yAxis = "right" }],
      ["AWS/ApplicationELB", "RequestCount", "LoadBalancer", var.alb_arn_suffix, { stat = "Sum", id = "req", visible = false }],
      ["AWS/ApplicationELB", "HTTPCode_ELB_5XX_Count", "LoadBalancer", var.alb_arn_suffix, { stat = "Sum", id = "e5", visible = false }],
      ["AWS/ApplicationELB", "HTTPCode_Target_5XX_Count", "LoadBalancer", var.alb_arn_suffix, "TargetGroup", var.target_group_arn_suffix, { stat = "Sum", id = "t5", visible = false }],
    ] },
    { title = "App (/api/metrics): DB errors, gate compensations, reconnects", metrics = [
      for m in ["boxoffice_db_errors_total", "boxoffice_gate_compensations_total", "boxoffice_db_reconnects_total", "boxoffice_redis_errors_total"] :
      [var.metrics_namespace, m, "Stack", var.name, { stat = "Sum" }]
    ] },
    { title = "Redis: memory, CPU, evictions", metrics = concat(
      [for id in var.redis_cluster_ids : ["AWS/ElastiCache", "DatabaseMemoryUsagePercentage", "CacheClusterId", id, { stat = "Maximum" }]],
      [for id in var.redis_cluster_ids : ["AWS/ElastiCache", "EngineCPUUtilization", "CacheClusterId", id, { stat = "Average" }]],
      [for id in var.redis_cluster_ids : ["AWS/ElastiCache", "Evictions", "CacheClusterId", id, { stat = "Sum", yAxis = "right" }]],
    ) },
  ]
}

resource "aws_cloudwatch_dashboard" "this" {
  dashboard_name = "${var.name}-overview"

  dashboard_body = jsonencode({
    widgets = [
      for i, w in local.dashboard_widgets : merge(local.widget, {
        x = (i % 2) * 12
        y = floor(i / 2) * 6
        properties = {
          title   = w.title
          region  = local.region
          view    = "timeSeries"
          stacked = false
          period  = 60
          metrics = w.metrics
        }
      })
    ]
  })
}
