#!/usr/bin/env bash
# The dashboard on a large review while its probes run: 2,000 items in 20
# sections, 1,000 of them HTTP probes against a local server that takes
# 50 ms per answer (so results arrive one by one for several seconds, the
# hard case for the UI loop), in a detached tmux session at 120x40.
# Prints the CPU time of the UI loop (the main thread) and of the probe
# workers over the first SECONDS (default 8) after start.
# Usage: benches/tui_large.sh [SECONDS]   (Linux, tmux, python3)
set -euo pipefail
cd "$(dirname "$0")/.."
window=${1:-8}
cargo build --release --quiet
bin=$PWD/target/release/gonogo
tmp=$(mktemp -d)
session="gonogo-large-$$"
server=""
cleanup() {
    tmux kill-session -t "$session" 2>/dev/null || true
    [ -n "$server" ] && kill "$server" 2>/dev/null || true
    rm -rf "$tmp"
}
trap cleanup EXIT

port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
python3 - "$port" >/dev/null 2>&1 <<'PY' &
import http.server, socketserver, sys, time
class Slow(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        time.sleep(0.05)
        self.send_response(200)
        self.send_header("content-length", "2")
        self.end_headers()
        self.wfile.write(b"ok")
    def log_message(self, *args):
        pass
class Server(socketserver.ThreadingMixIn, http.server.HTTPServer):
    daemon_threads = True
Server(("127.0.0.1", int(sys.argv[1])), Slow).serve_forever()
PY
server=$!

mkdir -p "$tmp/checklists"
cat >"$tmp/gonogo.toml" <<EOF
builtin = false
checklists = ["checklists/big.toml"]
state_dir = "state"
operator = "bench"
every = "30s"

[[environments]]
name = "dev"
vars = { url = "http://127.0.0.1:$port" }
EOF
python3 - "$tmp/checklists/big.toml" <<'PY'
import sys
severities = ["blocker", "high", "medium", "low"]
out = ['id = "big"\ntitle = "A large launch review"\nversion = "bench"\n']
for s in range(20):
    out.append(f'\n[[sections]]\nid = "section-{s:02}"\ntitle = "Section {s:02}"\n')
    for i in range(100):
        n = s * 100 + i
        out.append(f'\n[[sections.items]]\nid = "item-{n:04}"\n'
                   f'title = "Item {n:04}: a check with a title of ordinary length"\n'
                   f'severity = "{severities[n % 4]}"\n')
        if n % 2 == 0:
            out.append('[sections.items.probe]\nkind = "http"\n'
                       f'url = "{{{{ url }}}}/item/{n}"\n')
open(sys.argv[1], "w").write("".join(out))
PY
# Wait for the server to answer before the probes start.
for _ in $(seq 50); do
    python3 -c "import socket,sys; socket.create_connection(('127.0.0.1',$port),1)" 2>/dev/null && break
    sleep 0.1
done

tmux new-session -d -s "$session" -x 120 -y 40 \
    "exec env NO_COLOR=1 TMPDIR=$tmp GONOGO_LOG_DIR=$tmp/log $bin --config $tmp/gonogo.toml"
pid=$(tmux display-message -p -t "$session" '#{pane_pid}')
python3 - "$pid" "$window" <<'PY'
import collections, os, sys, time

pid, window = sys.argv[1], float(sys.argv[2])


def threads():
    out = {}
    for tid in os.listdir(f"/proc/{pid}/task"):
        try:
            with open(f"/proc/{pid}/task/{tid}/schedstat") as f:
                ns = int(f.read().split()[0])
            with open(f"/proc/{pid}/task/{tid}/comm") as f:
                name = f.read().strip()
        except OSError:
            continue
        out[tid] = ("UI loop (main thread)" if tid == pid else name, ns)
    return out


start = threads()
time.sleep(window)
end = threads()
by_name = collections.Counter()
for tid, (name, ns) in end.items():
    by_name[name] += ns - start.get(tid, (name, 0))[1]
print(f"2,000 items, 1,000 HTTP probes at 50 ms each, first {window:g} s:")
for name, ns in by_name.most_common():
    if ns > 1e7:
        print(f"  {name:<24} {ns / 1e9:6.2f} s CPU")
PY
tmux capture-pane -p -t "$session" | head -1
