terraform {
  required_version = ">= 1.9.0" # validations that refer to other variables (certificate_arn)

  required_providers {
    aws = {
      source  = "hashicorp/aws"
      version = "~> 5.80"
    }
  }

  # State: use a remote backend for anything real. Copy backend.tf.example to
  # backend.tf, fill in the bucket and table, then `terraform init -migrate-state`.
}
