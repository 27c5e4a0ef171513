#!/usr/bin/env bash
# `make run`: starts the demo services on 127.0.0.1 and prints their URLs;
# Ctrl-C stops them.  Ports: UWEB_PORT_BASE (default 8080) and up.
#
# TARGET=spt (or hvt) runs each service as a unikernel instead: inside a
# network namespace of its own (uweb-run), each guest gets a tap device and
# a 10.77.N.2 address; socat relays 127.0.0.1:PORT on the host to it
# through a Unix socket, so the URLs stay on loopback and no address
# outside the namespace is used.
set -u
B=${1:-build}
TARGET=${TARGET:-unix}
base=${UWEB_PORT_BASE:-8080}
services=(hello crunchzip pasteur)
ns=uweb-run
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null; done
  wait 2>/dev/null
  [ "$TARGET" != unix ] && ip netns del "$ns" 2>/dev/null
  rm -f "$B"/run-*.sock
}
trap 'cleanup; exit 0' INT TERM
trap cleanup EXIT

wait_line() {  # wait_line FILE PID: until FILE says "listening on"
  for _ in $(seq 100); do
    grep -q "listening on" "$1" 2>/dev/null && return 0
    kill -0 "$2" 2>/dev/null || return 1
    sleep 0.1
  done
  return 1
}

if [ "$TARGET" != unix ]; then
  ip netns del "$ns" 2>/dev/null
  ip netns add "$ns" || { echo "make run TARGET=$TARGET: cannot create a network namespace"; exit 1; }
  ip -n "$ns" link set lo up
fi

port=$base n=0
for s in "${services[@]}"; do
  log=$B/run-$s.log
  if [ "$TARGET" = unix ]; then
    bin=$B/apps/$s
    [ -x "$bin" ] || { port=$((port + 1)); continue; }
    "$bin" --addr=127.0.0.1 --port="$port" >"$log" 2>&1 &
    pids+=($!)
  else
    img=$B/$TARGET/apps/$s.$TARGET
    [ -f "$img" ] || { port=$((port + 1)); continue; }
    n=$((n + 1)); tap=uwrun$n; sock=$B/run-$s.sock
    ip -n "$ns" tuntap add dev "$tap" mode tap
    ip -n "$ns" addr add "10.77.$n.1/24" dev "$tap"
    ip -n "$ns" link set "$tap" up
    ip netns exec "$ns" "$B/uweb-$TARGET" --mem=64 --net:service="$tap" -- "$img" \
      --ipv4="10.77.$n.2/24" --port=8080 >"$log" 2>&1 &
    pids+=($!)
    rm -f "$sock"
    ip netns exec "$ns" socat UNIX-LISTEN:"$sock",fork TCP:"10.77.$n.2":8080 >/dev/null 2>&1 &
    pids+=($!)
    socat TCP-LISTEN:"$port",bind=127.0.0.1,reuseaddr,fork UNIX-CONNECT:"$sock" >/dev/null 2>&1 &
    pids+=($!)
  fi
  if wait_line "$log" "${pids[-1]}" || { [ "$TARGET" != unix ] && wait_line "$log" "${pids[-3]}"; }; then
    printf '%-10s http://127.0.0.1:%s/%s\n' "$s" "$port" "$([ "$TARGET" != unix ] && echo "   ($TARGET unikernel at 10.77.$n.2 in netns $ns)")"
  else
    echo "$s did not start:"; cat "$log"
  fi
  port=$((port + 1))
done
[ ${#pids[@]} -eq 0 ] && { echo "no services were built for TARGET=$TARGET"; exit 1; }
echo "logs in $B/run-*.log; Ctrl-C stops the services"
wait
