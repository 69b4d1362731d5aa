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
