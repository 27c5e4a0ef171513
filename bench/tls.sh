#!/usr/bin/env bash
# bench/tls.sh — HTTPS side by side: uweb (hello; tests/tools/crunch_serve.c
# for 1 MiB) and nginx with one worker, the same ECDSA P-256 certificate
# (scripts/mkcert.sh), on loopback.
#
#     bench/tls.sh [--runs=N] [--duration=SEC] [--idle=N] [--quick] [--no-uweb-bench]
#
# Each server is pinned to CPU 0 (taskset), the client to CPU 1.  Server
# CPU time is the first field of /proc/PID/task/*/schedstat, summed over
# threads, before and after each run (as bench/hello.sh).  Workloads:
#   hs13      full handshakes, a new connection per request (openssl s_time
#             -new, GET / HTTP/1.0): TLS 1.3, TLS_AES_128_GCM_SHA256, X25519
#   hs12      the same over TLS 1.2, ECDHE-ECDSA-AES128-GCM-SHA256, X25519
#   single    keep-alive HTTPS hello, one request at a time (wrk, 64 conns)
#   pipeline  keep-alive HTTPS hello, 16 pipelined (bench/hello_pipeline.lua)
#   1mib      GET of 1 MiB of random bytes over HTTPS (wrk, 8 conns), MB/s
# After each wrk run of single and pipeline, one uweb-bench run on the same
# server over https:// (certificate verified with the test CA;
# bench/uweb_bench.sh: uweb-bench.tsv and the summary's last table; wrk
# stays the reference); --no-uweb-bench skips them.
# Each (server, workload) runs --runs times (default 3) for --duration
# seconds (default 5), servers alternating; medians are reported with the
# ratio uweb/nginx per server CPU-second.  The client offers one cipher
# and X25519 first, so both servers use the same; the group and cipher
# each server chose are printed.
#
# Memory: a fresh server each, VmRSS before and after --idle (default
# 10000) idle keep-alive TLS connections (each answered once).
#
# Unikernels: crunchzip.spt's size, with or without mbedTLS linked; and
# (as root, when $B/uweb-spt and $B/spt/apps/hello.spt are built) hello as
# an spt guest on mbedTLS, its certificate from the block device tls, in a
# network namespace of its own (tender pinned to CPU 0, the clients in the
# namespace on CPU 1): hs13, hs12, single and pipeline as above, beside
# uweb on unix (OpenSSL); its "1 MiB" row is n/a (no guest app serves a
# 1 MiB file yet).
#
# Results: $B/bench/tls/ (results.tsv, summary.md).  B=DIR builds and
# writes in DIR instead of build/; TLS=mbedtls with B=DIR/mbedtls measures
# uweb on mbedTLS.  UWEB_TREE=DIR builds uweb's servers from another
# checkout (make -C DIR B=$B; e.g. a branch's worktree).  uweb's rows say
# "n/a" when its apps have no TLS listener (no --tls-cert in --help);
# nginx is measured anyway.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
RUNS=3 DURATION=5 IDLE_CONNS=10000 SERVER_CPU=0 CLIENT_CPU=1
for a in "$@"; do
    case "$a" in
    --runs=*) RUNS=${a#*=} ;;
    --duration=*) DURATION=${a#*=} ;;
    --idle=*) IDLE_CONNS=${a#*=} ;;
    --quick) RUNS=1; DURATION=3; IDLE_CONNS=2000 ;;
    --no-uweb-bench) NO_UB=1 ;;
    -h|--help) sed -n '2,38p' "$0"; exit 0 ;;
    *) echo "tls.sh: unknown option $a" >&2; exit 2 ;;
    esac
done
B=${B:-build}
OUT=$ROOT/$B/bench/tls
NGX=$OUT/nginx
WWW=$OUT/www
mkdir -p "$OUT" "$NGX/logs" "$NGX/tmp" "$WWW"
RESULTS=$OUT/results.tsv
NO_UB=${NO_UB:-0}
source bench/uweb_bench.sh
log() { printf '[tls.sh %s] %s\n' "$(date -u +%H:%M:%S)" "$*" >&2; }
die() { log "error: $*"; exit 1; }
for c in wrk nginx taskset openssl curl python3; do command -v "$c" >/dev/null || die "$c is missing"; done
[ "$(nproc)" -ge 2 ] || die "needs 2 CPUs"
ulimit -n 65536 2>/dev/null || ulimit -n "$(ulimit -Hn)"
NOFILE=$(ulimit -n)

scripts/mkcert.sh "$OUT/certs"
CERT=$OUT/certs/localhost.pem KEY=$OUT/certs/localhost.key CA=$OUT/certs/ca.pem
python3 -c 'import random,sys; open(sys.argv[1],"wb").write(random.Random(1).randbytes(1<<20))' "$WWW/large.bin"
log "building hello, uweb-crunch and the 1 MiB server"
TREE=${UWEB_TREE:-$ROOT}
timeout 900 make -C "$TREE" -s B="$B" "$B/apps/hello" "$B/tools/uweb-crunch" "$B/libuweb.a" "$B/libuweb.libs" >/dev/null
cp "$TREE/$B/apps/hello" "$OUT/uweb-hello"
if [ "$NO_UB" = 0 ]; then
    timeout 900 make -C "$TREE" -s B="$B" "$B/tools/uweb-bench" >/dev/null || log "uweb-bench did not build: wrk alone"
    ub_init "$TREE/$B/tools/uweb-bench" "$OUT/uweb-bench.tsv"
fi
"$TREE/$B/tools/uweb-crunch" -o "$OUT/crunch_test_assets.c" -n crunch_test_assets /large.bin:"$WWW/large.bin"
gcc -std=gnu11 -O2 -Wall -Wextra -Werror -D_GNU_SOURCE -I"$TREE/include" -I"$OUT" -o "$OUT/uweb-static" \
    "$TREE/tests/tools/crunch_serve.c" "$OUT/crunch_test_assets.c" "$TREE/$B/libuweb.a" $(cat "$TREE/$B/libuweb.libs") $([ "${TLS:-openssl}" = openssl ] || echo "$TREE/$B/obj/mbedtls/libmbedtls.a")
UWEB_TLS=1
"$OUT/uweb-hello" --help | grep -q -- --tls-cert || UWEB_TLS=0
[ $UWEB_TLS = 1 ] || log "uweb's hello has no --tls-cert (no TLS listener in uw_main): uweb rows are n/a"
cat > "$OUT/bytes.lua" <<'EOF'
done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format("RESULT requests=%d bytes=%d duration_us=%d errors=%d\n", summary.requests,
    summary.bytes, summary.duration, e.connect + e.read + e.write + e.timeout + e.status))
end
EOF

PIDS=()
CLI=() HOST=127.0.0.1      # the clients' prefix and the server's address (spt: the namespace's)
NS=""
cleanup() {
    local p
    for p in "${PIDS[@]+"${PIDS[@]}"}"; do kill -TERM "$p" 2>/dev/null || true; done
    for p in "${PIDS[@]+"${PIDS[@]}"}"; do
        for _ in $(seq 50); do kill -0 "$p" 2>/dev/null || break; sleep 0.1; done
        kill -KILL "$p" 2>/dev/null || true
        wait "$p" 2>/dev/null || true
    done
    PIDS=()
    [ -z "$NS" ] || ip netns del "$NS" 2>/dev/null || true
}
trap cleanup EXIT
trap 'exit 130' INT TERM
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
cpu_ns() {
    local f a s=0
    for f in /proc/"$1"/task/*/schedstat; do read -r a _ < "$f" || continue; s=$((s + a)); done
    echo "$s"
}
rss_kb() { awk '$1 == "VmRSS:" { print $2 }' "/proc/$1/status"; }
wait_tls() {  # wait_tls PORT PID PATH
    for _ in $(seq 100); do
        kill -0 "$2" 2>/dev/null || return 1
        [ "$(curl -s -o /dev/null -w '%{http_code}' --cacert "$CA" -m 1 "https://127.0.0.1:$1$3")" = 200 ] && return 0
        sleep 0.1
    done
    return 1
}

# start SERVER KIND: SPID, SPORT (HTTPS).  KIND hello or static (1 MiB).
start() {
    local server=$1 kind=$2 path=/
    [ "$kind" = static ] && path=/large.bin
    SPORT=$(free_port)
    if [ "$server" = uweb ]; then
        local bin=$OUT/uweb-hello
        [ "$kind" = static ] && bin=$OUT/uweb-static
        taskset -c "$SERVER_CPU" "$bin" --addr=127.0.0.1 --port=0 --quiet --tls-port="$SPORT" \
            --tls-cert="$CERT" --tls-key="$KEY" > "$OUT/uweb.out" 2>&1 &
    else
        cat > "$NGX/nginx.conf" <<EOF
daemon off;
master_process off;
worker_processes 1;
worker_rlimit_nofile $NOFILE;
pid $NGX/nginx.pid;
error_log $NGX/logs/error.log warn;
events { worker_connections $((IDLE_CONNS + 1024)); use epoll; }
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
        listen 127.0.0.1:$SPORT ssl;
        ssl_certificate $CERT;
        ssl_certificate_key $KEY;
        ssl_protocols TLSv1.2 TLSv1.3;
        ssl_ecdh_curve X25519:prime256v1;
        ssl_ciphers ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-ECDSA-AES256-GCM-SHA384:ECDHE-ECDSA-CHACHA20-POLY1305;
        ssl_session_tickets on;
        location / { return 200 "Hello World!\n"; }
        location = /large.bin { root $WWW; }
    }
}
EOF
        taskset -c "$SERVER_CPU" nginx -p "$NGX/" -c "$NGX/nginx.conf" -e "$NGX/logs/error.log" > "$NGX/logs/stdout.log" 2>&1 &
    fi
    SPID=$!
    PIDS+=("$SPID")
    wait_tls "$SPORT" "$SPID" "$path" || die "$server ($kind) does not answer over HTTPS: $(tail -3 "$OUT/uweb.out" "$NGX/logs/error.log" 2>/dev/null)"
}
stop() {
    kill -TERM "$SPID" 2>/dev/null || true
    wait "$SPID" 2>/dev/null || true
    PIDS=("${PIDS[@]/$SPID}")
}

# measure SERVER WORKLOAD RUN: one line in results.tsv (units per server CPU-second, and per second).
measure() {
    local server=$1 wl=$2 run=$3 c0 c1 out n dus bytes
    c0=$(cpu_ns "$SPID")
    case "$wl" in
    hs13|hs12)
        local v=(-tls1_3 -ciphersuites TLS_AES_128_GCM_SHA256)
        [ "$wl" = hs12 ] && v=(-tls1_2 -cipher ECDHE-ECDSA-AES128-GCM-SHA256)
        out=$("${CLI[@]}" taskset -c "$CLIENT_CPU" openssl s_time -connect "$HOST:$SPORT" -new -time "$DURATION" -www / \
              "${v[@]}" -CAfile "$CA" 2>&1 || true)
        n=$(printf '%s\n' "$out" | sed -n 's/^\([0-9]*\) connections in [0-9.]* real seconds.*/\1/p' | head -1)
        dus=$((DURATION * 1000000)) bytes=0 ;;
    single|pipeline|1mib)
        local args=(-t1 -c64 -d"${DURATION}s" --timeout 5s)
        case "$wl" in
        single) args+=(-s bench/hello_single.lua "https://$HOST:$SPORT/") ;;
        pipeline) args+=(-s bench/hello_pipeline.lua "https://$HOST:$SPORT/" -- 16) ;;
        1mib) args=(-t1 -c8 -d"${DURATION}s" --timeout 5s -s "$OUT/bytes.lua" "https://127.0.0.1:$SPORT/large.bin") ;;
        esac
        out=$("${CLI[@]}" timeout $((DURATION + 30)) taskset -c "$CLIENT_CPU" wrk "${args[@]}" 2>&1 || true)
        n=$(printf '%s\n' "$out" | sed -n 's/^RESULT requests=\([0-9]*\).*/\1/p')
        dus=$(printf '%s\n' "$out" | sed -n 's/^RESULT.* duration_us=\([0-9]*\).*/\1/p')
        bytes=$(printf '%s\n' "$out" | sed -n 's/^RESULT.* bytes=\([0-9]*\).*/\1/p')
        if printf '%s\n' "$out" | grep -q 'errors[a-z_]*=[1-9]'; then log "$server $wl: errors: $(printf '%s' "$out" | grep RESULT)"; n=; fi ;;
    esac
    c1=$(cpu_ns "$SPID")
    [ -n "$n" ] && [ -n "$dus" ] || { log "$server $wl run $run: no result: $(printf '%s' "$out" | tail -2)"; return 0; }
    printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$server" "$wl" "$run" "$n" "$((c1 - c0))" "$dus" "${bytes:-0}" >> "$RESULTS"
    log "$(printf '%-5s %-8s run %s: %9d/s  %9d per CPU-s  (server CPU %3d%%)' "$server" "$wl" "$run" \
        $((n * 1000000 / dus)) $((n * 1000000000 / (c1 - c0 + 1))) $(((c1 - c0) / (dus * 10))))"
    [ "$server" = spt ] && return 0      # uweb-bench runs on the host's loopback only
    case "$wl" in
    single) ub_run "$server" "$wl" "https://127.0.0.1:$SPORT/" --cacert "$CA" ;;
    pipeline) ub_run "$server" "$wl" "https://127.0.0.1:$SPORT/" --cacert "$CA" -P 16 ;;
    esac
}

{
    echo "date: $(date -u '+%Y-%m-%d %H:%M UTC'), uweb $(git -C "$TREE" rev-parse --short HEAD) ($TREE)"
    echo "cpu: $(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -1), $(nproc) CPUs, load $(cut -d' ' -f1-3 /proc/loadavg)"
    echo "nginx $(nginx -v 2>&1 | sed 's/.*version: //'), $(openssl version | cut -d' ' -f1-2), wrk $(wrk -v 2>&1 | head -1 | awk '{print $2}')"
    echo "runs: $RUNS x ${DURATION}s"
} > "$OUT/machine.txt"

SERVERS=(nginx)
[ $UWEB_TLS = 1 ] && SERVERS=(uweb nginx)
: > "$RESULTS"
: > "$OUT/negotiated.txt"
for kind in hello static; do
    for run in $(seq "$RUNS"); do
        k=$(((run - 1) % ${#SERVERS[@]}))
        for s in "${SERVERS[@]:$k}" "${SERVERS[@]:0:$k}"; do
            start "$s" "$kind"
            if [ "$kind" = hello ]; then
                if [ "$run" = 1 ]; then
                    for v in -tls1_3 -tls1_2; do
                        printf '%s %s: %s\n' "$s" "$v" "$(openssl s_client -connect "127.0.0.1:$SPORT" "$v" -CAfile "$CA" </dev/null 2>&1 |
                            grep -E '^(Server Temp Key|New,)' | tr '\n' ' ')" >> "$OUT/negotiated.txt"
                    done
                fi
                for wl in hs13 hs12 single pipeline; do measure "$s" "$wl" "$run"; done
            else
                measure "$s" 1mib "$run"
            fi
            stop
        done
    done
done

# spt (mbedTLS): hello.spt in a namespace, the certificate from --block:tls.
SPT_NOTE=""
if [ "$(id -u)" != 0 ]; then SPT_NOTE="needs root (network namespace, tap device)"
elif [ ! -x "$TREE/$B/uweb-spt" ] || [ ! -f "$TREE/$B/spt/apps/hello.spt" ]; then
    SPT_NOTE="$B/uweb-spt or $B/spt/apps/hello.spt is not built (make B=$B unikernel-apps-spt $B/uweb-spt)"
elif ! grep -Eq 'UW_PLAT_BLOCK(_OPTIONAL)?\("tls"\)' "$TREE/$B/gen/manifest/hello.c" 2>/dev/null; then
    SPT_NOTE="hello.spt declares no block device tls"
fi
if [ -z "$SPT_NOTE" ]; then
    NS=uwtlsb$$
    ip netns add "$NS" && ip -n "$NS" link set lo up && ip -n "$NS" tuntap add dev uwtb0 mode tap &&
        ip -n "$NS" addr add 10.86.0.1/24 dev uwtb0 && ip -n "$NS" link set uwtb0 up || die "cannot set up the namespace $NS"
    for run in $(seq "$RUNS"); do
        ip netns exec "$NS" taskset -c "$SERVER_CPU" "$TREE/$B/uweb-spt" --mem=64 --net:service=uwtb0 \
            --block:tls="$OUT/certs/localhost-block.img" -- "$TREE/$B/spt/apps/hello.spt" --ipv4=10.86.0.2/24 --quiet \
            > "$OUT/spt.out" 2>&1 &
        SPID=$! SPORT=443
        PIDS+=("$SPID")
        for _ in $(seq 100); do
            ip netns exec "$NS" curl -sk -m 1 -o /dev/null https://10.86.0.2/ && break
            kill -0 "$SPID" 2>/dev/null || die "hello.spt ended: $(tail -3 "$OUT/spt.out")"
            sleep 0.1
        done
        CLI=(ip netns exec "$NS") HOST=10.86.0.2
        if [ "$run" = 1 ]; then
            for v in -tls1_3 -tls1_2; do
                printf '%s %s: %s\n' spt "$v" "$("${CLI[@]}" openssl s_client -connect "$HOST:443" "$v" </dev/null 2>&1 |
                    grep -E '^(Server Temp Key|New,)' | tr '\n' ' ')" >> "$OUT/negotiated.txt"
            done
        fi
        for wl in hs13 hs12 single pipeline; do measure spt "$wl" "$run"; done
        CLI=() HOST=127.0.0.1
        stop
    done
    ip netns del "$NS" 2>/dev/null || true
    NS=""
else
    log "spt rows: n/a ($SPT_NOTE)"
fi
echo "$SPT_NOTE" > "$OUT/spt_note.txt"

# Idle TLS connections: RSS of a fresh server before and after.
: > "$OUT/memory.txt"
for s in "${SERVERS[@]}"; do
    start "$s" hello
    r0=$(rss_kb "$SPID")
    rm -f "$OUT/idle.done" "$OUT/idle.ready"
    python3 - "$SPORT" "$IDLE_CONNS" "$CA" "$OUT/idle.ready" "$OUT/idle.done" <<'EOF' &
import os, socket, ssl, sys, time
port, n, ca, ready, done = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3], sys.argv[4], sys.argv[5]
ctx = ssl.create_default_context(cafile=ca)
conns = []
for i in range(n):
    c = ctx.wrap_socket(socket.create_connection(("127.0.0.1", port)), server_hostname="localhost")
    c.sendall(b"GET / HTTP/1.1\r\nHost: localhost\r\n\r\n")
    got = b""
    while b"Hello World!\n" not in got:
        got += c.recv(4096)
    conns.append(c)
open(ready, "w").write(str(len(conns)))
while not os.path.exists(done):
    time.sleep(0.2)
EOF
    ipid=$!
    for _ in $(seq 1200); do [ -f "$OUT/idle.ready" ] || ! kill -0 $ipid 2>/dev/null && break; sleep 0.1; done
    sleep 1
    r1=$(rss_kb "$SPID")
    ok=$(curl -s --cacert "$CA" -m 5 "https://127.0.0.1:$SPORT/" || true)
    printf '%s\t%s\t%s\t%s\t%s\n' "$s" "$(cat "$OUT/idle.ready" 2>/dev/null || echo 0)" "$r0" "$r1" \
        "$([ "$ok" = "Hello World!" ] && echo served || echo NOT-served)" >> "$OUT/memory.txt"
    touch "$OUT/idle.done"
    wait $ipid 2>/dev/null || true
    stop
done

python3 - "$RESULTS" "$OUT/memory.txt" "$OUT/negotiated.txt" "$TREE/$B" $UWEB_TLS "$OUT/spt_note.txt" > "$OUT/summary.md" <<'EOF'
import os, statistics, subprocess, sys
res, mem, neg, B, uweb_tls = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4], sys.argv[5] == "1"
spt_note = open(sys.argv[6]).read().strip()
rows = [l.rstrip("\n").split("\t") for l in open(res) if l.strip()]
def med(server, wl, f):
    v = [f(int(n), int(cpu), int(dus), int(b)) for s, w, _, n, cpu, dus, b in rows if s == server and w == wl]
    return statistics.median(v) if v else None
per_cpu = lambda n, cpu, dus, b: n * 1e9 / max(cpu, 1)
per_s = lambda n, cpu, dus, b: n * 1e6 / dus
mbs = lambda n, cpu, dus, b: b / dus
mb_cpu = lambda n, cpu, dus, b: b * 1e3 / max(cpu, 1)
def fmt(x, d=0):
    return "n/a" if x is None else f"{x:,.{d}f}"
def ratio(u, n):
    return "n/a" if u is None or not n else f"{u / n:.2f}x"
print("| HTTPS, one server core | uweb | nginx | uweb/nginx | goal |")
print("|---|---:|---:|---:|---|")
goals = {"hs13": ">= 1.0x", "hs12": ">= 1.0x", "single": ">= 1.1x", "pipeline": ">= 5x", "1mib": ">= 0.9x (MB/s)"}
names = {"hs13": "full handshakes TLS 1.3 per CPU-s", "hs12": "full handshakes TLS 1.2 per CPU-s",
         "single": "keep-alive hello per CPU-s, one at a time", "pipeline": "keep-alive hello per CPU-s, 16 pipelined"}
for wl in ("hs13", "hs12", "single", "pipeline"):
    u, n = med("uweb", wl, per_cpu), med("nginx", wl, per_cpu)
    print(f"| {names[wl]} | {fmt(u)} | {fmt(n)} | {ratio(u, n)} | {goals[wl]} |")
    u, n = med("uweb", wl, per_s), med("nginx", wl, per_s)
    print(f"| (the same per wall second) | {fmt(u)} | {fmt(n)} | {ratio(u, n)} | |")
u, n = med("uweb", "1mib", mbs), med("nginx", "1mib", mbs)
print(f"| 1 MiB over HTTPS, MB/s | {fmt(u)} | {fmt(n)} | {ratio(u, n)} | {goals['1mib']} |")
u, n = med("uweb", "1mib", mb_cpu), med("nginx", "1mib", mb_cpu)
print(f"| 1 MiB over HTTPS, MB per server CPU-s | {fmt(u)} | {fmt(n)} | {ratio(u, n)} | |")
for l in open(mem):
    s, k, r0, r1, ok = l.split()
    k = int(k)
    per = (int(r1) - int(r0)) / k if k else 0
    print(f"| {s}: RSS with {k:,} idle TLS connections | {int(r1) / 1024:,.1f} MiB | (from {int(r0) / 1024:,.1f} MiB, "
          f"{per:,.1f} KiB each; another client {ok}) | | uweb < 64 MiB |")
img = os.path.join(B, "spt", "apps", "crunchzip.spt")
if os.path.exists(img):
    syms = subprocess.run(["nm", img], capture_output=True, text=True).stdout
    tls = "mbedtls_ssl_handshake" in syms
    print(f"| crunchzip.spt image size | {os.path.getsize(img) / 1048576:.2f} MiB "
          f"({'with' if tls else 'without'} mbedTLS linked) | | | < 1 MiB with TLS |")
print()
print("| spt (mbedTLS) beside unix (OpenSSL), one server core | uweb spt | uweb unix | spt/unix | goal |")
print("|---|---:|---:|---:|---|")
for wl in ("hs13", "hs12", "single", "pipeline"):
    u, n = med("spt", wl, per_cpu), med("uweb", wl, per_cpu)
    print(f"| {names[wl]} | {fmt(u)} | {fmt(n)} | {ratio(u, n)} | {'>= 0.5x' if wl.startswith('hs') else ''} |")
    u, n = med("spt", wl, per_s), med("uweb", wl, per_s)
    print(f"| (the same per wall second) | {fmt(u)} | {fmt(n)} | {ratio(u, n)} | |")
print("| 1 MiB over HTTPS, MB/s | n/a (no guest app serves a 1 MiB file yet) | | | |")
if spt_note:
    print(f"\nspt: n/a - {spt_note}.")
print()
print("Negotiated (a default OpenSSL 3 client):")
for l in open(neg):
    print(f"    {l.rstrip()}")
if not uweb_tls:
    print("\nuweb: n/a - its hello has no TLS listener in this build (no --tls-cert).")
EOF
ub_summary >> "$OUT/summary.md"
cat "$OUT/machine.txt" "$OUT/summary.md"
