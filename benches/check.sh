#!/usr/bin/env bash
# Times `gonogo check --format json` in a review folder, counts its checks by
# status and reports peak memory. The default folder is the 100-check
# snapshot review of the kube-prometheus manifests
# (../shared/fixtures/kube-prometheus, 97 files, 5.7 MB).
# Usage: benches/check.sh [RUNS] [REVIEW_DIR]
#        (release build; prints mean, median and best)
set -euo pipefail
cd "$(dirname "$0")/.."
runs=${1:-20}
review=${2:-benches/kube-prometheus}
cargo build --release --quiet
bin=$PWD/target/release/gonogo
report=$(mktemp)
trap 'rm -f "$report"' EXIT
cd "$review"
"$bin" check --format json >"$report" || true
python3 - "$bin" "$runs" "$report" <<'PY'
import json, resource, subprocess, sys, time
bin, runs, report_path = sys.argv[1], int(sys.argv[2]), sys.argv[3]
times = []
for _ in range(runs):
    t = time.perf_counter()
    subprocess.run([bin, "check", "--format", "json"], stdout=subprocess.DEVNULL)
    times.append(time.perf_counter() - t)
peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
report = json.load(open(report_path))
items = [i for c in report["checklists"] for s in c["sections"] for i in s["items"]]
counts = {}
for i in items:
    counts[i["status"]] = counts.get(i["status"], 0) + 1
times.sort()
print(f"{len(items)} checks {counts}")
print(f"gonogo check: mean {sum(times)/len(times)*1000:.1f} ms, "
      f"median {times[len(times)//2]*1000:.1f} ms, best {times[0]*1000:.1f} ms over {runs} runs; "
      f"peak RSS {peak:.0f} MB")
PY
