################################################################################
# CloudWatch Logs: what the instances' CloudWatch agent ships
#
# The agent (installed by Ansible's cloudwatch_agent role) gets these names
# through the bootstrap vars, so the groups exist, with their retention, before
# the first instance boots: the launch template depends on them.
################################################################################

locals {
  log_groups = {
    journal      = "journald of the instance (boxoffice-fcgi, stunnel, the credential refresh)"
    nginx_access = "nginx JSON access log of the boxoffice site"
    nginx_error  = "nginx error log"
    bootstrap    = "first-boot user data and Ansible (/var/log/boxoffice-bootstrap.log)"
    metrics      = "embedded-metric-format events from the /api/metrics scrape"
  }
}

resource "aws_cloudwatch_log_group" "this" {
  for_each = local.log_groups

  name              = "/${var.name}/${replace(each.key, "_", "-")}"
  retention_in_days = var.log_retention_days

  tags = merge({ "Name" = "${var.name}-${each.key}", "Content" = each.value }, var.tags)
}

# nginx's own refusals under load (503 at capacity, 429 over a client address's rate): the
# daemon never sees them, so its /api/metrics cannot count them. The agent ships nginx's
# boxoffice.shed.log into the nginx_access group (stream "<instance id>-shed"); every line of it
# has "shed":1. ShedRequests counts them, by request class and status, in a namespace of this
# stack's own (a filter's dimensions can only be log fields, so no Stack dimension).
resource "aws_cloudwatch_log_metric_filter" "shed" {
  name           = "${var.name}-shed-requests"
  log_group_name = aws_cloudwatch_log_group.this["nginx_access"].name
  pattern        = "{ $.shed = 1 }"

  metric_transformation {
    name      = "ShedRequests"
    namespace = "${var.metrics_namespace}/nginx/${var.name}"
    value     = "1"
    unit      = "Count"
    dimensions = {
      Class  = "$.class"
      Status = "$.status"
    }
  }
}
