# S3: the repository archive CodeBuild builds the image from.
#
# Private (public access blocked, bucket-owner-enforced ownership, TLS only),
# encrypted, versioned, old versions expire. The archive holds the repository
# minus what never goes into the image (.dockerignore decides what does).

resource "aws_s3_bucket" "source" {
  bucket_prefix = "${var.project_name}-source-"
  force_destroy = true
}

resource "aws_s3_bucket_public_access_block" "source" {
  bucket                  = aws_s3_bucket.source.id
  block_public_acls       = true
  block_public_policy     = true
  ignore_public_acls      = true
  restrict_public_buckets = true
}

resource "aws_s3_bucket_ownership_controls" "source" {
  bucket = aws_s3_bucket.source.id
  rule {
    object_ownership = "BucketOwnerEnforced"
  }
}

resource "aws_s3_bucket_versioning" "source" {
  bucket = aws_s3_bucket.source.id
  versioning_configuration {
    status = "Enabled"
  }
}

resource "aws_s3_bucket_server_side_encryption_configuration" "source" {
  bucket = aws_s3_bucket.source.id
  rule {
    apply_server_side_encryption_by_default {
      sse_algorithm = "AES256"
    }
  }
}

resource "aws_s3_bucket_lifecycle_configuration" "source" {
  bucket = aws_s3_bucket.source.id

  rule {
    id     = "expire-old-archives"
    status = "Enabled"
    filter {}
    noncurrent_version_expiration {
      noncurrent_days = 30
    }
    abort_incomplete_multipart_upload {
      days_after_initiation = 1
    }
  }

  depends_on = [aws_s3_bucket_versioning.source]
}

data "aws_iam_policy_document" "source_bucket" {
  statement {
    sid       = "DenyInsecureTransport"
    effect    = "Deny"
    actions   = ["s3:*"]
    resources = [aws_s3_bucket.source.arn, "${aws_s3_bucket.source.arn}/*"]
    principals {
      type        = "*"
      identifiers = ["*"]
    }
    condition {
      test     = "Bool"
      variable = "aws:SecureTransport"
      values   = ["false"]
    }
  }
}

resource "aws_s3_bucket_policy" "source" {
  bucket = aws_s3_bucket.source.id
  policy = data.aws_iam_policy_document.source_bucket.json

  depends_on = [aws_s3_bucket_public_access_block.source]
}

# The archive. Excludes are exact top-level names (every archive provider
# release matches those) plus "build*" for local build trees. Its content
# hash is not the image tag: that comes from source.tf, which hashes only
# what the image is built from.
data "archive_file" "source" {
  type        = "zip"
  source_dir  = local.source_dir
  output_path = "${path.module}/.build/mcpd-source.zip"
  excludes = [
    ".git", ".ci", ".dev", ".github", "tests", "terraform", "node_modules",
    "build*", "README.md", ".gitignore",
  ]
}

resource "aws_s3_object" "source" {
  bucket = aws_s3_bucket.source.id
  key    = "source/mcpd-${local.image_tag}.zip"
  source = data.archive_file.source.output_path
  etag   = data.archive_file.source.output_md5

  depends_on = [aws_s3_bucket_server_side_encryption_configuration.source]
}
