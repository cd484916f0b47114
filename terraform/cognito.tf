# Cognito: the token issuer in front of the runtime.
#
# A user pool where only administrators create users (no self sign-up), an
# app client for USER_PASSWORD_AUTH with refresh tokens and no secret (a CLI
# cannot keep one), and a test user whose password is generated here, never
# written in a file (output test_user_password, sensitive).

resource "aws_cognito_user_pool" "mcpd" {
  name                = "${var.project_name}-users"
  deletion_protection = "INACTIVE"
  mfa_configuration   = "OFF"

  admin_create_user_config {
    allow_admin_create_user_only = true
  }

  password_policy {
    minimum_length                   = 12
    require_lowercase                = true
    require_uppercase                = true
    require_numbers                  = true
    require_symbols                  = true
    temporary_password_validity_days = 1
  }

  account_recovery_setting {
    recovery_mechanism {
      name     = "admin_only"
      priority = 1
    }
  }
}

resource "aws_cognito_user_pool_client" "mcpd" {
  name         = "${var.project_name}-client"
  user_pool_id = aws_cognito_user_pool.mcpd.id

  generate_secret               = false
  explicit_auth_flows           = ["ALLOW_USER_PASSWORD_AUTH", "ALLOW_REFRESH_TOKEN_AUTH"]
  prevent_user_existence_errors = "ENABLED"
  enable_token_revocation       = true

  access_token_validity  = var.access_token_validity_minutes
  id_token_validity      = var.access_token_validity_minutes
  refresh_token_validity = 30
  token_validity_units {
    access_token  = "minutes"
    id_token      = "minutes"
    refresh_token = "days"
  }
}

# The test user's password. Two UUIDs (v4: 122 random bits each, from the
# operating system's CSPRNG) drawn once: ignore_changes keeps the first
# value in the state, although uuid() changes on every plan. The fixed
# "Mcpd-" prefix and the upper-cased second half guarantee Cognito's
# character classes (upper, lower, digit, symbol); every character is safe
# in a shell. Like any password Terraform sets, it is stored in the state:
# keep the state private (backend.tf.example encrypts it at rest).
resource "terraform_data" "test_user_password" {
  input = sensitive("Mcpd-${uuid()}-${upper(uuid())}")

  lifecycle {
    ignore_changes = [input]
  }
}

resource "aws_cognito_user" "test" {
  user_pool_id   = aws_cognito_user_pool.mcpd.id
  username       = var.test_username
  password       = terraform_data.test_user_password.output
  message_action = "SUPPRESS"
}

locals {
  cognito_issuer        = "https://${aws_cognito_user_pool.mcpd.endpoint}"
  cognito_discovery_url = "${local.cognito_issuer}/.well-known/openid-configuration"
}
