#!/usr/bin/env bash
# Fails when a change-me-* placeholder appears in a compose file other than
# deploy/docker-compose.demo.yml. Comment lines are ignored.
set -euo pipefail
cd "$(git rev-parse --show-toplevel)"
hits=$(git ls-files '*docker-compose*.yml' '*docker-compose*.yaml' \
  | grep -v 'docker-compose\.demo\.yml$' \
  | xargs --no-run-if-empty grep -nH 'change-me-' \
  | grep -vE '^[^:]+:[0-9]+:[[:space:]]*#' || true)
if [[ -n "$hits" ]]; then
  echo "::error::placeholder credentials outside the demo compose file:"
  echo "$hits"
  exit 1
fi
echo "no-change-me-in-prod-compose: clean"
