output "vpc_id" {
  description = "ID of the VPC."
  value       = aws_vpc.this.id
}

output "vpc_cidr" {
  description = "IPv4 CIDR of the VPC."
  value       = aws_vpc.this.cidr_block
}

output "public_subnet_ids" {
  description = "IDs of the public subnets (ALB, NAT), one per AZ in the order of var.azs."
  value       = aws_subnet.public[*].id
}

output "private_app_subnet_ids" {
  description = "IDs of the private app subnets (Auto Scaling group), one per AZ."
  value       = aws_subnet.private_app[*].id
}

output "private_data_subnet_ids" {
  description = "IDs of the private data subnets (Aurora, ElastiCache), one per AZ."
  value       = aws_subnet.private_data[*].id
}

output "public_subnet_cidrs" {
  description = "CIDRs of the public subnets."
  value       = local.public_subnets
}

output "private_app_subnet_cidrs" {
  description = "CIDRs of the private app subnets."
  value       = local.private_app_subnets
}

output "private_data_subnet_cidrs" {
  description = "CIDRs of the private data subnets."
  value       = local.private_data_subnets
}

output "nat_gateway_ids" {
  description = "IDs of the NAT gateways (1 with single_nat_gateway, else one per AZ)."
  value       = aws_nat_gateway.this[*].id
}

output "nat_public_ips" {
  description = "Elastic IPs of the NAT gateways: the addresses the instances reach the internet from."
  value       = aws_eip.nat[*].public_ip
}
