# bench/uweb_bench.sh — sourced by bench/hello.sh and bench/tls.sh: one
# uweb-bench run beside each measured wrk run, on the same server and
# workload, as a second opinion with its full latency histogram (wrk stays
# the reference: the scripts' medians and ratios are wrk's).
#
#   ub_init UWEB_BENCH OUTFILE   UB=0 (runs skipped) when UWEB_BENCH is not built
#   ub_run SERVER WORKLOAD URL [uweb-bench options]
#                                one run of $DURATION s on $CLIENT_CPU, 64
#                                connections, one worker; a line in OUTFILE
#   ub_summary                   medians per (server, workload), markdown
UB=0
ub_init() {
    UB_BIN=$1 UB_OUT=$2
    : > "$UB_OUT"
    [ -x "$UB_BIN" ] && UB=1 || true
}
ub_run() {
    [ "$UB" = 1 ] || return 0
    local server=$1 wl=$2 url=$3
    shift 3
    timeout $((DURATION + 30)) taskset -c "$CLIENT_CPU" "$UB_BIN" "$url" -t 1 -c 64 -d "${DURATION}s" --timeout 5s \
        --json "$@" 2>/dev/null | python3 -c '
import json, sys
j = next((json.loads(l) for l in sys.stdin if l.startswith("{")), None)
if j:
    l = j["latency_ms"]
    print(sys.argv[1], sys.argv[2], "%.0f" % j["requests_per_sec"], l["p50"], l["p99"], l["p99.9"], j["failed"], sep="\t")' \
        "$server" "$wl" >> "$UB_OUT" || true
}
ub_summary() {
    [ "$UB" = 1 ] && [ -s "$UB_OUT" ] || return 0
    python3 - "$UB_OUT" <<'PY'
import statistics, sys
rows = {}
for line in open(sys.argv[1]):
    s, w, rps, p50, p99, p999, failed = line.split("\t")
    rows.setdefault((s, w), []).append((float(rps), float(p50), float(p99), float(p999), int(failed)))
print("\nuweb-bench beside wrk (same servers and workloads; medians):\n")
print("| server | workload | runs | requests/s | p50 ms | p99 ms | p99.9 ms | failed |")
print("|---|---|---|---|---|---|---|---|")
for (s, w), v in sorted(rows.items()):
    med = [statistics.median(x[i] for x in v) for i in range(4)]
    print(f"| {s} | {w} | {len(v)} | {med[0]:,.0f} | {med[1]:.3f} | {med[2]:.3f} | {med[3]:.3f} | {sum(x[4] for x in v)} |")
PY
}
