#!/usr/bin/env bash
# CPU used by an idle dashboard: the release `gonogo demo` in a detached
# tmux session at 80x24, left alone for SECONDS (default 60) once its first
# probes have settled. Prints the window's utime+stime from /proc/<pid>/stat
# as a percent of one core, and, from each thread's schedstat sampled once a
# second (nanosecond resolution), the busiest, the median and the quietest
# seconds, with the wakeups (context switches of all threads) per second.
#
# The demo re-runs every probe every 30 s (its config's `every`), so a 60 s
# window holds two re-runs; the median and quietest seconds show the cost
# between them.
# Usage: benches/tui_idle.sh [SECONDS]   (Linux, tmux)
set -euo pipefail
cd "$(dirname "$0")/.."
window=${1:-60}
cargo build --release --quiet
bin=$PWD/target/release/gonogo
tmp=$(mktemp -d)
session="gonogo-idle-$$"
cleanup() {
    tmux kill-session -t "$session" 2>/dev/null || true
    rm -rf "$tmp"
}
trap cleanup EXIT

tmux new-session -d -s "$session" -x 80 -y 24 \
    "exec env NO_COLOR=1 TMPDIR=$tmp GONOGO_LOG_DIR=$tmp/log $bin demo --state-dir $tmp/state"
pid=$(tmux display-message -p -t "$session" '#{pane_pid}')
for _ in $(seq 100); do
    tmux capture-pane -p -t "$session" | grep -q DEMO && break
    sleep 0.1
done
tmux capture-pane -p -t "$session" | grep -q DEMO || {
    echo "the demo did not start" >&2
    exit 1
}
# Let the first round of probes finish and the screen settle.
sleep 5

python3 - "$pid" "$window" <<'PY'
import os, sys, time, statistics

pid, window = sys.argv[1], int(sys.argv[2])
hz = os.sysconf("SC_CLK_TCK")


def ticks():
    """utime + stime of the whole process, dead threads included."""
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return int(fields[11]) + int(fields[12])


def threads():
    """Per thread: nanoseconds on a CPU and context switches."""
    out = {}
    for tid in os.listdir(f"/proc/{pid}/task"):
        try:
            with open(f"/proc/{pid}/task/{tid}/schedstat") as f:
                ns = int(f.read().split()[0])
            with open(f"/proc/{pid}/task/{tid}/status") as f:
                sw = sum(int(l.split()[1]) for l in f if "ctxt_switches" in l)
        except OSError:
            continue  # the thread ended between listing and reading
        out[tid] = (ns, sw)
    return out


def delta(a, b, i):
    # Threads that ended in between are left out; new ones count from zero.
    return sum(v[i] - a.get(t, (0, 0))[i] for t, v in b.items())


t0, first = ticks(), threads()
prev, cpu, wakeups = first, [], []
for _ in range(window):
    time.sleep(1)
    now = threads()
    cpu.append(delta(prev, now, 0) / 1e9)
    wakeups.append(delta(prev, now, 1))
    prev = now
t1 = ticks()

pct = lambda seconds, over: 100.0 * seconds / over
quiet = sorted(cpu)[: window - window // 10]
print(f"idle gonogo demo, {window} s at 80x24 (the probes re-run every 30 s: "
      f"{window // 30} re-runs in the window)")
print(f"  CPU over the window (/proc/pid/stat): {pct((t1 - t0) / hz, window):.2f}% "
      f"of one core ({t1 - t0} ticks of 1/{hz} s)")
print(f"  CPU over the window (schedstat):      {pct(sum(cpu), window):.3f}%")
print(f"  busiest second: {pct(max(cpu), 1):.2f}%; median second: "
      f"{pct(statistics.median(cpu), 1):.3f}%; "
      f"the {len(quiet)} quietest seconds: {pct(sum(quiet), len(quiet)):.3f}%")
print(f"  wakeups (context switches, all threads): {sum(wakeups) / window:.1f} per "
      f"second; median second {statistics.median(wakeups):.0f}")
print(f"  threads: {len(first)} at start, {len(prev)} at end")
PY
