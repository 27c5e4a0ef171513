#!/usr/bin/env bash
# `make run`: starts the demo services on 127.0.0.1 and prints their URLs;
# Ctrl-C stops them.  Ports: UWEB_PORT_BASE (default 8080) and up.
#
# TARGET=spt (or hvt) runs each service as a unikernel instead: inside a
# network namespace of its own (uweb-run), each guest gets a tap device and
# a 10.77.N.2 address and serves on the unikernels' default ports (80, and
# 443 for HTTPS); socat relays 127.0.0.1:PORT on the host to it through a
# Unix socket, so the URLs stay on loopback and no address
# outside the namespace is used.
#
# HTTPS beside HTTP: on first run scripts/mkcert.sh makes a local test CA
# and a certificate for 127.0.0.1/localhost in $B/tls/; each service that
# has a TLS listener gets it on UWEB_TLS_PORT_BASE (default 8443) and up.
# Unix: --tls-cert/--tls-key; unikernels: the one PEM file (certificate
# then key) as the block device "tls" (--block:tls=), when the app's
# manifest declares one.  The end prints how to trust the CA.
set -u
B=${1:-build}
TARGET=${TARGET:-unix}
base=${UWEB_PORT_BASE:-8080}
tls_base=${UWEB_TLS_PORT_BASE:-8443}
tls=$B/tls
services=(hello crunchzip pasteur chat site)
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

if [ ! -f "$tls/localhost.pem" ] || [ ! -f "$tls/localhost-block.img" ]; then
  echo "making a local test CA and a certificate for 127.0.0.1/localhost in $tls/ (scripts/mkcert.sh)"
  scripts/mkcert.sh "$tls" || { echo "make run: scripts/mkcert.sh failed"; exit 1; }
fi
has_tls=0

if [ "$TARGET" != unix ]; then
  ip netns del "$ns" 2>/dev/null
  ip netns add "$ns" || { echo "make run TARGET=$TARGET: cannot create a network namespace"; exit 1; }
  ip -n "$ns" link set lo up
fi

port=$base tport=$tls_base n=0
for s in "${services[@]}"; do
  log=$B/run-$s.log
  https=""
  # Pasteur keeps its pastes in the block device "store": a file here,
  # made on first run and kept between runs.
  store=()
  if [ "$s" = pasteur ]; then
    [ -f "$B/run-pasteur-store.img" ] || truncate -s 64M "$B/run-pasteur-store.img"
    store=(--block:store="$B/run-pasteur-store.img")
  fi
  # The site app serves the image of apps/site/example/ that make builds
  # (unix only: the image reader is not built for the unikernels yet).
  if [ "$s" = site ]; then
    [ "$TARGET" = unix ] || { port=$((port + 1)); tport=$((tport + 1)); continue; }
    store=(--block:site="$B/site.img")
  fi
  if [ "$TARGET" = unix ]; then
    bin=$B/apps/$s
    [ -x "$bin" ] || { port=$((port + 1)); tport=$((tport + 1)); continue; }
    topts=()
    if "$bin" --help 2>/dev/null | grep -q -- --tls-cert; then
      topts=(--tls-port="$tport" --tls-cert="$tls/localhost.pem" --tls-key="$tls/localhost.key")
      https="https://127.0.0.1:$tport/"
    fi
    "$bin" --addr=127.0.0.1 --port="$port" "${topts[@]}" "${store[@]}" >"$log" 2>&1 &
    pids+=($!)
  else
    img=$B/$TARGET/apps/$s.$TARGET
    [ -f "$img" ] || { port=$((port + 1)); tport=$((tport + 1)); continue; }
    block=()
    if grep -Eq 'UW_PLAT_BLOCK(_OPTIONAL)?\("tls"\)' "$B/gen/manifest/$s.c" 2>/dev/null; then
      block=(--block:tls="$tls/localhost-block.img")
      https="https://127.0.0.1:$tport/"
    fi
    n=$((n + 1)); tap=uwrun$n; sock=$B/run-$s.sock
    ip -n "$ns" tuntap add dev "$tap" mode tap
    ip -n "$ns" addr add "10.77.$n.1/24" dev "$tap"
    ip -n "$ns" link set "$tap" up
    ip netns exec "$ns" "$B/uweb-$TARGET" --mem=64 --net:service="$tap" "${block[@]}" "${store[@]}" -- "$img" \
      --ipv4="10.77.$n.2/24" >"$log" 2>&1 &
    pids+=($!)
    rm -f "$sock"
    ip netns exec "$ns" socat UNIX-LISTEN:"$sock",fork TCP:"10.77.$n.2":80 >/dev/null 2>&1 &
    pids+=($!)
    socat TCP-LISTEN:"$port",bind=127.0.0.1,reuseaddr,fork UNIX-CONNECT:"$sock" >/dev/null 2>&1 &
    pids+=($!)
    if [ -n "$https" ]; then   # the guest's HTTPS port (443 on unikernels), relayed the same way
      ip netns exec "$ns" socat UNIX-LISTEN:"$sock.tls",fork TCP:"10.77.$n.2":443 >/dev/null 2>&1 &
      pids+=($!)
      socat TCP-LISTEN:"$tport",bind=127.0.0.1,reuseaddr,fork UNIX-CONNECT:"$sock.tls" >/dev/null 2>&1 &
      pids+=($!)
    fi
  fi
  guest=-3; [ -n "$https" ] && guest=-5    # the tender's place in pids
  if wait_line "$log" "${pids[-1]}" || { [ "$TARGET" != unix ] && wait_line "$log" "${pids[$guest]}"; }; then
    printf '%-10s http://127.0.0.1:%s/%s%s\n' "$s" "$port" "${https:+  $https}" \
      "$([ "$TARGET" != unix ] && echo "   ($TARGET unikernel at http://10.77.$n.2/ in netns $ns)")"
    [ -n "$https" ] && has_tls=1
  else
    echo "$s did not start:"; cat "$log"
  fi
  port=$((port + 1)) tport=$((tport + 1))
done
[ ${#pids[@]} -eq 0 ] && { echo "no services were built for TARGET=$TARGET"; exit 1; }
if [ $has_tls = 1 ]; then
  cat <<EOF
HTTPS uses the local test CA $tls/ca.pem (made on this machine; its key
stays in $tls/).  To trust it:
  curl:     curl --cacert $tls/ca.pem https://127.0.0.1:$tls_base/
  Chromium: chromium --ignore-certificate-errors-spki-list=$(cat "$tls/localhost.spki")
            or Settings > Privacy and security > Security > Manage certificates >
            Authorities > Import $tls/ca.pem ("Trust this certificate for identifying websites")
  Firefox:  Settings > Privacy & Security > Certificates > View Certificates >
            Authorities > Import $tls/ca.pem
  system:   cp $tls/ca.pem /usr/local/share/ca-certificates/uweb-test.crt && update-ca-certificates
EOF
else
  echo "no service has a TLS listener in this build (TARGET=$TARGET): HTTP only"
fi
echo "logs in $B/run-*.log; Ctrl-C stops the services"
wait
