################################################################################
# Subnet layout
#
# With the default 10.20.0.0/16 and two AZs:
#   public       10.20.0.0/24,  10.20.1.0/24    (ALB, NAT gateways)
#   private-app  10.20.16.0/20, 10.20.32.0/20   (the Auto Scaling group; /20 leaves room to grow)
#   private-data 10.20.240.0/24, 10.20.241.0/24 (Aurora, ElastiCache; no route out of the VPC)
# The netnums never overlap for up to 4 AZs, whatever /16../18 the VPC is
# (newbits are relative: a /18 gets /26 public, /22 app and /26 data subnets).
################################################################################

locals {
  az_count  = length(var.azs)
  nat_count = var.single_nat_gateway ? 1 : local.az_count

  public_subnets       = [for i in range(local.az_count) : cidrsubnet(var.cidr, 8, i)]
  private_app_subnets  = [for i in range(local.az_count) : cidrsubnet(var.cidr, 4, i + 1)]
  private_data_subnets = [for i in range(local.az_count) : cidrsubnet(var.cidr, 8, 240 + i)]
}

################################################################################
# VPC
################################################################################

resource "aws_vpc" "this" {
  cidr_block           = var.cidr
  enable_dns_support   = true
  enable_dns_hostnames = true

  tags = merge({ "Name" = var.name }, var.tags)
}

# Take over the default security group and leave it without rules, so nothing
# can be attached to an allow-all group by accident.
resource "aws_default_security_group" "this" {
  vpc_id = aws_vpc.this.id

  tags = merge({ "Name" = "${var.name}-default-unused" }, var.tags)
}

resource "aws_internet_gateway" "this" {
  vpc_id = aws_vpc.this.id

  tags = merge({ "Name" = var.name }, var.tags)
}

################################################################################
# Public subnets
################################################################################

resource "aws_subnet" "public" {
  count = local.az_count

  vpc_id                  = aws_vpc.this.id
  availability_zone       = var.azs[count.index]
  cidr_block              = local.public_subnets[count.index]
  map_public_ip_on_launch = false

  tags = merge({ "Name" = "${var.name}-public-${var.azs[count.index]}", "Tier" = "public" }, var.tags)
}

resource "aws_route_table" "public" {
  vpc_id = aws_vpc.this.id

  tags = merge({ "Name" = "${var.name}-public" }, var.tags)
}

resource "aws_route" "public_internet" {
  route_table_id         = aws_route_table.public.id
  destination_cidr_block = "0.0.0.0/0"
  gateway_id             = aws_internet_gateway.this.id
}

resource "aws_route_table_association" "public" {
  count = local.az_count

  subnet_id      = aws_subnet.public[count.index].id
  route_table_id = aws_route_table.public.id
}

################################################################################
# NAT gateways (one per AZ, or one in total with single_nat_gateway)
################################################################################

resource "aws_eip" "nat" {
  count = local.nat_count

  domain = "vpc"

  tags = merge({ "Name" = "${var.name}-nat-${var.azs[count.index]}" }, var.tags)

  depends_on = [aws_internet_gateway.this]
}

resource "aws_nat_gateway" "this" {
  count = local.nat_count

  allocation_id = aws_eip.nat[count.index].id
  subnet_id     = aws_subnet.public[count.index].id

  tags = merge({ "Name" = "${var.name}-${var.azs[count.index]}" }, var.tags)

  depends_on = [aws_internet_gateway.this]
}

################################################################################
# Private app subnets (egress through NAT: apt, S3 artifacts, AWS APIs)
################################################################################

resource "aws_subnet" "private_app" {
  count = local.az_count

  vpc_id            = aws_vpc.this.id
  availability_zone = var.azs[count.index]
  cidr_block        = local.private_app_subnets[count.index]

  tags = merge({ "Name" = "${var.name}-app-${var.azs[count.index]}", "Tier" = "private-app" }, var.tags)
}

resource "aws_route_table" "private_app" {
  count = local.az_count

  vpc_id = aws_vpc.this.id

  tags = merge({ "Name" = "${var.name}-app-${var.azs[count.index]}" }, var.tags)
}

resource "aws_route" "private_app_nat" {
  count = local.az_count

  route_table_id         = aws_route_table.private_app[count.index].id
  destination_cidr_block = "0.0.0.0/0"
  nat_gateway_id         = aws_nat_gateway.this[var.single_nat_gateway ? 0 : count.index].id
}

resource "aws_route_table_association" "private_app" {
  count = local.az_count

  subnet_id      = aws_subnet.private_app[count.index].id
  route_table_id = aws_route_table.private_app[count.index].id
}

################################################################################
# Private data subnets (Aurora, ElastiCache): local routes only
################################################################################

resource "aws_subnet" "private_data" {
  count = local.az_count

  vpc_id            = aws_vpc.this.id
  availability_zone = var.azs[count.index]
  cidr_block        = local.private_data_subnets[count.index]

  tags = merge({ "Name" = "${var.name}-data-${var.azs[count.index]}", "Tier" = "private-data" }, var.tags)
}

resource "aws_route_table" "private_data" {
  vpc_id = aws_vpc.this.id

  tags = merge({ "Name" = "${var.name}-data" }, var.tags)
}

resource "aws_route_table_association" "private_data" {
  count = local.az_count

  subnet_id      = aws_subnet.private_data[count.index].id
  route_table_id = aws_route_table.private_data.id
}

################################################################################
# S3 gateway endpoint: release bundles and apt-free S3 traffic stay off the NAT
################################################################################

data "aws_region" "current" {}

resource "aws_vpc_endpoint" "s3" {
  vpc_id            = aws_vpc.this.id
  service_name      = "com.amazonaws.${data.aws_region.current.name}.s3"
  vpc_endpoint_type = "Gateway"
  route_table_ids   = aws_route_table.private_app[*].id

  tags = merge({ "Name" = "${var.name}-s3" }, var.tags)
}
