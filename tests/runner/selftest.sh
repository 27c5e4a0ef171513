#!/usr/bin/env bash
# The test runner checked on a fake tree of test programs: tests/run.sh
# with UWEB_ROOT pointing at a temporary directory holding programs that
# pass, skip, fail, write protocol lines to stderr, end without a newline,
# crash, lack their run bit, and an integration test that must run twice
# (the second time with UWEB_ASAN=1).  Checks the counts and what is shown.
set -u
here=$(cd "$(dirname "$0")" && pwd)
runner=$here/../run.sh
fake=$(mktemp -d); trap 'rm -rf "$fake"' EXIT
mkdir -p "$fake/tests/a" "$fake/tests/integration" "$fake/tests/lib" "$fake/build/asan/apps"

prog() {  # prog PATH MODE BODY
  printf '#!/bin/sh\n%s\n' "$3" >"$fake/tests/$1"; chmod "$2" "$fake/tests/$1"
}
prog a/pass.sh 755 'echo "ok - one"; echo "a note"; echo "skipped - two: no tool"'
prog a/stderr.sh 755 'echo "ok - on stdout"; echo "ok - on stderr" >&2; echo "not ok - also on stderr" >&2'
prog a/nonl.sh 755 'printf "ok - first\nnot ok - last: no newline"'
prog a/noexec.sh 644 'echo "ok - never run"'
prog a/noexec.py 644 'echo "ok - never run"'
prog a/crash.sh 755 'echo "ok - before"; echo "boom on stderr" >&2; exit 3'
prog a/silent.sh 755 'exit 0'
prog integration/twice.py 755 'echo "ok - twice asan=${UWEB_ASAN:-0}"'
prog lib/helper.py 644 'echo "ok - a library is not a test"'
# Two at a time, results in plan order, and "alone" programs by themselves.
mkdir -p "$fake/tests/b"
prog b/order1.sh 755 'sleep 1; echo "ok - order first"'
prog b/order2.sh 755 'echo "ok - order second"'
together='touch "$UWEB_ROOT/m.${0##*/}"; for i in $(seq 40); do
  [ -e "$UWEB_ROOT/m.par1.sh" ] && [ -e "$UWEB_ROOT/m.par2.sh" ] && { echo "ok - together"; exit 0; }
  sleep 0.1; done; echo "not ok - together: ran one after the other"'
prog b/par1.sh 755 "$together"
prog b/par2.sh 755 "$together"
prog b/y_before.sh 755 'sleep 1; touch "$UWEB_ROOT/before.done"; echo "ok - before"'
prog b/z_alone.sh 755 '# uweb-test: alone
[ -e "$UWEB_ROOT/before.done" ] || { echo "not ok - alone: started beside the program before it"; exit 0; }
sleep 1.5; [ -e "$UWEB_ROOT/after.started" ] && echo "not ok - alone: the next program started beside it" || echo "ok - alone"'
prog b/zz_after.sh 755 'touch "$UWEB_ROOT/after.started"; echo "ok - after"'
mkdir -p "$fake/tests/fuzz"
prog fuzz/corpus_gen.py 755 'echo "ok - a corpus generator is not a test"'

output=$(env -u UWEB_TEST -u UWEB_VERBOSE UWEB_ROOT="$fake" UWEB_BUILD="$fake/build" UWEB_FUZZ_SECONDS=0 \
         "$runner" 2>&1)
rc=$?
failed=0
check() {  # check NAME CONDITION...
  local name=$1; shift
  if "$@"; then echo "ok - runner: $name"; else failed=1; echo "not ok - runner: $name"; fi
}
has() { grep -qF -- "$1" <<<"$output"; }
hasnt() { ! has "$1"; }

last=$(tail -n 1 <<<"$output")
# pass: one, on stdout, first, before, twice x2, b/'s seven; fail: last,
# noexec x2, crash, silent; skipped: two.
check "the totals count stdout only, the unterminated last line and unrunnable files" \
  test "$last" = "13 passed, 5 failed, 1 skipped"
check "programs run two at a time" bash -c '[ "$(grep -c "^  ok - together" <<<"$1")" = 2 ]' _ "$output"
check "results are shown in plan order, not in the order programs end" \
  bash -c 'grep -n -e "^== b/order1.sh" -e "ok - order first" -e "^== b/order2.sh" -e "ok - order second" <<<"$1" \
           | cut -d: -f2- | tr "\n" "|" | grep -qx "== b/order1.sh|  ok - order first|== b/order2.sh|  ok - order second|"' _ "$output"
check "a program marked \"uweb-test: alone\" runs by itself" has "  ok - alone"
check "exit status is non-zero when a check failed" test $rc -ne 0
check "protocol lines on stderr are not counted" hasnt "ok - on stderr"
check "a last line without a newline is read" has "not ok - last: no newline"
check "a test without its run bit is a failure" has "a/noexec.sh: a/noexec.sh is not executable"
check "a .py without its run bit is a failure too" has "a/noexec.py: a/noexec.py is not executable"
check "a crash after an ok line counts as a failure" has "a/crash.sh: exited with status 3"
check "a failing program's stderr is shown" has "! boom on stderr"
check "a program that reports nothing is a failure" has "a/silent.sh: reported no checks"
check "tests/lib/ is not run" hasnt "a library is not a test"
check "tests/fuzz/'s generators are not run" hasnt "a corpus generator is not a test"
check "integration tests run a second time with UWEB_ASAN=1, labelled asan/" \
  bash -c 'grep -q "^== integration/twice.py" <<<"$1" && grep -q "^== asan/integration/twice.py" <<<"$1" \
           && grep -q "ok - twice asan=0" <<<"$1" && grep -q "ok - twice asan=1" <<<"$1"' _ "$output"

rm -r "$fake/build/asan"
output=$(env -u UWEB_TEST UWEB_ROOT="$fake" UWEB_BUILD="$fake/build" UWEB_FUZZ_SECONDS=0 UWEB_TEST=integration \
         "$runner" 2>&1)
check "without ASan builds the second run is skipped with the reason" \
  bash -c 'grep -q "skipped - .*asan/apps is not built (make asan)" <<<"$1" \
           && test "$(tail -n 1 <<<"$1")" = "1 passed, 0 failed, 1 skipped"' _ "$output"
[ $failed -eq 0 ] || { echo "# runner output:"; sed 's/^/# /' <<<"$output"; }
exit $failed
