#!/usr/bin/env bash
# Multipart parser throughput, side by side: uweb's parser (C, gcc -O2),
# Node's busboy and Debian's python3-multipart, each parsing the same body
# from memory, fed in the same chunks.  The body (256 MiB by default: a
# small field and two random binary file parts) is generated in build/.
# Runs the three in turn, RUNS rounds; prints each median MB/s and
# uweb's ratio to each reference.
#
#   bench/multipart.sh            MP_BENCH_MIB=256 MP_BENCH_CHUNK=65536 MP_BENCH_RUNS=5
set -euo pipefail
cd "$(dirname "$0")/.."
B=build/bench-multipart
MIB=${MP_BENCH_MIB:-256}
CHUNK=${MP_BENCH_CHUNK:-65536}
RUNS=${MP_BENCH_RUNS:-5}
PY=/usr/bin/python3                 # Debian's python, where python3-multipart lives
mkdir -p "$B"

scripts/deps.sh gcc python3 python3-multipart
command -v node >/dev/null || scripts/deps.sh nodejs
command -v npm >/dev/null || scripts/deps.sh npm
[ -f build/node_modules/busboy/package.json ] ||
  npm install --prefix build --no-audit --no-fund --silent busboy@1 >/dev/null

BOUNDARY=------------------------9f1c2b7d4e6a8035
CT="multipart/form-data; boundary=$BOUNDARY"
BODY=$B/body-$MIB.bin
if [ ! -f "$BODY" ]; then
  "$PY" - "$BODY" "$BOUNDARY" "$MIB" <<'PYEOF'
import os, sys
path, b, mib = sys.argv[1], sys.argv[2].encode(), int(sys.argv[3])
half = mib * 1024 * 1024 // 2 - 512
with open(path, "wb") as f:
    f.write(b"--" + b + b'\r\nContent-Disposition: form-data; name="note"\r\n\r\nhello\r\n')
    for i in (1, 2):
        f.write(b"--" + b + b'\r\nContent-Disposition: form-data; name="file%d"; filename="f%d.bin"\r\n'
                b"Content-Type: application/octet-stream\r\n\r\n" % (i, i))
        left = half
        while left:
            n = min(left, 16 << 20)
            f.write(os.urandom(n))
            left -= n
        f.write(b"\r\n")
    f.write(b"--" + b + b"--\r\n")
PYEOF
fi

gcc -std=gnu11 -O2 -Wall -Wextra -Werror -Iinclude -D_GNU_SOURCE -o "$B/multipart_bench" \
  bench/multipart_bench.c src/multipart/*.c

echo "body: $BODY ($(stat -c %s "$BODY") bytes), chunks of $CHUNK bytes"
echo "$RUNS rounds, each running uweb, busboy (after a warm-up run each, median of 3) and"
echo "python-multipart (one run: CPython has no JIT) in turn, so machine load hits all alike"
field() { sed -n "s/.*$1=\([0-9.]*\).*/\1/p" <<<"$2"; }
median() { sort -g | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }
U=() N=() P=()
for ((r = 1; r <= RUNS; r++)); do
  u=$("$B/multipart_bench" "$BODY" "$CT" "$CHUNK" 3)
  n=$(NODE_PATH=build/node_modules node bench/multipart_busboy.js "$BODY" "$CT" "$CHUNK" 3)
  p=$("$PY" bench/multipart_python.py "$BODY" "$CT" "$CHUNK" 1)
  echo "round $r: $u | $n | $p" | sed 's/ parts=[0-9]*//g; s/ bytes=[0-9]*//g'
  ub=$(field bytes "$u")
  for x in "$n" "$p"; do
    [ "$(field bytes "$x")" = "$ub" ] || { echo "data bytes differ: $x vs $u"; exit 1; }
  done
  U+=("$(field MBps "$u")") N+=("$(field MBps "$n")") P+=("$(field MBps "$p")")
done
mu=$(printf '%s\n' "${U[@]}" | median)
mn=$(printf '%s\n' "${N[@]}" | median)
mp=$(printf '%s\n' "${P[@]}" | median)
echo "median MB/s: uweb $mu, busboy $mn, python-multipart $mp"
awk -v u="$mu" -v n="$mn" -v p="$mp" 'BEGIN {
  printf "ratio uweb/busboy = %.1fx, uweb/python-multipart = %.1fx\n", u / n, u / p }'
