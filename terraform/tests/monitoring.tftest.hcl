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
      aws_cloudwatch_metric_alarm.db_connections, aws_cloudwatch_metric_alarm.db_replica_lag, aws_cloudwatch_metric_alarm.db_freeable_memory],
      aws_cloudwatch_metric_alarm.redis_memory, aws_cloudwatch_metric_alarm.redis_evictions, aws_cloudwatch_metric_alarm.redis_cpu,
    ) : toset(a.alarm_actions) == toset([aws_sns_topic.this.arn])])
    error_message = "Every alarm must notify the SNS topic."
  }

  assert {
    condition     = length(output.alarm_names) == 15
    error_message = "9 fleet/ALB/Aurora alarms + 3 Redis alarms x 2 nodes = 15."
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
    condition     = length(jsondecode(aws_cloudwatch_dashboard.this.dashboard_body).widgets) == 5
    error_message = "The dashboard must have its five widgets."
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
