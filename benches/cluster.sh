#!/usr/bin/env bash
# gonogo in front of a big cluster: the fake API server of the tests
# (examples/fake_apiserver.rs) serves a synthetic cluster of Pods,
# Deployments, Services and ConfigMaps (50:5:5:5, a Pod about 1.7 KB of JSON
# with its managedFields) over TLS with paginated lists and watches, and the
# 100 kube checks of benches/cluster/checklist.toml run against it.
#
# For each size it reports:
#   - `gonogo check` against the live cluster: wall time, CPU, peak RSS,
#     the requests it sent (lists started, list pages, watches), and the time
#     from the last list page to the end of the run (the first complete
#     evaluation, plus writing the report and exiting);
#   - the same 100 checks over the same objects saved as one snapshot file;
#   - from one Pod change to the re-evaluated outcomes of the Pod checks
#     (benches/watch_latency.rs: the dashboard's runner, in process);
#   - the dashboard (TTY in tmux, 120x40) in front of the cluster, once
#     settled: CPU and RSS over a quiet IDLE seconds, and the list requests
#     it sent meanwhile.
# Usage: benches/cluster.sh [SIZES] [IDLE]   e.g. benches/cluster.sh "1000 10000 65000" 60
# Needs: tmux, kubectl (for the snapshot file), python3, GNU time.
set -euo pipefail
cd "$(dirname "$0")/.."
sizes=${1:-"1000 10000 65000"}
idle=${2:-60}
cargo build --release --quiet
cargo build --release --quiet --example fake_apiserver
cargo bench --no-run --quiet --bench watch_latency 2>/dev/null
latency=$(ls -t target/release/deps/watch_latency-* | grep -v '\.d$' | head -1)
bin=$PWD/target/release/gonogo
fake=$PWD/target/release/examples/fake_apiserver
review=$PWD/benches/cluster
# GONOGO_BENCH_WORK: another folder, for two benches run side by side.
work=${GONOGO_BENCH_WORK:-/tmp/gonogo-bench-cluster}
mkdir -p "$work"
session="gonogo-cluster-$$"
server=""
cleanup() {
    tmux kill-session -t "$session" 2>/dev/null || true
    [ -n "$server" ] && kill "$server" 2>/dev/null || true
}
trap cleanup EXIT

for size in $sizes; do
    echo "== $size objects"
    export KUBECONFIG=$work/kubeconfig
    "$fake" --size "$size" --kubeconfig "$KUBECONFIG" >"$work/fake.out" 2>"$work/fake.err" &
    server=$!
    for _ in $(seq 600); do grep -q serving "$work/fake.out" && break; sleep 0.1; done
    cat "$work/fake.err" "$work/fake.out"
    url=$(sed -n 's/.* at \(http[^ ]*\).*/\1/p' "$work/fake.out")

    # 1. check, live.
    before=$(curl -s "$url/_fake/requests" | python3 -c 'import json,sys; print(len(json.load(sys.stdin)))')
    start=$(date +%s%3N)
    ( cd "$review" && /usr/bin/time -f "%e %U %S %M" -o "$work/time" \
        "$bin" check --env live --format json >"$work/live.json" ) || true
    end=$(date +%s%3N)
    curl -s "$url/_fake/requests" >"$work/requests.json"
    python3 - "$work" "$before" "$start" "$end" <<'PY'
import json, sys
work, before, start, end = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
# GNU time writes "Command exited with non-zero status 1" first when the gate fails.
wall, user, system, rss = open(f"{work}/time").read().split("\n")[-2].split()
requests = json.load(open(f"{work}/requests.json"))[before:]
def collection(r):
    path = r["path"].split("?")[0]
    return "?" in r["path"] and path.rstrip("/").split("/")[-1] in ("pods", "deployments", "services", "configmaps")
lists = [r for r in requests if collection(r) and not r["watch"]]
first_pages = [r for r in lists if "continue=" not in r["path"]]
watches = [r for r in requests if r["watch"]]
report = json.load(open(f"{work}/live.json"))
items = [i for c in report["checklists"] for s in c["sections"] for i in s["items"]]
counts = {}
for i in items:
    counts[i["status"]] = counts.get(i["status"], 0) + 1
# The fake's clock starts at its own start; the first request of this run
# (discovery) came within a few ms of `start`.
t0 = requests[0]["ms"]
last_page = max(r["ms"] for r in lists) - t0
total = end - start
print(f"check (live): {float(wall):.2f} s wall, {float(user) + float(system):.2f} s CPU, "
      f"peak RSS {int(rss) / 1024:.0f} MB; {len(items)} checks {counts}")
print(f"  requests: {len(requests)} in all, {len(first_pages)} lists started "
      f"({len(lists)} pages), {len(watches)} watches")
print(f"  last list page at {last_page / 1000:.2f} s; run ended {max(total - last_page, 0) / 1000:.2f} s later")
PY

    # 2. the same objects as a snapshot file.
    snapshot=$work/snapshot-$size.json
    kubectl get pods,deployments,services,configmaps -A -o json --chunk-size=500 >"$snapshot"
    ( cd "$review" && /usr/bin/time -f "%e %U %S %M" -o "$work/time" \
        "$bin" check --env snapshot --snapshot "$snapshot" --format json >"$work/snapshot-report.json" ) || true
    read -r wall user system rss < <(tail -1 "$work/time")
    echo "check (snapshot, $(du -m "$snapshot" | cut -f1) MB file): ${wall} s wall, peak RSS $((rss / 1024)) MB"

    # 3. one change to its outcome.
    "$latency" "$review" live "$url" 10 | sed 's/^/latency: /'

    # 4. the dashboard, idle.
    tmux new-session -d -s "$session" -x 120 -y 40 \
        "cd $review && exec env NO_COLOR=1 KUBECONFIG=$KUBECONFIG $bin --env live"
    pid=$(tmux display-message -p -t "$session" '#{pane_pid}')
    # Settled: no list page for 5 s and the window shows a decision.
    python3 - "$url" <<'PY'
import json, sys, time, urllib.request
url = sys.argv[1]
def pages():
    with urllib.request.urlopen(f"{url}/_fake/requests") as r:
        return sum(1 for x in json.load(r) if not x["watch"] and "limit=" in x["path"])
last, quiet = pages(), 0
while quiet < 5:
    time.sleep(1)
    now = pages()
    quiet = quiet + 1 if now == last else 0
    last = now
PY
    sleep 20
    before=$(curl -s "$url/_fake/requests" | python3 -c 'import json,sys; print(len(json.load(sys.stdin)))')
    python3 - "$pid" "$idle" <<'PY'
import os, sys, time
pid, window = sys.argv[1], int(sys.argv[2])
hz = os.sysconf("SC_CLK_TCK")
def ticks():
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return int(fields[11]) + int(fields[12])
def rss():
    with open(f"/proc/{pid}/status") as f:
        return {l.split(":")[0]: l.split()[1] for l in f if l.startswith(("VmRSS", "VmHWM"))}
a = ticks(); t = time.time()
high = 0
for _ in range(window):
    time.sleep(1)
    high = max(high, int(rss()["VmRSS"]))
b = ticks(); dt = time.time() - t
m = rss()
print(f"dashboard idle {window} s: {(b - a) / hz / dt * 100:.2f}% of one core, "
      f"RSS {high / 1024:.0f} MB (peak since start {int(m['VmHWM']) / 1024:.0f} MB)")
PY
    curl -s "$url/_fake/requests" | python3 -c "
import json,sys
r = json.load(sys.stdin)[$before:]
print(f'  requests while idle: {len(r)} ({sum(1 for x in r if not x[\"watch\"] and \"limit=\" in x[\"path\"])} list pages, {sum(1 for x in r if x[\"watch\"])} watches)')"
    tmux capture-pane -p -t "$session" | head -3 | sed 's/^/  screen: /'
    tmux kill-session -t "$session"
    kill "$server"; wait "$server" 2>/dev/null || true
    server=""
done
