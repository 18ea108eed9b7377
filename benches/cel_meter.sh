#!/usr/bin/env bash
# What metering CEL costs, and what it stops (src/probe/cel/meter.rs).
#
# 1. Five kube checks of the usual shapes (fields; a loop; map + filter;
#    30 x 30 nested loops, 900 turns; join) over 3,000 ConfigMaps as a
#    snapshot: `gonogo check` wall time, each check alone, RUNS runs each.
#    With BEFORE=path/to/an/older/gonogo, the two binaries alternate, to
#    see what the meter adds.
# 2. Seven expressions built to run away (a million map turns keeping
#    lists, a billion through map and all, ten chained replace, a
#    precision of a billion, a million kept strings, a million compares of
#    two 3,000-field objects), each a kube check over one ConfigMap: wall
#    time and peak RSS of the whole `gonogo check`, and what each says.
#
# Usage: benches/cel_meter.sh [RUNS]      (release build; needs python3, GNU time)
set -euo pipefail
cd "$(dirname "$0")/.."
runs=${1:-8}
cargo build --release --quiet
after=$PWD/target/release/gonogo
before=${BEFORE:-}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

python3 - "$work" <<'PY'
import os, sys
work = sys.argv[1]
head = 'id = "c"\ntitle = "C"\n[[sections]]\nid = "s"\ntitle = "S"\n'
config = ('builtin = false\nchecklists = ["c.toml"]\nstate_dir = "state"\n'
          '[[environments]]\nname = "dev"\n')
def item(k, v):
    return (f'[[sections.items]]\nid = "{k}"\ntitle = "{k}"\n[sections.items.probe]\n'
            f'kind = "kube"\nresource = "v1/ConfigMap"\nexpect = "{v}"\n')
def review(name, cases):
    d = os.path.join(work, name)
    os.makedirs(d)
    open(os.path.join(d, "gonogo.toml"), "w").write(config)
    open(os.path.join(d, "c.toml"), "w").write(head + "".join(item(k, v) for k, v in cases.items()))
usual = {
    "fields": "object.data.mode == 'strict' && has(object.metadata.labels.app)",
    "loop": "object.data.items.split(',').all(x, x.size() > 0)",
    "map": "object.data.items.split(',').map(x, x + '-').filter(y, y.startsWith('i')).size() >= 0",
    "nested": "lists.range(30).all(x, lists.range(30).all(y, x + y >= 0))",
    "join": "object.data.items.split(',').join('+').size() > 0",
}
review("usual", usual)
for k, v in usual.items():
    review("usual-" + k, {k: v})
items = ",".join(f"item{j}" for j in range(20))
docs = [f"apiVersion: v1\nkind: ConfigMap\nmetadata: {{name: cm{i}, namespace: d, labels: {{app: a}}}}\n"
        f"data: {{mode: strict, items: '{items}'}}\n" for i in range(3000)]
open(os.path.join(work, "cms.yaml"), "w").write("---\n".join(docs))
s = "object.data.s"
review("runaway", {
    "finding": "lists.range(1000).map(x, lists.range(1000).map(y, x * y)).size() > 0",
    "deep": "lists.range(1000).map(x, lists.range(1000).map(y, lists.range(1000).map(z, x * y * z))).size() > 0",
    "all3": "lists.range(1000).all(x, lists.range(1000).all(y, lists.range(1000).all(z, x + y + z >= 0)))",
    "replace": s + "".join(f".replace('', {s})" for _ in range(9)) + ".size() > 0",
    "precision": "'%.999999999f'.format([1.0]).size() > 0",
    "kept": f"lists.range(1000000).map(x, {s} + {s}).size() > 0",
    "compare": "lists.range(1000000).all(x, object == object)",
})
big = "\n".join(f"  f{i}: v{i}" for i in range(3000))
open(os.path.join(work, "cm.yaml"), "w").write(
    f"apiVersion: v1\nkind: ConfigMap\nmetadata: {{name: x, namespace: d}}\ndata:\n  s: '0123456789'\n{big}\n")
PY

echo "== usual checks over 3,000 ConfigMaps ($runs runs each)"
python3 - "$work" "$runs" "$after" "$before" <<'PY'
import os, subprocess, sys, time
work, runs, after, before = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4]
bins = [("after", after)] + ([("before", before)] if before else [])
for name in ["usual"] + [d for d in sorted(os.listdir(work)) if d.startswith("usual-")]:
    times = {label: [] for label, _ in bins}
    for _ in range(runs):
        for label, b in bins:
            t = time.perf_counter()
            subprocess.run([b, "check", "--format", "json", "--snapshot", os.path.join(work, "cms.yaml")],
                           cwd=os.path.join(work, name), stdout=subprocess.DEVNULL)
            times[label].append(time.perf_counter() - t)
    line = []
    for label, _ in bins:
        x = sorted(times[label])
        line.append(f"{label}: median {x[len(x)//2]*1000:.0f} ms, best {x[0]*1000:.0f} ms")
    print(f"{name:14} " + "; ".join(line))
PY

echo "== expressions built to run away, over one ConfigMap"
cd "$work/runaway"
/usr/bin/time -f "wall %e s, peak RSS %M KB" "$after" check --snapshot "$work/cm.yaml" 2>&1 | cut -c1-160
