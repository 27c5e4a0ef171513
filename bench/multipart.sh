#!/usr/bin/env bash
# Multipart parser throughput, side by side: uweb's parser (C, gcc -O2),
# Node's busboy and Debian's python3-multipart, each parsing the same body
# from memory, fed in the same chunks.  Bodies (a small field and two
# random binary file parts) are generated in build/bench-multipart/.
#
#  1. the big body (256 MiB by default): RUNS rounds, each running the
#     three in turn so machine load hits all alike; larger than any cache,
#     so a fast parser is bound by memory bandwidth here;
#  2. a 2 MiB body parsed over and over: it stays in cache, so this shows
#     what each parser itself costs;
#  3. a 64 MiB body whose two files are text (a CRLF every ~60 bytes).
#
# Prints each median MB/s and uweb's ratio to each reference.
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

body() {  # body MIB [text] -> path of a generated body of about MIB MiB
  local path=$B/body-$1${2:+-$2}.bin
  [ -f "$path" ] || "$PY" - "$path" "$BOUNDARY" "$1" "${2:-}" <<'PYEOF'
import os, random, sys
path, b, mib, kind = sys.argv[1], sys.argv[2].encode(), int(sys.argv[3]), sys.argv[4]
half = mib * 1024 * 1024 // 2 - 512
random.seed(1)
words = [bytes(random.choice(b"abcdefghijklmnopqrstuvwxyz") for _ in range(random.randint(2, 9)))
         for _ in range(500)]
def text(n):  # lines of words ending in CRLF, about 60 bytes each
    out, size = [], 0
    while size < n:
        line = b" ".join(random.choice(words) for _ in range(random.randint(6, 14))) + b"\r\n"
        out.append(line)
        size += len(line)
    return b"".join(out)[:n]
with open(path + ".tmp", "wb") as f:
    f.write(b"--" + b + b'\r\nContent-Disposition: form-data; name="note"\r\n\r\nhello\r\n')
    for i in (1, 2):
        f.write(b"--" + b + b'\r\nContent-Disposition: form-data; name="file%d"; filename="f%d.bin"\r\n'
                b"Content-Type: application/octet-stream\r\n\r\n" % (i, i))
        left = half
        while left:
            n = min(left, 16 << 20)
            f.write(text(n) if kind == "text" else os.urandom(n))
            left -= n
        f.write(b"\r\n")
    f.write(b"--" + b + b"--\r\n")
os.rename(path + ".tmp", path)
PYEOF
  echo "$path"
}

gcc -std=gnu11 -O2 -Wall -Wextra -Werror -Iinclude -D_GNU_SOURCE -o "$B/multipart_bench" \
  bench/multipart_bench.c src/multipart/*.c

field() { sed -n "s/.*$1=\([0-9.]*\).*/\1/p" <<<"$2"; }
median() { sort -g | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }
same_bytes() {
  local ub; ub=$(field bytes "$1")
  for x in "${@:2}"; do
    [ "$(field bytes "$x")" = "$ub" ] || { echo "data bytes differ: $x vs $1"; exit 1; }
  done
}
ratios() {  # ratios UWEB BUSBOY PYTHON
  echo "median MB/s: uweb $1, busboy $2, python-multipart $3"
  awk -v u="$1" -v n="$2" -v p="$3" 'BEGIN {
    printf "ratio uweb/busboy = %.1fx, uweb/python-multipart = %.1fx\n", u / n, u / p }'
}
run_uweb()   { "$B/multipart_bench" "$1" "$CT" "$CHUNK" "$2"; }
run_busboy() { NODE_PATH=build/node_modules node bench/multipart_busboy.js "$1" "$CT" "$CHUNK" "$2"; }
run_python() { "$PY" bench/multipart_python.py "$1" "$CT" "$CHUNK" "$2"; }

BODY=$(body "$MIB")
echo "== $BODY ($(stat -c %s "$BODY") bytes), chunks of $CHUNK bytes"
echo "$RUNS rounds, each running uweb, busboy (after a warm-up run each, median of 3) and"
echo "python-multipart (one run: CPython has no JIT) in turn"
U=() N=() P=()
for ((r = 1; r <= RUNS; r++)); do
  u=$(run_uweb "$BODY" 3); n=$(run_busboy "$BODY" 3); p=$(run_python "$BODY" 1)
  same_bytes "$u" "$n" "$p"
  echo "round $r: $u | $n | $p" | sed 's/ parts=[0-9]*//g; s/ bytes=[0-9]*//g'
  U+=("$(field MBps "$u")") N+=("$(field MBps "$n")") P+=("$(field MBps "$p")")
done
ratios "$(printf '%s\n' "${U[@]}" | median)" "$(printf '%s\n' "${N[@]}" | median)" \
       "$(printf '%s\n' "${P[@]}" | median)"

SMALL=$(body 2)
echo "== $SMALL ($(stat -c %s "$SMALL") bytes) in cache: median of 40 runs (python: 5)"
u=$(run_uweb "$SMALL" 40); n=$(run_busboy "$SMALL" 40); p=$(run_python "$SMALL" 5)
same_bytes "$u" "$n" "$p"
echo "$u | $n | $p" | sed 's/ parts=[0-9]*//g; s/ bytes=[0-9]*//g'
ratios "$(field MBps "$u")" "$(field MBps "$n")" "$(field MBps "$p")"

TEXT=$(body 64 text)
echo "== $TEXT ($(stat -c %s "$TEXT") bytes): text files, a CRLF every ~60 bytes; median of 5 runs"
u=$(run_uweb "$TEXT" 5); n=$(run_busboy "$TEXT" 5); p=$(run_python "$TEXT" 1)
same_bytes "$u" "$n" "$p"
echo "$u | $n | $p" | sed 's/ parts=[0-9]*//g; s/ bytes=[0-9]*//g'
ratios "$(field MBps "$u")" "$(field MBps "$n")" "$(field MBps "$p")"
