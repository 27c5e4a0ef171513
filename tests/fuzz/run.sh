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
# fuzz NAME LABEL DIR: runs DIR/fuzz/fuzz_NAME on a copy of NAME's corpus.
fuzz() {
  local name=$1 label=$2 out=$3/fuzz
  local bin=$out/fuzz_$name work=$out/corpus-$name
  [ -x "$bin" ] || { echo "not ok - fuzz $label: $bin was not built"; return; }
  mkdir -p "$work"; cp -n tests/fuzz/corpus/"$name"/* "$work"/ 2>/dev/null
  if "$bin" -max_total_time="$secs" -max_len=65536 -timeout=10 -rss_limit_mb=2048 -print_final_stats=1 \
       -artifact_prefix="$out/crash-$name-" "$work" >"$out/$name.log" 2>&1; then
    echo "ok - fuzz $label for ${secs}s: $(grep -o 'stat::number_of_executed_units: *[0-9]*' "$out/$name.log" | grep -o '[0-9]*$' || echo '?') runs, no crash"
  else
    echo "not ok - fuzz $label: crash, see $out/$name.log"; tail -n 30 "$out/$name.log"
  fi
}
for src in "${srcs[@]}"; do
  name=${src##*/fuzz_}; name=${name%.c}
  fuzz "$name" "$name" "$UWEB_BUILD"
done
# The targets built again on the other TLS backend (tests/integration/build.mk).
for bin in "$UWEB_BUILD"/mbedtls/fuzz/fuzz_*; do
  name=${bin##*/fuzz_}
  fuzz "$name" "$name (mbedtls)" "$UWEB_BUILD/mbedtls"
done
