# Input variables. Every one has a default; copy terraform.tfvars.example to
# terraform.tfvars to change them. Validations reject at plan time what AWS
# or mcpd would reject later, with the reason.
#
# Validation conditions here refer only to their own variable (Terraform
# before 1.9 allows nothing else); rules that combine variables are
# preconditions on the resources that use them (main.tf).

variable "aws_region" {
  description = "AWS Region to deploy to. It must offer Amazon Bedrock AgentCore Runtime."
  type        = string
  default     = "us-west-2"

  validation {
    condition     = can(regex("^[a-z]{2}(-[a-z]+)+-[0-9]$", var.aws_region))
    error_message = "aws_region must be a Region code such as us-west-2."
  }
}

variable "project_name" {
  description = "Prefix of every resource name (S3 bucket, ECR repository, CodeBuild project, IAM roles, Cognito pool)."
  type        = string
  default     = "mcpd"

  validation {
    condition     = can(regex("^[a-z][a-z0-9-]{1,23}$", var.project_name))
    error_message = "project_name must be 2 to 24 characters: lower-case letters, digits and '-', starting with a letter (it becomes part of S3 and ECR names)."
  }
}

variable "agent_runtime_name" {
  description = "Name of the AgentCore runtime."
  type        = string
  default     = "mcpd_runtime"

  validation {
    condition     = can(regex("^[a-zA-Z][a-zA-Z0-9_]{0,47}$", var.agent_runtime_name))
    error_message = "agent_runtime_name must match [a-zA-Z][a-zA-Z0-9_]{0,47} (AgentCore's rule: letters, digits and '_', no '-')."
  }
}

variable "network_mode" {
  description = "Network mode of the runtime: PUBLIC, or VPC (then set vpc_subnet_ids and vpc_security_group_ids)."
  type        = string
  default     = "PUBLIC"

  validation {
    condition     = contains(["PUBLIC", "VPC"], var.network_mode)
    error_message = "network_mode must be PUBLIC or VPC (the values the AgentCore API accepts)."
  }
}

variable "vpc_subnet_ids" {
  description = "Subnets for network_mode = VPC. They need a route to ECR, CloudWatch Logs and Cognito (NAT or VPC endpoints)."
  type        = list(string)
  default     = []

  validation {
    condition     = alltrue([for s in var.vpc_subnet_ids : can(regex("^subnet-[0-9a-f]{8,17}$", s))])
    error_message = "vpc_subnet_ids must be subnet IDs (subnet-0123456789abcdef0)."
  }
}

variable "vpc_security_group_ids" {
  description = "Security groups for network_mode = VPC."
  type        = list(string)
  default     = []

  validation {
    condition     = alltrue([for s in var.vpc_security_group_ids : can(regex("^sg-[0-9a-f]{8,17}$", s))])
    error_message = "vpc_security_group_ids must be security group IDs (sg-0123456789abcdef0)."
  }
}

variable "container_verifies_tokens" {
  description = "true: mcpd verifies the Cognito token itself too (defence in depth; the runtime forwards Authorization). false: mcpd runs with --auth none and relies on the runtime's JWT authorizer alone."
  type        = bool
  default     = true
}

variable "mcp_request_headers" {
  description = "MCP request headers the runtime forwards to mcpd, besides Authorization (which container_verifies_tokens adds). Without MCP-Protocol-Version mcpd serves every request as 2025-03-26, as the specification says; Mcp-Method and Mcp-Name are required on the 2026-07-28 wire."
  type        = list(string)
  default     = ["Mcp-Protocol-Version", "Mcp-Method", "Mcp-Name"]

  validation {
    condition     = length(var.mcp_request_headers) <= 19
    error_message = "At most 19 headers: AgentCore forwards at most 20, and Authorization may take one place."
  }
  validation {
    condition     = alltrue([for h in var.mcp_request_headers : can(regex("^[A-Za-z0-9_-]{1,128}$", h))])
    error_message = "Header names may contain only letters, digits, '-' and '_'."
  }
  validation {
    condition     = length(distinct([for h in var.mcp_request_headers : lower(h)])) == length(var.mcp_request_headers)
    error_message = "Header names must be unique, compared without case."
  }
  validation {
    condition = alltrue([
      for h in var.mcp_request_headers :
      !startswith(lower(h), "x-amz-") && (!startswith(lower(h), "x-amzn-") || startswith(lower(h), "x-amzn-bedrock-agentcore-runtime-custom-"))
    ])
    error_message = "x-amz-* and x-amzn-* headers cannot be forwarded, except X-Amzn-Bedrock-AgentCore-Runtime-Custom-*."
  }
  validation {
    condition = alltrue([
      for h in var.mcp_request_headers : !contains([
        "authorization", "proxy-authorization", "www-authenticate",
        "accept", "accept-charset", "accept-encoding", "accept-language",
        "content-type", "content-length", "content-encoding", "content-language", "content-location", "content-range",
        "cache-control", "etag", "expires", "if-match", "if-modified-since", "if-none-match", "if-range",
        "if-unmodified-since", "last-modified", "pragma", "vary",
        "connection", "keep-alive", "proxy-connection", "upgrade", "host", "transfer-encoding", "te", "trailer",
      ], lower(h))
    ])
    error_message = "That header cannot be listed: Authorization is governed by container_verifies_tokens, and AgentCore refuses to forward authentication, content-negotiation, caching and connection headers."
  }
}

variable "required_scopes" {
  description = "Scopes every access token must carry; mcpd answers 403 otherwise. Only used when container_verifies_tokens is true. Empty: no scope check (Cognito's USER_PASSWORD_AUTH tokens carry only aws.cognito.signin.user.admin)."
  type        = list(string)
  default     = []

  validation {
    condition     = alltrue([for s in var.required_scopes : can(regex("^[!#-\\[\\]-~]+$", s))])
    error_message = "A scope is printable ASCII without spaces, double quotes or backslashes (RFC 6749, section 3.3)."
  }
}

variable "resource_url" {
  description = "Public URL of the MCP endpoint that mcpd advertises in its OAuth protected-resource metadata (MCPD_RESOURCE_URL). Empty: mcpd derives it from the Host header. The runtime's own invocation URL is known only after it exists: to use it, apply once, then set this to the invocation_url output and apply again."
  type        = string
  default     = ""

  validation {
    condition     = var.resource_url == "" || can(regex("^https://[^\\s#]+$", var.resource_url))
    error_message = "resource_url must be empty or an https URL without a fragment."
  }
}

variable "log_level" {
  description = "mcpd log level (MCPD_LOG_LEVEL). null: LOG_LEVEL from environment_variables if given (Python names: DEBUG, INFO, WARNING, ERROR, CRITICAL), else info."
  type        = string
  default     = null

  validation {
    condition     = var.log_level == null || contains(["debug", "info", "warn", "error"], coalesce(var.log_level, "info"))
    error_message = "log_level must be debug, info, warn or error."
  }
}

variable "mcpd_workers" {
  description = "mcpd worker processes (MCPD_WORKERS). null: one per online CPU, which is 2 on an AgentCore microVM."
  type        = number
  default     = null

  validation {
    condition     = var.mcpd_workers == null || try(var.mcpd_workers >= 1 && var.mcpd_workers <= 256 && floor(var.mcpd_workers) == var.mcpd_workers, false)
    error_message = "mcpd_workers must be null or a whole number from 1 to 256."
  }
}

variable "metrics_emf_interval" {
  description = "Seconds between the CloudWatch Embedded Metric Format lines mcpd writes to its log (MCPD_METRICS_EMF): CloudWatch Logs turns them into metrics in metrics_namespace, with no agent and no permission beyond writing the log. 0 turns them off."
  type        = number
  default     = 60

  validation {
    condition     = try(var.metrics_emf_interval >= 0 && var.metrics_emf_interval <= 3600 && floor(var.metrics_emf_interval) == var.metrics_emf_interval, false)
    error_message = "metrics_emf_interval must be a whole number of seconds from 0 (off) to 3600."
  }
}

variable "metrics_namespace" {
  description = "CloudWatch namespace of mcpd's EMF metrics (MCPD_METRICS_NAMESPACE)."
  type        = string
  default     = "mcpd"

  validation {
    condition     = can(regex("^[A-Za-z0-9.\\-_/#][A-Za-z0-9.\\-_/#:]{0,254}$", var.metrics_namespace))
    error_message = "metrics_namespace must be 1 to 255 letters, digits and . - _ / # : and may not start with a colon."
  }
}

variable "client_rate_limit" {
  description = "Per-client rate limit of mcpd (MCPD_CLIENT_RATE_LIMIT), RATE:BURST: each client (its token's client_id, or sub with client_limit_key) may make RATE requests a second across all workers (0.001 to 1000000, up to three decimals) and BURST at once after a pause (1 to 1000000); past it mcpd answers 429 with Retry-After. Empty: no rate limit. The runtime's authorizer has account quotas only. Needs container_verifies_tokens."
  type        = string
  default     = ""

  validation {
    condition = var.client_rate_limit == "" || try(
      can(regex("^[0-9]{1,7}(\\.[0-9]{1,3})?:[0-9]{1,7}$", var.client_rate_limit)) &&
      tonumber(split(":", var.client_rate_limit)[0]) >= 0.001 && tonumber(split(":", var.client_rate_limit)[0]) <= 1000000 &&
      tonumber(split(":", var.client_rate_limit)[1]) >= 1 && tonumber(split(":", var.client_rate_limit)[1]) <= 1000000,
    false)
    error_message = "client_rate_limit must be empty or RATE:BURST, e.g. \"10:20\" or \"0.5:5\": RATE 0.001 to 1000000 requests a second (up to three decimals), BURST 1 to 1000000."
  }
}

variable "client_concurrency" {
  description = "Requests each client may have in flight at once across all workers (MCPD_CLIENT_CONCURRENCY); past it mcpd answers 429 with Retry-After. 0: no cap. Needs container_verifies_tokens."
  type        = number
  default     = 0

  validation {
    condition     = try(var.client_concurrency >= 0 && var.client_concurrency <= 1000000 && floor(var.client_concurrency) == var.client_concurrency, false)
    error_message = "client_concurrency must be a whole number from 0 (off) to 1000000."
  }
}

variable "client_limit_key" {
  description = "The verified token's claim that names a client for client_rate_limit and client_concurrency (MCPD_CLIENT_LIMIT_KEY): client_id (an app client) or sub (a user)."
  type        = string
  default     = "client_id"

  validation {
    condition     = contains(["client_id", "sub"], var.client_limit_key)
    error_message = "client_limit_key must be client_id or sub."
  }
}

variable "egress_allow" {
  description = "Destinations the tools may reach besides their own (MCPD_EGRESS_ALLOW, mcpd's --egress-allow): comma-separated entries, each HOST[:PORT] (for the tools that take the operator's destinations, such as fetch), TOOL=HOST[:PORT] (for one tool) or TOOL=-HOST[:PORT] (narrows that tool's own list). HOST is a DNS name, where a label * stands for one label, or an IP address ([...] for IPv6); PORT is 1 to 65535 or *, 443 when left out. Empty: each tool reaches only what it declares. mcpd checks the list again at start and names the entry it refuses."
  type        = string
  default     = ""

  validation {
    condition     = length(split(",", var.egress_allow)) <= 256
    error_message = "egress_allow holds at most 256 entries."
  }
  validation {
    condition = var.egress_allow == "" || alltrue([
      for e in split(",", var.egress_allow) :
      can(regex("^\\s*([a-z0-9_]{1,64}=-?)?(\\[[0-9A-Fa-f:.]+\\]|[A-Za-z0-9_*-]+(\\.[A-Za-z0-9_*-]+)*\\.?)(:([0-9]{1,5}|\\*))?\\s*$", e))
    ])
    error_message = "egress_allow must be comma-separated entries HOST[:PORT], TOOL=HOST[:PORT] or TOOL=-HOST[:PORT] (TOOL: 1 to 64 of a-z, 0-9 and _), with no empty entry, e.g. \"docs.example.com,s3_get_object=-s3.us-east-1.amazonaws.com\"."
  }
}

variable "extra_iam_statements" {
  description = "IAM policy statements added to the runtime's execution role (an inline policy of their own), for tools that call AWS APIs: the egress process signs their requests with the role's credentials. E.g. s3:GetObject on the objects s3_get_object may read. Empty: the role may do only what the stack needs."
  type = list(object({
    sid       = optional(string)
    effect    = optional(string, "Allow")
    actions   = list(string)
    resources = list(string)
    conditions = optional(list(object({
      test     = string
      variable = string
      values   = list(string)
    })), [])
  }))
  default = []

  validation {
    condition     = alltrue([for s in var.extra_iam_statements : contains(["Allow", "Deny"], s.effect)])
    error_message = "A statement's effect must be Allow or Deny."
  }
  validation {
    condition     = alltrue([for s in var.extra_iam_statements : s.sid == null || can(regex("^[A-Za-z0-9]+$", s.sid))])
    error_message = "A statement's sid may hold only letters and digits (IAM's rule)."
  }
  validation {
    condition = alltrue([
      for s in var.extra_iam_statements :
      length(s.actions) > 0 && alltrue([for a in s.actions : can(regex("^([a-z0-9-]+:[A-Za-z0-9*?]+|\\*)$", a))])
    ])
    error_message = "Each statement needs actions, each service:Action (wildcards allowed), such as s3:GetObject."
  }
  validation {
    condition = alltrue([
      for s in var.extra_iam_statements :
      length(s.resources) > 0 && alltrue([for r in s.resources : r == "*" || startswith(r, "arn:")])
    ])
    error_message = "Each statement needs resources, each an ARN (arn:aws:s3:::my-bucket/*) or \"*\"."
  }
}

variable "example_tools" {
  description = "true: the image also serves the example tools of worker/tools/examples/ (fetch, s3_get_object), which reach the outside world through mcpd's egress process; fetch reaches only the hosts egress_allow lists, and s3_get_object needs s3:GetObject in extra_iam_statements. The image tag then ends in -examples, so turning it on or off builds and deploys a new image."
  type        = bool
  default     = false
}

variable "environment_variables" {
  description = "Environment variables for the container, under the reference pattern's name (merged with extra_environment_variables). LOG_LEVEL (DEBUG, INFO, WARNING, ERROR, CRITICAL) sets mcpd's log level; other names pass through; MCPD_* names must be ones mcpd knows, and the authentication variables are set by the stack."
  type        = map(string)
  default     = {}

  validation {
    condition = alltrue([
      for k in keys(var.environment_variables) : !startswith(k, "MCPD_") || contains([
        "MCPD_MAX_BODY", "MCPD_SHUTDOWN_TIMEOUT", "MCPD_IDLE_TIMEOUT", "MCPD_ALLOWED_ORIGINS",
        "MCPD_CLOCK_SKEW", "MCPD_JWKS_REFRESH_MIN", "MCPD_JWKS_REFRESH_MAX", "MCPD_ALLOWED_AUDIENCES",
        "MCPD_PUBLIC_PING", "MCPD_MAX_PENDING_OUTPUT", "MCPD_METRICS_LISTEN",
      ], k)
    ])
    error_message = "Allowed MCPD_* names: MCPD_MAX_BODY, MCPD_SHUTDOWN_TIMEOUT, MCPD_IDLE_TIMEOUT, MCPD_ALLOWED_ORIGINS, MCPD_CLOCK_SKEW, MCPD_JWKS_REFRESH_MIN, MCPD_JWKS_REFRESH_MAX, MCPD_ALLOWED_AUDIENCES, MCPD_PUBLIC_PING, MCPD_MAX_PENDING_OUTPUT, MCPD_METRICS_LISTEN. Host, port, log level, workers, EMF metrics, egress destinations, per-client limits and authentication have their own variables."
  }

  validation {
    condition     = !contains(keys(var.environment_variables), "LOG_LEVEL") || contains(["DEBUG", "INFO", "WARNING", "WARN", "ERROR", "CRITICAL"], upper(lookup(var.environment_variables, "LOG_LEVEL", "INFO")))
    error_message = "LOG_LEVEL must be DEBUG, INFO, WARNING, WARN, ERROR or CRITICAL (any case); it sets mcpd's log level unless log_level does."
  }
}

variable "extra_environment_variables" {
  description = "More environment variables for the container (as environment_variables). MCPD_* names must be ones mcpd knows (it refuses unknown ones at start); the authentication variables are set by the stack and cannot be given here."
  type        = map(string)
  default     = {}

  validation {
    condition = alltrue([
      for k in keys(var.extra_environment_variables) : !startswith(k, "MCPD_") || contains([
        "MCPD_MAX_BODY", "MCPD_SHUTDOWN_TIMEOUT", "MCPD_IDLE_TIMEOUT", "MCPD_ALLOWED_ORIGINS",
        "MCPD_CLOCK_SKEW", "MCPD_JWKS_REFRESH_MIN", "MCPD_JWKS_REFRESH_MAX", "MCPD_ALLOWED_AUDIENCES",
        "MCPD_PUBLIC_PING", "MCPD_MAX_PENDING_OUTPUT", "MCPD_METRICS_LISTEN",
      ], k)
    ])
    error_message = "Allowed MCPD_* names: MCPD_MAX_BODY, MCPD_SHUTDOWN_TIMEOUT, MCPD_IDLE_TIMEOUT, MCPD_ALLOWED_ORIGINS, MCPD_CLOCK_SKEW, MCPD_JWKS_REFRESH_MIN, MCPD_JWKS_REFRESH_MAX, MCPD_ALLOWED_AUDIENCES, MCPD_PUBLIC_PING, MCPD_MAX_PENDING_OUTPUT, MCPD_METRICS_LISTEN. Host, port, log level, workers, EMF metrics, egress destinations, per-client limits and authentication have their own variables."
  }

  validation {
    condition     = !contains(keys(var.extra_environment_variables), "LOG_LEVEL") || contains(["DEBUG", "INFO", "WARNING", "WARN", "ERROR", "CRITICAL"], upper(lookup(var.extra_environment_variables, "LOG_LEVEL", "INFO")))
    error_message = "LOG_LEVEL must be DEBUG, INFO, WARNING, WARN, ERROR or CRITICAL (any case); it sets mcpd's log level unless log_level does."
  }
}

variable "idle_runtime_session_timeout" {
  description = "Seconds an idle runtime session (microVM) is kept before AgentCore ends it."
  type        = number
  default     = 900

  validation {
    condition     = var.idle_runtime_session_timeout >= 60 && var.idle_runtime_session_timeout <= 28800
    error_message = "idle_runtime_session_timeout must be between 60 and 28800 seconds."
  }
}

variable "max_lifetime" {
  description = "Seconds a runtime session (microVM) may live at most. Must not be less than idle_runtime_session_timeout."
  type        = number
  default     = 28800

  validation {
    condition     = var.max_lifetime >= 60 && var.max_lifetime <= 28800
    error_message = "max_lifetime must be between 60 and 28800 seconds."
  }
}

variable "log_retention_days" {
  description = "Days CloudWatch keeps the runtime's and CodeBuild's logs."
  type        = number
  default     = 30

  validation {
    condition     = contains([1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653], var.log_retention_days)
    error_message = "log_retention_days must be a value CloudWatch Logs accepts: 1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288 or 3653."
  }
}

variable "test_username" {
  description = "Cognito test user created with a generated password (output test_user_password)."
  type        = string
  default     = "testuser"

  validation {
    condition     = can(regex("^[A-Za-z0-9_.@+-]{1,128}$", var.test_username))
    error_message = "test_username may contain letters, digits and _ . @ + - (1 to 128 characters)."
  }
}

variable "access_token_validity_minutes" {
  description = "Lifetime of Cognito access and ID tokens, in minutes."
  type        = number
  default     = 60

  validation {
    condition     = var.access_token_validity_minutes >= 5 && var.access_token_validity_minutes <= 1440
    error_message = "access_token_validity_minutes must be between 5 and 1440 (Cognito's limits)."
  }
}

variable "ecr_keep_images" {
  description = "How many tagged images the ECR lifecycle policy keeps (older ones expire)."
  type        = number
  default     = 10

  validation {
    condition     = var.ecr_keep_images >= 1 && var.ecr_keep_images <= 1000
    error_message = "ecr_keep_images must be between 1 and 1000."
  }
}

variable "codebuild_compute_type" {
  description = "CodeBuild compute type of the ARM build."
  type        = string
  default     = "BUILD_GENERAL1_SMALL"

  validation {
    condition     = contains(["BUILD_GENERAL1_SMALL", "BUILD_GENERAL1_MEDIUM", "BUILD_GENERAL1_LARGE"], var.codebuild_compute_type)
    error_message = "codebuild_compute_type must be BUILD_GENERAL1_SMALL, BUILD_GENERAL1_MEDIUM or BUILD_GENERAL1_LARGE."
  }
}

variable "codebuild_image" {
  description = "CodeBuild image for the ARM build (it needs Docker)."
  type        = string
  default     = "aws/codebuild/amazonlinux-aarch64-standard:3.0"
}

variable "build_timeout_minutes" {
  description = "Longest time an image build may take, in minutes."
  type        = number
  default     = 30

  validation {
    condition     = var.build_timeout_minutes >= 5 && var.build_timeout_minutes <= 480
    error_message = "build_timeout_minutes must be between 5 and 480."
  }
}

variable "base_image" {
  description = "Debian 12 base image of both Dockerfile stages, as CodeBuild pulls it. The default is the ECR Public mirror of Docker Hub's debian:12-slim (no anonymous pull limit)."
  type        = string
  default     = "public.ecr.aws/docker/library/debian:12-slim"
}

variable "source_dir" {
  description = "Repository to build the image from. Empty: the repository this terraform/ folder is in."
  type        = string
  default     = ""
}

variable "tags" {
  description = "Tags added to every resource (besides Project and ManagedBy)."
  type        = map(string)
  default     = {}
}
