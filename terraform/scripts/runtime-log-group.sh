#!/usr/bin/env bash
# Manages the AgentCore runtime's CloudWatch log group, which AgentCore
# creates itself (so Terraform cannot own it without racing it).
#
#   runtime-log-group.sh retain --region R --log-group NAME --days N
#       creates the group if it does not exist yet, sets its retention
#       (terraform_data.runtime_log_retention in main.tf runs this)
#   runtime-log-group.sh delete --region R --log-group NAME
#       deletes it if it exists (ops/destroy.sh runs this)
set -euo pipefail

usage() {
  echo "usage: runtime-log-group.sh retain --region REGION --log-group NAME --days DAYS" >&2
  echo "       runtime-log-group.sh delete --region REGION --log-group NAME" >&2
  exit 2
}

[ $# -ge 1 ] || usage
action=$1
shift
region='' group='' days=''
while [ $# -gt 0 ]; do
  [ $# -ge 2 ] || usage
  case "$1" in
    --region) region=$2 ;;
    --log-group) group=$2 ;;
    --days) days=$2 ;;
    *) usage ;;
  esac
  shift 2
done
if [ -z "$region" ] || [[ $group != /aws/bedrock-agentcore/runtimes/* ]]; then
  usage
fi

# Prints the group's name if it exists (exact match, not just the prefix).
exists() {
  local found
  found=$(aws logs describe-log-groups --region "$region" --log-group-name-prefix "$group" \
    --query "logGroups[?logGroupName=='$group'].logGroupName" --output text)
  [ "$found" = "$group" ]
}

case "$action" in
  retain)
    [[ $days =~ ^[1-9][0-9]*$ ]] || usage
    if ! exists; then
      # AgentCore may create it at the same moment: that is fine.
      aws logs create-log-group --region "$region" --log-group-name "$group" 2>/dev/null || exists || {
        echo "runtime-log-group: cannot create $group" >&2
        exit 1
      }
    fi
    aws logs put-retention-policy --region "$region" --log-group-name "$group" --retention-in-days "$days"
    echo "runtime-log-group: $group keeps logs $days days"
    ;;
  delete)
    [ -z "$days" ] || usage
    if exists; then
      aws logs delete-log-group --region "$region" --log-group-name "$group"
      echo "runtime-log-group: deleted $group"
    else
      echo "runtime-log-group: $group does not exist"
    fi
    ;;
  *) usage ;;
esac
