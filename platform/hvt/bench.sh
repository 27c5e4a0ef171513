#!/usr/bin/env bash
# platform/hvt/bench.sh - start-to-exit time of the hello unikernel on hvt,
# beside the same image on spt (the reference), and the image sizes; then,
# when the hello app is built for both (make unikernel-apps-hvt
# unikernel-apps-spt), the latency of GET / served by it over lwIP and a tap
# device, hvt beside spt.
#
#   platform/hvt/bench.sh [RUNS]      (default 21 runs each; prints medians)
#
# Start to exit is the whole life of the tender: exec, KVM setup, loading
# the image, the guest's run to its exit hypercall, exit.  Needs
# build/uweb-hvt and build/hvt/tests/unikernel/hello.hvt (make them first);
# spt is measured when build/uweb-spt and hello.spt exist.  The HTTP part
# runs in a network namespace it creates and removes (root needed).
set -eu
cd "$(dirname "$0")/../.."
B=${UWEB_BUILD:-build}
RUNS=${1:-21}

median_ms() {  # median_ms CMD... : runs CMD $RUNS times, prints the median in ms
  python3 - "$RUNS" "$@" <<'EOF'
import subprocess, sys, time
runs, cmd = int(sys.argv[1]), sys.argv[2:]
times = []
for _ in range(runs):
    t = time.perf_counter()
    r = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    times.append((time.perf_counter() - t) * 1000)
    if r.returncode != 0 or b"SUCCESS" not in r.stdout:
        sys.exit("failed: %s (status %d)" % (" ".join(cmd), r.returncode))
times.sort()
print("%.1f" % times[len(times) // 2])
EOF
}

hvt_img=$B/hvt/tests/unikernel/hello.hvt
spt_img=$B/spt/tests/unikernel/hello.spt
[ -x $B/uweb-hvt ] && [ -f "$hvt_img" ] || { echo "hvt bench: build $B/uweb-hvt and $hvt_img first"; exit 1; }

hvt=$(median_ms $B/uweb-hvt "$hvt_img")
echo "hello on hvt: median ${hvt} ms from tender start to exit ($RUNS runs)"
echo "hello.hvt: $(stat -c %s "$hvt_img") bytes ($(size -B "$hvt_img" | awk 'NR==2{print $1" text, "$2" data, "$3" bss"}'))"
if [ -x $B/uweb-spt ] && [ -f "$spt_img" ]; then
  spt=$(median_ms $B/uweb-spt "$spt_img")
  echo "hello on spt: median ${spt} ms ($RUNS runs)"
  echo "hello.spt: $(stat -c %s "$spt_img") bytes"
  python3 -c "print('ratio hvt/spt: %.1fx' % ($hvt / $spt))"
else
  echo "hello on spt: not built, no ratio"
fi

# ---------------------------------------------------------------- GET /
# median_get_ms TARGET: starts apps/hello on TARGET on a tap device in a
# fresh namespace, times RUNS sequential GET / (a new TCP connection each,
# Connection: close, read to the end) and prints the median in ms.
median_get_ms() {
  local t=$1 ns=uwhvtbench$$ tap=uwhb0 pid rc
  ip netns add "$ns" || return 1
  ip -n "$ns" link set lo up
  ip -n "$ns" tuntap add dev $tap mode tap
  ip -n "$ns" addr add 10.77.0.1/24 dev $tap
  ip -n "$ns" link set $tap up
  ip netns exec "$ns" "$B/uweb-$t" --net:service=$tap "$B/$t/apps/hello.$t" --ipv4=10.77.0.2/24 >/dev/null 2>&1 &
  pid=$!
  ip netns exec "$ns" python3 -c '
import socket, sys, time
runs, addr = int(sys.argv[1]), ("10.77.0.2", 80)
def get():
    with socket.create_connection(addr, timeout=30) as s:
        s.sendall(b"GET / HTTP/1.1\r\nHost: bench\r\nConnection: close\r\n\r\n")
        data = b""
        while True:
            chunk = s.recv(4096)
            if not chunk:
                return data
            data += chunk
for _ in range(300):            # until it answers, at most about 30 s
    try:
        get(); break
    except OSError:
        time.sleep(0.1)
times = []
for _ in range(runs):
    t = time.perf_counter()
    answer = get()
    times.append((time.perf_counter() - t) * 1000)
    if not answer.startswith(b"HTTP/1.1 200") or not answer.endswith(b"Hello World!\n"):
        sys.exit("bad answer: %r" % answer)
times.sort()
print("%.2f" % times[len(times) // 2])
' "$RUNS"
  rc=$?
  kill "$pid" 2>/dev/null; wait "$pid" 2>/dev/null
  ip netns del "$ns"
  return $rc
}

if [ -f $B/hvt/apps/hello.hvt ] && [ -f $B/spt/apps/hello.spt ] && [ -x $B/uweb-spt ]; then
  ghvt=$(median_get_ms hvt) && gspt=$(median_get_ms spt) || { echo "GET / bench failed"; exit 1; }
  echo "GET / from apps/hello on hvt: median ${ghvt} ms per request, new connection each ($RUNS requests)"
  echo "GET / from apps/hello on spt: median ${gspt} ms per request"
  python3 -c "print('ratio hvt/spt: %.1fx' % ($ghvt / $gspt))"
  echo "hello.hvt app image: $(stat -c %s $B/hvt/apps/hello.hvt) bytes"
else
  echo "GET /: apps/hello not built for hvt and spt (make unikernel-apps-hvt unikernel-apps-spt), skipped"
fi
