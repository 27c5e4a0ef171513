#!/usr/bin/env bash
# bench/ws.sh — WebSocket echo side by side: uweb (tests/apps/wsecho,
# GET /echo-plain: permessage-deflate off) and libwebsockets (Debian's
# libwebsockets-dev; bench/ws_lws_echo.c, the shape of its echo examples),
# on loopback, and the memory of idle WebSockets on each.
#
#     bench/ws.sh [--runs=N] [--duration=SEC] [--conns=N] [--idle=N] [--quick]
#
# Load: bench/ws_load.c (uweb's runtime and frame codec, client side):
# --conns connections (default 32), each sending one binary message and
# waiting for its echo, in a loop.  Sizes: 16 bytes and 4 KiB.  Each
# server is pinned to CPU 0 (taskset), the load to CPU 1.  Each (server,
# size) runs --runs times (default 5) for --duration seconds (default 5),
# servers alternating; medians are reported.  Server CPU time: utime +
# stime of /proc/PID/stat, read before and after each run.
#
# Prints messages/s and messages per server CPU-second, and uweb/lws.
# Then --idle (default 10000) idle WebSockets on each: the server's RSS
# before and after they are open, per WebSocket.  B=DIR: build in DIR.
set -u
cd "$(dirname "$0")/.."
B=${B:-build}
RUNS=5 DUR=5 CONNS=32 IDLE=10000
for a in "$@"; do
  case $a in
    --runs=*) RUNS=${a#*=} ;;
    --duration=*) DUR=${a#*=} ;;
    --conns=*) CONNS=${a#*=} ;;
    --idle=*) IDLE=${a#*=} ;;
    --quick) RUNS=1 DUR=2 IDLE=2000 ;;
    *) echo "usage: bench/ws.sh [--runs=N] [--duration=SEC] [--conns=N] [--idle=N] [--quick]"; exit 2 ;;
  esac
done
pkg-config --exists libwebsockets || { echo "bench/ws.sh: libwebsockets-dev is missing (make installs it: src/ws/build.mk)"; exit 1; }
OUT=$B/bench/ws
mkdir -p "$OUT"
make -s B="$B" "$B/libuweb.a" "$B/libuweb.libs" "$B/tests/apps/wsecho" >/dev/null || exit 1
gcc -std=gnu11 -O2 -Wall -Wextra -Werror -D_GNU_SOURCE -Iinclude -o "$OUT/ws_load" bench/ws_load.c "$B/libuweb.a" \
    $(cat "$B/libuweb.libs") || exit 1
gcc -O2 -Wall -Wextra -Werror -o "$OUT/ws_lws_echo" bench/ws_lws_echo.c $(pkg-config --cflags --libs libwebsockets) || exit 1
ulimit -n "$(ulimit -Hn)"

port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
cpu_ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }
start() {  # start NAME PORT: the server's pid
  case $1 in
    uweb) taskset -c 0 "$B/tests/apps/wsecho" --port="$2" --quiet --max-connections=$((IDLE + 1000)) >/dev/null 2>&1 & ;;
    lws)  taskset -c 0 "$OUT/ws_lws_echo" "$2" >/dev/null 2>&1 & ;;
  esac
  local pid=$!
  for _ in $(seq 50); do (exec 3<>"/dev/tcp/127.0.0.1/$2") 2>/dev/null && break; sleep 0.1; done
  echo $pid
}
path_of() { [ "$1" = uweb ] && echo /echo-plain || echo /; }
median() { sort -g | awk '{a[NR]=$1} END {print (NR%2) ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2}'; }
HZ=$(getconf CLK_TCK)

echo "WebSocket echo, $CONNS connections, $RUNS run(s) of ${DUR}s each; server on CPU 0, load on CPU 1"
printf '%-8s %-6s %12s %16s\n' size server "msg/s" "msg/CPU-s"
declare -A RATE PERCPU
for size in 16 4096; do
  for srv in uweb lws; do : >"$OUT/$srv-$size.rate"; : >"$OUT/$srv-$size.cpu"; done
  for r in $(seq "$RUNS"); do
    for srv in uweb lws; do
      p=$(port); pid=$(start $srv "$p")
      c0=$(cpu_ticks "$pid")
      res=$(taskset -c 1 "$OUT/ws_load" "$p" "$(path_of $srv)" "$CONNS" "$DUR" "$size")
      c1=$(cpu_ticks "$pid")
      kill "$pid"; wait "$pid" 2>/dev/null
      n=$(awk '{print $2}' <<<"$res"); f=$(awk '{print $4}' <<<"$res")
      [ "${f:-1}" != 0 ] && { echo "  $srv $size run $r: failures ($res), left out"; continue; }
      echo "$n / $DUR" | bc -l >>"$OUT/$srv-$size.rate"
      echo "$n * $HZ / ($c1 - $c0 + 0.0001)" | bc -l >>"$OUT/$srv-$size.cpu"
    done
  done
  for srv in uweb lws; do
    RATE[$srv-$size]=$(median <"$OUT/$srv-$size.rate"); PERCPU[$srv-$size]=$(median <"$OUT/$srv-$size.cpu")
    printf '%-8s %-6s %12.0f %16.0f\n' "$size" "$srv" "${RATE[$srv-$size]}" "${PERCPU[$srv-$size]}"
  done
  printf '%-8s %-6s %12.2fx %15.2fx\n' "$size" "ratio" "$(echo "${RATE[uweb-$size]} / ${RATE[lws-$size]}" | bc -l)" \
    "$(echo "${PERCPU[uweb-$size]} / ${PERCPU[lws-$size]}" | bc -l)"
done

echo
echo "$IDLE idle WebSockets (no compression): server RSS"
printf '%-6s %12s %12s %14s\n' server "before KiB" "after KiB" "per WebSocket"
for srv in uweb lws; do
  p=$(port); pid=$(start $srv "$p")
  sleep 0.3
  before=$(awk '/VmRSS/ {print $2}' "/proc/$pid/status")
  fifo=$OUT/idle.out; rm -f "$fifo"
  taskset -c 1 "$OUT/ws_load" --idle "$p" "$(path_of $srv)" "$IDLE" 120 >"$fifo" &
  lp=$!
  for _ in $(seq 600); do grep -q '^idle' "$fifo" 2>/dev/null && break; kill -0 $lp 2>/dev/null || break; sleep 0.1; done
  sleep 1
  after=$(awk '/VmRSS/ {print $2}' "/proc/$pid/status")
  grep -q '^idle' "$fifo" || echo "  $srv: not all $IDLE opened: $(cat "$fifo")"
  kill $lp 2>/dev/null; wait $lp 2>/dev/null
  kill "$pid"; wait "$pid" 2>/dev/null
  printf '%-6s %12d %12d %11.1f KiB\n' $srv "$before" "$after" "$(echo "($after - $before) / $IDLE" | bc -l)"
done
