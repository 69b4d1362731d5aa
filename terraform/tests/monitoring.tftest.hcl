mock_provider "aws" {
  mock_data "aws_region" {
    defaults = {
      name = "us-east-1"
    }
  }

  mock_data "aws_partition" {
    defaults = {
      partition = "aws"
    }
  }

  mock_data "aws_caller_identity" {
    defaults = {
      account_id = "123456789012"
    }
  }
}

variables {
  name                    = "bo-test"
  autoscaling_group_name  = "bo-test-app"
  alb_arn_suffix          = "app/bo-test-alb/0123456789abcdef"
  target_group_arn_suffix = "targetgroup/bo-test-app/0123456789abcdef"
  db_cluster_id           = "bo-test-aurora"
  db_max_connections      = 430
  db_instance_ids         = ["bo-test-aurora-1", "bo-test-aurora-2"]
  min_healthy_hosts       = 2
  redis_cluster_ids       = ["bo-test-redis-001", "bo-test-redis-002"]
}

# apply (in memory, mocked) so that the topic ARN is a known value to compare.
run "alarms_notify_the_topic" {
  command = apply

  module {
    source = "./modules/monitoring"
  }

  variables {
    alarm_email = "oncall@example.com"
  }

  assert {
    condition = alltrue([for a in concat(
      [aws_cloudwatch_metric_alarm.asg_cpu_high, aws_cloudwatch_metric_alarm.alb_5xx, aws_cloudwatch_metric_alarm.target_5xx,
        aws_cloudwatch_metric_alarm.target_response_time, aws_cloudwatch_metric_alarm.unhealthy_hosts, aws_cloudwatch_metric_alarm.db_cpu,
        aws_cloudwatch_metric_alarm.healthy_hosts_low, aws_cloudwatch_metric_alarm.alb_5xx_rate, aws_cloudwatch_metric_alarm.app_db_errors,
      aws_cloudwatch_metric_alarm.app_gate_compensations],
      [
      aws_cloudwatch_metric_alarm.db_connections, aws_cloudwatch_metric_alarm.db_replica_lag, aws_cloudwatch_metric_alarm.db_freeable_memory],
      aws_cloudwatch_metric_alarm.redis_memory, aws_cloudwatch_metric_alarm.redis_evictions, aws_cloudwatch_metric_alarm.redis_cpu,
    ) : toset(a.alarm_actions) == toset([aws_sns_topic.this.arn])])
    error_message = "Every alarm must notify the SNS topic."
  }

  assert {
    condition     = length(output.alarm_names) == 19
    error_message = "13 fleet/ALB/app/Aurora alarms + 3 Redis alarms x 2 nodes = 19."
  }

  assert {
    condition     = aws_cloudwatch_metric_alarm.healthy_hosts_low.metric_name == "HealthyHostCount" && aws_cloudwatch_metric_alarm.healthy_hosts_low.threshold == 2 && aws_cloudwatch_metric_alarm.healthy_hosts_low.comparison_operator == "LessThanThreshold"
    error_message = "HealthyHostCount below the ASG minimum (2) must alarm."
  }

  assert {
    condition     = one([for q in aws_cloudwatch_metric_alarm.alb_5xx_rate.metric_query : q.expression if q.return_data == true]) == "IF(requests > 0, 100 * (elb5xx + target5xx) / requests, 0)" && aws_cloudwatch_metric_alarm.alb_5xx_rate.threshold == 5
    error_message = "The 5xx rate alarm must compute (ELB + target 5xx) / requests in percent and fire above 5%."
  }

  assert {
    condition     = aws_cloudwatch_metric_alarm.app_db_errors.namespace == "boxoffice" && aws_cloudwatch_metric_alarm.app_db_errors.dimensions["Stack"] == "bo-test" && aws_cloudwatch_metric_alarm.app_gate_compensations.metric_name == "boxoffice_gate_compensations_total"
    error_message = "The app metric alarms must read the agent's namespace and Stack dimension."
  }

  assert {
    condition     = aws_db_event_subscription.cluster.source_type == "db-cluster" && toset(aws_db_event_subscription.cluster.source_ids) == toset(["bo-test-aurora"]) && aws_db_event_subscription.cluster.sns_topic == aws_sns_topic.this.arn && toset(aws_db_event_subscription.instances.source_ids) == toset(["bo-test-aurora-1", "bo-test-aurora-2"])
    error_message = "Aurora cluster and instance events must go to the alarm topic."
  }

  assert {
    condition     = aws_sns_topic_policy.this.arn == aws_sns_topic.this.arn
    error_message = "The topic policy must let CloudWatch and RDS events publish."
  }

  assert {
    condition     = aws_cloudwatch_metric_alarm.db_connections.threshold == 344
    error_message = "The connections alarm must fire at 80% of 430 = 344."
  }

  assert {
    condition     = length(aws_sns_topic_subscription.email) == 1 && aws_sns_topic_subscription.email[0].endpoint == "oncall@example.com"
    error_message = "alarm_email must subscribe to the topic."
  }

  assert {
    condition     = aws_sns_topic.this.kms_master_key_id == aws_kms_key.sns[0].arn
    error_message = "The topic must be encrypted with the customer-managed key CloudWatch may use."
  }

  assert {
    condition     = length(jsondecode(aws_cloudwatch_dashboard.this.dashboard_body).widgets) == 7 && strcontains(aws_cloudwatch_dashboard.this.dashboard_body, "boxoffice_gate_compensations_total") && strcontains(aws_cloudwatch_dashboard.this.dashboard_body, "HealthyHostCount")
    error_message = "The dashboard must have its seven widgets, the app's metrics and the healthy hosts among them."
  }
}

run "no_email_no_subscription" {
  command = plan

  module {
    source = "./modules/monitoring"
  }

  assert {
    condition     = length(aws_sns_topic_subscription.email) == 0
    error_message = "No alarm_email, no subscription."
  }
}

run "rejects_bad_email" {
  command = plan

  module {
    source = "./modules/monitoring"
  }

  variables {
    alarm_email = "not-an-email"
  }

  expect_failures = [var.alarm_email]
}
