#!/usr/bin/env bash
# bench/static.sh — static assets side by side: uweb serving assets embedded
# by uweb-crunch (tests/tools/crunch_serve.c), and nginx with one worker
# serving the same files from disk (gzip_static on, open_file_cache on,
# sendfile on, access_log off), on loopback.
#
#     bench/static.sh [--runs=N] [--duration=SEC] [--conns=N] [--quick]
#     bench/static.sh --embed=MIB
#
# Assets: small.html, 612 bytes (the size of nginx's own welcome page), and
# large.bin, 1 MiB of random bytes.  Workloads (wrk, one thread, --conns
# keep-alive connections, default 64):
#   small      GET /small.html, one request at a time per connection
#   pipeline   GET /small.html, 16 requests per write (a generated wrk script)
#   large      GET /large.bin, one request at a time per connection
# Each server is pinned to CPU 0 (taskset), wrk to CPU 1.  Each (server,
# workload) runs --runs times (default 5) for --duration seconds (default
# 5), servers alternating; medians are reported.  Server CPU time is the
# first field of /proc/PID/task/*/schedstat (ns), summed over threads,
# read before and after each wrk run.
#
# Prints requests/s and requests per server CPU-second (small, pipeline),
# MB/s and MB per CPU-second (large), and the uweb/nginx ratios.  Goals
# (reported, not asserted): small >= 1.2x nginx's requests per CPU-second,
# pipelined >= 5x, large >= nginx's MB/s.  Runs in which wrk reported
# errors (non-2xx answers, socket errors, timeouts) are left out of the
# medians and counted in a "dropped:" line.  B=DIR: build in DIR (make B=DIR).
#
# --embed=MIB measures instead how embedding MIB MiB of random bytes
# compiles: uweb-crunch's string literals against a brace list of numbers
# (`{ 12, 255, ... }`, what xxd -i and most embedders write), gcc -O2 time
# and peak memory of each, and the ratio.
#
# Everything started is stopped on exit; only 127.0.0.1 is used; the system
# nginx configuration is not read (own -p/-c/-e under build/bench/static/).
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD

RUNS=5
DURATION=5
CONNS=64
DEPTH=16
SERVER_CPU=0
CLIENT_CPU=1
EMBED=
for a in "$@"; do
    case "$a" in
    --runs=*) RUNS=${a#*=} ;;
    --duration=*) DURATION=${a#*=} ;;
    --conns=*) CONNS=${a#*=} ;;
    --quick) RUNS=1; DURATION=3 ;;
    --embed=*) EMBED=${a#*=} ;;
    -h|--help) sed -n '2,30p' "$0"; exit 0 ;;
    *) echo "static.sh: unknown option $a" >&2; exit 2 ;;
    esac
done

B=${B:-build}
OUT=$ROOT/$B/bench/static
WWW=$OUT/www
NGX=$OUT/nginx
mkdir -p "$OUT" "$WWW" "$NGX/logs" "$NGX/tmp"
RESULTS=$OUT/results.tsv
: > "$RESULTS"

log() { printf '[static.sh %s] %s\n' "$(date -u +%H:%M:%S)" "$*" >&2; }
die() { log "error: $*"; exit 1; }

if [ -n "$EMBED" ]; then
    E=$OUT/embed
    mkdir -p "$E/in"
    make -s B="$B" "$B/tools/uweb-crunch" >/dev/null
    head -c $((EMBED << 20)) /dev/urandom > "$E/in/blob.bin"
    log "uweb-crunch on $EMBED MiB of random bytes"
    /usr/bin/time -f '%e %M' -o "$E/crunch.time" "$B/tools/uweb-crunch" --no-compress -o "$E/literal.c" -n blob "$E/in"
    python3 - "$E/in/blob.bin" "$E/brace.c" <<'EOF2'
import sys
data = open(sys.argv[1], "rb").read()
with open(sys.argv[2], "w") as f:
    f.write("const unsigned char blob[] = {\n")
    for i in range(0, len(data), 16):
        f.write(",".join(str(b) for b in data[i:i + 16]) + ",\n")
    f.write("};\n")
EOF2
    for k in literal brace; do
        log "gcc -O2 on $k.c ($(( $(stat -c %s "$E/$k.c") >> 20 )) MiB)"
        /usr/bin/time -f '%e %M' -o "$E/$k.time" gcc -std=gnu11 -O2 -Iinclude -c "$E/$k.c" -o "$E/$k.o"
    done
    read -r ct cm < "$E/crunch.time"; read -r lt lm < "$E/literal.time"; read -r bt bm < "$E/brace.time"
    echo "embedding $EMBED MiB of random bytes (gcc -O2 -c)"
    printf '%-28s %10s %12s %10s\n' "" "C source" "gcc time" "gcc peak"
    printf '%-28s %7d MiB %10.1f s %6d MiB\n' "uweb-crunch string literals" "$(( $(stat -c %s "$E/literal.c") >> 20 ))" "$lt" "$((lm >> 10))"
    printf '%-28s %7d MiB %10.1f s %6d MiB\n' "brace list of numbers" "$(( $(stat -c %s "$E/brace.c") >> 20 ))" "$bt" "$((bm >> 10))"
    python3 -c "import sys; b,l,bm,lm=map(float,sys.argv[1:]); print(f'brace list / string literals: {b/l:.1f}x the time, {bm/lm:.1f}x the memory')" "$bt" "$lt" "$bm" "$lm"
    echo "uweb-crunch itself: ${ct} s, $((cm >> 10)) MiB"
    rm -f "$E"/*.o "$E"/*.c "$E/in/blob.bin"
    exit 0
fi

need=()
command -v wrk >/dev/null || need+=(wrk)
command -v nginx >/dev/null || need+=(nginx-light)
command -v taskset >/dev/null || need+=(util-linux)
command -v curl >/dev/null || need+=(curl)
if [ ${#need[@]} -gt 0 ]; then
    log "installing ${need[*]}"
    timeout 600 apt-get install -y "${need[@]}" >/dev/null || die "cannot install ${need[*]}"
fi
[ "$(nproc)" -ge 2 ] || die "needs 2 CPUs (server on CPU 0, wrk on CPU 1)"

# ------------------------------------------------------------ the assets
python3 - "$WWW" <<'EOF'
import os, random, sys
www = sys.argv[1]
head = b"<!DOCTYPE html>\n<html>\n<head>\n<title>Welcome</title>\n</head>\n<body>\n<h1>It works.</h1>\n<p>"
tail = b"</p>\n</body>\n</html>\n"
words = b"static assets compiled into the program served without copying from read only data ".split()
r = random.Random(612)
body = b""
while len(head) + len(body) + len(tail) < 612:
    body += r.choice(words) + b" "
small = (head + body)[: 612 - len(tail)] + tail
assert len(small) == 612
open(os.path.join(www, "small.html"), "wb").write(small)
open(os.path.join(www, "large.bin"), "wb").write(random.Random(1).randbytes(1 << 20))
EOF
# gzip_static serves FILE.gz to clients that accept gzip; wrk does not ask.
gzip -9 -n -k -f "$WWW/small.html"

log "building uweb-crunch and the uweb server"
make -s B="$B" "$B/tools/uweb-crunch" "$B/libuweb.a" "$B/libuweb.libs" >/dev/null
"$B/tools/uweb-crunch" -o "$OUT/crunch_test_assets.c" -n crunch_test_assets \
    /small.html:"$WWW/small.html" /large.bin:"$WWW/large.bin"
gcc -std=gnu11 -O2 -Wall -Wextra -Werror -D_GNU_SOURCE -Iinclude -I"$OUT" -o "$OUT/uweb-static" \
    tests/tools/crunch_serve.c "$OUT/crunch_test_assets.c" "$B/libuweb.a" $(cat "$B/libuweb.libs")

cat > "$OUT/pipeline.lua" <<'EOF'
-- 16 pipelined GETs per write: wrk ... -s pipeline.lua PATH -- DEPTH
init = function(args)
  local depth = tonumber(args[1]) or 16
  local r = {}
  for i = 1, depth do r[i] = wrk.format() end
  req = table.concat(r)
end
request = function() return req end
EOF
cat > "$OUT/report.lua" <<'EOF'
done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format("RESULT requests=%d bytes=%d duration_us=%d errors=%d\n", summary.requests,
    summary.bytes, summary.duration, e.connect + e.read + e.write + e.timeout + e.status))
end
EOF
cat "$OUT/report.lua" >> "$OUT/pipeline.lua"

# ------------------------------------------------------------ processes
PIDS=()
cleanup() {
    local p
    for p in "${PIDS[@]+"${PIDS[@]}"}"; do kill -TERM "$p" 2>/dev/null || true; done
    for p in "${PIDS[@]+"${PIDS[@]}"}"; do
        for _ in $(seq 50); do kill -0 "$p" 2>/dev/null || break; sleep 0.1; done
        kill -KILL "$p" 2>/dev/null || true
        wait "$p" 2>/dev/null || true
    done
    PIDS=()
}
trap cleanup EXIT
trap 'exit 130' INT TERM

free_port() {
    python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}

wait_ready() {
    local port=$1 pid=$2
    for _ in $(seq 100); do
        kill -0 "$pid" 2>/dev/null || return 1
        [ "$(curl -s -o /dev/null -w '%{http_code}' -m 1 "http://127.0.0.1:$port/small.html")" = 200 ] && return 0
        sleep 0.1
    done
    return 1
}

start_uweb() {
    SPORT=$(free_port)
    taskset -c "$SERVER_CPU" "$OUT/uweb-static" --port="$SPORT" --quiet > "$OUT/uweb.out" 2>&1 &
    SPID=$!
    PIDS+=("$SPID")
    wait_ready "$SPORT" "$SPID" || die "uweb did not start: $(cat "$OUT/uweb.out")"
}

start_nginx() {
    SPORT=$(free_port)
    cat > "$NGX/nginx.conf" <<EOF
# bench/static.sh: nginx, one worker, the same files from disk.
daemon off;
master_process off;
worker_processes 1;
pid $NGX/nginx.pid;
error_log $NGX/logs/error.log warn;
events { worker_connections 4096; use epoll; }
http {
    access_log off;
    types { text/html html; application/octet-stream bin; }
    default_type application/octet-stream;
    sendfile on;
    tcp_nopush on;
    keepalive_requests 1000000000;
    keepalive_timeout 300s;
    gzip_static on;
    open_file_cache max=1000 inactive=60s;
    open_file_cache_valid 60s;
    client_body_temp_path $NGX/tmp/body;
    proxy_temp_path $NGX/tmp/proxy;
    fastcgi_temp_path $NGX/tmp/fastcgi;
    uwsgi_temp_path $NGX/tmp/uwsgi;
    scgi_temp_path $NGX/tmp/scgi;
    server {
        listen 127.0.0.1:$SPORT;
        root $WWW;
    }
}
EOF
    taskset -c "$SERVER_CPU" nginx -p "$NGX/" -c "$NGX/nginx.conf" -e "$NGX/logs/error.log" \
        > "$NGX/logs/stdout.log" 2>&1 &
    SPID=$!
    PIDS+=("$SPID")
    wait_ready "$SPORT" "$SPID" || die "nginx did not start: $(tail -3 "$NGX/logs/error.log")"
}

stop_server() {
    local q=() x
    kill -TERM "$SPID" 2>/dev/null || true
    for _ in $(seq 100); do kill -0 "$SPID" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "$SPID" 2>/dev/null || true
    wait "$SPID" 2>/dev/null || true
    for x in "${PIDS[@]}"; do [ "$x" = "$SPID" ] || q+=("$x"); done
    PIDS=("${q[@]+"${q[@]}"}")
}

cpu_ns() {
    local total=0 f v
    for f in /proc/"$1"/task/*/schedstat; do
        read -r v _ < "$f" 2>/dev/null || continue
        total=$((total + v))
    done
    echo "$total"
}

run_wrk() {  # run_wrk SERVER WORKLOAD RUN
    local server=$1 wl=$2 run=$3 path script args=()
    case "$wl" in
    small) path=/small.html; script=$OUT/report.lua ;;
    pipeline) path=/small.html; script=$OUT/pipeline.lua; args=(-- "$DEPTH") ;;
    large) path=/large.bin; script=$OUT/report.lua ;;
    esac
    local c0 c1 line
    c0=$(cpu_ns "$SPID")
    line=$(taskset -c "$CLIENT_CPU" wrk -t1 -c"$CONNS" -d"${DURATION}s" --timeout 10s -s "$script" \
        "http://127.0.0.1:$SPORT$path" "${args[@]+"${args[@]}"}" | grep '^RESULT' || true)
    c1=$(cpu_ns "$SPID")
    [ -n "$line" ] || die "wrk gave no result for $server $wl"
    printf '%s\t%s\t%s\t%s cpu_ns=%s\n' "$server" "$wl" "$run" "${line#RESULT }" "$((c1 - c0))" >> "$RESULTS"
    log "$server $wl run $run: ${line#RESULT } cpu_ns=$((c1 - c0))"
}

# Same bytes from both before measuring.
for s in uweb nginx; do
    "start_$s"
    curl -s "http://127.0.0.1:$SPORT/small.html" | cmp -s - "$WWW/small.html" || die "$s serves another small.html"
    curl -s "http://127.0.0.1:$SPORT/large.bin" | cmp -s - "$WWW/large.bin" || die "$s serves another large.bin"
    stop_server
done

log "$RUNS runs of ${DURATION}s per server and workload, $CONNS connections"
for run in $(seq "$RUNS"); do
    for s in uweb nginx; do
        "start_$s"
        for wl in small pipeline large; do run_wrk "$s" "$wl" "$run"; done
        stop_server
    done
done

# ------------------------------------------------------------ summary
python3 - "$RESULTS" "$RUNS" "$DURATION" "$CONNS" <<'EOF'
import statistics, sys
path, runs, duration, conns = sys.argv[1:]
rows = {}
for line in open(path):
    server, wl, run, rest = line.rstrip("\n").split("\t")
    d = dict(kv.split("=") for kv in rest.split())
    req, byt, dus, cpu = (int(d[k]) for k in ("requests", "bytes", "duration_us", "cpu_ns"))
    rows.setdefault((server, wl), []).append({
        "rps": req * 1e6 / dus, "rpc": req * 1e9 / cpu if cpu else 0,
        "mbs": byt / dus, "mbc": byt * 1e3 / cpu if cpu else 0, "err": int(d["errors"])})
# A run in which wrk saw errors (non-2xx, socket errors, timeouts) measured
# something else: it is left out of the medians, and the summary says so.
lost = {k: [r["err"] for r in v if r["err"]] for k, v in rows.items()}
rows = {k: [r for r in v if not r["err"]] for k, v in rows.items()}
med = {k: {m: statistics.median(r[m] for r in v) for m in ("rps", "rpc", "mbs", "mbc")} | {"n": len(v)}
       for k, v in rows.items() if v}
def ratio(a, b): return f"{a / b:.2f}x" if b else "n/a"
print(f"static assets, medians of {runs} runs of {duration}s, {conns} connections, server on CPU 0, wrk on CPU 1")
for k, errs in sorted(lost.items()):
    if errs:
        print(f"dropped: {k[0]} {k[1]}: {len(errs)} of {len(errs) + len(rows[k])} runs had wrk errors ({sum(errs)})")
print(f"{'workload':<34} {'uweb':>14} {'nginx':>14} {'uweb/nginx':>11}")
for wl, label in (("small", "612 B, one at a time"), ("pipeline", "612 B, 16 pipelined")):
    u, n = med.get(("uweb", wl)), med.get(("nginx", wl))
    if not u or not n: continue
    print(f"{label + ' req/s':<34} {u['rps']:>14,.0f} {n['rps']:>14,.0f} {ratio(u['rps'], n['rps']):>11}")
    print(f"{label + ' req/CPU-s':<34} {u['rpc']:>14,.0f} {n['rpc']:>14,.0f} {ratio(u['rpc'], n['rpc']):>11}")
u, n = med.get(("uweb", "large")), med.get(("nginx", "large"))
if u and n:
    print(f"{'1 MiB MB/s':<34} {u['mbs']:>14,.0f} {n['mbs']:>14,.0f} {ratio(u['mbs'], n['mbs']):>11}")
    print(f"{'1 MiB MB/CPU-s':<34} {u['mbc']:>14,.0f} {n['mbc']:>14,.0f} {ratio(u['mbc'], n['mbc']):>11}")
g = lambda s, w, m: med.get((s, w), {}).get(m, 0)
print("goals: small req/CPU-s >= 1.2x: %s; pipelined >= 5x: %s; large MB/s >= 1x: %s" % (
    ratio(g("uweb", "small", "rpc"), g("nginx", "small", "rpc")),
    ratio(g("uweb", "pipeline", "rpc"), g("nginx", "pipeline", "rpc")),
    ratio(g("uweb", "large", "mbs"), g("nginx", "large", "mbs"))))
EOF
