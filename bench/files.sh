#!/usr/bin/env bash
# bench/files.sh — uw_static_dir's body path: a 256 MiB file fetched by
# curl over plain HTTP/1.1 from tests/apps/webfeat (sendfile), or from
# another webfeat binary given (e.g. one built before sendfile).
#
#     bench/files.sh [--runs=N] [BINARY...]
#
# Each run: 5 GETs of the file in a row (curl -o /dev/null).  Reported per
# binary and run: MB/s on the wall clock (curl's side is the bottleneck on
# loopback) and MiB of body per server CPU-second (utime + stime of the
# server from /proc), then the medians.
set -eu
ROOT=$(cd "$(dirname "$0")/.." && pwd)
B=${B:-build}
RUNS=3
bins=()
for a in "$@"; do
  case "$a" in
    --runs=*) RUNS=${a#--runs=} ;;
    -h|--help) sed -n '2,11p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) bins+=("$a") ;;
  esac
done
[ ${#bins[@]} -gt 0 ] || bins=("$ROOT/$B/tests/apps/webfeat")
dir=$(mktemp -d); trap 'rm -rf "$dir"' EXIT
mkdir "$dir/www"
head -c $((256 << 20)) /dev/urandom > "$dir/www/big.bin"
tick=$(getconf CLK_TCK)
median() { sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
port=18690
for exe in "${bins[@]}"; do
  port=$((port + 1))
  WEBFEAT_ROOT="$dir/www" "$exe" --port=$port --quiet >/dev/null 2>&1 & pid=$!
  sleep 0.5
  : > "$dir/wall"; : > "$dir/cpu"
  for run in $(seq "$RUNS"); do
    c0=$(awk '{print $14 + $15}' /proc/$pid/stat)
    t0=$(date +%s.%N)
    for i in 1 2 3 4 5; do curl -s -o /dev/null "http://127.0.0.1:$port/files/big.bin"; done
    t1=$(date +%s.%N)
    c1=$(awk '{print $14 + $15}' /proc/$pid/stat)
    wall=$(echo "5 * 256 * 1.048576 / ($t1 - $t0)" | bc -l)
    cpu=$(echo "5 * 256 / (($c1 - $c0) / $tick)" | bc -l)
    printf '%s run %d: %.0f MB/s, %.0f MiB per server CPU-second\n' "$exe" "$run" "$wall" "$cpu"
    echo "$wall" >> "$dir/wall"; echo "$cpu" >> "$dir/cpu"
  done
  kill "$pid"; wait "$pid" 2>/dev/null || true
  printf '%s median: %.0f MB/s, %.0f MiB per server CPU-second\n' "$exe" "$(median < "$dir/wall")" "$(median < "$dir/cpu")"
done
