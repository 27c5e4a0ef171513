#!/usr/bin/env bash
# POST /upload of Crunch & Zip: curl uploads a file, the server streams
# the ZIP back.  Measured: the server's CPU time (the first field of
# /proc/PID/task/*/schedstat, summed over threads, before and after: curl
# runs on the same 2 cores, so wall time would count it too), wall time,
# and the server's peak RSS growth over its idle peak (VmHWM), for
#   - 1 GiB of random data (stored after the 64 KiB probe: the path where
#     the archive is as big as the upload),
#   - 128 MiB of text (Python and Perl sources, deflated at level 6),
#   - 16 concurrent uploads of 1 GiB of random data (one server).
# The reference, in the same run: Info-ZIP's zip streaming the same file
# locally (zip -6 - - <file >/dev/null for the text; zip -0, storing, for
# the random data, which zip -6 would spend 100 s deflating for nothing;
# no HTTP, no network), its CPU time (user + system) and its peak RSS (GNU
# time); the speed ratio compares CPU seconds.  Medians of RUNS runs
# (default 3); the server is restarted for each measurement and its idle
# peak taken after one GET, so every growth includes the upload's whole
# working memory (writer, zlib, parser, server buffers).  B=DIR builds and
# works in DIR instead of build/ (as make B=DIR).
set -eu
cd "$(dirname "$0")/.."
B=${B:-build}
make -s B="$B" "$B/apps/crunchzip" "$B/tests/zip/zipgen" >/dev/null
APP=$PWD/$B/apps/crunchzip
ZIPGEN=$PWD/$B/tests/zip/zipgen
RUNS=${RUNS:-3}
W=$PWD/$B/bench-upload
mkdir -p "$W"
PORT=$((20000 + RANDOM % 20000))
SERVER=
cleanup() { [ -n "$SERVER" ] && kill "$SERVER" 2>/dev/null; wait 2>/dev/null || true; }
trap cleanup EXIT

[ -s "$W/random.bin" ] || "$ZIPGEN" --emit random:1G:1 >"$W/random.bin"
if [ ! -s "$W/text.txt" ]; then
  find /usr/lib/python3* /usr/share/perl /usr/lib/x86_64-linux-gnu/perl* /usr/share/perl5 \
    \( -name '*.py' -o -name '*.pm' -o -name '*.pod' -o -name '*.pl' \) -type f 2>/dev/null |
    LC_ALL=C sort | xargs cat >"$W/corpus"
  while [ "$(stat -c %s "$W/text.txt" 2>/dev/null || echo 0)" -lt $((128 << 20)) ]; do
    cat "$W/corpus" >>"$W/text.txt"
  done
  truncate -s $((128 << 20)) "$W/text.txt"
  rm -f "$W/corpus"
fi
cat "$W/random.bin" "$W/text.txt" >/dev/null

hwm() { awk '/^VmHWM/ { print $2 }' "/proc/$SERVER/status"; }   # KiB
cpu_ns() {  # the server's CPU time so far, all threads
  local f a s=0
  for f in /proc/"$SERVER"/task/*/schedstat; do read -r a _ <"$f" || continue; s=$((s + a)); done
  echo "$s"
}
start() {
  "$APP" --port=$PORT >"$W/server.log" 2>&1 &
  SERVER=$!
  for _ in $(seq 100); do curl -s -o /dev/null "http://127.0.0.1:$PORT/" && break; sleep 0.05; done
}
stop() { kill "$SERVER"; wait "$SERVER" 2>/dev/null || true; SERVER=; }
median() { sort -g | awk '{ a[NR] = $1 } END { print a[int((NR + 1) / 2)] }'; }
now() { date +%s.%N; }
calc() { awk "BEGIN { printf \"%.2f\", $1 }"; }

# upload FILE N -> "cpu_seconds rss_growth_kib idle_kib wall_seconds" (N concurrent uploads of FILE)
upload() {
  start
  local idle t0 t1 c0 c1 pids=() i
  idle=$(hwm)
  c0=$(cpu_ns)
  t0=$(now)
  for i in $(seq 1 "$2"); do
    curl -sS -f -o /dev/null -F "f=@$1" "http://127.0.0.1:$PORT/upload" &
    pids+=($!)
  done
  for p in "${pids[@]}"; do wait "$p" || { echo "upload failed" >&2; exit 1; }; done
  t1=$(now)
  c1=$(cpu_ns)
  echo "$(calc "($c1 - $c0) / 1e9") $(( $(hwm) - idle )) $idle $(calc "$t1 - $t0")"
  stop
}

# reference FILE LEVEL -> "cpu_seconds peak_rss_kib wall_seconds"
reference() {
  local t0 t1 u s m
  t0=$(now)
  /usr/bin/time -f '%U %S %M' -o "$W/time.out" zip -q "-$2" - - <"$1" >/dev/null
  t1=$(now)
  read -r u s m <"$W/time.out"
  echo "$(calc "$u + $s") $m $(calc "$t1 - $t0")"
}

report() {  # report LABEL BYTES_PER_UPLOAD UPLOADS FILE-OF-RUNS REF-FILE REF-LEVEL
  local s g idle w rs rm rw
  s=$(cut -d' ' -f1 "$4" | median); g=$(cut -d' ' -f2 "$4" | median); idle=$(cut -d' ' -f3 "$4" | median)
  w=$(cut -d' ' -f4 "$4" | median)
  printf '%-22s uweb: %7.1f MB per CPU-s  %7s CPU-s (%s s wall)  peak RSS growth %6d KiB (%d KiB per upload; idle peak %d KiB)\n' \
    "$1" "$(calc "$2 * $3 / 1e6 / $s")" "$s" "$w" "$g" "$((g / $3))" "$idle"
  if [ -n "$5" ]; then
    rs=$(cut -d' ' -f1 "$5" | median); rm=$(cut -d' ' -f2 "$5" | median); rw=$(cut -d' ' -f3 "$5" | median)
    printf '%-22s zip %s: %7.1f MB per CPU-s  %7s CPU-s (%s s wall)  peak RSS %d KiB    CPU-s zip/uweb %s\n' \
      "" "$6" "$(calc "$2 / 1e6 / $rs")" "$rs" "$rw" "$rm" "$(calc "$rs / $s")"
  fi
}

R=$(stat -c %s "$W/random.bin"); X=$(stat -c %s "$W/text.txt")
: >"$W/r1"; : >"$W/rz"; : >"$W/t1"; : >"$W/tz"; : >"$W/r16"
for run in $(seq 1 "$RUNS"); do
  upload "$W/random.bin" 1 >>"$W/r1"
  reference "$W/random.bin" 0 >>"$W/rz"
  upload "$W/text.txt" 1 >>"$W/t1"
  reference "$W/text.txt" 6 >>"$W/tz"
  upload "$W/random.bin" 16 >>"$W/r16"
done
report "1 GiB random" "$R" 1 "$W/r1" "$W/rz" -0
report "128 MiB text" "$X" 1 "$W/t1" "$W/tz" -6
report "16 x 1 GiB random" "$R" 16 "$W/r16" ""
echo "medians of $RUNS runs; server CPU from schedstat, zip's user + system time; goals: < 2048 KiB growth per upload, < 49152 KiB for 16 concurrent"
