#!/usr/bin/env bash
# bench/h2.sh — HTTP/2 over TLS side by side: uweb (apps/hello; the 1 MiB
# download from tests/apps/benchtarget's /bytes/1048576, streamed in 64 KiB
# uw_res_write calls), nginx (http2, one worker, `return 200` and a static
# file) and h2o (Debian's 2.2, one thread, static files), the same ECDSA
# P-256 certificate (scripts/mkcert.sh), on loopback, measured with h2load.
#
#     bench/h2.sh [--runs=N] [--duration=SEC] [--quick]
#
# Each server is pinned to CPU 0 (taskset), h2load (one thread) to CPU 1.
# Server CPU time is the first field of /proc/PID/task/*/schedstat, summed
# over threads, before and after each run (as bench/tls.sh).  Workloads:
#   m1, m10, m100   hello, h2load -c 64 -m 1 / 10 / 100 (streams in flight
#                   per connection): requests per server CPU-second
#   1mib            GET of 1 MiB, h2load -c 8 -m 1: MB/s
#   upload          uweb only: 64 concurrent POSTs of 16 MiB (h2load -c 64 -n 64
#                   -d FILE) to tests/apps/echo's /count (reads and CRCs the
#                   body), MB/s and the server's peak RSS (VmHWM), a fresh
#                   server per run
# Each (server, workload) runs --runs times (default 3) for --duration
# seconds (default 5), servers alternating; medians are reported, with the
# ratios uweb/nginx and uweb/h2o.
#
# Results: $B/bench/h2/ (results.tsv, summary.md).  B=DIR builds and writes
# in DIR instead of build/.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
RUNS=3 DURATION=5 SERVER_CPU=0 CLIENT_CPU=1
for a in "$@"; do
    case "$a" in
    --runs=*) RUNS=${a#*=} ;;
    --duration=*) DURATION=${a#*=} ;;
    --quick) RUNS=1; DURATION=3 ;;
    -h|--help) sed -n '2,22p' "$0"; exit 0 ;;
    *) echo "h2.sh: unknown option $a" >&2; exit 2 ;;
    esac
done
B=${B:-build}
OUT=$ROOT/$B/bench/h2
NGX=$OUT/nginx
WWW=$OUT/www
mkdir -p "$OUT" "$NGX/logs" "$NGX/tmp" "$WWW" "$OUT/h2o"
RESULTS=$OUT/results.tsv
log() { printf '[h2.sh %s] %s\n' "$(date -u +%H:%M:%S)" "$*" >&2; }
die() { log "error: $*"; exit 1; }
for c in h2load nginx h2o taskset curl python3; do command -v "$c" >/dev/null || die "$c is missing (make installs nghttp2-client, nginx, h2o)"; done
[ "$(nproc)" -ge 2 ] || die "needs 2 CPUs"
ulimit -n 65536 2>/dev/null || ulimit -n "$(ulimit -Hn)"

scripts/mkcert.sh "$OUT/certs" >/dev/null
CERT=$OUT/certs/localhost.pem KEY=$OUT/certs/localhost.key CA=$OUT/certs/ca.pem
printf 'Hello World!\n' > "$WWW/hello.txt"
python3 -c 'import sys; open(sys.argv[1],"wb").write(b"x" * (1 << 20))' "$WWW/large.bin"
log "building hello, benchtarget and echo"
timeout 900 make -s B="$B" "$B/apps/hello" "$B/tests/apps/benchtarget" "$B/tests/apps/echo" >/dev/null ||
    { [ -x "$B/apps/hello" ] && [ -x "$B/tests/apps/benchtarget" ] && [ -x "$B/tests/apps/echo" ] || die "cannot build"
      log "make failed: measuring the binaries already in $B"; }
cp "$B/apps/hello" "$OUT/uweb-hello"
cp "$B/tests/apps/benchtarget" "$OUT/uweb-bytes"
cp "$B/tests/apps/echo" "$OUT/uweb-echo"
head -c $((16 << 20)) /dev/urandom > "$OUT/upload.bin"

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
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
cpu_ns() {
    local f a s=0
    for f in /proc/"$1"/task/*/schedstat; do read -r a _ < "$f" || continue; s=$((s + a)); done
    echo "$s"
}

# The path of each workload on each server.
path() {  # path SERVER KIND
    case "$1:$2" in
    uweb:hello|nginx:hello) echo / ;;
    h2o:hello) echo /hello.txt ;;
    uweb:large) echo /bytes/1048576 ;;
    *:large) echo /large.bin ;;
    esac
}

# start SERVER KIND: SPID, SPORT.
start() {
    local server=$1 kind=$2
    SPORT=$(free_port)
    case "$server" in
    uweb)
        local bin=$OUT/uweb-hello
        [ "$kind" = large ] && bin=$OUT/uweb-bytes
        taskset -c "$SERVER_CPU" "$bin" --addr=127.0.0.1 --port=0 --quiet --tls-port="$SPORT" \
            --tls-cert="$CERT" --tls-key="$KEY" > "$OUT/uweb.out" 2>&1 & ;;
    nginx)
        cat > "$NGX/nginx.conf" <<EOF
daemon off;
master_process off;
worker_processes 1;
pid $NGX/nginx.pid;
error_log $NGX/logs/error.log warn;
events { worker_connections 4096; use epoll; }
http {
    access_log off;
    default_type text/plain;
    keepalive_requests 1000000000;
    http2_max_concurrent_streams 128;
    http2_max_requests 1000000000;
    client_body_temp_path $NGX/tmp/body;
    proxy_temp_path $NGX/tmp/proxy;
    fastcgi_temp_path $NGX/tmp/fastcgi;
    uwsgi_temp_path $NGX/tmp/uwsgi;
    scgi_temp_path $NGX/tmp/scgi;
    server {
        listen 127.0.0.1:$SPORT ssl http2;
        ssl_certificate $CERT;
        ssl_certificate_key $KEY;
        ssl_protocols TLSv1.2 TLSv1.3;
        location = / { return 200 "Hello World!\n"; }
        location = /large.bin { root $WWW; }
    }
}
EOF
        taskset -c "$SERVER_CPU" nginx -p "$NGX/" -c "$NGX/nginx.conf" -e "$NGX/logs/error.log" > "$NGX/logs/stdout.log" 2>&1 & ;;
    h2o)
        cat > "$OUT/h2o/h2o.conf" <<EOF
num-threads: 1
user: $(id -un)
error-log: $OUT/h2o/error.log
http2-max-concurrent-requests-per-connection: 128
listen:
  host: 127.0.0.1
  port: $SPORT
  ssl:
    certificate-file: $CERT
    key-file: $KEY
    ocsp-update-interval: 0
hosts:
  default:
    paths:
      /:
        file.dir: $WWW
EOF
        taskset -c "$SERVER_CPU" h2o -c "$OUT/h2o/h2o.conf" > "$OUT/h2o/stdout.log" 2>&1 & ;;
    esac
    SPID=$!
    PIDS+=("$SPID")
    local p
    p=$(path "$server" "$kind")
    for _ in $(seq 100); do
        kill -0 "$SPID" 2>/dev/null || die "$server exited: $(tail -3 "$OUT/uweb.out" "$NGX/logs/error.log" "$OUT/h2o/error.log" 2>/dev/null)"
        [ "$(curl -s -o /dev/null -w '%{http_code}%{http_version}' --http2 --cacert "$CA" -m 1 "https://127.0.0.1:$SPORT$p")" = 2002 ] && return 0
        sleep 0.1
    done
    die "$server ($kind) does not answer over h2"
}
stop() {
    kill -TERM "$SPID" 2>/dev/null || true
    wait "$SPID" 2>/dev/null || true
    PIDS=("${PIDS[@]/$SPID}")
}

# measure SERVER WORKLOAD RUN: one line in results.tsv.
measure() {
    local server=$1 wl=$2 run=$3 c0 c1 out n secs mbs kind=hello args
    case "$wl" in
    m1) args=(-c 64 -m 1) ;;
    m10) args=(-c 64 -m 10) ;;
    m100) args=(-c 64 -m 100) ;;
    1mib) args=(-c 8 -m 1); kind=large ;;
    esac
    c0=$(cpu_ns "$SPID")
    out=$(timeout $((DURATION + 30)) taskset -c "$CLIENT_CPU" h2load -t 1 "${args[@]}" -D "$DURATION" \
          "https://127.0.0.1:$SPORT$(path "$server" "$kind")" 2>&1 || true)
    c1=$(cpu_ns "$SPID")
    n=$(printf '%s\n' "$out" | sed -n 's/^requests: .* \([0-9]*\) succeeded.*/\1/p')
    secs=$(printf '%s\n' "$out" | sed -n 's/^finished in \([0-9.]*\)s.*/\1/p')
    mbs=$(printf '%s\n' "$out" | sed -n 's/^finished in .* \([0-9.]*\)MB\/s.*/\1/p')
    local failed
    failed=$(printf '%s\n' "$out" | sed -n 's/^requests: .* \([0-9]*\) failed.*/\1/p')
    [ -n "$n" ] && [ -n "$secs" ] || { log "$server $wl run $run: no result: $(printf '%s' "$out" | tail -3)"; return 0; }
    [ "${failed:-0}" = 0 ] || log "$server $wl run $run: $failed requests failed"
    printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$server" "$wl" "$run" "$n" "$((c1 - c0))" "$secs" "${mbs:-0}" >> "$RESULTS"
    log "$(printf '%-5s %-5s run %s: %8.0f req/s  %8.0f per CPU-s  %7s MB/s' "$server" "$wl" "$run" \
        "$(echo "$n / $secs" | bc -l)" "$(echo "$n * 1000000000 / ($c1 - $c0 + 1)" | bc -l)" "${mbs:-0}")"
}

{
    echo "date: $(date -u '+%Y-%m-%d %H:%M UTC'), uweb $(git rev-parse --short HEAD)"
    echo "cpu: $(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -1), $(nproc) CPUs, load $(cut -d' ' -f1-3 /proc/loadavg)"
    echo "nginx $(nginx -v 2>&1 | sed 's/.*version: //'), h2o $(h2o --version 2>&1 | head -1 | awk '{print $3}'), $(h2load --version 2>&1 | head -1)"
    echo "runs: $RUNS x ${DURATION}s"
} > "$OUT/machine.txt"

SERVERS=(uweb nginx h2o)
: > "$RESULTS"
for kind in hello large; do
    for run in $(seq "$RUNS"); do
        k=$(((run - 1) % ${#SERVERS[@]}))
        for s in "${SERVERS[@]:$k}" "${SERVERS[@]:0:$k}"; do
            start "$s" "$kind"
            if [ "$kind" = hello ]; then
                for wl in m1 m10 m100; do measure "$s" "$wl" "$run"; done
            else
                measure "$s" 1mib "$run"
            fi
            stop
        done
    done
done

# 64 concurrent uploads of 16 MiB to uweb (a fresh server per run, for its peak RSS).
: > "$OUT/upload.tsv"
for run in $(seq "$RUNS"); do
    SPORT=$(free_port)
    taskset -c "$SERVER_CPU" "$OUT/uweb-echo" --addr=127.0.0.1 --port=0 --quiet --tls-port="$SPORT" \
        --tls-cert="$CERT" --tls-key="$KEY" > "$OUT/uweb.out" 2>&1 &
    SPID=$!
    PIDS+=("$SPID")
    for _ in $(seq 100); do curl -s -o /dev/null --cacert "$CA" -m 1 "https://127.0.0.1:$SPORT/" && break; sleep 0.1; done
    out=$(timeout 300 taskset -c "$CLIENT_CPU" h2load -t 1 -c 64 -n 64 -m 1 -d "$OUT/upload.bin" \
          "https://127.0.0.1:$SPORT/count" 2>&1 || true)
    secs=$(printf '%s\n' "$out" | sed -n 's/^finished in \([0-9.]*\)s.*/\1/p')
    ok=$(printf '%s\n' "$out" | sed -n 's/^requests: .* \([0-9]*\) succeeded.*/\1/p')
    hwm=$(awk '$1 == "VmHWM:" { print $2 }' "/proc/$SPID/status")
    stop
    [ -n "$secs" ] && [ "${ok:-0}" = 64 ] || { log "upload run $run: $(printf '%s' "$out" | tail -3)"; continue; }
    mbs=$(echo "64 * 16 / $secs" | bc -l)
    printf '%s\t%s\t%s\n' "$run" "$mbs" "$hwm" >> "$OUT/upload.tsv"
    log "$(printf 'uweb  upload run %s: %7.1f MB/s, peak RSS %d MiB' "$run" "$mbs" $((hwm >> 10)))"
done

python3 - "$RESULTS" "$OUT/machine.txt" "$OUT/upload.tsv" > "$OUT/summary.md" <<'EOF'
import statistics, sys
rows = [l.rstrip("\n").split("\t") for l in open(sys.argv[1]) if l.strip()]
med = {}
for srv, wl in sorted({(r[0], r[1]) for r in rows}):
    rs = [r for r in rows if r[0] == srv and r[1] == wl]
    med[srv, wl] = (statistics.median(int(r[3]) * 1e9 / max(1, int(r[4])) for r in rs),
                    statistics.median(int(r[3]) / float(r[5]) for r in rs),
                    statistics.median(float(r[6]) for r in rs), len(rs))
print("".join("    " + l for l in open(sys.argv[2])))
print("| workload | server | req per server CPU-s | req/s | MB/s | runs |")
print("|---|---|---:|---:|---:|---:|")
for wl in ("m1", "m10", "m100", "1mib"):
    for srv in ("uweb", "nginx", "h2o"):
        if (srv, wl) in med:
            c, r, m, n = med[srv, wl]
            print(f"| {wl} | {srv} | {c:.0f} | {r:.0f} | {m:.1f} | {n} |")
print()
print("| workload | uweb/nginx | uweb/h2o | (per server CPU-second; 1mib: MB/s) |")
print("|---|---:|---:|---|")
for wl in ("m1", "m10", "m100", "1mib"):
    i = 2 if wl == "1mib" else 0
    u = med.get(("uweb", wl))
    def ratio(o):
        x = med.get((o, wl))
        return f"{u[i] / x[i]:.2f}" if u and x and x[i] else "n/a"
    print(f"| {wl} | {ratio('nginx')} | {ratio('h2o')} | |")
up = [l.split("\t") for l in open(sys.argv[3]) if l.strip()]
if up:
    print()
    print(f"uweb, 64 concurrent uploads of 16 MiB over h2: {statistics.median(float(u[1]) for u in up):.1f} MB/s, "
          f"peak RSS {statistics.median(int(u[2]) for u in up) / 1024:.1f} MiB (medians of {len(up)})")
EOF
cat "$OUT/summary.md"
