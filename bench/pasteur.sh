#!/usr/bin/env bash
# bench/pasteur.sh — Pasteur's two stores side by side: the block store
# (a file, --block:store) and Redis (Debian's redis-server,
# --store=redis://), one Pasteur process each, on loopback, with
# uweb-bench.
#
#     bench/pasteur.sh [--runs=N] [--duration=SEC]
#
# Workloads, each --runs times (default 3) for --duration seconds (default
# 5), stores alternating, medians reported:
#   read-1k     GET of a 1 KiB paste, open loop at 1000 requests/s, 10 connections: p50, p99
#   static      GET of /style.css (3.2 KB, embedded) from the same process, same load: the
#               machine's floor for read-1k's tail
#   read-1m     GET of a 1 MiB paste, closed loop, 4 connections: requests/s
#   create-1k   POST of a 1 KiB paste, closed loop, 4 connections: requests/s, p99
#               (the block store flushes the device before each 201)
# and the store's start with 100,000 pastes (bench/store_open.c: time and
# index memory of each open of a filled store file, from its checkpoint
# and by a full replay of the log).
# Prints each figure and the block/redis ratio.  B=DIR: the build (default build).
set -euo pipefail
cd "$(dirname "$0")/.."
B=${B:-build}
RUNS=3 DUR=5
for a in "$@"; do
  case "$a" in
    --runs=*) RUNS=${a#*=} ;;
    --duration=*) DUR=${a#*=} ;;
    *) echo "usage: bench/pasteur.sh [--runs=N] [--duration=SEC]" >&2; exit 2 ;;
  esac
done
make -s B="$B" "$B/apps/pasteur" "$B/tools/uweb-bench" >/dev/null
work=$B/bench/pasteur
mkdir -p "$work"
rm -f "$work"/store.img
pids=()
trap 'for p in "${pids[@]}"; do kill "$p" 2>/dev/null; done; wait 2>/dev/null; rm -f "$work"/store.img' EXIT

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
wait_port() { for _ in $(seq 100); do (exec 3<>/dev/tcp/127.0.0.1/"$1") 2>/dev/null && return 0; sleep 0.05; done; return 1; }

gcc -std=gnu11 -O2 -Wall -Wextra -Werror -Iinclude -D_GNU_SOURCE -o "$work/store_open" bench/store_open.c \
  src/store/*.c src/runtime/block.c src/runtime/block_unix.c
truncate -s 100M "$work/open.img"
"$work/store_open" "$work/open.img" 100000 5
rm -f "$work/open.img"

rport=$(free_port)
redis-server --port "$rport" --bind 127.0.0.1 --save "" --appendonly no --dir "$work" >/dev/null 2>&1 &
pids+=($!)
wait_port "$rport"
declare -A port
port[block]=$(free_port)
"$B/apps/pasteur" --port="${port[block]}" --quiet --block:store="$work/store.img" --store-size=512M \
  --rate=100000000 --burst=100000000 >"$work/block.log" 2>&1 &
pids+=($!)
port[redis]=$(free_port)
"$B/apps/pasteur" --port="${port[redis]}" --quiet --store=redis://127.0.0.1:"$rport" \
  --rate=100000000 --burst=100000000 >"$work/redis.log" 2>&1 &
pids+=($!)
wait_port "${port[block]}"; wait_port "${port[redis]}"

python3 - "$work" <<'PY'
import json, sys
adata = json.dumps({"v": 1, "iv": "AAAAAAAAAAAAAAAA", "expire": "1day", "burn": False, "format": "plain"})
for name, n in (("1k", 1024), ("1m", 1 << 20)):
    open(f"{sys.argv[1]}/paste-{name}.json", "w").write(json.dumps({"adata": adata, "ct": "A" * n}))
PY
declare -A id
for s in block redis; do
  for size in 1k 1m; do
    id[$s-$size]=$(curl -s -XPOST -H 'Content-Type: application/json' --data-binary @"$work/paste-$size.json" \
      "http://127.0.0.1:${port[$s]}/api/paste" | python3 -c 'import json,sys; print(json.load(sys.stdin)["id"])')
  done
done

bench() {  # bench STORE WORKLOAD -> one JSON line
  local s=$1 w=$2 u="http://127.0.0.1:${port[$1]}"
  case "$w" in
    read-1k) "$B/tools/uweb-bench" "$u/api/paste/${id[$s-1k]}" --rate 1000 -c 10 -d "${DUR}s" --json ;;
    static) "$B/tools/uweb-bench" "$u/style.css" --rate 1000 -c 10 -d "${DUR}s" --json ;;
    read-1m) "$B/tools/uweb-bench" "$u/api/paste/${id[$s-1m]}" -c 4 -d "${DUR}s" --json ;;
    create-1k) "$B/tools/uweb-bench" "$u/api/paste" -c 4 -d "${DUR}s" --method POST --body "$work/paste-1k.json" \
        -H 'Content-Type: application/json' --expect-status 201 --json ;;
  esac
}
for w in read-1k static read-1m create-1k; do
  for r in $(seq "$RUNS"); do
    for s in block redis; do bench "$s" "$w" | python3 -c "
import json,sys; j=json.load(sys.stdin); l=j['latency_ms']
print('$s $w', j['requests_per_sec'], l['p50'], l['p99'], j['failed'])" >>"$work/results.txt.$$"; done
  done
done
python3 - "$work/results.txt.$$" <<'PY'
import statistics, sys
rows = {}
for line in open(sys.argv[1]):
    s, w, rps, p50, p99, failed = line.split()
    rows.setdefault((s, w), []).append((float(rps), float(p50), float(p99), int(failed)))
med = lambda v: statistics.median(v)
print(f"{'workload':<11} {'store':<6} {'req/s':>9} {'p50 ms':>8} {'p99 ms':>8} failed")
for w in ("read-1k", "static", "read-1m", "create-1k"):
    for s in ("block", "redis"):
        v = rows[(s, w)]
        print(f"{w:<11} {s:<6} {med([x[0] for x in v]):>9.0f} {med([x[1] for x in v]):>8.3f} {med([x[2] for x in v]):>8.3f} {sum(x[3] for x in v)}")
    b, r = rows[("block", w)], rows[("redis", w)]
    print(f"{w:<11} block/redis  req/s x{med([x[0] for x in b]) / med([x[0] for x in r]):.2f}  p99 x{med([x[2] for x in b]) / med([x[2] for x in r]):.2f}")
PY
rm -f "$work/results.txt.$$"
