#!/usr/bin/env bash
# bench/platform.sh — the unikernel platform's figures:
#   1. size of the hello unikernel image (spt, and hvt if built);
#   2. uweb-spt start to guest exit for hello, against /bin/true (the
#      cost of any process start on this host), median of hyperfine runs;
#   3. system calls the spt seccomp filter allows;
#   4. the guest libc (as an spt unikernel) against glibc (the same source
#      as a host program, platform/bench/libc_bench.c): ns per operation,
#      median of 5 runs each, and the ratio guest / glibc.
# Needs build/uweb-spt and build/spt/tests/unikernel/hello.spt
# (make unikernel-spt) and hyperfine.
set -eu
cd "$(dirname "$0")/.."
B=${UWEB_BUILD:-build}
hello=$B/spt/tests/unikernel/hello.spt
make -s unikernel-spt "$B/spt/platform/bench/libc_bench.spt" "$B/host/platform/bench/libc_bench" >/dev/null
command -v hyperfine >/dev/null || { echo "bench/platform.sh: hyperfine is missing (apt-get install hyperfine)"; exit 1; }

echo "== image size"
for img in "$hello" "$B/hvt/tests/unikernel/hello.hvt"; do
  [ -f "$img" ] || continue
  read -r text data bss _ < <(size "$img" | tail -n 1)
  printf '%-40s file %6d bytes (%.1f KiB)   loaded text %d, data %d, bss %d\n' \
    "$img" "$(stat -c %s "$img")" "$(awk -v s="$(stat -c %s "$img")" 'BEGIN { print s / 1024 }')" "$text" "$data" "$bss"
done

echo "== uweb-spt start to guest exit (hello), median of ${RUNS:=300} runs"
json=$(mktemp); trap 'rm -f "$json"' EXIT
hyperfine -N --warmup 30 --runs "$RUNS" --export-json "$json" \
  "$B/uweb-spt $hello" "/bin/true" >/dev/null 2>&1
python3 - "$json" <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))["results"]
spt, true = r[0]["median"] * 1e3, r[1]["median"] * 1e3
print(f"uweb-spt hello.spt   median {spt:.3f} ms  (min {r[0]['min']*1e3:.3f}, mean {r[0]['mean']*1e3:.3f})")
print(f"/bin/true            median {true:.3f} ms  (min {r[1]['min']*1e3:.3f}, mean {r[1]['mean']*1e3:.3f})")
print(f"ratio uweb-spt hello / true: {spt/true:.2f}")
PY

echo "== seccomp filter"
"$B/uweb-spt" --show-filter "$hello" | sed -n '1p;$p'

echo "== guest libc vs glibc (ns per operation, median of 5 runs)"
lb=$(mktemp -d); trap 'rm -f "$json"; rm -rf "$lb"' EXIT
for i in 1 2 3 4 5; do
  "$B/uweb-spt" "$B/spt/platform/bench/libc_bench.spt" >"$lb/guest.$i"
  "$B/host/platform/bench/libc_bench" >"$lb/host.$i"
done
python3 - "$lb" <<'PY'
import glob, statistics, sys
def medians(kind):
    runs = {}
    for f in glob.glob(f"{sys.argv[1]}/{kind}.*"):
        for line in open(f):
            name, ns = line.split()
            runs.setdefault(name, []).append(float(ns))
    return {k: statistics.median(v) for k, v in runs.items()}
g, h = medians("guest"), medians("host")
print(f"{'operation':24} {'guest libc':>11} {'glibc':>9} {'ratio':>6}")
for name in g:
    print(f"{name:24} {g[name]:11.2f} {h[name]:9.2f} {g[name] / h[name]:6.2f}")
PY
