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

  mock_data "aws_ami" {
    defaults = {
      id = "ami-0123456789abcdef0"
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
  subnet_ids              = ["subnet-0000000000000000a", "subnet-0000000000000000b"]
  security_group_id       = "sg-0123456789abcdef0"
  target_group_arn        = "arn:aws:elasticloadbalancing:us-east-1:123456789012:targetgroup/bo-test-app/0123456789abcdef"
  alb_arn_suffix          = "app/bo-test-alb/0123456789abcdef"
  target_group_arn_suffix = "targetgroup/bo-test-app/0123456789abcdef"
  artifact_bucket_name    = "boxoffice-artifacts-test"
  release_version         = "0.1.0"
  db_host                 = "bo-test-aurora.cluster-abc.us-east-1.rds.amazonaws.com"
  db_name                 = "boxoffice"
  db_app_secret_arn       = "arn:aws:secretsmanager:us-east-1:123456789012:secret:bo-test/db-app-user-AbCdEf"
  db_master_secret_arn    = "arn:aws:secretsmanager:us-east-1:123456789012:secret:rds!cluster-1234-AbCdEf"
  redis_host              = "master.bo-test-redis.abc.use1.cache.amazonaws.com"
  redis_secret_arn        = "arn:aws:secretsmanager:us-east-1:123456789012:secret:bo-test/redis-auth-token-AbCdEf"
  jwt_issuer              = "https://idp.example.com/"
  jwt_audience            = "boxoffice"
  jwt_public_key_pem      = <<-EOT
    -----BEGIN PUBLIC KEY-----
    MFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAE8A7nvAGQvHnN71MJW8x2B9kWGRu0
    s322aGbDhvD0i+G4xoJGFfuxmJcJ7sC7VnVxnqXiBqt45ce+6VsQHqPoOA==
    -----END PUBLIC KEY-----
  EOT
  jwt_algorithm           = "ES256"
}

# apply (in memory, mocked): the admin secret ARN becomes a known fake value, so
# the rendered user data and the IAM policy can be checked as strings.
run "launch_template_and_asg" {
  command = apply

  module {
    source = "./modules/compute"
  }

  assert {
    condition     = aws_launch_template.this.metadata_options[0].http_tokens == "required" && aws_launch_template.this.metadata_options[0].http_put_response_hop_limit == 1
    error_message = "IMDSv2 must be required with a hop limit of 1."
  }

  assert {
    condition     = aws_launch_template.this.block_device_mappings[0].ebs[0].encrypted == "true" && aws_launch_template.this.block_device_mappings[0].ebs[0].volume_type == "gp3"
    error_message = "The root volume must be encrypted gp3."
  }

  assert {
    condition     = aws_launch_template.this.image_id == "ami-0123456789abcdef0"
    error_message = "Without ami_id the launch template must use the Debian AMI lookup."
  }

  assert {
    condition     = aws_autoscaling_group.this.min_size == 2 && aws_autoscaling_group.this.max_size == 20 && aws_autoscaling_group.this.health_check_type == "ELB"
    error_message = "The ASG must be min 2, max 20, with ELB health checks."
  }

  assert {
    condition     = aws_autoscaling_group.this.instance_refresh[0].strategy == "Rolling" && length(aws_autoscaling_group.this.launch_template) == 1 && length(aws_autoscaling_group.this.mixed_instances_policy) == 0
    error_message = "On-demand only: a plain launch template and a rolling instance refresh."
  }

  assert {
    condition     = aws_autoscaling_policy.cpu.target_tracking_configuration[0].target_value == 70 && aws_autoscaling_policy.cpu.target_tracking_configuration[0].predefined_metric_specification[0].predefined_metric_type == "ASGAverageCPUUtilization"
    error_message = "CPU target tracking must aim at 70%."
  }

  assert {
    condition     = aws_autoscaling_policy.requests.target_tracking_configuration[0].predefined_metric_specification[0].predefined_metric_type == "ALBRequestCountPerTarget" && aws_autoscaling_policy.requests.target_tracking_configuration[0].predefined_metric_specification[0].resource_label == "app/bo-test-alb/0123456789abcdef/targetgroup/bo-test-app/0123456789abcdef"
    error_message = "Request-count target tracking must use <alb suffix>/<target group suffix>."
  }

  # User data: the contract's extra vars, secret ARNs, and no password.
  assert {
    condition = alltrue([for s in [
      "ansible-playbook -i localhost, -c local site.yml",
      "s3://$ARTIFACT_BUCKET/releases/$BUNDLE",
      "readonly ARTIFACT_BUCKET='boxoffice-artifacts-test'",
      "\"boxoffice_mysql_secret_arn\":\"arn:aws:secretsmanager:us-east-1:123456789012:secret:bo-test/db-app-user-AbCdEf\"",
      "\"boxoffice_mysql_migrate_secret_arn\":\"arn:aws:secretsmanager:us-east-1:123456789012:secret:rds!cluster-1234-AbCdEf\"",
      "readonly ASG_NAME='bo-test-app'",
      "readonly LAUNCH_HOOK='boxoffice-ready'",
      "readonly READY_URL='http://127.0.0.1:8080/api/ready'",
      "complete_hook CONTINUE",
      "\"boxoffice_redis_tls\":true",
      "\"boxoffice_workers\":64",
      "\"boxoffice_admin_token_secret_arn\":\"${aws_secretsmanager_secret.this["admin_token"].arn}\"",
      "\"boxoffice_admission_secret_arn\":\"${aws_secretsmanager_secret.this["admission_secret"].arn}\"",
    ] : strcontains(base64decode(aws_launch_template.this.user_data), s)])
    error_message = "The user data must fetch the bundle, write the extra vars and run the playbook."
  }

  # Identity: jwt by default, with the identity provider's key, issuer and audience.
  assert {
    condition = alltrue([for s in [
      "\"boxoffice_auth_mode\":\"jwt\"",
      "\"boxoffice_jwt_algorithm\":\"ES256\"",
      "\"boxoffice_jwt_issuer\":\"https://idp.example.com/\"",
      "\"boxoffice_jwt_audience\":\"boxoffice\"",
      "\"boxoffice_jwt_public_key\":\"-----BEGIN PUBLIC KEY-----\\nMFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAE8A7nvAGQvHnN71MJW8x2B9kWGRu0\\ns322aGbDhvD0i+G4xoJGFfuxmJcJ7sC7VnVxnqXiBqt45ce+6VsQHqPoOA==\\n-----END PUBLIC KEY-----\"",
    ] : strcontains(base64decode(aws_launch_template.this.user_data), s)])
    error_message = "The user data must carry auth_mode jwt and the identity provider's key (trimmed), algorithm, issuer and audience."
  }

  # The admission secret: generated, long enough for the daemon (>= 32), kept.
  assert {
    condition     = aws_secretsmanager_secret.this["admission_secret"].name_prefix == "bo-test/admission-secret-" && data.aws_secretsmanager_random_password.this["admission_secret"].password_length >= 32 && aws_secretsmanager_secret_version.this["admission_secret"].secret_id == aws_secretsmanager_secret.this["admission_secret"].id
    error_message = "The admission secret must be a generated secret of at least 32 characters, stored as a version of its own secret."
  }

  assert {
    condition     = output.admission_secret_arn == aws_secretsmanager_secret.this["admission_secret"].arn && output.admission_secret_arn != output.admin_token_secret_arn
    error_message = "The admission secret is a secret of its own, not the admin token's."
  }

  assert {
    condition     = !strcontains(lower(base64decode(aws_launch_template.this.user_data)), "password")
    error_message = "The user data must never carry a password."
  }

  # IAM: GetSecretValue on exactly the five secrets, the launch hook of its own
  # group, GetObject on releases/ only.
  assert {
    condition     = toset(data.aws_iam_policy_document.app.statement[0].resources) == toset([var.db_app_secret_arn, var.db_master_secret_arn, var.redis_secret_arn, aws_secretsmanager_secret.this["admin_token"].arn, aws_secretsmanager_secret.this["admission_secret"].arn]) && toset(data.aws_iam_policy_document.app.statement[0].actions) == toset(["secretsmanager:GetSecretValue"])
    error_message = "The instance role may read exactly the app DB user, DB master, Redis, admin-token and admission secrets."
  }

  assert {
    condition     = toset(data.aws_iam_policy_document.app.statement[1].resources) == toset(["arn:aws:autoscaling:us-east-1:123456789012:autoScalingGroup:*:autoScalingGroupName/bo-test-app"]) && toset(data.aws_iam_policy_document.app.statement[1].actions) == toset(["autoscaling:CompleteLifecycleAction"])
    error_message = "The instance role may complete lifecycle actions of its own group only."
  }

  assert {
    condition     = toset(data.aws_iam_policy_document.app.statement[2].resources) == toset(["arn:aws:s3:::boxoffice-artifacts-test/releases/*"]) && toset(data.aws_iam_policy_document.app.statement[2].actions) == toset(["s3:GetObject"])
    error_message = "The instance role may only get objects under releases/ of the artifact bucket."
  }

  # Rollouts keep capacity and roll back; new instances wait for the hook.
  assert {
    condition     = aws_autoscaling_group.this.instance_refresh[0].preferences[0].min_healthy_percentage == 100 && aws_autoscaling_group.this.instance_refresh[0].preferences[0].max_healthy_percentage == 200 && aws_autoscaling_group.this.instance_refresh[0].preferences[0].auto_rollback == true
    error_message = "Instance refresh must keep 100% healthy, go up to 200% and roll back automatically."
  }

  assert {
    condition     = one(aws_autoscaling_group.this.initial_lifecycle_hook[*].lifecycle_transition) == "autoscaling:EC2_INSTANCE_LAUNCHING" && one(aws_autoscaling_group.this.initial_lifecycle_hook[*].default_result) == "ABANDON" && one(aws_autoscaling_group.this.initial_lifecycle_hook[*].heartbeat_timeout) == 1500
    error_message = "A launch hook (ABANDON by default, 1200 + 300 s) must hold new instances until they are ready."
  }

  # Log groups: created here with a retention, and handed to the agent by name.
  assert {
    condition     = aws_cloudwatch_log_group.this["journal"].name == "/bo-test/journal" && aws_cloudwatch_log_group.this["nginx_access"].name == "/bo-test/nginx-access" && alltrue([for g in aws_cloudwatch_log_group.this : g.retention_in_days == 30])
    error_message = "The instances' log groups must be /<name>/<content> with a 30-day retention."
  }

  assert {
    condition     = output.bootstrap_vars.cloudwatch_agent_log_groups == { for k, g in aws_cloudwatch_log_group.this : k => g.name } && output.bootstrap_vars.cloudwatch_agent_stack_name == "bo-test"
    error_message = "The bootstrap vars must hand the agent the log group names and the stack name."
  }
}

run "spot_mixed_instances" {
  command = plan

  module {
    source = "./modules/compute"
  }

  variables {
    enable_spot = true
  }

  assert {
    condition     = length(aws_autoscaling_group.this.mixed_instances_policy) == 1 && length(aws_autoscaling_group.this.launch_template) == 0
    error_message = "Spot must switch the ASG to a mixed instances policy."
  }

  assert {
    condition     = aws_autoscaling_group.this.mixed_instances_policy[0].instances_distribution[0].on_demand_base_capacity == 2 && aws_autoscaling_group.this.mixed_instances_policy[0].instances_distribution[0].spot_allocation_strategy == "price-capacity-optimized"
    error_message = "The on-demand base must cover min_size."
  }
}

run "rejects_desired_above_max" {
  command = plan

  module {
    source = "./modules/compute"
  }

  variables {
    desired_capacity = 30
  }

  expect_failures = [aws_autoscaling_group.this]
}

run "rejects_bad_bucket_name" {
  command = plan

  module {
    source = "./modules/compute"
  }

  variables {
    artifact_bucket_name = "Not_A_Bucket"
  }

  expect_failures = [var.artifact_bucket_name]
}

run "auth_none_carries_no_key" {
  command = plan

  module {
    source = "./modules/compute"
  }

  variables {
    auth_mode = "none"
  }

  assert {
    condition     = output.bootstrap_vars.boxoffice_auth_mode == "none" && output.bootstrap_vars.boxoffice_jwt_public_key == ""
    error_message = "auth_mode none must reach the instances without a key file to write."
  }
}

run "rejects_jwt_without_public_key" {
  command = plan

  module {
    source = "./modules/compute"
  }

  variables {
    jwt_public_key_pem = ""
  }

  expect_failures = [aws_launch_template.this]
}

run "rejects_jwt_without_issuer" {
  command = plan

  module {
    source = "./modules/compute"
  }

  variables {
    jwt_issuer = ""
  }

  expect_failures = [aws_launch_template.this]
}

run "rejects_private_key_as_public_key" {
  command = plan

  module {
    source = "./modules/compute"
  }

  variables {
    jwt_public_key_pem = "-----BEGIN PRIVATE KEY-----\nMIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQg\n-----END PRIVATE KEY-----"
  }

  expect_failures = [var.jwt_public_key_pem]
}

run "rejects_hs256" {
  command = plan

  module {
    source = "./modules/compute"
  }

  variables {
    jwt_algorithm = "HS256"
  }

  expect_failures = [var.jwt_algorithm]
}

# EC2 takes at most 16 KiB of user data: a PEM-shaped value of about 20 KiB must
# fail at plan rather than at the EC2 API.
run "rejects_oversized_user_data" {
  command = plan

  module {
    source = "./modules/compute"
  }

  variables {
    jwt_public_key_pem = "-----BEGIN PUBLIC KEY-----\n${join("\n", [for i in range(300) : "MIIBIjANBgkqhkiG9w0BAQEFAAOCAQ8AMIIBCgKCAQEAyhXfCsJoFOkx8Ycd+Qgl"])}\n-----END PUBLIC KEY-----"
  }

  expect_failures = [aws_launch_template.this]
}
