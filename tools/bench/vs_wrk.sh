#!/usr/bin/env bash
# tools/bench/vs_wrk.sh — the bench of the bench: uweb-bench beside wrk
# against the same build/apps/hello, one core each.
#
#     tools/bench/vs_wrk.sh [--runs=N] [--duration=SEC] [--conns=N]
#                           [--h2-conns=N] [--workloads=LIST]
#
# Workloads (one thread / one worker, --conns keep-alive connections,
# default 64): keep-alive (GET /, one request at a time per connection),
# pipelined x16 (wrk with bench/hello_pipeline.lua, uweb-bench -P 16),
# tls (both over https:// to hello's TLS listener, TLS 1.3, one handshake
# per connection; uweb-bench verifies the certificate with --cacert, wrk
# does not verify) and h2 (h2load -m 100 beside uweb-bench --h2 -m 100,
# --h2-conns connections, default 4, h2 by ALPN over TLS).  LIST picks
# some: keepalive,pipeline16,tls,h2 (the default: all).
# hello is pinned to CPU 0, the load generator to CPU 1 (taskset); each
# workload runs --runs times (default 5) for --duration seconds (default
# 5), wrk and uweb-bench alternating; medians of requests/s are printed
# with the ratio uweb-bench / wrk, and the generator's own CPU time per
# request (user + system, GNU time), which the machine's load disturbs
# less than the rate.  uweb-bench records every latency in
# its histogram as always.  UWEB_BUILD picks the build (default build/).
set -euo pipefail
cd "$(dirname "$0")/../.."
BUILD=${UWEB_BUILD:-$PWD/build}
RUNS=5 DURATION=5 CONNS=64 H2CONNS=4 WORKLOADS=keepalive,pipeline16,tls,h2
for a in "$@"; do
  case "$a" in
    --runs=*) RUNS=${a#*=} ;;
    --duration=*) DURATION=${a#*=} ;;
    --conns=*) CONNS=${a#*=} ;;
    --h2-conns=*) H2CONNS=${a#*=} ;;
    --workloads=*) WORKLOADS=${a#*=} ;;
    *) echo "vs_wrk.sh: unknown option $a" >&2; exit 2 ;;
  esac
done
for x in "$BUILD/apps/hello" "$BUILD/tools/uweb-bench"; do
  [ -x "$x" ] || { echo "vs_wrk.sh: $x is not built" >&2; exit 2; }
done
command -v wrk >/dev/null || { echo "vs_wrk.sh: wrk is not installed" >&2; exit 2; }
case ",$WORKLOADS," in *,h2,*) command -v h2load >/dev/null || { echo "vs_wrk.sh: h2load is not installed (nghttp2-client)" >&2; exit 2; } ;; esac
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
PORT=$(free_port) TLS_PORT=$(free_port)
CERTS=$(mktemp -d)
scripts/mkcert.sh "$CERTS" >/dev/null
taskset -c 0 "$BUILD/apps/hello" --port="$PORT" --addr=127.0.0.1 --tls-port="$TLS_PORT" \
  --tls-cert="$CERTS/localhost.pem" --tls-key="$CERTS/localhost.key" --quiet & SERVER=$!
trap 'kill $SERVER 2>/dev/null; wait $SERVER 2>/dev/null || true; rm -rf "$CERTS"' EXIT
for _ in $(seq 100); do curl -s -o /dev/null "http://127.0.0.1:$PORT/" && break; sleep 0.05; done
PLAIN="http://127.0.0.1:$PORT/" HTTPS="https://localhost:$TLS_PORT/"
URL=$PLAIN

# Each prints "REQUESTS_PER_S CPU_US_PER_REQUEST": the generator's own
# user+system time (GNU time, the worker process included) per answer.
wrk_rps() {  # wrk_rps [options before the URL] [-- script arguments]
  local opts=() rest=()
  while [ $# -gt 0 ] && [ "$1" != -- ]; do opts+=("$1"); shift; done
  rest=("$@")
  taskset -c 1 /usr/bin/time -f 'CPU %U %S' wrk -t1 -c"$CONNS" -d"${DURATION}s" "${opts[@]}" "$URL" "${rest[@]}" 2>&1 |
    awk '/^Requests\/sec:/ { r = $2 } /requests in/ { n = $1 } /^CPU/ { c = $2 + $3 } END { printf "%.1f %.3f\n", r, c * 1e6 / n }'
}
h2load_rps() {
  taskset -c 1 /usr/bin/time -f 'CPU %U %S' h2load -t1 -c"$H2CONNS" -m100 -D"$DURATION" "$URL" 2>&1 |
    awk '/^finished in/ { r = $4 } /^requests:/ { n = $8 } /^CPU/ { c = $2 + $3 } END { printf "%.1f %.3f\n", r, n ? c * 1e6 / n : 0 }'
}
bench_rps() {
  local conns=$CONNS
  [ "${1:-}" = --h2 ] && conns=$H2CONNS
  taskset -c 1 /usr/bin/time -f 'CPU %U %S' "$BUILD/tools/uweb-bench" "$URL" -t 1 -c "$conns" -d "${DURATION}s" --json "$@" 2>&1 |
    python3 -c '
import json, sys
j, cpu = None, 0.0
for line in sys.stdin:
    if line.startswith("{"): j = json.loads(line)
    elif line.startswith("CPU"): cpu = float(line.split()[1]) + float(line.split()[2])
print("%.1f %.3f" % (j["requests_per_sec"], cpu * 1e6 / j["requests"]) if j and j["success"] else "failed")'
}
median() { sort -n | awk '{ a[NR] = $1 } END { print (NR % 2) ? a[(NR + 1) / 2] : (a[NR / 2] + a[NR / 2 + 1]) / 2 }'; }

echo "hello on CPU 0, load generators on CPU 1, $CONNS connections ($H2CONNS for h2), $RUNS runs of ${DURATION}s, load $(cut -d' ' -f1-3 /proc/loadavg)"
printf '%-12s %12s %12s %7s   %s\n' workload "ref req/s" "uweb-bench" ratio "generator CPU us per request: reference (wrk, h2load for h2), uweb-bench, ratio ref/uweb-bench"
for w in ${WORKLOADS//,/ }; do
  W=() U=()
  for _ in $(seq "$RUNS"); do
    case $w in
      keepalive) URL=$PLAIN; W+=("$(wrk_rps)"); U+=("$(bench_rps)") ;;
      pipeline16) URL=$PLAIN; W+=("$(wrk_rps -s bench/hello_pipeline.lua -- 16)"); U+=("$(bench_rps -P 16)") ;;
      tls) URL=$HTTPS; W+=("$(wrk_rps)"); U+=("$(bench_rps --cacert "$CERTS/ca.pem")") ;;
      h2) URL=$HTTPS; W+=("$(h2load_rps)"); U+=("$(bench_rps --h2 -m 100 --cacert "$CERTS/ca.pem")") ;;
      *) echo "vs_wrk.sh: unknown workload $w" >&2; exit 2 ;;
    esac
  done
  wr=$(printf '%s\n' "${W[@]}" | cut -d' ' -f1 | median); ur=$(printf '%s\n' "${U[@]}" | cut -d' ' -f1 | median)
  wc=$(printf '%s\n' "${W[@]}" | cut -d' ' -f2 | median); uc=$(printf '%s\n' "${U[@]}" | cut -d' ' -f2 | median)
  printf '%-12s %12.0f %12.0f %7.2f   %.2f %.2f %.2f\n' "$w" "$wr" "$ur" "$(python3 -c "print($ur / $wr)")" \
    "$wc" "$uc" "$(python3 -c "print($wc / $uc)")"
  echo "    runs (req/s cpu_us): reference ${W[*]// /:} | uweb-bench ${U[*]// /:}"
done
