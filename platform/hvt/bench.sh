#!/usr/bin/env bash
# platform/hvt/bench.sh - start-to-exit time of the hello unikernel on hvt,
# beside the same image on spt (the reference), and the image sizes.
#
#   platform/hvt/bench.sh [RUNS]      (default 21 runs each; prints medians)
#
# Measures the whole life of the tender: exec, KVM setup, loading the
# image, the guest's run to its exit hypercall, exit.  Needs
# build/uweb-hvt and build/hvt/tests/unikernel/hello.hvt (make them first);
# spt is measured when build/uweb-spt and hello.spt exist.
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
