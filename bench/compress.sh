#!/usr/bin/env bash
# bench/compress.sh — gzip on the fly, uweb beside nginx's gzip module at
# the same level, and --workers=2 beside one worker.
#
#     bench/compress.sh [--runs=N] [--duration=SEC] [--level=L] [--quick]
#
# gzip: both servers answer GET of the same 1 MiB of text (words from a
# small vocabulary, ~3.5:1 under gzip -6) compressed on the fly at level L
# (default 6; nginx: gzip on, gzip_comp_level L, one worker, access_log
# off; uweb: tests/apps/webfeat with uw_mw_compress, WEBFEAT_GZIP_LEVEL=L).
# The server is pinned to CPU 0, wrk (one thread, 4 connections,
# Accept-Encoding: gzip) to CPU 1.  Reported: uncompressed MB per server
# CPU-second (MB/s per core) and the uweb/nginx ratio.
#
# workers: webfeat with --workers=1 and --workers=2 answering GET
# /cookie/get (a small text answer), wrk with two threads and 64
# connections, nothing pinned (the machine's two CPUs are shared by the
# workers and wrk).  Reported: requests/s, requests per server
# CPU-second (all workers), and the 2-worker/1-worker ratios.
#
# Medians of --runs runs (default 3) of --duration seconds (default 5).
# Only 127.0.0.1; everything started is stopped on exit.  B=DIR: the build.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
RUNS=3
DURATION=5
LEVEL=6
for a in "$@"; do
    case "$a" in
    --runs=*) RUNS=${a#*=} ;;
    --duration=*) DURATION=${a#*=} ;;
    --level=*) LEVEL=${a#*=} ;;
    --quick) RUNS=1; DURATION=3 ;;
    -h|--help) sed -n '2,22p' "$0"; exit 0 ;;
    *) echo "compress.sh: unknown option $a" >&2; exit 2 ;;
    esac
done
B=${B:-build}
OUT=$ROOT/$B/bench/compress
NGX=$OUT/nginx
WWW=$OUT/www
mkdir -p "$NGX/logs" "$NGX/tmp" "$WWW"
command -v nginx >/dev/null || { echo "compress.sh: nginx is not installed (nginx-light)" >&2; exit 1; }
command -v wrk >/dev/null || { echo "compress.sh: wrk is not installed" >&2; exit 1; }
make -s B="$B" "$B/tests/apps/webfeat" >/dev/null
FEAT=$ROOT/$B/tests/apps/webfeat
PIDS=()
cleanup() { for p in "${PIDS[@]+"${PIDS[@]}"}"; do kill -TERM "$p" 2>/dev/null || true; done; wait 2>/dev/null || true; }
trap cleanup EXIT
die() { echo "compress.sh: $*" >&2; exit 1; }
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
wait_ready() { for _ in $(seq 100); do curl -s -o /dev/null "http://127.0.0.1:$1/" && return 0; sleep 0.05; done; return 1; }
cpu_ns() {  # the schedstat CPU time of PID and its children (workers)
    local total=0 f v p
    for p in "$1" $(cat /proc/"$1"/task/*/children 2>/dev/null); do
        for f in /proc/"$p"/task/*/schedstat; do
            read -r v _ < "$f" 2>/dev/null || continue
            total=$((total + v))
        done
    done
    echo "$total"
}
stop() { kill -TERM "$SPID" 2>/dev/null || true; wait "$SPID" 2>/dev/null || true; PIDS=(); }
start_uweb() {  # start_uweb [ARGS...]
    SPORT=$(free_port)
    WEBFEAT_GZIP_LEVEL=$LEVEL $PIN "$FEAT" --port="$SPORT" --quiet "$@" > "$OUT/uweb.out" 2>&1 &
    SPID=$!; PIDS+=("$SPID")
    wait_ready "$SPORT" || die "webfeat did not start: $(cat "$OUT/uweb.out")"
}
start_nginx() {
    SPORT=$(free_port)
    cat > "$NGX/nginx.conf" <<NGINX
daemon off;
master_process off;
worker_processes 1;
pid $NGX/nginx.pid;
error_log $NGX/logs/error.log warn;
events { worker_connections 4096; use epoll; }
http {
    access_log off;
    types { text/plain txt; }
    default_type text/plain;
    sendfile on;
    keepalive_requests 1000000000;
    gzip on;
    gzip_comp_level $LEVEL;
    gzip_types text/plain;
    gzip_min_length 1024;
    open_file_cache max=100;
    client_body_temp_path $NGX/tmp/body;
    proxy_temp_path $NGX/tmp/proxy;
    fastcgi_temp_path $NGX/tmp/fastcgi;
    uwsgi_temp_path $NGX/tmp/uwsgi;
    scgi_temp_path $NGX/tmp/scgi;
    server { listen 127.0.0.1:$SPORT; root $WWW; location = / { return 200 "ok\n"; } }
}
NGINX
    $PIN nginx -p "$NGX/" -c "$NGX/nginx.conf" -e "$NGX/logs/error.log" > "$NGX/logs/stdout.log" 2>&1 &
    SPID=$!; PIDS+=("$SPID")
    wait_ready "$SPORT" || die "nginx did not start: $(tail -3 "$NGX/logs/error.log")"
}
cat > "$OUT/report.lua" <<'LUA'
done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format("RESULT requests=%d bytes=%d duration_us=%d errors=%d\n", summary.requests,
    summary.bytes, summary.duration, e.connect + e.read + e.write + e.status + e.timeout))
end
LUA
RESULTS=$OUT/results.tsv
: > "$RESULTS"
measure() {  # measure NAME URL WRKARGS...
    local name=$1 url=$2; shift 2
    local c0 c1 line
    c0=$(cpu_ns "$SPID")
    line=$($WRKPIN wrk "$@" -d"${DURATION}s" --timeout 10s -s "$OUT/report.lua" "$url" | grep '^RESULT' || true)
    c1=$(cpu_ns "$SPID")
    [ -n "$line" ] || die "wrk gave no result for $name"
    printf '%s\t%s cpu_ns=%s\n' "$name" "${line#RESULT }" "$((c1 - c0))" >> "$RESULTS"
    echo "$name: ${line#RESULT } cpu_ns=$((c1 - c0))" >&2
}

# the same 1 MiB of text for both
PIN="taskset -c 0"; WRKPIN="taskset -c 1"
start_uweb
curl -s -H 'Accept-Encoding: identity' "http://127.0.0.1:$SPORT/text?n=1048576" > "$WWW/text.txt"
stop
[ "$(stat -c %s "$WWW/text.txt")" = 1048576 ] || die "no 1 MiB text from webfeat"
for s in uweb nginx; do
    "start_$s"
    path=$([ $s = uweb ] && echo "/text?n=1048576" || echo "/text.txt")
    curl -s --compressed "http://127.0.0.1:$SPORT$path" | cmp -s - "$WWW/text.txt" || die "$s: gzip answer differs"
    enc=$(curl -s -o /dev/null -D - -H 'Accept-Encoding: gzip' "http://127.0.0.1:$SPORT$path" | tr -d '\r' | grep -i '^content-encoding:' || true)
    [ -n "$enc" ] || die "$s does not compress"
    stop
done
for run in $(seq "$RUNS"); do
    for s in uweb nginx; do
        "start_$s"
        path=$([ $s = uweb ] && echo "/text?n=1048576" || echo "/text.txt")
        measure "gzip-$s" "http://127.0.0.1:$SPORT$path" -t1 -c4 -H 'Accept-Encoding: gzip'
        stop
    done
done
PIN=""; WRKPIN=""
for run in $(seq "$RUNS"); do
    for w in 1 2; do
        start_uweb --workers=$w
        sleep 0.3
        measure "workers-$w" "http://127.0.0.1:$SPORT/cookie/get" -t2 -c64
        stop
    done
done

python3 - "$RESULTS" "$RUNS" "$DURATION" "$LEVEL" <<'PY'
import statistics, sys
path, runs, duration, level = sys.argv[1:]
rows = {}
for line in open(path):
    name, rest = line.rstrip("\n").split("\t")
    d = {k: int(v) for k, v in (kv.split("=") for kv in rest.split())}
    rows.setdefault(name, []).append(d)
med = lambda name, f: statistics.median(f(d) for d in rows[name])
MB = 1048576 / 1e6
gz = {s: med(f"gzip-{s}", lambda d: d["requests"] * MB * 1e9 / d["cpu_ns"]) for s in ("uweb", "nginx")}
rq = {s: med(f"gzip-{s}", lambda d: d["requests"] * 1e6 / d["duration_us"]) for s in ("uweb", "nginx")}
print(f"gzip on the fly, level {level}, 1 MiB text, medians of {runs} x {duration}s (server on CPU 0, wrk on CPU 1)")
print(f"{'':<28} {'uweb':>10} {'nginx':>10} {'uweb/nginx':>11}")
print(f"{'MB/s per core (input)':<28} {gz['uweb']:>10.1f} {gz['nginx']:>10.1f} {gz['uweb'] / gz['nginx']:>10.2f}x")
print(f"{'answers/s':<28} {rq['uweb']:>10.1f} {rq['nginx']:>10.1f} {rq['uweb'] / rq['nginx']:>10.2f}x")
rps = {w: med(f"workers-{w}", lambda d: d["requests"] * 1e6 / d["duration_us"]) for w in (1, 2)}
rpc = {w: med(f"workers-{w}", lambda d: d["requests"] * 1e9 / d["cpu_ns"]) for w in (1, 2)}
print(f"\n--workers, GET /cookie/get, wrk -t2 -c64, medians of {runs} x {duration}s (2 CPUs shared with wrk)")
print(f"{'':<28} {'1 worker':>10} {'2 workers':>10} {'2/1':>11}")
print(f"{'requests/s':<28} {rps[1]:>10.0f} {rps[2]:>10.0f} {rps[2] / rps[1]:>10.2f}x")
print(f"{'requests per CPU-second':<28} {rpc[1]:>10.0f} {rpc[2]:>10.0f} {rpc[2] / rpc[1]:>10.2f}x")
errs = sum(d["errors"] for v in rows.values() for d in v)
if errs:
    print(f"wrk errors: {errs}")
PY
