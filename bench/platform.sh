#!/usr/bin/env bash
# bench/platform.sh — the unikernel platform's figures:
#   1. size of the hello unikernel image (spt, and hvt if built);
#   2. uweb-spt start to guest exit for hello, against /bin/true (the
#      cost of any process start on this host), median of hyperfine runs;
#   3. system calls the spt seccomp filter allows.
# Needs build/uweb-spt and build/spt/tests/unikernel/hello.spt
# (make unikernel-spt) and hyperfine.
set -eu
cd "$(dirname "$0")/.."
B=${UWEB_BUILD:-build}
hello=$B/spt/tests/unikernel/hello.spt
[ -x "$B/uweb-spt" ] && [ -f "$hello" ] || make -s unikernel-spt >/dev/null
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
