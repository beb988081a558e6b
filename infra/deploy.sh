#!/usr/bin/env bash
# Deploy one stage of Mikrokort with the AWS CLI: upload the code (infra/build/deployment.zip)
# to your artifact bucket, then create or update the CloudFormation stack `mikrokort-STAGE`
# from infra/build/STAGE/sam.json. `make deploy STAGE=...` builds both first. Not run in CI.
#
#   ARTIFACT_BUCKET=my-artifacts infra/deploy.sh prod
#   PARAMETERS="GeocoderUrl=https://api.dataforsyningen.dk/rest/gsearch/v2.0 GeocoderToken=..." \
#     ARTIFACT_BUCKET=my-artifacts infra/deploy.sh prod
#
# Parameters not given keep their value on an existing stack (GeocoderUrl, GeocoderToken,
# PublicUrl; see docs/DEPLOY.md).
set -euo pipefail
cd "$(dirname "$0")/.."
STAGE="${1:?usage: infra/deploy.sh dev|prod}"
case "$STAGE" in dev|prod) ;; *) echo "unknown stage '$STAGE' (dev or prod)" >&2; exit 2 ;; esac
: "${ARTIFACT_BUCKET:?set ARTIFACT_BUCKET to an S3 bucket of yours, in the region of the stack, for the code}"
OUT="infra/build/$STAGE"
for f in "$OUT/sam.json" "$OUT/deployment.zip"; do
  test -f "$f" || { echo "missing $f: run 'make package synth' first" >&2; exit 1; }
done
command -v aws >/dev/null || { echo "the AWS CLI (aws) is needed: see docs/DEPLOY.md" >&2; exit 1; }

aws cloudformation package \
  --template-file "$OUT/sam.json" \
  --s3-bucket "$ARTIFACT_BUCKET" --s3-prefix "mikrokort/$STAGE" \
  --use-json --output-template-file "$OUT/packaged.json"

overrides=()
if [ -n "${PARAMETERS:-}" ]; then
  read -r -a params <<<"$PARAMETERS"
  overrides=(--parameter-overrides "${params[@]}")
fi
aws cloudformation deploy \
  --template-file "$OUT/packaged.json" \
  --stack-name "mikrokort-$STAGE" \
  --capabilities CAPABILITY_NAMED_IAM CAPABILITY_AUTO_EXPAND \
  --tags app=mikrokort "stage=$STAGE" \
  --no-fail-on-empty-changeset \
  ${overrides[@]+"${overrides[@]}"}

aws cloudformation describe-stacks --stack-name "mikrokort-$STAGE" \
  --query "Stacks[0].Outputs" --output table
