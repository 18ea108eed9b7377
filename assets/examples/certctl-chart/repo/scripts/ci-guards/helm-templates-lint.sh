#!/usr/bin/env bash
# Renders the chart in six value combinations and lints it.
set -euo pipefail
CHART=deploy/helm/certctl
BASE=(--set server.tls.existingSecret=ci)
declare -A MATRIX=(
  [defaults]=""
  [backup-pvc]="--set backup.enabled=true"
  [backup-s3]="--set backup.enabled=true --set backup.sink=s3 --set backup.s3.bucket=ci"
  [prometheus-rules]="--set monitoring.prometheusRules.enabled=true"
  [migrations-hook]="--set migrations.viaHook=true"
  [all-on]="--set backup.enabled=true --set monitoring.prometheusRules.enabled=true --set migrations.viaHook=true"
)
pass=0
for name in "${!MATRIX[@]}"; do
  # shellcheck disable=SC2086
  if helm template c "$CHART" "${BASE[@]}" ${MATRIX[$name]} > /dev/null; then
    pass=$((pass + 1))
  else
    echo "::error::helm template failed for $name"
  fi
done
helm lint "$CHART" "${BASE[@]}"
echo "helm-templates-lint: $pass/${#MATRIX[@]} matrix combinations pass"
[[ $pass -eq ${#MATRIX[@]} ]]
