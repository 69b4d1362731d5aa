# Security groups with concrete values. command = apply runs entirely in memory
# against the mocked provider, so the security group IDs become (fake) known
# values and the rules' references can be compared.

mock_provider "aws" {}

run "security_group_rules" {
  command = apply

  module {
    source = "./modules/security"
  }

  variables {
    name   = "bo-test"
    vpc_id = "vpc-0123456789abcdef0"
  }

  # Internet ingress: only the ALB, only 80 and 443.
  assert {
    condition = (
      aws_vpc_security_group_ingress_rule.alb_http.cidr_ipv4 == "0.0.0.0/0" && aws_vpc_security_group_ingress_rule.alb_http.from_port == 80 && aws_vpc_security_group_ingress_rule.alb_http.to_port == 80 &&
      aws_vpc_security_group_ingress_rule.alb_https.cidr_ipv4 == "0.0.0.0/0" && aws_vpc_security_group_ingress_rule.alb_https.from_port == 443 && aws_vpc_security_group_ingress_rule.alb_https.to_port == 443 &&
      aws_vpc_security_group_ingress_rule.alb_http.security_group_id == aws_security_group.alb.id
    )
    error_message = "The ALB must take exactly 80 and 443 from the internet."
  }

  # Rules live only in the separate rule resources above: an inline ingress or
  # egress block would bypass them (and the two styles fight over the group).
  assert {
    condition = alltrue([for sg in [aws_security_group.alb, aws_security_group.app, aws_security_group.db, aws_security_group.redis] :
    length(coalesce(sg.ingress, [])) == 0 && length(coalesce(sg.egress, [])) == 0])
    error_message = "Security groups must not carry inline ingress or egress rules."
  }

  # App port only from the ALB's group.
  assert {
    condition = (
      aws_vpc_security_group_ingress_rule.app_from_alb.from_port == 8080 && aws_vpc_security_group_ingress_rule.app_from_alb.to_port == 8080 &&
      aws_vpc_security_group_ingress_rule.app_from_alb.referenced_security_group_id == aws_security_group.alb.id &&
      aws_vpc_security_group_ingress_rule.app_from_alb.cidr_ipv4 == null
    )
    error_message = "nginx (8080) must be reachable only from the ALB security group."
  }

  # 3306 only from the app's group.
  assert {
    condition = (
      aws_vpc_security_group_ingress_rule.db_from_app.security_group_id == aws_security_group.db.id &&
      aws_vpc_security_group_ingress_rule.db_from_app.from_port == 3306 && aws_vpc_security_group_ingress_rule.db_from_app.to_port == 3306 &&
      aws_vpc_security_group_ingress_rule.db_from_app.referenced_security_group_id == aws_security_group.app.id &&
      aws_vpc_security_group_ingress_rule.db_from_app.cidr_ipv4 == null
    )
    error_message = "MySQL (3306) must be reachable only from the app security group."
  }

  # 6379 only from the app's group.
  assert {
    condition = (
      aws_vpc_security_group_ingress_rule.redis_from_app.security_group_id == aws_security_group.redis.id &&
      aws_vpc_security_group_ingress_rule.redis_from_app.from_port == 6379 && aws_vpc_security_group_ingress_rule.redis_from_app.to_port == 6379 &&
      aws_vpc_security_group_ingress_rule.redis_from_app.referenced_security_group_id == aws_security_group.app.id &&
      aws_vpc_security_group_ingress_rule.redis_from_app.cidr_ipv4 == null
    )
    error_message = "Redis (6379) must be reachable only from the app security group."
  }

  # The ALB may only talk to the app port of the app group.
  assert {
    condition = (
      aws_vpc_security_group_egress_rule.alb_to_app.referenced_security_group_id == aws_security_group.app.id &&
      aws_vpc_security_group_egress_rule.alb_to_app.from_port == 8080 && aws_vpc_security_group_egress_rule.alb_to_app.cidr_ipv4 == null
    )
    error_message = "ALB egress must be limited to the app port of the app security group."
  }

  # The app's internet egress is 80/443 only; its data-store egress targets the groups.
  assert {
    condition = (
      aws_vpc_security_group_egress_rule.app_https.from_port == 443 && aws_vpc_security_group_egress_rule.app_https.to_port == 443 &&
      aws_vpc_security_group_egress_rule.app_http.from_port == 80 && aws_vpc_security_group_egress_rule.app_http.to_port == 80 &&
      aws_vpc_security_group_egress_rule.app_to_db.referenced_security_group_id == aws_security_group.db.id &&
      aws_vpc_security_group_egress_rule.app_to_redis.referenced_security_group_id == aws_security_group.redis.id
    )
    error_message = "App egress must be 80/443 out plus 3306/6379 to the data security groups."
  }
}

run "rejects_privileged_app_port" {
  command = plan

  module {
    source = "./modules/security"
  }

  variables {
    name     = "bo-test"
    vpc_id   = "vpc-0123456789abcdef0"
    app_port = 80
  }

  expect_failures = [var.app_port]
}
