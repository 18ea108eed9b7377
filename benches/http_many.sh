#!/usr/bin/env bash
# Times `gonogo check` over 1,000 `http` probes against one loopback server
# (examples/loopback_http.rs, or nginx when NGINX_PORT names a running one).
# Usage: benches/http_many.sh [RUNS]   (release build; prints wall and CPU)
set -euo pipefail
cd "$(dirname "$0")/.."
runs=${1:-5}
cargo build --release --quiet --example loopback_http
cargo build --release --quiet
bin=$PWD/target/release/gonogo
work=$(mktemp -d)
trap 'kill ${server:-0} 2>/dev/null || true; rm -rf "$work"' EXIT
if [ -n "${NGINX_PORT:-}" ]; then
  port=$NGINX_PORT
else
  target/release/examples/loopback_http >"$work/port" &
  server=$!
  for _ in $(seq 50); do [ -s "$work/port" ] && break; sleep 0.1; done
  port=$(cat "$work/port")
fi
python3 - "$work" "$port" <<'PY'
import sys
work, port = sys.argv[1], sys.argv[2]
with open(f"{work}/many.toml", "w") as f:
    f.write('id = "many"\ntitle = "Many endpoints"\n\n[[sections]]\nid = "s"\ntitle = "Endpoints"\n')
    for i in range(1000):
        f.write(f'\n[[sections.items]]\nid = "e{i}"\ntitle = "Endpoint {i}"\n[sections.items.probe]\n'
                f'kind = "http"\nurl = "http://127.0.0.1:{port}/item/{i}"\nstatus = 200\n')
with open(f"{work}/gonogo.toml", "w") as f:
    f.write('builtin = false\nchecklists = ["many.toml"]\nstate_dir = "state"\n\n[[environments]]\nname = "bench"\n')
PY
cd "$work"
python3 - "$bin" "$runs" <<'PY'
import json, resource, subprocess, sys, time
bin, runs = sys.argv[1], int(sys.argv[2])
walls, cpus = [], []
for _ in range(runs):
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    t = time.perf_counter()
    out = subprocess.run([bin, "check", "--format", "json"], capture_output=True, text=True)
    walls.append(time.perf_counter() - t)
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpus.append((after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime))
report = json.loads(out.stdout)
items = [i for c in report["checklists"] for s in c["sections"] for i in s["items"]]
counts = {}
for i in items:
    counts[i["status"]] = counts.get(i["status"], 0) + 1
print(f"{len(items)} http probes {counts}")
print(f"wall: mean {sum(walls)/len(walls):.2f} s, best {min(walls):.2f} s; "
      f"CPU: mean {sum(cpus)/len(cpus):.2f} s over {runs} runs")
PY
