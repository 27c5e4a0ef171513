#!/usr/bin/env bash
# bench/hello.sh — the HTTP server side by side: uweb's hello app, nginx with
# one worker answering the same 13-byte body, and "the floor" (a bare epoll
# loop that parses nothing, bench/hello_floor.c), on loopback.
#
#     bench/hello.sh [--runs=N] [--duration=SEC] [--idle=N] [--profile] [--quick]
#                    [--skip-throughput] [--skip-memory] [--no-uweb-bench]
#
# Each server is pinned to CPU 0 (taskset), wrk (one thread) to CPU 1.
# Workloads, 64 keep-alive connections each:
#   single    one request at a time per connection
#   pipeline  16 requests per write (bench/hello_pipeline.lua)
# Each (server, workload) runs --runs times (default 5) for --duration
# seconds (default 8), servers alternating; medians are reported.
# Server CPU time is the first field of /proc/PID/task/*/schedstat (ns),
# summed over threads, read before and after each wrk run.  Each measured
# wrk run is followed by one uweb-bench run on the same server and
# workload (bench/uweb_bench.sh: a second opinion with its histogram, in
# uweb-bench.tsv and the summary's last table; wrk stays the reference);
# --no-uweb-bench skips them.
#
# Memory: a fresh uweb, then a fresh nginx: VmRSS/VmHWM right after start,
# then with --idle (default 10000) idle keep-alive connections open (each
# answered once, bench/hello_idle.py), while curl checks that another
# client is still served.
#
# --profile also records `perf record -g` of uweb under each workload into
# build/bench/hello/perf-*.txt.  --quick: 1 run of 3 s, 2000 idle.
#
# Runs in which wrk reported errors (non-2xx answers, socket errors,
# timeouts) are kept in results.tsv but left out of every median and
# ratio; the summary says how many were dropped.
#
# Everything started is stopped on exit; only 127.0.0.1 is used; the
# system nginx configuration is not read or touched (own -p/-c/-e under
# build/bench/).  Results: build/bench/hello/ (results.tsv, memory.txt,
# summary.md).  B=DIR builds and writes in DIR instead of build/.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD

RUNS=5
DURATION=8
IDLE_CONNS=10000
CONNS=64
DEPTH=16
PROFILE=0
DO_THROUGHPUT=1
DO_MEMORY=1
SERVER_CPU=0
CLIENT_CPU=1
for a in "$@"; do
    case "$a" in
    --runs=*) RUNS=${a#*=} ;;
    --duration=*) DURATION=${a#*=} ;;
    --idle=*) IDLE_CONNS=${a#*=} ;;
    --profile) PROFILE=1 ;;
    --quick) RUNS=1; DURATION=3; IDLE_CONNS=2000 ;;
    --skip-throughput) DO_THROUGHPUT=0 ;;
    --skip-memory) DO_MEMORY=0 ;;
    --no-uweb-bench) NO_UB=1 ;;
    -h|--help) sed -n '2,30p' "$0"; exit 0 ;;
    *) echo "hello.sh: unknown option $a" >&2; exit 2 ;;
    esac
done

B=${B:-build}      # the build directory, as make B=DIR
OUT=$ROOT/$B/bench/hello
NGX=$ROOT/$B/bench/nginx-hello
mkdir -p "$OUT" "$NGX/logs" "$NGX/tmp"
RESULTS=$OUT/results.tsv
MEMORY=$OUT/memory.txt
NO_UB=${NO_UB:-0}
source bench/uweb_bench.sh

log() { printf '[hello.sh %s] %s\n' "$(date -u +%H:%M:%S)" "$*" >&2; }
die() { log "error: $*"; exit 1; }

# ------------------------------------------------------------ prerequisites

need=()
command -v wrk >/dev/null || need+=(wrk)
command -v nginx >/dev/null || need+=(nginx-light)
command -v taskset >/dev/null || need+=(util-linux)
command -v curl >/dev/null || need+=(curl)
command -v gcc >/dev/null || need+=(gcc)
if [ "$PROFILE" = 1 ] && ! command -v perf >/dev/null; then need+=(linux-perf); fi
if [ ${#need[@]} -gt 0 ]; then
    log "installing ${need[*]}"
    timeout 600 apt-get install -y "${need[@]}" >/dev/null || die "cannot install ${need[*]}"
fi
[ "$(nproc)" -ge 2 ] || die "needs 2 CPUs (server on CPU 0, wrk on CPU 1)"

# 10,000 idle connections need descriptors in the servers and the client.
ulimit -n 65536 2>/dev/null || ulimit -n "$(ulimit -Hn)"
NOFILE=$(ulimit -n)
[ "$(ulimit -n)" -gt $((IDLE_CONNS + 200)) ] || die "ulimit -n is $(ulimit -n), below --idle=$IDLE_CONNS"

log "building uweb hello and the floor"
timeout 900 make -s B="$B" "$B/apps/hello" >/dev/null
if [ "$NO_UB" = 0 ]; then
    timeout 900 make -s B="$B" "$B/tools/uweb-bench" >/dev/null || log "uweb-bench did not build: wrk alone"
    ub_init "$ROOT/$B/tools/uweb-bench" "$OUT/uweb-bench.tsv"
fi
# A private copy: the tree may be rebuilt meanwhile, and perf needs the
# binary it sampled.
cp "$B/apps/hello" "$OUT/uweb-hello"
gcc -O2 -Wall -o "$OUT/hello_floor" bench/hello_floor.c

# ------------------------------------------------------------ processes

# Running (a zombie not yet waited for is not: kill -0 would say it is).
alive() {
    local st
    st=$(awk '/^State:/ { print $2 }' "/proc/$1/status" 2>/dev/null || true)
    [ -n "$st" ] && [ "$st" != Z ]
}

PIDS=()
cleanup() {
    local p
    touch "$OUT/idle.done" 2>/dev/null || true
    for p in "${PIDS[@]}"; do
        kill -TERM "$p" 2>/dev/null || true
    done
    for p in "${PIDS[@]}"; do
        for _ in $(seq 50); do alive "$p" || break; sleep 0.1; done
        kill -KILL "$p" 2>/dev/null || true
        wait "$p" 2>/dev/null || true
    done
    PIDS=()
}
trap cleanup EXIT
trap 'exit 130' INT TERM

stop_pid() {
    local p=$1 q=()
    kill -TERM "$p" 2>/dev/null || true
    for _ in $(seq 100); do alive "$p" || break; sleep 0.1; done
    kill -KILL "$p" 2>/dev/null || true
    wait "$p" 2>/dev/null || true
    for x in "${PIDS[@]}"; do [ "$x" = "$p" ] || q+=("$x"); done
    PIDS=("${q[@]+"${q[@]}"}")
}

free_port() {
    python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}

# Waits (bounded) until GET / answers "Hello World!".
wait_ready() {
    local port=$1 pid=$2
    for _ in $(seq 100); do
        alive "$pid" || return 1
        [ "$(curl -s -m 1 "http://127.0.0.1:$port/" 2>/dev/null)" = "Hello World!" ] && return 0
        sleep 0.1
    done
    return 1
}

# Sets SPID and SPORT.
start_uweb() {
    : > "$OUT/uweb.out"
    taskset -c "$SERVER_CPU" "$OUT/uweb-hello" --port=0 --addr=127.0.0.1 --quiet > "$OUT/uweb.out" 2>&1 &
    SPID=$!
    PIDS+=("$SPID")
    SPORT=
    for _ in $(seq 50); do
        SPORT=$(sed -n 's|.*listening on http://127.0.0.1:\([0-9]*\)/.*|\1|p' "$OUT/uweb.out")
        [ -n "$SPORT" ] && break
        sleep 0.1
    done
    [ -n "$SPORT" ] || die "uweb hello did not start: $(cat "$OUT/uweb.out")"
    wait_ready "$SPORT" "$SPID" || die "uweb hello does not answer"
}

start_nginx() {
    local tries
    for tries in 1 2 3; do
        SPORT=$(free_port)
        cat > "$NGX/nginx.conf" <<EOF
# bench/hello.sh: nginx with one worker answering "Hello World!\n".
daemon off;
master_process off;
worker_processes 1;
worker_rlimit_nofile $NOFILE;
pid $NGX/nginx.pid;
error_log $NGX/logs/error.log warn;
events {
    worker_connections $((IDLE_CONNS + 1024));
    use epoll;
}
http {
    access_log off;
    default_type text/plain;
    keepalive_requests 1000000000;
    keepalive_timeout 300s;
    client_body_temp_path $NGX/tmp/body;
    proxy_temp_path $NGX/tmp/proxy;
    fastcgi_temp_path $NGX/tmp/fastcgi;
    uwsgi_temp_path $NGX/tmp/uwsgi;
    scgi_temp_path $NGX/tmp/scgi;
    server {
        listen 127.0.0.1:$SPORT;
        location / {
            return 200 "Hello World!\n";
        }
    }
}
EOF
        taskset -c "$SERVER_CPU" nginx -p "$NGX/" -c "$NGX/nginx.conf" -e "$NGX/logs/error.log" \
            > "$NGX/logs/stdout.log" 2>&1 &
        SPID=$!
        PIDS+=("$SPID")
        if wait_ready "$SPORT" "$SPID"; then return 0; fi
        stop_pid "$SPID"
    done
    die "nginx did not start: $(tail -3 "$NGX/logs/error.log")"
}

start_floor() {
    : > "$OUT/floor.out"
    taskset -c "$SERVER_CPU" "$OUT/hello_floor" 0 > "$OUT/floor.out" 2>&1 &
    SPID=$!
    PIDS+=("$SPID")
    SPORT=
    for _ in $(seq 50); do
        SPORT=$(sed -n 's/^floor listening on \([0-9]*\)$/\1/p' "$OUT/floor.out")
        [ -n "$SPORT" ] && break
        sleep 0.1
    done
    [ -n "$SPORT" ] || die "the floor did not start"
    wait_ready "$SPORT" "$SPID" || die "the floor does not answer"
}

# Server CPU time in ns: first field of schedstat, summed over threads.
cpu_ns() {
    local f a s=0
    for f in /proc/"$1"/task/*/schedstat; do
        read -r a _ < "$f" || continue
        s=$((s + a))
    done
    echo "$s"
}

status_kb() { awk -v k="$2:" '$1 == k { print $2 }' "/proc/$1/status"; }

# run_wrk SERVER PID PORT WORKLOAD RUN [record]: one measured wrk run; a
# line in results.tsv when RUN > 0.
run_wrk() {
    local server=$1 pid=$2 port=$3 wl=$4 run=$5 dur=${6:-$DURATION}
    local args=(-t1 -c"$CONNS" -d"${dur}s" --latency --timeout 5s)
    if [ "$wl" = pipeline ]; then
        args+=(-s bench/hello_pipeline.lua "http://127.0.0.1:$port/" -- "$DEPTH")
    else
        args+=(-s bench/hello_single.lua "http://127.0.0.1:$port/")
    fi
    local c0 c1 out
    c0=$(cpu_ns "$pid")
    out=$(timeout $((dur + 30)) taskset -c "$CLIENT_CPU" wrk "${args[@]}" 2>&1) || true
    c1=$(cpu_ns "$pid")
    alive "$pid" || die "$server died during $wl run $run (see $OUT)"
    local line
    line=$(printf '%s\n' "$out" | grep '^RESULT ' || true)
    [ -n "$line" ] || { log "wrk gave no result for $server $wl: $out"; return 0; }
    [ "$run" -gt 0 ] || return 0
    # RESULT requests=.. duration_us=.. p50_us=.. p99_us=.. errors_*=..
    local kv
    kv=$(printf '%s\n' "$line" | sed 's/^RESULT //')
    printf '%s\t%s\t%s\t%s\tcpu_ns=%s\t%s\n' "$server" "$wl" "$run" "$(date -u +%H:%M:%S)" \
        "$((c1 - c0))" "$(printf '%s' "$kv" | tr ' ' '\t')" >> "$RESULTS"
    local req dus
    req=$(printf '%s' "$line" | sed 's/.* requests=\([0-9]*\).*/\1/')
    dus=$(printf '%s' "$line" | sed 's/.* duration_us=\([0-9]*\).*/\1/')
    log "$(printf '%-6s %-8s run %s: %8d req/s  %8d req/CPU-s  (server CPU %3d%%)  %s' "$server" "$wl" "$run" \
        $((req * 1000000 / dus)) $((req * 1000000000 / (c1 - c0 + 1))) $(((c1 - c0) / (dus * 10))) \
        "$(printf '%s' "$line" | grep -o 'p50_us=[0-9]* p99_us=[0-9]*')")"
    if printf '%s' "$line" | grep -q 'errors_[a-z]*=[1-9]'; then
        log "  errors: $(printf '%s' "$line" | grep -o 'errors_[a-z]*=[1-9][0-9]*' | tr '\n' ' ')"
    fi
}

# ------------------------------------------------------------ machine note

{
    echo "date: $(date -u '+%Y-%m-%d %H:%M UTC')"
    dirty=$(git status --porcelain -- src include apps/hello 2>/dev/null | wc -l)
    echo "uweb: commit $(git rev-parse --short HEAD 2>/dev/null || echo '?')$([ "$dirty" = 0 ] || echo " + local changes in src/include")"
    echo "cpu: $(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -1), $(nproc) CPUs"
    echo "kernel: $(uname -r)"
    echo "nginx: $(nginx -v 2>&1 | sed 's/.*version: //')"
    echo "wrk: $(wrk -v 2>&1 | head -1 | awk '{print $2}')"
    echo "gcc: $(gcc -dumpfullversion)"
    echo "load average at start: $(cut -d' ' -f1-3 /proc/loadavg)"
    echo "runs: $RUNS x ${DURATION}s, $CONNS connections, pipeline depth $DEPTH"
} > "$OUT/machine.txt"

# ------------------------------------------------------------ throughput

SERVERS=(uweb nginx floor)
declare -A PID_OF PORT_OF
if [ "$DO_THROUGHPUT" = 1 ]; then
    : > "$RESULTS"
    log "starting the servers (CPU $SERVER_CPU), wrk on CPU $CLIENT_CPU"
    start_uweb;  PID_OF[uweb]=$SPID;  PORT_OF[uweb]=$SPORT
    start_nginx; PID_OF[nginx]=$SPID; PORT_OF[nginx]=$SPORT
    start_floor; PID_OF[floor]=$SPID; PORT_OF[floor]=$SPORT
    log "uweb pid ${PID_OF[uweb]} port ${PORT_OF[uweb]}, nginx pid ${PID_OF[nginx]} port ${PORT_OF[nginx]}, floor pid ${PID_OF[floor]} port ${PORT_OF[floor]}"

    # Pipelined answers checked once by hand: 16 requests in, 16 answers out.
    for s in "${SERVERS[@]}"; do
        n=$(python3 - "${PORT_OF[$s]}" <<'EOF'
import socket, sys, time
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])), timeout=5)
s.sendall(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n" * 16)
buf, end = b"", time.monotonic() + 5
while buf.count(b"Hello World!\n") < 16 and time.monotonic() < end:
    try:
        d = s.recv(65536)
    except socket.timeout:
        break
    if not d:
        break
    buf += d
print(buf.count(b"HTTP/1.1 200 OK\r\n"), buf.count(b"Hello World!\n"))
EOF
)
        [ "$n" = "16 16" ] || log "warning: $s answered 16 pipelined requests with (200s, bodies) = $n"
    done

    log "warm-up"
    for s in "${SERVERS[@]}"; do
        for wl in single pipeline; do run_wrk "$s" "${PID_OF[$s]}" "${PORT_OF[$s]}" "$wl" 0 2; done
    done

    for run in $(seq "$RUNS"); do
        # Alternate: the order of the servers rotates from run to run.
        k=$(((run - 1) % 3))
        order=("${SERVERS[@]:$k}" "${SERVERS[@]:0:$k}")
        for wl in single pipeline; do
            for s in "${order[@]}"; do
                run_wrk "$s" "${PID_OF[$s]}" "${PORT_OF[$s]}" "$wl" "$run"
                ub_run "$s" "$wl" "http://127.0.0.1:${PORT_OF[$s]}/" $([ "$wl" = pipeline ] && echo "-P $DEPTH")
            done
        done
    done

    if [ "$PROFILE" = 1 ]; then
        for wl in single pipeline; do
            log "perf record -g on uweb, $wl"
            pid=${PID_OF[uweb]}
            timeout $((DURATION + 30)) perf record -g -o "$OUT/perf-$wl.data" -p "$pid" -- sleep $((DURATION - 1)) \
                > "$OUT/perf-$wl.log" 2>&1 &
            ppid=$!
            PIDS+=("$ppid")
            run_wrk uweb "$pid" "${PORT_OF[uweb]}" "$wl" 0 "$DURATION"
            wait "$ppid" 2>/dev/null || true
            perf report -i "$OUT/perf-$wl.data" --no-children --stdio -g none --percent-limit 0.7 \
                > "$OUT/perf-$wl.txt" 2>/dev/null || true
            perf report -i "$OUT/perf-$wl.data" --children --stdio -g none --percent-limit 2 \
                > "$OUT/perf-$wl-children.txt" 2>/dev/null || true
            perf report -i "$OUT/perf-$wl.data" --no-children --stdio -g none --sort dso \
                > "$OUT/perf-$wl-dso.txt" 2>/dev/null || true
            log "  build/bench/hello/perf-$wl.txt"
        done
    fi

    for s in "${SERVERS[@]}"; do stop_pid "${PID_OF[$s]}"; done
fi

# ------------------------------------------------------------ memory

# mem_phase NAME: fresh server, idle RSS, then IDLE_CONNS idle connections.
mem_phase() {
    local name=$1
    case "$name" in
    uweb) start_uweb ;;
    nginx) start_nginx ;;
    esac
    local pid=$SPID port=$SPORT
    sleep 0.5
    echo "$name idle_rss_kb=$(status_kb "$pid" VmRSS) idle_hwm_kb=$(status_kb "$pid" VmHWM)" >> "$MEMORY"
    rm -f "$OUT/idle.done"
    python3 bench/hello_idle.py "$port" "$IDLE_CONNS" "$OUT/idle.done" 120 > "$OUT/idle-$name.out" 2> "$OUT/idle-$name.err" &
    local cpid=$!
    PIDS+=("$cpid")
    local ready=
    for _ in $(seq 1800); do   # at most 180 s
        ready=$(grep '^READY' "$OUT/idle-$name.out" || true)
        [ -n "$ready" ] && break
        alive "$cpid" || break
        sleep 0.1
    done
    [ -n "$ready" ] || die "idle client for $name did not get ready: $(cat "$OUT/idle-$name.err")"
    log "$name: $ready"
    sleep 1
    local fds rss hwm
    fds=$(ls "/proc/$pid/fd" | wc -l)
    rss=$(status_kb "$pid" VmRSS)
    hwm=$(status_kb "$pid" VmHWM)
    local t0 body ms
    t0=$(date +%s%N)
    body=$(curl -s -m 5 "http://127.0.0.1:$port/" || true)
    ms=$((($(date +%s%N) - t0) / 1000000))
    local served=no
    [ "$body" = "Hello World!" ] && served=yes
    # A short one-at-a-time run with the idle connections still open.
    local out rps
    out=$(timeout 40 taskset -c "$CLIENT_CPU" wrk -t1 -c"$CONNS" -d3s -s bench/hello_single.lua "http://127.0.0.1:$port/" 2>&1 || true)
    rps=$(printf '%s\n' "$out" | sed -n 's/^Requests\/sec: *\([0-9]*\).*/\1/p')
    local rss2 hwm2
    rss2=$(status_kb "$pid" VmRSS)
    hwm2=$(status_kb "$pid" VmHWM)
    touch "$OUT/idle.done"
    for _ in $(seq 300); do alive "$cpid" || break; sleep 0.1; done
    stop_pid "$cpid"
    local still
    still=$(sed -n 's/^STILL_OPEN //p' "$OUT/idle-$name.out")
    echo "$name $(printf '%s' "$ready" | sed 's/^READY //') fds=$fds idle_conns_rss_kb=$rss idle_conns_hwm_kb=$hwm curl_served=$served curl_ms=$ms wrk_rps_with_idle=${rps:-0} after_wrk_rss_kb=$rss2 after_wrk_hwm_kb=$hwm2 still_open=${still:-?}" >> "$MEMORY"
    log "$name: $IDLE_CONNS idle: VmRSS ${rss} kB VmHWM ${hwm} kB, curl served: $served (${ms} ms), wrk meanwhile ${rps:-0} req/s, still open at the end: ${still:-?}"
    stop_pid "$pid"
}

if [ "$DO_MEMORY" = 1 ]; then
    : > "$MEMORY"
    for s in uweb nginx; do mem_phase "$s"; done
fi

echo "load average at end: $(cut -d' ' -f1-3 /proc/loadavg)" >> "$OUT/machine.txt"

# ------------------------------------------------------------ summary

python3 bench/hello_summary.py "$OUT" | tee "$OUT/summary.md"
ub_summary | tee -a "$OUT/summary.md"
