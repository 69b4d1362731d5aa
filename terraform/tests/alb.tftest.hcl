mock_provider "aws" {}

variables {
  name              = "bo-test"
  vpc_id            = "vpc-0123456789abcdef0"
  subnet_ids        = ["subnet-0000000000000000a", "subnet-0000000000000000b"]
  security_group_id = "sg-0123456789abcdef0"
}

run "https_with_certificate" {
  command = plan

  module {
    source = "./modules/alb"
  }

  variables {
    certificate_arn = "arn:aws:acm:us-east-1:123456789012:certificate/0a1b2c3d-0000-4000-8000-0123456789ab"
  }

  assert {
    condition     = length(aws_lb_listener.https) == 1 && aws_lb_listener.https[0].port == 443 && aws_lb_listener.https[0].protocol == "HTTPS"
    error_message = "A certificate must give an HTTPS listener on 443."
  }

  assert {
    condition     = aws_lb_listener.https[0].ssl_policy == "ELBSecurityPolicy-TLS13-1-2-2021-06"
    error_message = "The HTTPS listener must use the TLS 1.2/1.3 policy."
  }

  assert {
    condition     = aws_lb_listener.http.default_action[0].type == "redirect" && aws_lb_listener.http.default_action[0].redirect[0].protocol == "HTTPS" && aws_lb_listener.http.default_action[0].redirect[0].status_code == "HTTP_301"
    error_message = "With a certificate, HTTP must redirect to HTTPS."
  }

  assert {
    condition     = aws_lb_target_group.this.port == 8080 && aws_lb_target_group.this.protocol == "HTTP"
    error_message = "The target group must send to nginx on 8080."
  }

  assert {
    condition     = aws_lb_target_group.this.health_check[0].path == "/api/health" && aws_lb_target_group.this.health_check[0].matcher == "200"
    error_message = "The health check must be the dependency-free liveness endpoint /api/health."
  }

  assert {
    condition     = aws_lb_target_group.this.deregistration_delay == "35"
    error_message = "Deregistration delay must cover the daemon's 30 s graceful stop."
  }

  assert {
    condition     = aws_lb.this.internal == false && aws_lb.this.drop_invalid_header_fields == true
    error_message = "The ALB must be internet-facing and drop invalid header fields."
  }
}

run "waf_rate_limit_and_common_rules" {
  command = plan

  module {
    source = "./modules/alb"
  }

  variables {
    create_waf = true
  }

  assert {
    condition     = length(aws_wafv2_web_acl.this) == 1 && aws_wafv2_web_acl.this[0].scope == "REGIONAL" && length(aws_wafv2_web_acl_association.this) == 1
    error_message = "create_waf must give a regional web ACL associated with the ALB."
  }

  assert {
    condition     = jsondecode(aws_wafv2_web_acl.this[0].rule_json)[0].Statement.RateBasedStatement.Limit == 3000 && jsondecode(aws_wafv2_web_acl.this[0].rule_json)[0].Action == { Block = {} }
    error_message = "The first rule must block an address above 3000 requests per 5 minutes."
  }

  assert {
    condition     = jsondecode(aws_wafv2_web_acl.this[0].rule_json)[1].Statement.ManagedRuleGroupStatement.Name == "AWSManagedRulesCommonRuleSet" && jsondecode(aws_wafv2_web_acl.this[0].rule_json)[1].OverrideAction == { None = {} }
    error_message = "The second rule must be the AWS managed common rule set, enforced."
  }

  assert {
    condition     = aws_lb.this.idle_timeout == 60
    error_message = "The ALB idle timeout stays 60 s (nginx keeps connections 75 s)."
  }
}

run "no_waf_unless_asked" {
  command = plan

  module {
    source = "./modules/alb"
  }

  assert {
    condition     = length(aws_wafv2_web_acl.this) == 0 && length(aws_wafv2_web_acl_association.this) == 0
    error_message = "The module creates no WAF unless create_waf is true."
  }
}

run "http_only_without_certificate" {
  command = plan

  module {
    source = "./modules/alb"
  }

  assert {
    condition     = length(aws_lb_listener.https) == 0
    error_message = "No certificate, no HTTPS listener."
  }

  assert {
    condition     = aws_lb_listener.http.default_action[0].type == "forward" && length(aws_lb_listener.http.default_action) == 1
    error_message = "Without a certificate, HTTP must forward to the target group."
  }
}

run "rejects_non_acm_certificate" {
  command = plan

  module {
    source = "./modules/alb"
  }

  variables {
    certificate_arn = "not-an-arn"
  }

  expect_failures = [var.certificate_arn]
}
