#!/usr/bin/env bash
# The test runner behind `make test`.
#
# Every test program speaks one line per check on stdout:
#   ok - NAME
#   not ok - NAME: REASON
#   skipped - NAME: REASON
# Only stdout is counted (a last line without a newline too); stderr is
# kept apart and shown when the program fails.  Other stdout lines are
# shown with UWEB_VERBOSE=1.  A program that exits non-zero without
# reporting a failure counts as one failure, and so does a tests/*/*.sh or
# *.py that is not executable.  The last line of this script's output is
# "N passed, N failed, N skipped".
#
# Suites, in order: unit tests, the same under ASan+UBSan, fuzz corpus
# replays and short fuzz runs, every tests/*/*.sh|*.py (integration,
# tools, unikernels, ...; not tests/lib/, tests/fuzz/ nor tests/multipart/'s
# vector generators), then tests/integration/*.py once more against
# the ASan+UBSan builds of the apps (UWEB_ASAN=1, labelled asan/integration/;
# `make asan` builds them).  UWEB_TEST=PATTERN runs only the programs whose
# label contains PATTERN.
set -u
: "${UWEB_ROOT:=$(cd "$(dirname "$0")/.." && pwd)}"
: "${UWEB_BUILD:=$UWEB_ROOT/build}"
export UWEB_ROOT UWEB_BUILD
cd "$UWEB_ROOT"
FUZZ_SECONDS=${UWEB_FUZZ_SECONDS:-5}
TIMEOUT=${UWEB_TEST_TIMEOUT:-600}
pass=0 fail=0 skip=0
failed=()
out=$(mktemp) err=$(mktemp); trap 'rm -f "$out" "$err"' EXIT

selected() { [ -z "${UWEB_TEST:-}" ] || [[ "$1" == *"$UWEB_TEST"* ]]; }

# verdict LABEL ok|not ok|skipped TEXT: one line of the runner's own.
verdict() {
  echo "== $1"; echo "  $2 - $3"
  case "$2" in
    ok) pass=$((pass+1)) ;;
    skipped) skip=$((skip+1)) ;;
    *) fail=$((fail+1)); failed+=("$1: $3") ;;
  esac
}

run_one() {  # run_one LABEL CMD...
  local label=$1; shift
  selected "$label" || return 0
  echo "== $label"
  local start=$SECONDS
  timeout -k 10 "$TIMEOUT" "$@" >"$out" 2>"$err" </dev/null
  local rc=$? p=0 f=0 s=0 line
  while IFS= read -r line || [ -n "$line" ]; do
    case "$line" in
      "ok - "*)      p=$((p+1)); echo "  $line" ;;
      "not ok - "*)  f=$((f+1)); echo "  $line"; failed+=("$label: ${line#not ok - }") ;;
      "skipped - "*) s=$((s+1)); echo "  $line" ;;
      *)             [ -n "${UWEB_VERBOSE:-}" ] && echo "  | $line" ;;
    esac
  done <"$out"
  if [ $rc -ne 0 ] && [ $f -eq 0 ]; then
    local why="exited with status $rc"
    [ $rc -eq 124 ] && why="timed out after ${TIMEOUT}s"
    f=1; failed+=("$label: $why")
    echo "  not ok - $label $why"
  fi
  if [ $((p+f+s)) -eq 0 ] && [ $rc -eq 0 ]; then
    f=1; failed+=("$label: reported no checks")
    echo "  not ok - $label reported no checks"
  fi
  if [ $f -gt 0 ]; then
    grep -v -e '^ok - ' -e '^not ok - ' -e '^skipped - ' "$out" | tail -n 15 | sed 's/^/  | /'
    if [ -s "$err" ]; then echo "  stderr:"; tail -n 20 "$err" | sed 's/^/  ! /'; fi
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
  # Not test programs: helpers, tests/fuzz/ (its runner ran above; its
  # corpus generators are run by hand), and the generators of
  # tests/multipart/'s vectors (run by hand).
  case "$t" in tests/lib/*|tests/run.sh|tests/fuzz/*|tests/multipart/*.py) continue ;; esac
  label=${t#tests/}
  if [ ! -x "$t" ]; then
    selected "$label" && verdict "$label" "not ok" "$label is not executable (chmod +x $t)"
    continue
  fi
  run_one "$label" "$t"
done
# The integration tests once more, against the ASan+UBSan builds (uwtest.py
# reads UWEB_ASAN: it starts $UWEB_BUILD/asan/apps/NAME and fails a test
# whose server printed a sanitizer report).
for t in $(ls tests/integration/*.py 2>/dev/null | sort); do
  label=asan/${t#tests/}
  [ -x "$t" ] || continue               # already counted as not executable
  if [ ! -d "$UWEB_BUILD/asan/apps" ]; then
    selected "$label" && verdict "$label" skipped "$UWEB_BUILD/asan/apps is not built (make asan)"
    continue
  fi
  UWEB_ASAN=1 run_one "$label" "$t"
done

if [ ${#failed[@]} -gt 0 ]; then
  echo; echo "Failures:"; printf '  %s\n' "${failed[@]}"
fi
echo
echo "$pass passed, $fail failed, $skip skipped"
[ "$fail" -eq 0 ]
