#!/usr/bin/env bash
# Removes everything ops/deploy.sh created: terraform destroy of terraform/,
# then the runtime's CloudWatch log group (AgentCore creates it, so Terraform
# does not own it).
#
#   ops/destroy.sh [--auto-approve]
#
# Without --auto-approve it asks first, and needs a terminal to ask on.
set -euo pipefail
cd "$(dirname "$0")/.."

usage() {
  echo "usage: ops/destroy.sh [--auto-approve]" >&2
  exit 2
}

die() {
  echo "destroy: $*" >&2
  exit 1
}

auto_approve=0
case "$#:${1:-}" in
  0:) ;;
  1:--auto-approve) auto_approve=1 ;;
  *) usage ;;
esac

command -v terraform >/dev/null || die "terraform is not installed"
command -v aws >/dev/null || die "the AWS CLI is not installed"
tf=(terraform -chdir=terraform)
"${tf[@]}" init -input=false >/dev/null

# Read before the state is gone.
log_group=$("${tf[@]}" output -raw runtime_log_group 2>/dev/null || true)
region=$("${tf[@]}" output -raw aws_region 2>/dev/null || true)

if ((!auto_approve)); then
  [ -t 0 ] || die "no terminal to confirm on: run it on a terminal, or pass --auto-approve"
  echo "This deletes the AgentCore runtime, the ECR repository and its images, the Cognito"
  echo "user pool and its users, the source bucket, the CodeBuild project, the IAM roles and the logs."
  read -r -p "Destroy? Only 'yes' goes on: " answer
  [ "$answer" = yes ] || die "nothing destroyed"
fi
"${tf[@]}" destroy -input=false -auto-approve

if [ -n "$log_group" ] && [ -n "$region" ]; then
  terraform/scripts/runtime-log-group.sh delete --region "$region" --log-group "$log_group"
fi
rm -rf terraform/.build
echo "destroy: done"
