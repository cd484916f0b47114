# Terraform and provider versions, and the AWS provider configuration.
#
# hashicorp/aws 6.17.0 is the first release with
# aws_bedrockagentcore_agent_runtime (protocol_configuration,
# custom_jwt_authorizer, request_header_configuration and
# lifecycle_configuration included); the stack uses nothing newer.

terraform {
  required_version = ">= 1.6"

  required_providers {
    aws = {
      source  = "hashicorp/aws"
      version = ">= 6.17.0, < 7.0.0"
    }
    archive = {
      source  = "hashicorp/archive"
      version = "~> 2.7"
    }
  }
}

provider "aws" {
  region = var.aws_region

  default_tags {
    tags = merge({ Project = var.project_name, ManagedBy = "terraform" }, var.tags)
  }
}
