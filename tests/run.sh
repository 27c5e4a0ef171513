#!/usr/bin/env bash
# The test runner behind `make test`.
#
# Every test program speaks one line per check on stdout:
#   ok - NAME
#   not ok - NAME: REASON
#   skipped - NAME: REASON
# Other lines are shown as they are.  A program that exits non-zero
# without reporting a failure counts as one failure.  The last line of
# this script's output is "N passed, N failed, N skipped".
#
# Suites, in order: unit tests, the same under ASan+UBSan, fuzz corpus
# replays and short fuzz runs, then every executable tests/*/*.sh|*.py
# (integration, tools, unikernels, ...).  UWEB_TEST=PATTERN runs only the
# programs whose path contains PATTERN.
set -u
: "${UWEB_ROOT:=$(cd "$(dirname "$0")/.." && pwd)}"
: "${UWEB_BUILD:=$UWEB_ROOT/build}"
export UWEB_ROOT UWEB_BUILD
cd "$UWEB_ROOT"
FUZZ_SECONDS=${UWEB_FUZZ_SECONDS:-5}
TIMEOUT=${UWEB_TEST_TIMEOUT:-600}
pass=0 fail=0 skip=0
failed=()
log=$(mktemp); trap 'rm -f "$log"' EXIT

run_one() {  # run_one LABEL CMD...
  local label=$1; shift
  if [ -n "${UWEB_TEST:-}" ] && [[ "$label" != *"$UWEB_TEST"* ]]; then return; fi
  echo "== $label"
  local start=$SECONDS
  timeout -k 10 "$TIMEOUT" "$@" >"$log" 2>&1 </dev/null
  local rc=$? p=0 f=0 s=0 line
  while IFS= read -r line; do
    case "$line" in
      "ok - "*)      p=$((p+1)); echo "  $line" ;;
      "not ok - "*)  f=$((f+1)); echo "  $line"; failed+=("$label: ${line#not ok - }") ;;
      "skipped - "*) s=$((s+1)); echo "  $line" ;;
      *)             [ -n "${UWEB_VERBOSE:-}" ] && echo "  | $line" ;;
    esac
  done <"$log"
  if [ $rc -ne 0 ] && [ $f -eq 0 ]; then
    f=1; failed+=("$label: exited with status $rc")
    echo "  not ok - $label exited with status $rc; last output:"; tail -n 15 "$log" | sed 's/^/  | /'
  elif [ $f -gt 0 ]; then
    tail -n 30 "$log" | grep -v -e '^ok - ' -e '^not ok - ' | sed 's/^/  | /'
  fi
  if [ $((p+f+s)) -eq 0 ] && [ $rc -eq 0 ]; then
    f=1; failed+=("$label: reported no checks")
    echo "  not ok - $label reported no checks"
  fi
  echo "  ($((SECONDS-start))s)"
  pass=$((pass+p)); fail=$((fail+f)); skip=$((skip+s))
}

for t in "$UWEB_BUILD"/tests/unit/test_*; do [ -x "$t" ] && run_one "unit/${t##*/}" "$t"; done
for t in "$UWEB_BUILD"/asan/tests/unit/test_*; do
  [ -x "$t" ] && ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=print_stacktrace=1 run_one "asan/${t##*/}" "$t"
done
for r in "$UWEB_BUILD"/fuzz/replay_*; do
  [ -x "$r" ] || continue
  name=${r##*/replay_}
  run_one "fuzz-replay/$name" "$r" "tests/fuzz/corpus/$name"
done
if [ "$FUZZ_SECONDS" -gt 0 ]; then
  run_one "fuzz-run" tests/fuzz/run.sh "$FUZZ_SECONDS"
fi
for t in $(ls tests/*/*.sh tests/*/*.py 2>/dev/null | sort); do
  case "$t" in tests/lib/*|tests/run.sh|tests/fuzz/run.sh) continue ;; esac
  [ -x "$t" ] || continue
  run_one "${t#tests/}" "$t"
done

if [ ${#failed[@]} -gt 0 ]; then
  echo; echo "Failures:"; printf '  %s\n' "${failed[@]}"
fi
echo
echo "$pass passed, $fail failed, $skip skipped"
[ "$fail" -eq 0 ]
