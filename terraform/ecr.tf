# ECR: the image repository. Tags are immutable (each source hash is pushed
# once; the build script skips a tag that exists), every push is scanned,
# and old images expire.

resource "aws_ecr_repository" "mcpd" {
  name                 = var.project_name
  image_tag_mutability = "IMMUTABLE"
  force_delete         = true

  image_scanning_configuration {
    scan_on_push = true
  }

  encryption_configuration {
    encryption_type = "AES256"
  }
}

resource "aws_ecr_lifecycle_policy" "mcpd" {
  repository = aws_ecr_repository.mcpd.name
  policy = jsonencode({
    rules = [
      {
        rulePriority = 1
        description  = "Remove untagged images (layers of interrupted pushes) after a day"
        selection = {
          tagStatus   = "untagged"
          countType   = "sinceImagePushed"
          countUnit   = "days"
          countNumber = 1
        }
        action = { type = "expire" }
      },
      {
        rulePriority = 2
        description  = "Keep the ${var.ecr_keep_images} most recent source builds"
        selection = {
          tagStatus     = "tagged"
          tagPrefixList = ["src-"]
          countType     = "imageCountMoreThan"
          countNumber   = var.ecr_keep_images
        }
        action = { type = "expire" }
      },
    ]
  })
}
