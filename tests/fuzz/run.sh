#!/usr/bin/env bash
# Runs every libFuzzer target for SECONDS (default 5) on a copy of its
# corpus; new finds stay in build/, the committed corpus is untouched.
set -u
secs=${1:-5}
: "${UWEB_ROOT:=$(cd "$(dirname "$0")/../.." && pwd)}"
: "${UWEB_BUILD:=$UWEB_ROOT/build}"
cd "$UWEB_ROOT"
shopt -s nullglob
srcs=(tests/fuzz/fuzz_*.c)
[ ${#srcs[@]} -eq 0 ] && { echo "skipped - fuzz: no fuzz targets"; exit 0; }
for src in "${srcs[@]}"; do
  name=${src##*/fuzz_}; name=${name%.c}
  bin=$UWEB_BUILD/fuzz/fuzz_$name
  [ -x "$bin" ] || { echo "not ok - fuzz $name: $bin was not built"; continue; }
  work=$UWEB_BUILD/fuzz/corpus-$name
  mkdir -p "$work"; cp -n tests/fuzz/corpus/"$name"/* "$work"/ 2>/dev/null
  if "$bin" -max_total_time="$secs" -max_len=65536 -timeout=10 -rss_limit_mb=2048 -print_final_stats=1 \
       -artifact_prefix="$UWEB_BUILD/fuzz/crash-$name-" "$work" >"$UWEB_BUILD/fuzz/$name.log" 2>&1; then
    echo "ok - fuzz $name for ${secs}s: $(grep -o 'stat::number_of_executed_units: *[0-9]*' "$UWEB_BUILD/fuzz/$name.log" | grep -o '[0-9]*$' || echo '?') runs, no crash"
  else
    echo "not ok - fuzz $name: crash, see $UWEB_BUILD/fuzz/$name.log"; tail -n 30 "$UWEB_BUILD/fuzz/$name.log"
  fi
done
