provider "aws" {
  region = var.region
}

locals {
  name = "${var.project}-${var.environment}"

  tags = merge({
    "Project"     = var.project
    "Environment" = var.environment
    "ManagedBy"   = "terraform"
  }, var.tags)

  app_port   = 8080
  db_port    = 3306
  redis_port = 6379

  # Production gets the WAF unless enable_waf says otherwise; HTTPS is
  # required there (var.certificate_arn's validation).
  is_production = contains(["prod", "production"], var.environment)
  enable_waf    = var.enable_waf != null ? var.enable_waf : local.is_production
}

################################################################################
# Network: VPC, public / private-app / private-data subnets, NAT
################################################################################

module "network" {
  source = "./modules/network"

  name               = local.name
  cidr               = var.vpc_cidr
  azs                = var.azs
  single_nat_gateway = var.single_nat_gateway
  tags               = local.tags
}

################################################################################
# Security groups
################################################################################

module "security" {
  source = "./modules/security"

  name       = local.name
  vpc_id     = module.network.vpc_id
  app_port   = local.app_port
  db_port    = local.db_port
  redis_port = local.redis_port
  tags       = local.tags
}

################################################################################
# Load balancer
################################################################################

module "alb" {
  source = "./modules/alb"

  name                       = local.name
  vpc_id                     = module.network.vpc_id
  subnet_ids                 = module.network.public_subnet_ids
  security_group_id          = module.security.alb_security_group_id
  app_port                   = local.app_port
  certificate_arn            = var.certificate_arn
  health_check_path          = "/api/health"
  deregistration_delay       = 35
  enable_deletion_protection = var.alb_deletion_protection
  create_waf                 = local.enable_waf
  waf_rate_limit             = var.waf_rate_limit
  tags                       = local.tags
}

################################################################################
# Aurora MySQL 3
################################################################################

module "database" {
  source = "./modules/database"

  name                         = local.name
  subnet_ids                   = module.network.private_data_subnet_ids
  security_group_id            = module.security.db_security_group_id
  azs                          = var.azs
  engine_version               = var.db_engine_version
  instance_class               = var.db_instance_class
  app_max_instances            = var.asg_max_size
  app_connections_per_instance = var.workers_per_instance
  backup_retention_days        = var.db_backup_retention_days
  deletion_protection          = var.db_deletion_protection
  log_retention_days           = var.log_retention_days
  snapshot_identifier          = var.db_snapshot_identifier
  restore_to_point_in_time     = var.db_restore_to_point_in_time
  final_snapshot_suffix        = var.db_final_snapshot_suffix
  tags                         = local.tags
}

################################################################################
# ElastiCache Redis 7
################################################################################

module "cache" {
  source = "./modules/cache"

  name              = local.name
  subnet_ids        = module.network.private_data_subnet_ids
  security_group_id = module.security.redis_security_group_id
  azs               = var.azs
  node_type         = var.redis_node_type
  port              = local.redis_port

  notification_topic_arn = module.monitoring.sns_topic_arn

  tags = local.tags
}

################################################################################
# App instances: launch template, Auto Scaling group, scaling policies
################################################################################

module "compute" {
  source = "./modules/compute"

  name                    = local.name
  subnet_ids              = module.network.private_app_subnet_ids
  security_group_id       = module.security.app_security_group_id
  target_group_arn        = module.alb.target_group_arn
  alb_arn_suffix          = module.alb.alb_arn_suffix
  target_group_arn_suffix = module.alb.target_group_arn_suffix

  instance_type        = var.instance_type
  ami_id               = var.ami_id
  min_size             = var.asg_min_size
  max_size             = var.asg_max_size
  desired_capacity     = var.asg_desired_capacity
  workers_per_instance = var.workers_per_instance
  enable_spot          = var.enable_spot

  artifact_bucket_name = var.artifact_bucket_name
  release_version      = var.release_version

  db_host              = module.database.writer_endpoint
  db_port              = module.database.port
  db_name              = module.database.database_name
  db_app_secret_arn    = module.database.app_user_secret_arn
  db_master_secret_arn = module.database.master_user_secret_arn
  redis_host           = module.cache.primary_endpoint
  redis_port           = module.cache.port
  redis_secret_arn     = module.cache.auth_token_secret_arn

  # Identity; the module creates the waiting room's admission secret itself.
  auth_mode          = var.auth_mode
  jwt_algorithm      = var.jwt_algorithm
  jwt_public_key_pem = var.jwt_public_key_pem
  jwt_issuer         = var.jwt_issuer
  jwt_audience       = var.jwt_audience

  app_port           = local.app_port
  log_retention_days = var.log_retention_days

  tags = local.tags
}

################################################################################
# Monitoring: SNS, alarms, RDS event subscriptions, dashboard
################################################################################

module "monitoring" {
  source = "./modules/monitoring"

  name                    = local.name
  alarm_email             = var.alarm_email
  autoscaling_group_name  = module.compute.autoscaling_group_name
  alb_arn_suffix          = module.alb.alb_arn_suffix
  target_group_arn_suffix = module.alb.target_group_arn_suffix
  min_healthy_hosts       = var.asg_min_size
  db_cluster_id           = module.database.cluster_id
  db_instance_ids         = module.database.instance_ids
  db_max_connections      = module.database.max_connections
  redis_cluster_ids       = module.cache.member_cluster_ids
  tags                    = local.tags
}
