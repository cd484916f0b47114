#!/usr/bin/env bash
# Deploys mcpd to Amazon Bedrock AgentCore Runtime with terraform/: checks the
# tools and credentials, then init, validate, plan, asks, and applies the plan
# it showed (nothing else).
#
#   ops/deploy.sh [--auto-approve] [-- EXTRA_TERRAFORM_PLAN_ARGS...]
#
# e.g. ops/deploy.sh -- -var log_level=debug. Variables come from
# terraform/terraform.tfvars (copy terraform.tfvars.example) or the defaults.
# --auto-approve applies without asking (for automation); without it, the
# script needs a terminal to ask on.
set -euo pipefail
cd "$(dirname "$0")/.."

usage() {
  echo "usage: ops/deploy.sh [--auto-approve] [-- EXTRA_TERRAFORM_PLAN_ARGS...]" >&2
  exit 2
}

die() {
  echo "deploy: $*" >&2
  exit 1
}

auto_approve=0
plan_args=()
while [ $# -gt 0 ]; do
  case "$1" in
    --auto-approve) auto_approve=1 ;;
    --)
      shift
      plan_args=("$@")
      break
      ;;
    *) usage ;;
  esac
  shift
done

# Terraform >= 1.6, the AWS CLI (the image build and log retention scripts
# call it) and working AWS credentials.
command -v terraform >/dev/null || die "terraform is not installed (version 1.6 or later is needed)"
tf_version=$(terraform version | sed -n '1s/^Terraform v\([0-9][0-9]*\.[0-9][0-9]*\).*/\1/p')
major=${tf_version%%.*} minor=${tf_version#*.}
if [ -z "$tf_version" ] || ((major < 1 || (major == 1 && minor < 6))); then
  die "terraform ${tf_version:-of unknown version} is too old: 1.6 or later is needed"
fi
command -v aws >/dev/null || die "the AWS CLI is not installed (terraform runs it to build the image)"
account=$(aws sts get-caller-identity --query Account --output text 2>/dev/null) ||
  die "no working AWS credentials (aws configure, or set AWS_PROFILE)"
echo "deploy: AWS account $account, terraform $tf_version"
[ -f terraform/terraform.tfvars ] ||
  echo "deploy: no terraform/terraform.tfvars: using the defaults (see terraform/terraform.tfvars.example)"

tf=(terraform -chdir=terraform)
plan_file=deploy.tfplan
trap 'rm -f "terraform/$plan_file"' EXIT

"${tf[@]}" init -input=false
"${tf[@]}" validate
"${tf[@]}" plan -input=false -out="$plan_file" ${plan_args[@]+"${plan_args[@]}"}

if ((!auto_approve)); then
  [ -t 0 ] || die "no terminal to confirm on: run it on a terminal, or pass --auto-approve"
  read -r -p "Apply this plan? Only 'yes' applies it: " answer
  [ "$answer" = yes ] || die "not applied"
fi
"${tf[@]}" apply -input=false "$plan_file"

cat <<'NEXT'

deploy: done. Next, from the repository root:
  terraform -chdir=terraform output                                   # ids, URLs, commands
  ops/get-token --from-terraform terraform                            # a Cognito access token
  terraform -chdir=terraform output -raw smoke_test_command | bash    # the MCP test sequence
  ops/destroy.sh                                                      # remove everything
NEXT
