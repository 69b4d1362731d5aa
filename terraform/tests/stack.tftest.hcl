# Whole-stack runs against the schema-only provider stub with every AWS call
# mocked. command = plan: nothing is created, nothing leaves this machine.

mock_provider "aws" {
  mock_data "aws_region" {
    defaults = {
      name = "us-east-1"
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
  artifact_bucket_name = "boxoffice-artifacts-test"
  release_version      = "0.1.0"
  certificate_arn      = "arn:aws:acm:us-east-1:123456789012:certificate/0a1b2c3d-0000-4000-8000-0123456789ab"
  jwt_issuer           = "https://idp.example.com/"
  jwt_audience         = "boxoffice"
  jwt_public_key_pem   = <<-EOT
    -----BEGIN PUBLIC KEY-----
    MIIBIjANBgkqhkiG9w0BAQEFAAOCAQ8AMIIBCgKCAQEAyhXfCsJoFOkx8Ycd+Qgl
    /6yHAawNnxPYRWOGdPuAtn0SqEbec4lwnfE0RoExiV+Ek2jNzcxtVk1ef2Y5mG7c
    Ps28S26J0QRjMbCxItxZnAjrGte7fNkxRQOviMhrtxO63We78I8qZZ/hdTk0BSQE
    MXenxYigKuw+mvSKlvQZ9ntodxI7bzBwpooAweVz6lWWwygmcLRvj4yyC5xUQZur
    gWIazSKOFJaFjMsE0kpS6oBQUY8MvVdJ5LyIAXWx2Ssw3gxdc/QSA2VLQ6QGIN4z
    fE9//UV5xf93arzOO1LGB93VWWZPfJsQtiiQsGiNIdckk5wFlpdHR/fTmiKpkES4
    XwIDAQAB
    -----END PUBLIC KEY-----
  EOT
}

run "defaults_plan" {
  command = plan

  assert {
    condition     = module.database.max_connections == 1630
    error_message = "max_connections must be 20 instances x 64 workers + 25% + 30 admin = 1630."
  }

  assert {
    condition     = module.network.public_subnet_cidrs == ["10.20.0.0/24", "10.20.1.0/24"]
    error_message = "Unexpected public subnet layout."
  }

  assert {
    condition     = module.network.private_app_subnet_cidrs == ["10.20.16.0/20", "10.20.32.0/20"]
    error_message = "Unexpected private-app subnet layout."
  }

  assert {
    condition     = module.network.private_data_subnet_cidrs == ["10.20.240.0/24", "10.20.241.0/24"]
    error_message = "Unexpected private-data subnet layout."
  }

  assert {
    condition     = length(module.network.nat_gateway_ids) == 2
    error_message = "Without single_nat_gateway there must be one NAT per AZ."
  }

  assert {
    condition     = module.compute.bootstrap_vars.boxoffice_workers == 64 && module.compute.bootstrap_vars.boxoffice_redis_tls == true
    error_message = "The bootstrap vars must carry the worker count and redis TLS."
  }

  assert {
    condition     = module.compute.bootstrap_vars.boxoffice_release_tarball == "/opt/boxoffice-release/0.1.0/boxoffice-0.1.0.tar.gz"
    error_message = "The release tarball path must follow the production layout."
  }
}

# Production (the default environment) with every AWS value mocked in memory:
# the WAF is on, and the day-2 wiring holds with concrete values.
run "production_defaults_apply" {
  command = apply

  assert {
    condition     = module.alb.web_acl_arn != null
    error_message = "Production must get the WAF by default."
  }

  assert {
    condition     = module.compute.bootstrap_vars.boxoffice_mysql_secret_arn == module.database.app_user_secret_arn && module.compute.bootstrap_vars.boxoffice_mysql_migrate_secret_arn == module.database.master_user_secret_arn
    error_message = "The daemon gets the app user's secret; the migrations get the master's."
  }

  assert {
    condition     = module.compute.bootstrap_vars.boxoffice_mysql_host == module.database.writer_endpoint
    error_message = "The instances connect to the writer endpoint."
  }

  assert {
    condition     = length(module.monitoring.db_event_subscription_names) == 2
    error_message = "Aurora cluster and instance events must be subscribed."
  }

  # Identity: production runs jwt with the identity provider's settings.
  assert {
    condition     = output.auth_mode == "jwt" && module.compute.bootstrap_vars.boxoffice_auth_mode == "jwt" && module.compute.bootstrap_vars.boxoffice_jwt_algorithm == "RS256" && module.compute.bootstrap_vars.boxoffice_jwt_issuer == "https://idp.example.com/" && module.compute.bootstrap_vars.boxoffice_jwt_audience == "boxoffice" && module.compute.bootstrap_vars.boxoffice_jwt_public_key == trimspace(var.jwt_public_key_pem)
    error_message = "Production must hand the instances auth_mode jwt, RS256, the issuer, the audience and the public key."
  }

  assert {
    condition     = module.compute.bootstrap_vars.boxoffice_admission_secret_arn == output.admission_secret_arn && output.admission_secret_arn != output.admin_token_secret_arn
    error_message = "The instances get the admission secret's ARN (a secret of its own)."
  }
}

run "rejects_production_auth_none" {
  command = plan

  variables {
    auth_mode = "none"
  }

  expect_failures = [var.auth_mode]
}

run "staging_may_run_auth_none_without_an_identity_provider" {
  command = plan

  variables {
    environment        = "staging"
    certificate_arn    = null
    auth_mode          = "none"
    jwt_public_key_pem = null
    jwt_issuer         = null
    jwt_audience       = null
  }

  assert {
    condition     = module.compute.bootstrap_vars.boxoffice_auth_mode == "none" && module.compute.bootstrap_vars.boxoffice_jwt_public_key == "" && module.compute.bootstrap_vars.boxoffice_jwt_issuer == "" && module.compute.bootstrap_vars.boxoffice_jwt_audience == ""
    error_message = "auth_mode none outside production needs no identity provider, and null settings reach Ansible as empty strings."
  }
}

run "rejects_jwt_without_public_key" {
  command = plan

  variables {
    jwt_public_key_pem = null
  }

  expect_failures = [var.jwt_public_key_pem]
}

run "rejects_jwt_without_issuer" {
  command = plan

  variables {
    jwt_issuer = null
  }

  expect_failures = [var.jwt_issuer]
}

run "rejects_certificate_as_public_key" {
  command = plan

  variables {
    jwt_public_key_pem = "-----BEGIN CERTIFICATE-----\nMIIBIjANBgkqhkiG9w0BAQEFAAOCAQ8AMIIBCgKCAQEAyhXfCsJoFOkx8Ycd+Qgl\n-----END CERTIFICATE-----"
  }

  expect_failures = [var.jwt_public_key_pem]
}

run "rejects_hs256" {
  command = plan

  variables {
    jwt_algorithm = "HS256"
  }

  expect_failures = [var.jwt_algorithm]
}

run "staging_http_only_without_waf" {
  command = plan

  variables {
    environment     = "staging"
    certificate_arn = null
  }

  assert {
    condition     = module.alb.web_acl_arn == null && module.alb.https_enabled == false
    error_message = "Outside production the WAF defaults to off and HTTP-only is allowed."
  }
}

run "staging_can_opt_into_waf" {
  command = plan

  variables {
    environment     = "staging"
    certificate_arn = null
    enable_waf      = true
  }

  assert {
    condition     = module.alb.https_enabled == false
    error_message = "enable_waf is independent of HTTPS."
  }
}

run "rejects_production_without_certificate" {
  command = plan

  variables {
    certificate_arn = null
  }

  expect_failures = [var.certificate_arn]
}

run "single_nat_gateway" {
  command = plan

  variables {
    single_nat_gateway = true
    azs                = ["us-east-1a", "us-east-1b", "us-east-1c"]
  }

  assert {
    condition     = length(module.network.nat_gateway_ids) == 1
    error_message = "single_nat_gateway must create exactly one NAT gateway."
  }

  assert {
    condition     = length(module.network.private_app_subnet_ids) == 3
    error_message = "Three AZs must give three private-app subnets."
  }
}

run "max_connections_follows_fleet" {
  command = plan

  variables {
    asg_max_size         = 10
    workers_per_instance = 8
  }

  assert {
    condition     = module.database.max_connections == 130
    error_message = "10 x 8 = 80, + 20 headroom, + 30 admin = 130."
  }
}

run "rejects_asg_min_below_two" {
  command = plan

  variables {
    asg_min_size = 1
  }

  expect_failures = [var.asg_min_size]
}

run "rejects_asg_max_above_fifty" {
  command = plan

  variables {
    asg_max_size = 100
  }

  expect_failures = [var.asg_max_size]
}

run "rejects_single_az" {
  command = plan

  variables {
    azs = ["us-east-1a"]
  }

  expect_failures = [var.azs]
}

run "rejects_bad_release_version" {
  command = plan

  variables {
    release_version = "latest"
  }

  expect_failures = [var.release_version]
}

run "rejects_bad_certificate_arn" {
  command = plan

  variables {
    certificate_arn = "arn:aws:iam::123456789012:server-certificate/x"
  }

  expect_failures = [var.certificate_arn]
}

run "rejects_oversized_vpc_cidr" {
  command = plan

  variables {
    vpc_cidr = "10.0.0.0/8"
  }

  expect_failures = [var.vpc_cidr]
}

run "rejects_short_backup_retention" {
  command = plan

  variables {
    db_backup_retention_days = 1
  }

  expect_failures = [var.db_backup_retention_days]
}
