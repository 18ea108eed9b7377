#!/usr/bin/env bash
# Times `gonogo check` over a 100-check snapshot review of the kube-prometheus
# manifests (../shared/fixtures/kube-prometheus, 97 files, 5.7 MB).
# Usage: benches/check.sh [RUNS]   (release build; prints mean and best)
set -euo pipefail
cd "$(dirname "$0")/.."
runs=${1:-20}
cargo build --release --quiet
bin=$PWD/target/release/gonogo
cd benches/kube-prometheus
"$bin" check --format json >/tmp/gonogo-bench.json || true
python3 - "$bin" "$runs" <<'PY'
import subprocess, sys, time, json
bin, runs = sys.argv[1], int(sys.argv[2])
times = []
for _ in range(runs):
    t = time.perf_counter()
    subprocess.run([bin, "check", "--format", "json"], stdout=subprocess.DEVNULL)
    times.append(time.perf_counter() - t)
report = json.load(open("/tmp/gonogo-bench.json"))
items = [i for c in report["checklists"] for s in c["sections"] for i in s["items"]]
counts = {}
for i in items:
    counts[i["status"]] = counts.get(i["status"], 0) + 1
print(f"{len(items)} checks {counts}")
print(f"gonogo check: mean {sum(times)/len(times)*1000:.1f} ms, best {min(times)*1000:.1f} ms over {runs} runs")
PY
