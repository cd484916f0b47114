# IAM: one role for CodeBuild, one for the runtime, each allowed only what it
# does, on the resources this stack creates. Where an action supports no
# resource scoping (ecr:GetAuthorizationToken, X-Ray, CloudWatch metrics),
# "*" is the only possible resource; metrics are then pinned by namespace.

data "aws_caller_identity" "current" {}
data "aws_partition" "current" {}

locals {
  account_id = data.aws_caller_identity.current.account_id
  partition  = data.aws_partition.current.partition
  # AgentCore names a runtime's id "<runtime name>-<10 characters>" and
  # logs to /aws/bedrock-agentcore/runtimes/<runtime id>-<endpoint name>.
  runtime_log_group_arn = "arn:${local.partition}:logs:${var.aws_region}:${local.account_id}:log-group:/aws/bedrock-agentcore/runtimes/${var.agent_runtime_name}-*"
}

# --- CodeBuild ---------------------------------------------------------------

data "aws_iam_policy_document" "codebuild_assume" {
  statement {
    actions = ["sts:AssumeRole"]
    principals {
      type        = "Service"
      identifiers = ["codebuild.amazonaws.com"]
    }
    condition {
      test     = "StringEquals"
      variable = "aws:SourceAccount"
      values   = [local.account_id]
    }
    condition {
      test     = "ArnLike"
      variable = "aws:SourceArn"
      values   = ["arn:${local.partition}:codebuild:${var.aws_region}:${local.account_id}:project/${local.codebuild_project_name}"]
    }
  }
}

resource "aws_iam_role" "codebuild" {
  name               = "${var.project_name}-codebuild"
  description        = "CodeBuild: build the mcpd image from S3 and push it to ECR"
  assume_role_policy = data.aws_iam_policy_document.codebuild_assume.json
}

data "aws_iam_policy_document" "codebuild" {
  statement {
    sid       = "BuildLogs"
    actions   = ["logs:CreateLogStream", "logs:PutLogEvents"]
    resources = ["${aws_cloudwatch_log_group.codebuild.arn}:*"]
  }
  statement {
    sid       = "ReadSourceArchive"
    actions   = ["s3:GetObject", "s3:GetObjectVersion"]
    resources = ["${aws_s3_bucket.source.arn}/source/*"]
  }
  statement {
    sid       = "LocateSourceBucket"
    actions   = ["s3:GetBucketLocation", "s3:GetBucketAcl"]
    resources = [aws_s3_bucket.source.arn]
  }
  statement {
    sid       = "EcrLogin"
    actions   = ["ecr:GetAuthorizationToken"]
    resources = ["*"] # account-level action: no resource scoping exists
  }
  statement {
    sid = "PushImage"
    actions = [
      "ecr:BatchCheckLayerAvailability",
      "ecr:BatchGetImage",
      "ecr:CompleteLayerUpload",
      "ecr:GetDownloadUrlForLayer",
      "ecr:InitiateLayerUpload",
      "ecr:PutImage",
      "ecr:UploadLayerPart",
    ]
    resources = [aws_ecr_repository.mcpd.arn]
  }
}

resource "aws_iam_role_policy" "codebuild" {
  name   = "build-and-push"
  role   = aws_iam_role.codebuild.id
  policy = data.aws_iam_policy_document.codebuild.json
}

# --- AgentCore runtime ---------------------------------------------------------

data "aws_iam_policy_document" "runtime_assume" {
  statement {
    actions = ["sts:AssumeRole"]
    principals {
      type        = "Service"
      identifiers = ["bedrock-agentcore.amazonaws.com"]
    }
    condition {
      test     = "StringEquals"
      variable = "aws:SourceAccount"
      values   = [local.account_id]
    }
    condition {
      test     = "ArnLike"
      variable = "aws:SourceArn"
      values   = ["arn:${local.partition}:bedrock-agentcore:${var.aws_region}:${local.account_id}:*"]
    }
  }
}

resource "aws_iam_role" "runtime" {
  name               = "${var.project_name}-agentcore-runtime"
  description        = "AgentCore runtime of mcpd: pull its image, write its logs, traces and metrics"
  assume_role_policy = data.aws_iam_policy_document.runtime_assume.json
}

# The execution-role statements AgentCore's documentation lists, narrowed to
# this stack: the one repository, this runtime's log groups. mcpd calls no
# AWS API itself, so no workload-identity or Bedrock model permissions; what
# its tools call (s3_get_object's s3:GetObject) is the operator's to grant,
# in extra_iam_statements (below).
data "aws_iam_policy_document" "runtime" {
  statement {
    sid       = "PullImage"
    actions   = ["ecr:BatchGetImage", "ecr:GetDownloadUrlForLayer"]
    resources = [aws_ecr_repository.mcpd.arn]
  }
  statement {
    sid       = "EcrLogin"
    actions   = ["ecr:GetAuthorizationToken"]
    resources = ["*"] # account-level action: no resource scoping exists
  }
  statement {
    sid       = "RuntimeLogGroups"
    actions   = ["logs:CreateLogGroup", "logs:DescribeLogStreams"]
    resources = [local.runtime_log_group_arn]
  }
  statement {
    sid       = "RuntimeLogStreams"
    actions   = ["logs:CreateLogStream", "logs:PutLogEvents"]
    resources = ["${local.runtime_log_group_arn}:log-stream:*"]
  }
  statement {
    # Listing only; AgentCore's documented role has it for the log agent.
    sid       = "DescribeLogGroups"
    actions   = ["logs:DescribeLogGroups"]
    resources = ["arn:${local.partition}:logs:${var.aws_region}:${local.account_id}:log-group:*"]
  }
  statement {
    sid = "Traces"
    actions = [
      "xray:PutTraceSegments",
      "xray:PutTelemetryRecords",
      "xray:GetSamplingRules",
      "xray:GetSamplingTargets",
    ]
    resources = ["*"] # X-Ray has no resource-level permissions
  }
  statement {
    sid       = "Metrics"
    actions   = ["cloudwatch:PutMetricData"]
    resources = ["*"] # PutMetricData has no resources; pinned by namespace
    condition {
      test     = "StringEquals"
      variable = "cloudwatch:namespace"
      values   = ["bedrock-agentcore"]
    }
  }
}

resource "aws_iam_role_policy" "runtime" {
  name   = "run-mcpd"
  role   = aws_iam_role.runtime.id
  policy = data.aws_iam_policy_document.runtime.json
}

# The operator's statements for the tools' AWS calls, which the egress
# process signs with this role's credentials (from the runtime's metadata
# service). A policy of their own, so the stack's stays as reviewed.
data "aws_iam_policy_document" "runtime_extra" {
  count = length(var.extra_iam_statements) > 0 ? 1 : 0

  dynamic "statement" {
    for_each = var.extra_iam_statements
    content {
      sid       = statement.value.sid
      effect    = statement.value.effect
      actions   = statement.value.actions
      resources = statement.value.resources

      dynamic "condition" {
        for_each = statement.value.conditions
        content {
          test     = condition.value.test
          variable = condition.value.variable
          values   = condition.value.values
        }
      }
    }
  }
}

resource "aws_iam_role_policy" "runtime_extra" {
  count  = length(var.extra_iam_statements) > 0 ? 1 : 0
  name   = "tool-permissions"
  role   = aws_iam_role.runtime.id
  policy = data.aws_iam_policy_document.runtime_extra[0].json
}
