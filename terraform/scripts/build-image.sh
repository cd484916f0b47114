#!/usr/bin/env bash
# Builds the mcpd image in CodeBuild unless ECR already holds its tag, waits
# for the build and fails if it fails. terraform_data.image (codebuild.tf)
# runs it; it can be run by hand too.
#
#   build-image.sh --region R --project P --repository N --tag T
#                  [--source BUCKET/KEY] [--timeout MINUTES]
#
# Needs the AWS CLI with credentials allowed codebuild:StartBuild,
# codebuild:BatchGetBuilds, codebuild:StopBuild and ecr:DescribeImages.
# BUILD_POLL_SECONDS (default 15) is the status poll interval.
set -euo pipefail

usage() {
  echo "usage: build-image.sh --region REGION --project CODEBUILD_PROJECT --repository ECR_REPOSITORY --tag TAG [--source BUCKET/KEY] [--timeout MINUTES]" >&2
  exit 2
}

region='' project='' repository='' tag='' source='' timeout=35
while [ $# -gt 0 ]; do
  [ $# -ge 2 ] || usage
  case "$1" in
    --region) region=$2 ;;
    --project) project=$2 ;;
    --repository) repository=$2 ;;
    --tag) tag=$2 ;;
    --source) source=$2 ;;
    --timeout) timeout=$2 ;;
    *) usage ;;
  esac
  shift 2
done
if [ -z "$region" ] || [ -z "$project" ] || [ -z "$repository" ] || [ -z "$tag" ]; then
  usage
fi
[[ $timeout =~ ^[1-9][0-9]*$ ]] || usage
poll=${BUILD_POLL_SECONDS:-15}
[[ $poll =~ ^[0-9]+$ ]] || usage

image_exists() {
  aws ecr describe-images --region "$region" --repository-name "$repository" \
    --image-ids "imageTag=$tag" --output text --query 'imageDetails[0].imageDigest' >/dev/null 2>&1
}

if image_exists; then
  echo "build-image: $repository:$tag is already in ECR; nothing to build"
  exit 0
fi

start_args=(--region "$region" --project-name "$project"
  --environment-variables-override "name=IMAGE_TAG,value=$tag,type=PLAINTEXT"
  --query 'build.id' --output text)
[ -z "$source" ] || start_args+=(--source-location-override "$source")
build_id=$(aws codebuild start-build "${start_args[@]}")
if [ -z "$build_id" ] || [ "$build_id" = None ]; then
  echo "build-image: CodeBuild did not return a build id" >&2
  exit 1
fi
echo "build-image: started $build_id for $repository:$tag"
echo "build-image: logs: https://$region.console.aws.amazon.com/codesuite/codebuild/projects/$project/history?region=$region"

deadline=$((SECONDS + timeout * 60))
while :; do
  status=$(aws codebuild batch-get-builds --region "$region" --ids "$build_id" \
    --query 'builds[0].buildStatus' --output text)
  case "$status" in
    SUCCEEDED) break ;;
    IN_PROGRESS) ;;
    *)
      # shellcheck disable=SC2016 # the backquotes are JMESPath literals
      phase=$(aws codebuild batch-get-builds --region "$region" --ids "$build_id" \
        --query 'builds[0].phases[?phaseStatus==`FAILED`].[phaseType,contexts[0].message]' --output text || true)
      echo "build-image: build $build_id ended $status${phase:+: $phase}" >&2
      echo "build-image: see the CodeBuild log group /aws/codebuild/$project" >&2
      exit 1
      ;;
  esac
  if ((SECONDS >= deadline)); then
    echo "build-image: build $build_id still running after $timeout minutes; stopping it" >&2
    aws codebuild stop-build --region "$region" --id "$build_id" >/dev/null || true
    exit 1
  fi
  sleep "$poll" # poll interval; the loop is bounded by the deadline above
done

if ! image_exists; then
  echo "build-image: build $build_id succeeded but $repository:$tag is not in ECR" >&2
  exit 1
fi
echo "build-image: pushed $repository:$tag"
