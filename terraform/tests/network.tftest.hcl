mock_provider "aws" {
  mock_data "aws_region" {
    defaults = {
      name = "us-east-1"
    }
  }
}

run "three_az_layout" {
  command = plan

  module {
    source = "./modules/network"
  }

  variables {
    name = "bo-test"
    cidr = "10.30.0.0/16"
    azs  = ["us-east-1a", "us-east-1b", "us-east-1c"]
  }

  assert {
    condition     = aws_subnet.public[*].cidr_block == ["10.30.0.0/24", "10.30.1.0/24", "10.30.2.0/24"]
    error_message = "Public subnets must be the first /24s."
  }

  assert {
    condition     = aws_subnet.private_app[*].cidr_block == ["10.30.16.0/20", "10.30.32.0/20", "10.30.48.0/20"]
    error_message = "Private-app subnets must be /20s from 10.30.16.0."
  }

  assert {
    condition     = aws_subnet.private_data[*].cidr_block == ["10.30.240.0/24", "10.30.241.0/24", "10.30.242.0/24"]
    error_message = "Private-data subnets must be the /24s from 10.30.240.0."
  }

  assert {
    condition     = aws_subnet.private_app[*].availability_zone == ["us-east-1a", "us-east-1b", "us-east-1c"]
    error_message = "One private-app subnet per AZ, in order."
  }

  assert {
    condition     = alltrue([for s in aws_subnet.public : s.map_public_ip_on_launch == false])
    error_message = "Nothing launched in a public subnet may get a public IP automatically."
  }

  assert {
    condition     = length(aws_nat_gateway.this) == 3 && length(aws_eip.nat) == 3
    error_message = "One NAT gateway (and EIP) per AZ by default."
  }

  assert {
    condition     = alltrue([for r in aws_route.private_app_nat : r.destination_cidr_block == "0.0.0.0/0"]) && length(aws_route.private_app_nat) == 3
    error_message = "Each private-app route table needs a default route through a NAT."
  }

  assert {
    condition     = aws_vpc.this.enable_dns_hostnames == true && aws_vpc.this.enable_dns_support == true
    error_message = "DNS support and hostnames are needed for the RDS and ElastiCache endpoints."
  }

  assert {
    condition     = aws_vpc_endpoint.s3.service_name == "com.amazonaws.us-east-1.s3" && aws_vpc_endpoint.s3.vpc_endpoint_type == "Gateway"
    error_message = "The S3 gateway endpoint must be for the region's S3."
  }
}

run "single_nat_small_vpc" {
  command = plan

  module {
    source = "./modules/network"
  }

  variables {
    name               = "bo-test"
    cidr               = "10.40.0.0/18"
    azs                = ["us-east-1a", "us-east-1b"]
    single_nat_gateway = true
  }

  assert {
    condition     = length(aws_nat_gateway.this) == 1
    error_message = "single_nat_gateway must create one NAT gateway."
  }

  assert {
    condition     = aws_subnet.public[*].cidr_block == ["10.40.0.0/26", "10.40.0.64/26"] && aws_subnet.private_app[*].cidr_block == ["10.40.4.0/22", "10.40.8.0/22"] && aws_subnet.private_data[*].cidr_block == ["10.40.60.0/26", "10.40.60.64/26"]
    error_message = "A /18 VPC must scale the same layout down without overlaps."
  }
}

run "rejects_duplicate_azs" {
  command = plan

  module {
    source = "./modules/network"
  }

  variables {
    name = "bo-test"
    azs  = ["us-east-1a", "us-east-1a"]
  }

  expect_failures = [var.azs]
}
