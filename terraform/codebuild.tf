# CodeBuild: builds the linux/arm64 image on an ARM host from the S3 archive
# and pushes it to ECR under the source-hash tag. terraform_data.image runs
# scripts/build-image.sh, which starts a build only when ECR does not hold
# that tag yet, waits for it, and fails the apply if it fails.

locals {
  codebuild_project_name = "${var.project_name}-image"
}

resource "aws_cloudwatch_log_group" "codebuild" {
  name              = "/aws/codebuild/${local.codebuild_project_name}"
  retention_in_days = var.log_retention_days
}

resource "aws_codebuild_project" "image" {
  name          = local.codebuild_project_name
  description   = "Builds the mcpd container image (linux/arm64) for AgentCore"
  service_role  = aws_iam_role.codebuild.arn
  build_timeout = var.build_timeout_minutes

  artifacts {
    type = "NO_ARTIFACTS"
  }

  environment {
    type            = "ARM_CONTAINER"
    compute_type    = var.codebuild_compute_type
    image           = var.codebuild_image
    privileged_mode = true # docker build needs the Docker daemon

    environment_variable {
      name  = "REPOSITORY_URI"
      value = aws_ecr_repository.mcpd.repository_url
    }
    environment_variable {
      name  = "BASE_IMAGE"
      value = var.base_image
    }
    # ON builds the example tools in (the Dockerfile's build argument).
    environment_variable {
      name  = "EXAMPLE_TOOLS"
      value = var.example_tools ? "ON" : "OFF"
    }
    # The tag to build; build-image.sh overrides it for every build.
    environment_variable {
      name  = "IMAGE_TAG"
      value = local.image_tag
    }
  }

  source {
    type      = "S3"
    location  = "${aws_s3_bucket.source.id}/${aws_s3_object.source.key}"
    buildspec = file("${path.module}/buildspec.yml")
  }

  logs_config {
    cloudwatch_logs {
      group_name = aws_cloudwatch_log_group.codebuild.name
    }
  }
}

# Builds the image for the current source hash. Replaced (so run again)
# whenever the tag, repository or project changes.
resource "terraform_data" "image" {
  triggers_replace = [local.image_tag, aws_ecr_repository.mcpd.repository_url, aws_codebuild_project.image.arn]
  input            = "${aws_ecr_repository.mcpd.repository_url}:${local.image_tag}"

  provisioner "local-exec" {
    interpreter = ["bash", "-c"]
    command     = "\"$BUILD_SCRIPT\" --region \"$REGION\" --project \"$PROJECT\" --repository \"$REPOSITORY\" --tag \"$TAG\" --source \"$SOURCE\" --timeout \"$TIMEOUT_MINUTES\""
    environment = {
      BUILD_SCRIPT    = "${path.module}/scripts/build-image.sh"
      REGION          = var.aws_region
      PROJECT         = aws_codebuild_project.image.name
      REPOSITORY      = aws_ecr_repository.mcpd.name
      TAG             = local.image_tag
      SOURCE          = "${aws_s3_bucket.source.id}/${aws_s3_object.source.key}"
      TIMEOUT_MINUTES = tostring(var.build_timeout_minutes + 5)
    }
  }

  depends_on = [aws_iam_role_policy.codebuild, aws_ecr_lifecycle_policy.mcpd]
}
