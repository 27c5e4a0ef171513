#!/usr/bin/env bash
# `make run`: starts the demo services on 127.0.0.1 and prints their URLs;
# Ctrl-C stops them.  Ports: UWEB_PORT_BASE (default 8080) and up.
set -u
B=${1:-build}
base=${UWEB_PORT_BASE:-8080}
services=(hello crunchzip pasteur)
pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null; done; wait 2>/dev/null; }
trap 'cleanup; exit 0' INT TERM
trap cleanup EXIT
port=$base
for s in "${services[@]}"; do
  bin=$B/apps/$s
  if [ -x "$bin" ]; then
    "$bin" --addr=127.0.0.1 --port="$port" >"$B/run-$s.log" 2>&1 &
    pids+=($!)
    for _ in $(seq 50); do
      grep -q "listening on" "$B/run-$s.log" 2>/dev/null && break
      kill -0 "${pids[-1]}" 2>/dev/null || break
      sleep 0.1
    done
    if grep -q "listening on" "$B/run-$s.log"; then
      printf '%-10s http://127.0.0.1:%s/\n' "$s" "$port"
    else
      echo "$s did not start:"; cat "$B/run-$s.log"
    fi
  fi
  port=$((port + 1))
done
[ ${#pids[@]} -eq 0 ] && { echo "no services were built"; exit 1; }
echo "logs in $B/run-*.log; Ctrl-C stops the services"
wait
