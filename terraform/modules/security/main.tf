################################################################################
# Security groups
#
#   internet --80/443--> alb --app_port--> app --3306--> db
#                                           \---6379--> redis
#
# Rules are separate aws_vpc_security_group_*_rule resources (one rule each, so
# a change never rewrites the whole group). Groups use name_prefix so that
# create_before_destroy can replace one while the old one is still attached.
# The only 0.0.0.0/0 ingress is the ALB's 80 and 443. The app's egress to
# 0.0.0.0/0 is limited to 80/443: apt mirrors, S3 (release bundle), Secrets
# Manager, SSM and CloudWatch endpoints, all through the NAT. The database and
# cache groups have no egress rules at all.
################################################################################

resource "aws_security_group" "alb" {
  name_prefix = "${var.name}-alb-"
  description = "boxoffice ALB: HTTP/HTTPS from the internet, to the app port only"
  vpc_id      = var.vpc_id

  tags = merge({ "Name" = "${var.name}-alb" }, var.tags)

  lifecycle {
    create_before_destroy = true
  }
}

resource "aws_security_group" "app" {
  name_prefix = "${var.name}-app-"
  description = "boxoffice instances: the app port from the ALB only"
  vpc_id      = var.vpc_id

  tags = merge({ "Name" = "${var.name}-app" }, var.tags)

  lifecycle {
    create_before_destroy = true
  }
}

resource "aws_security_group" "db" {
  name_prefix = "${var.name}-db-"
  description = "boxoffice Aurora: MySQL from the app instances only"
  vpc_id      = var.vpc_id

  tags = merge({ "Name" = "${var.name}-db" }, var.tags)

  lifecycle {
    create_before_destroy = true
  }
}

resource "aws_security_group" "redis" {
  name_prefix = "${var.name}-redis-"
  description = "boxoffice ElastiCache: Redis from the app instances only"
  vpc_id      = var.vpc_id

  tags = merge({ "Name" = "${var.name}-redis" }, var.tags)

  lifecycle {
    create_before_destroy = true
  }
}

################################################################################
# ALB
################################################################################

resource "aws_vpc_security_group_ingress_rule" "alb_http" {
  security_group_id = aws_security_group.alb.id
  description       = "HTTP from the internet (redirected to HTTPS when a certificate is set)"
  ip_protocol       = "tcp"
  from_port         = 80
  to_port           = 80
  cidr_ipv4         = "0.0.0.0/0"

  tags = var.tags
}

resource "aws_vpc_security_group_ingress_rule" "alb_https" {
  security_group_id = aws_security_group.alb.id
  description       = "HTTPS from the internet"
  ip_protocol       = "tcp"
  from_port         = 443
  to_port           = 443
  cidr_ipv4         = "0.0.0.0/0"

  tags = var.tags
}

resource "aws_vpc_security_group_egress_rule" "alb_to_app" {
  security_group_id            = aws_security_group.alb.id
  description                  = "To the instances' nginx (traffic and health checks)"
  ip_protocol                  = "tcp"
  from_port                    = var.app_port
  to_port                      = var.app_port
  referenced_security_group_id = aws_security_group.app.id

  tags = var.tags
}

################################################################################
# App instances
################################################################################

resource "aws_vpc_security_group_ingress_rule" "app_from_alb" {
  security_group_id            = aws_security_group.app.id
  description                  = "nginx app port from the ALB"
  ip_protocol                  = "tcp"
  from_port                    = var.app_port
  to_port                      = var.app_port
  referenced_security_group_id = aws_security_group.alb.id

  tags = var.tags
}

resource "aws_vpc_security_group_egress_rule" "app_to_db" {
  security_group_id            = aws_security_group.app.id
  description                  = "MySQL to Aurora"
  ip_protocol                  = "tcp"
  from_port                    = var.db_port
  to_port                      = var.db_port
  referenced_security_group_id = aws_security_group.db.id

  tags = var.tags
}

resource "aws_vpc_security_group_egress_rule" "app_to_redis" {
  security_group_id            = aws_security_group.app.id
  description                  = "Redis over TLS (local stunnel client) to ElastiCache"
  ip_protocol                  = "tcp"
  from_port                    = var.redis_port
  to_port                      = var.redis_port
  referenced_security_group_id = aws_security_group.redis.id

  tags = var.tags
}

resource "aws_vpc_security_group_egress_rule" "app_https" {
  security_group_id = aws_security_group.app.id
  description       = "HTTPS out via NAT: S3 release bundle, Secrets Manager, SSM, CloudWatch, apt"
  ip_protocol       = "tcp"
  from_port         = 443
  to_port           = 443
  cidr_ipv4         = "0.0.0.0/0"

  tags = var.tags
}

resource "aws_vpc_security_group_egress_rule" "app_http" {
  security_group_id = aws_security_group.app.id
  description       = "HTTP out via NAT: Debian apt mirrors (packages are signature-checked)"
  ip_protocol       = "tcp"
  from_port         = 80
  to_port           = 80
  cidr_ipv4         = "0.0.0.0/0"

  tags = var.tags
}

################################################################################
# Aurora
################################################################################

resource "aws_vpc_security_group_ingress_rule" "db_from_app" {
  security_group_id            = aws_security_group.db.id
  description                  = "MySQL from the app instances"
  ip_protocol                  = "tcp"
  from_port                    = var.db_port
  to_port                      = var.db_port
  referenced_security_group_id = aws_security_group.app.id

  tags = var.tags
}

################################################################################
# ElastiCache
################################################################################

resource "aws_vpc_security_group_ingress_rule" "redis_from_app" {
  security_group_id            = aws_security_group.redis.id
  description                  = "Redis (TLS) from the app instances"
  ip_protocol                  = "tcp"
  from_port                    = var.redis_port
  to_port                      = var.redis_port
  referenced_security_group_id = aws_security_group.app.id

  tags = var.tags
}
