#!/usr/bin/env bash
# ZIP writer throughput and size: uweb's streaming writer (through
# tests/zip/zipgen) against Info-ZIP's zip at the same level, on the same
# 256 MiB of mixed files: 128 MiB of text in 32 files, 64 MiB of random
# data in 16 files (incompressible: both store it), 64 MiB of text in 1024
# small files of 64 KiB.  The text is the Python and Perl library sources
# of Debian's python3 and perl packages, cycled.  Both read the files from
# the page cache and write the archive to a file under build/.  Prints the
# median of RUNS runs (default 5) per tool and level: MB/s of input per
# second of CPU (user + system: the machine may be shared) and of wall
# clock, archive bytes, and the ratios uweb / zip.
#
#   bench/zip.sh            (RUNS=3 bench/zip.sh for a quicker look)
set -eu
cd "$(dirname "$0")/.."
make -s build/tests/zip/zipgen >/dev/null
ZIPGEN=$PWD/build/tests/zip/zipgen
RUNS=${RUNS:-5}
W=$PWD/build/bench-zip
mkdir -p "$W"
trap 'rm -f "$W"/out-*.zip' EXIT

# the data set, made once
D=$W/data
if [ ! -f "$D/.done" ]; then
  rm -rf "$D"; mkdir -p "$D/text" "$D/random" "$D/small"
  find /usr/lib/python3* /usr/share/perl /usr/lib/x86_64-linux-gnu/perl* /usr/share/perl5 \
    \( -name '*.py' -o -name '*.pm' -o -name '*.pod' -o -name '*.pl' \) -type f 2>/dev/null |
    LC_ALL=C sort | xargs cat >"$W/corpus"
  python3 - "$W/corpus" "$D" <<'EOF'
import sys
corpus = open(sys.argv[1], "rb").read()
def cut(offset, size):
    out = b""
    while len(out) < size:
        offset %= len(corpus)
        out += corpus[offset:offset + size - len(out)]
        offset += size
    return out
for i in range(32):
    open(f"{sys.argv[2]}/text/t{i}.txt", "wb").write(cut(i * (4 << 20), 4 << 20))
for i in range(1024):
    open(f"{sys.argv[2]}/small/s{i}.txt", "wb").write(cut(i * 52711, 64 << 10))
EOF
  rm -f "$W/corpus"
  for i in $(seq 1 16); do "$ZIPGEN" --emit "random:4M:$i" >"$D/random/r$i.bin"; done
  touch "$D/.done"
fi
cd "$D"
FILES=$(find text random small -type f | sort)
INPUT=$(cat $FILES | wc -c)
cat $FILES >/dev/null   # warm the page cache
ENTRY_ARGS=()
for f in $FILES; do ENTRY_ARGS+=(-f "$f"); done

median() { sort -g | awk '{ a[NR] = $1 } END { print a[int((NR + 1) / 2)] }'; }
calc() { awk "BEGIN { printf \"%.4f\", $1 }"; }

# run TOOL LEVEL -> "cpu_seconds wall_seconds bytes" (one run)
run() {
  local out=$W/out-$1-$2.zip times
  rm -f "$out"
  TIMEFORMAT='%R %U %S'
  if [ "$1" = zip ]; then
    times=$( { time zip -q -r "-$2" "$out" $FILES >/dev/null; } 2>&1 )
  else
    times=$( { time "$ZIPGEN" -l "$2" "$out" "${ENTRY_ARGS[@]}" >/dev/null; } 2>&1 )
  fi
  set -- $times
  echo "$(calc "$2 + $3") $1 $(stat -c %s "$out")"
  rm -f "$out"
}

printf '%-6s %-5s %12s %12s %14s\n' level tool MB/s-cpu MB/s-wall archive_bytes
for level in 0 1 6; do
  : >"$W/t-zip" ; : >"$W/t-uweb"
  for r in $(seq 1 "$RUNS"); do   # alternate the tools run by run
    run zip "$level" >>"$W/t-zip"
    run uweb "$level" >>"$W/t-uweb"
  done
  for tool in zip uweb; do
    c=$(cut -d' ' -f1 "$W/t-$tool" | median)
    w=$(cut -d' ' -f2 "$W/t-$tool" | median)
    b=$(cut -d' ' -f3 "$W/t-$tool" | median)
    printf '%-6s %-5s %12.1f %12.1f %14d\n' "-$level" "$tool" "$(calc "$INPUT / 1e6 / $c")" \
      "$(calc "$INPUT / 1e6 / $w")" "$b"
    eval "c_$tool=$c w_$tool=$w b_$tool=$b"
  done
  printf '%-6s uweb/zip: speed (cpu) %.2f, speed (wall) %.2f, size %.4f\n' "-$level" \
    "$(calc "$c_zip / $c_uweb")" "$(calc "$w_zip / $w_uweb")" "$(calc "$b_uweb / $b_zip")"
done
echo "input $INPUT bytes in $(echo $FILES | wc -w) files; medians of $RUNS runs"
