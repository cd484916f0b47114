# Outputs. The names the reference pattern's README and troubleshooting use
# are kept: agent_runtime_id, agent_runtime_arn, cognito_user_pool_id,
# cognito_user_pool_client_id, cognito_discovery_url, test_username,
# get_token_command, aws_region, codebuild_project_name, ecr_repository_url.
# The commands are meant to be run from the repository root.

output "aws_region" {
  description = "Region of the stack."
  value       = var.aws_region
}

output "agent_runtime_id" {
  description = "AgentCore runtime id."
  value       = aws_bedrockagentcore_agent_runtime.mcpd.agent_runtime_id
}

output "agent_runtime_arn" {
  description = "AgentCore runtime ARN (ops/smoke-test --arn)."
  value       = aws_bedrockagentcore_agent_runtime.mcpd.agent_runtime_arn
}

output "agent_runtime_version" {
  description = "Runtime version; it increases with every image or configuration change."
  value       = aws_bedrockagentcore_agent_runtime.mcpd.agent_runtime_version
}

output "invocation_url" {
  description = "MCP endpoint URL of the runtime (DEFAULT endpoint): POST here with Authorization: Bearer <Cognito access token>."
  value       = "https://bedrock-agentcore.${var.aws_region}.amazonaws.com/runtimes/${urlencode(aws_bedrockagentcore_agent_runtime.mcpd.agent_runtime_arn)}/invocations?qualifier=${local.runtime_endpoint_name}"
}

output "runtime_log_group" {
  description = "CloudWatch log group of the runtime (one JSON line per request)."
  value       = terraform_data.runtime_log_retention.output.log_group
}

output "image_uri" {
  description = "Container image the runtime runs (tag = hash of the image sources)."
  value       = terraform_data.image.output
}

output "ecr_repository_url" {
  description = "ECR repository of the mcpd image."
  value       = aws_ecr_repository.mcpd.repository_url
}

output "codebuild_project_name" {
  description = "CodeBuild project that builds the image."
  value       = aws_codebuild_project.image.name
}

output "source_bucket" {
  description = "S3 bucket holding the source archives."
  value       = aws_s3_bucket.source.id
}

output "cognito_user_pool_id" {
  description = "Cognito user pool id."
  value       = aws_cognito_user_pool.mcpd.id
}

output "cognito_user_pool_client_id" {
  description = "Cognito app client id (the runtime and mcpd accept tokens issued to it)."
  value       = aws_cognito_user_pool_client.mcpd.id
}

output "cognito_discovery_url" {
  description = "OIDC discovery URL of the Cognito user pool."
  value       = local.cognito_discovery_url
}

output "test_username" {
  description = "Cognito test user."
  value       = aws_cognito_user.test.username
}

output "test_user_password" {
  description = "Generated password of the test user (terraform output -raw test_user_password)."
  value       = sensitive(terraform_data.test_user_password.output)
  sensitive   = true
}

output "container_verifies_tokens" {
  description = "Whether mcpd verifies tokens itself too (else it runs with --auth none behind the runtime's authorizer)."
  value       = var.container_verifies_tokens
}

output "get_token_command" {
  description = "Prints a Cognito access token for the test user (run from the repository root; the password is read from the state, never shown)."
  value       = "terraform -chdir=terraform output -raw test_user_password | ops/get-token --region ${var.aws_region} --client-id ${aws_cognito_user_pool_client.mcpd.id} --username ${aws_cognito_user.test.username} --password-stdin"
}

output "smoke_test_command" {
  description = "Runs the MCP test sequence against the runtime (run from the repository root)."
  value       = "ops/get-token --from-terraform terraform | ops/smoke-test --arn ${aws_bedrockagentcore_agent_runtime.mcpd.agent_runtime_arn} --region ${var.aws_region} --token-stdin"
}

# More of the reference pattern's outputs, and its names for ones mcpd
# calls otherwise (kept beside mcpd's own).

output "ecr_repository_arn" {
  description = "ARN of the ECR repository of the mcpd image."
  value       = aws_ecr_repository.mcpd.arn
}

output "agent_execution_role_arn" {
  description = "ARN of the IAM role the AgentCore runtime runs as."
  value       = aws_iam_role.runtime.arn
}

output "codebuild_project_arn" {
  description = "ARN of the CodeBuild project that builds the image."
  value       = aws_codebuild_project.image.arn
}

output "source_bucket_name" {
  description = "S3 bucket holding the source archives (the reference's name for source_bucket)."
  value       = aws_s3_bucket.source.id
}

output "source_bucket_arn" {
  description = "ARN of the S3 bucket holding the source archives."
  value       = aws_s3_bucket.source.arn
}

output "source_object_key" {
  description = "S3 key of the source archive CodeBuild builds the image from."
  value       = aws_s3_object.source.key
}

output "source_code_md5" {
  description = "MD5 of the source archive in S3 (its ETag). The image tag is the SHA-256 of the files the image is built from (source.tf); this changes with it."
  value       = data.archive_file.source.output_md5
}

output "cognito_user_pool_arn" {
  description = "ARN of the Cognito user pool."
  value       = aws_cognito_user_pool.mcpd.arn
}

output "test_password" {
  description = "Generated password of the test user (the reference's name for test_user_password)."
  value       = sensitive(terraform_data.test_user_password.output)
  sensitive   = true
}
