################################################################################
# WAF (optional; the root turns it on by default for production)
#
# Two rules in front of the ALB:
#   1. a rate-based rule: one client address sending more than waf_rate_limit
#      requests in 5 minutes is blocked until it slows down. nginx and the app
#      rate-limit too (per IP, per user); this one stops a flood before it
#      costs ALB capacity units and instance CPU.
#   2. AWS's managed common rule set (the OWASP-style baseline). Its
#      NoUserAgent_HEADER rule only counts: API clients often send no
#      User-Agent, and that alone is no attack.
# The rules are given as rule_json (the WAFv2 API's own JSON): the same text
# the console and the API show, and a nested statement that schema-level
# checks treat consistently.
################################################################################

locals {
  waf_metric_prefix = replace(var.name, "-", "")

  waf_rules = [
    {
      Name     = "rate-per-ip"
      Priority = 0
      Action   = { Block = {} }
      Statement = {
        RateBasedStatement = {
          Limit            = var.waf_rate_limit
          AggregateKeyType = "IP"
        }
      }
      VisibilityConfig = {
        SampledRequestsEnabled   = true
        CloudWatchMetricsEnabled = true
        MetricName               = "${local.waf_metric_prefix}RatePerIp"
      }
    },
    {
      Name           = "aws-common-rule-set"
      Priority       = 1
      OverrideAction = { None = {} }
      Statement = {
        ManagedRuleGroupStatement = {
          VendorName = "AWS"
          Name       = "AWSManagedRulesCommonRuleSet"
          RuleActionOverrides = [
            { Name = "NoUserAgent_HEADER", ActionToUse = { Count = {} } },
          ]
        }
      }
      VisibilityConfig = {
        SampledRequestsEnabled   = true
        CloudWatchMetricsEnabled = true
        MetricName               = "${local.waf_metric_prefix}AwsCommon"
      }
    },
  ]
}

resource "aws_wafv2_web_acl" "this" {
  count = var.create_waf ? 1 : 0

  name        = "${var.name}-alb"
  description = "boxoffice ALB: per-IP rate limit and AWS common rules"
  scope       = "REGIONAL"
  rule_json   = jsonencode(local.waf_rules)

  default_action {
    allow {}
  }

  visibility_config {
    cloudwatch_metrics_enabled = true
    metric_name                = "${local.waf_metric_prefix}Alb"
    sampled_requests_enabled   = true
  }

  tags = merge({ "Name" = "${var.name}-alb" }, var.tags)
}

resource "aws_wafv2_web_acl_association" "this" {
  count = var.create_waf ? 1 : 0

  resource_arn = aws_lb.this.arn
  web_acl_arn  = aws_wafv2_web_acl.this[0].arn
}
