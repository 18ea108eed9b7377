#!/usr/bin/env bash
# gonogo's kubernetes-baseline against checkov over the same folder of
# manifests (../shared/fixtures/kube-prometheus), end to end, in one run.
# Installs checkov into a virtualenv (benches/.venv-checkov, or
# CHECKOV_VENV) with pip when it is missing.
# Usage: benches/compare.sh [RUNS]
set -euo pipefail
cd "$(dirname "$0")/.."
runs=${1:-5}
venv=${CHECKOV_VENV:-$PWD/benches/.venv-checkov}
if [ ! -x "$venv/bin/checkov" ]; then
  python3 -m venv "$venv"
  "$venv/bin/pip" install --quiet checkov
fi
cargo build --release --quiet
bin=$PWD/target/release/gonogo
fixtures=$(cd ../shared/fixtures/kube-prometheus && pwd)
python3 - "$bin" "$venv/bin/checkov" "$fixtures" "$runs" <<'PY'
import subprocess, sys, time, os
gonogo, checkov, fixtures, runs = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
here = os.path.join(os.getcwd(), "benches", "kube-prometheus-baseline")
def timed(cmd, cwd=None):
    best, total = None, 0.0
    for _ in range(runs):
        t = time.perf_counter()
        subprocess.run(cmd, cwd=cwd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        d = time.perf_counter() - t
        total += d
        best = d if best is None else min(best, d)
    return total / runs, best
g_mean, g_best = timed([gonogo, "check", "--format", "json"], cwd=here)
c_mean, c_best = timed([checkov, "-d", fixtures, "--framework", "kubernetes", "--quiet", "--compact"])
print(f"gonogo kubernetes-baseline: mean {g_mean*1000:.0f} ms, best {g_best*1000:.0f} ms")
print(f"checkov --framework kubernetes: mean {c_mean:.2f} s, best {c_best:.2f} s")
print(f"ratio (mean): {c_mean/g_mean:.0f}x, (best): {c_best/g_best:.0f}x over {runs} runs")
PY
