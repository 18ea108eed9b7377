#!/usr/bin/env bash
# Times `gonogo check` with the bundled kubernetes-baseline over the
# kube-prometheus manifests (../shared/fixtures/kube-prometheus, 97 files,
# 5.7 MB): benches/check.sh run in benches/kube-prometheus-baseline.
# Usage: benches/baseline.sh [RUNS]
exec "$(dirname "$0")/check.sh" "${1:-20}" benches/kube-prometheus-baseline
