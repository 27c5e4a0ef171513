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
#
# Programs run two at a time (UWEB_JOBS=N for another number; results are
# shown in the order above whatever order they end in).  A test program
# whose source holds the words "uweb-test: alone" runs with nothing beside
# it: one that measures time, memory or throughput.
set -u
: "${UWEB_ROOT:=$(cd "$(dirname "$0")/.." && pwd)}"
: "${UWEB_BUILD:=$UWEB_ROOT/build}"
export UWEB_ROOT UWEB_BUILD
cd "$UWEB_ROOT"
FUZZ_SECONDS=${UWEB_FUZZ_SECONDS:-5}
TIMEOUT=${UWEB_TEST_TIMEOUT:-600}
JOBS=${UWEB_JOBS:-2}
pass=0 fail=0 skip=0
failed=()
work=$(mktemp -d); trap 'kill $(jobs -p) 2>/dev/null; rm -rf "$work"' EXIT

selected() { [ -z "${UWEB_TEST:-}" ] || [[ "$1" == *"$UWEB_TEST"* ]]; }

# The plan: every check to run, in the order their results are shown.
# Programs run JOBS at a time (results still shown in plan order); one
# whose source says "uweb-test: alone" (a check of timing or of the
# whole machine's memory) runs with nothing beside it.
n=0
LABEL=() KIND=() ALONE=() CMD=()
plan() {  # plan LABEL CMD...      (a program; VAR=VALUE words first set its environment)
  selected "$1" || return 0
  local alone=0 w
  for w in "${@:2}"; do
    case "$w" in *=*) ;; *) [ -f "$w" ] && grep -qs 'uweb-test: alone' "$w" && alone=1; break ;; esac
  done
  LABEL[n]=$1 KIND[n]=run ALONE[n]=$alone CMD[n]=$(printf '%q ' env "${@:2}"); n=$((n+1))
}
plan_verdict() {  # plan_verdict LABEL ok|not ok|skipped TEXT: a line of the runner's own
  selected "$1" || return 0
  LABEL[n]=$1 KIND[n]="$2" ALONE[n]=0 CMD[n]=$3; n=$((n+1))
}

# $UWEB_BUILD/mbedtls/: what tests/integration/build.mk builds again on the
# other TLS backend (test_tls, fuzz_tls), labelled .../mbedtls/NAME.
for b in "" mbedtls/; do
  for t in "$UWEB_BUILD"/${b}tests/unit/test_*; do [ -x "$t" ] && plan "unit/$b${t##*/}" "$t"; done
done
for b in "" mbedtls/; do
  for t in "$UWEB_BUILD"/${b}asan/tests/unit/test_*; do
    [ -x "$t" ] && plan "asan/$b${t##*/}" ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=print_stacktrace=1 "$t"
  done
done
for b in "" mbedtls/; do
  for r in "$UWEB_BUILD"/${b}fuzz/replay_*; do
    [ -x "$r" ] || continue
    name=${r##*/replay_}
    plan "fuzz-replay/$b$name" "$r" "tests/fuzz/corpus/$name"
  done
done
if [ "$FUZZ_SECONDS" -gt 0 ]; then
  plan "fuzz-run" tests/fuzz/run.sh "$FUZZ_SECONDS"
fi
for t in $(ls tests/*/*.sh tests/*/*.py 2>/dev/null | sort); do
  # Not test programs: helpers, tests/fuzz/ (its runner ran above; its
  # corpus generators are run by hand), and the generators of
  # tests/multipart/'s vectors (run by hand).
  case "$t" in tests/lib/*|tests/run.sh|tests/fuzz/*|tests/multipart/*.py) continue ;; esac
  label=${t#tests/}
  if [ ! -x "$t" ]; then
    plan_verdict "$label" "not ok" "$label is not executable (chmod +x $t)"
    continue
  fi
  plan "$label" "$t"
done
# The integration tests once more, against the ASan+UBSan builds (uwtest.py
# reads UWEB_ASAN: it starts $UWEB_BUILD/asan/apps/NAME and fails a test
# whose server printed a sanitizer report).
for t in $(ls tests/integration/*.py 2>/dev/null | sort); do
  label=asan/${t#tests/}
  [ -x "$t" ] || continue               # already counted as not executable
  if [ ! -d "$UWEB_BUILD/asan/apps" ]; then
    plan_verdict "$label" skipped "$UWEB_BUILD/asan/apps is not built (make asan)"
    continue
  fi
  plan "$label" UWEB_ASAN=1 "$t"
done

# launch I: runs check I in the background; $work/I.rc appears when it ends.
launch() {
  local i=$1
  (
    start=$SECONDS
    eval "timeout -k 10 $TIMEOUT ${CMD[i]}" >"$work/$i.out" 2>"$work/$i.err" </dev/null
    rc=$?
    echo $((SECONDS-start)) >"$work/$i.time"
    echo $rc >"$work/$i.rc.tmp" && mv "$work/$i.rc.tmp" "$work/$i.rc"
  ) &
}

# report I: shows check I's lines and counts them.
report() {
  local i=$1 label=${LABEL[$1]}
  echo "== $label"
  if [ "${KIND[i]}" != run ]; then
    echo "  ${KIND[i]} - ${CMD[i]}"
    case "${KIND[i]}" in
      ok) pass=$((pass+1)) ;;
      skipped) skip=$((skip+1)) ;;
      *) fail=$((fail+1)); failed+=("$label: ${CMD[i]}") ;;
    esac
    return
  fi
  local rc p=0 f=0 s=0 line out=$work/$i.out err=$work/$i.err
  rc=$(cat "$work/$i.rc")
  while IFS= read -r line || [ -n "$line" ]; do
    case "$line" in
      "ok - "*)      p=$((p+1)); echo "  $line" ;;
      "not ok - "*)  f=$((f+1)); echo "  $line"; failed+=("$label: ${line#not ok - }") ;;
      "skipped - "*) s=$((s+1)); echo "  $line" ;;
      *)             [ -n "${UWEB_VERBOSE:-}" ] && echo "  | $line" ;;
    esac
  done <"$out"
  if [ "$rc" -ne 0 ] && [ $f -eq 0 ]; then
    local why="exited with status $rc"
    [ "$rc" -eq 124 ] && why="timed out after ${TIMEOUT}s"
    f=1; failed+=("$label: $why")
    echo "  not ok - $label $why"
  fi
  if [ $((p+f+s)) -eq 0 ] && [ "$rc" -eq 0 ]; then
    f=1; failed+=("$label: reported no checks")
    echo "  not ok - $label reported no checks"
  fi
  if [ $f -gt 0 ]; then
    grep -v -e '^ok - ' -e '^not ok - ' -e '^skipped - ' "$out" | tail -n 15 | sed 's/^/  | /'
    if [ -s "$err" ]; then echo "  stderr:"; tail -n 20 "$err" | sed 's/^/  ! /'; fi
  fi
  echo "  ($(cat "$work/$i.time")s)"
  pass=$((pass+p)); fail=$((fail+f)); skip=$((skip+s))
  rm -f "$out" "$err"
}

# Shows, in plan order, every check that has ended.
shown=0
show_ended() {
  while [ $shown -lt $n ] && { [ "${KIND[shown]}" != run ] || [ -f "$work/$shown.rc" ]; }; do
    report $shown; shown=$((shown+1))
  done
}
running() { jobs -pr | wc -l; }

for ((i = 0; i < n; i++)); do
  [ "${KIND[i]}" = run ] || continue
  if [ "${ALONE[i]}" = 1 ]; then
    wait; show_ended
    launch $i; wait
  else
    while [ "$(running)" -ge "$JOBS" ]; do wait -n; show_ended; done
    launch $i
  fi
  show_ended
done
wait; show_ended

if [ ${#failed[@]} -gt 0 ]; then
  echo; echo "Failures:"; printf '  %s\n' "${failed[@]}"
fi
echo
echo "$pass passed, $fail failed, $skip skipped"
[ "$fail" -eq 0 ]
