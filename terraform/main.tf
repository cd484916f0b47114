# The AgentCore runtime that serves mcpd.
#
# Image: the ECR tag built from the current source hash (source.tf,
# codebuild.tf). Protocol MCP: AgentCore forwards POST /mcp on port 8000.
# Inbound: the runtime's JWT authorizer accepts only Cognito access tokens
# issued to this stack's app client. By default mcpd verifies the same token
# again (same issuer, same client), for which the runtime must forward the
# Authorization header; with container_verifies_tokens = false it runs with
# --auth none behind the authorizer.

locals {
  mcpd_auth_environment = var.container_verifies_tokens ? {
    MCPD_DISCOVERY_URL   = local.cognito_discovery_url
    MCPD_ALLOWED_CLIENTS = aws_cognito_user_pool_client.mcpd.id
    } : {
    MCPD_AUTH = "none"
  }

  user_environment = merge(var.environment_variables, var.extra_environment_variables)

  # The reference pattern's users set LOG_LEVEL = "DEBUG" (Python's names);
  # mcpd reads only MCPD_LOG_LEVEL, with its own names.
  python_log_levels  = { DEBUG = "debug", INFO = "info", WARNING = "warn", WARN = "warn", ERROR = "error", CRITICAL = "error" }
  log_level_from_env = try(local.python_log_levels[upper(local.user_environment["LOG_LEVEL"])], null)
  mcpd_log_level     = coalesce(var.log_level, local.log_level_from_env, "info")

  mcpd_environment = merge(
    local.user_environment,
    { MCPD_LOG_LEVEL = local.mcpd_log_level },
    local.mcpd_auth_environment,
    var.container_verifies_tokens && length(var.required_scopes) > 0 ? { MCPD_REQUIRED_SCOPES = join(",", var.required_scopes) } : {},
    var.resource_url != "" ? { MCPD_RESOURCE_URL = var.resource_url } : {},
    var.mcpd_workers != null ? { MCPD_WORKERS = tostring(var.mcpd_workers) } : {},
    var.egress_allow != "" ? { MCPD_EGRESS_ALLOW = var.egress_allow } : {},
    # Per-client limits (mcpd refuses them without token verification: a precondition below says so first).
    var.client_rate_limit != "" ? { MCPD_CLIENT_RATE_LIMIT = var.client_rate_limit } : {},
    var.client_concurrency > 0 ? { MCPD_CLIENT_CONCURRENCY = tostring(var.client_concurrency) } : {},
    var.client_rate_limit != "" || var.client_concurrency > 0 ? { MCPD_CLIENT_LIMIT_KEY = var.client_limit_key } : {},
    # Metrics ride on the log stream the runtime role already writes (EMF).
    var.metrics_emf_interval > 0 ? {
      MCPD_METRICS_EMF       = tostring(var.metrics_emf_interval)
      MCPD_METRICS_NAMESPACE = var.metrics_namespace
    } : {},
  )

  # Only listed headers reach the container. Authorization only when mcpd
  # reads it (AgentCore forwards it only with a custom JWT authorizer, which
  # this runtime always has).
  request_header_allowlist = concat(
    var.container_verifies_tokens ? ["Authorization"] : [],
    var.mcp_request_headers,
  )

  runtime_endpoint_name = "DEFAULT"
}

resource "aws_bedrockagentcore_agent_runtime" "mcpd" {
  agent_runtime_name = var.agent_runtime_name
  description        = "mcpd MCP server (image ${local.image_tag})"
  role_arn           = aws_iam_role.runtime.arn

  agent_runtime_artifact {
    container_configuration {
      container_uri = terraform_data.image.output
    }
  }

  protocol_configuration {
    server_protocol = "MCP"
  }

  authorizer_configuration {
    custom_jwt_authorizer {
      discovery_url   = local.cognito_discovery_url
      allowed_clients = [aws_cognito_user_pool_client.mcpd.id]
    }
  }

  dynamic "request_header_configuration" {
    for_each = length(local.request_header_allowlist) > 0 ? [local.request_header_allowlist] : []
    content {
      request_header_allowlist = request_header_configuration.value
    }
  }

  network_configuration {
    network_mode = var.network_mode

    dynamic "network_mode_config" {
      for_each = var.network_mode == "VPC" ? [1] : []
      content {
        subnets         = var.vpc_subnet_ids
        security_groups = var.vpc_security_group_ids
      }
    }
  }

  lifecycle_configuration {
    idle_runtime_session_timeout = var.idle_runtime_session_timeout
    max_lifetime                 = var.max_lifetime
  }

  environment_variables = local.mcpd_environment

  lifecycle {
    precondition {
      condition     = var.network_mode != "VPC" || (length(var.vpc_subnet_ids) > 0 && length(var.vpc_security_group_ids) > 0)
      error_message = "network_mode = \"VPC\" needs vpc_subnet_ids and vpc_security_group_ids."
    }
    precondition {
      condition     = var.network_mode == "VPC" || (length(var.vpc_subnet_ids) == 0 && length(var.vpc_security_group_ids) == 0)
      error_message = "vpc_subnet_ids and vpc_security_group_ids are used only with network_mode = \"VPC\"; remove them or set network_mode."
    }
    precondition {
      condition     = var.idle_runtime_session_timeout <= var.max_lifetime
      error_message = "idle_runtime_session_timeout must not exceed max_lifetime."
    }
    precondition {
      condition     = var.container_verifies_tokens || (var.client_rate_limit == "" && var.client_concurrency == 0)
      error_message = "client_rate_limit and client_concurrency limit each client by its verified token: they need container_verifies_tokens = true (mcpd refuses them under --auth none)."
    }
    precondition {
      condition     = length(local.request_header_allowlist) <= 20
      error_message = "AgentCore forwards at most 20 request headers (Authorization included)."
    }
  }

  depends_on = [aws_iam_role_policy.runtime, aws_iam_role_policy.runtime_extra, aws_cognito_user.test]
}

# Log retention of the runtime's log group. AgentCore creates the group
# itself, named after the runtime id, so Terraform cannot own it as a
# resource without racing AgentCore: the script creates it if it is not
# there yet and sets the retention. ops/destroy.sh deletes the group after
# `terraform destroy` (output runtime_log_group); left alone, it expires.
resource "terraform_data" "runtime_log_retention" {
  triggers_replace = [aws_bedrockagentcore_agent_runtime.mcpd.agent_runtime_id, var.log_retention_days]
  input = {
    script    = "${path.module}/scripts/runtime-log-group.sh"
    region    = var.aws_region
    log_group = "/aws/bedrock-agentcore/runtimes/${aws_bedrockagentcore_agent_runtime.mcpd.agent_runtime_id}-${local.runtime_endpoint_name}"
    days      = tostring(var.log_retention_days)
  }

  provisioner "local-exec" {
    interpreter = ["bash", "-c"]
    command     = "\"$SCRIPT\" retain --region \"$REGION\" --log-group \"$LOG_GROUP\" --days \"$DAYS\""
    environment = {
      SCRIPT    = self.input.script
      REGION    = self.input.region
      LOG_GROUP = self.input.log_group
      DAYS      = self.input.days
    }
  }
}
