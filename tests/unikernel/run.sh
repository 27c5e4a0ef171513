#!/usr/bin/env bash
# tests/unikernel/run.sh — runs every test unikernel (tests/unikernel/NAME/)
# on spt and on hvt, one result line per test and target, in the runner's
# protocol ("ok - NAME on TARGET", "not ok - ...: why", "skipped - ...: why").
#
# Folders named spt_* run on spt only, hvt_* on hvt only.  An hvt_* (or any
# folder without a case below) runs with no devices and must print SUCCESS
# and exit 0, unless it has a file `expect` ("STATUS TEXT": the exit status,
# and a text stdout+stderr must contain) and/or `tender-args` (extra tender
# options, one line).  hvt is skipped, with the reason, when build/uweb-hvt
# or the .hvt image is missing or /dev/kvm cannot be used.  Tests needing a
# tap device run in a network namespace this script creates and removes.
#
# UWEB_UNIKERNEL_TARGETS="spt" limits the targets.
set -u
ROOT=${UWEB_ROOT:-$(cd "$(dirname "$0")/../.." && pwd)}
BUILD=${UWEB_BUILD:-$ROOT/build}
TARGETS=${UWEB_UNIKERNEL_TARGETS:-spt hvt}
cd "$ROOT" || exit 1

tmp=$(mktemp -d)
netns=""
cleanup() {
  [ -n "$netns" ] && ip netns del "$netns" 2>/dev/null
  rm -rf "$tmp"
}
trap cleanup EXIT

ok()     { echo "ok - $1"; }
not_ok() { echo "not ok - $1: $2"; printf '%s\n' "$OUT" | tail -n 8 | sed 's/^/# /'; }
skip()   { echo "skipped - $1: $2"; }

# A network namespace for tests that need a tap device; "" if impossible.
need_netns() {
  if [ -z "$netns" ]; then
    netns=uwuk$$
    if ! ip netns add "$netns" 2>/dev/null; then
      netns=""
      return 1
    fi
  fi
  return 0
}

# make_tap NAME: a tap interface, up, inside the namespace.
make_tap() {
  ip -n "$netns" tuntap add dev "$1" mode tap 2>/dev/null && ip -n "$netns" link set "$1" up
}

# run TARGET NAME [TENDER-ARGS...] [-- GUEST-ARGS...]: sets OUT (stdout and
# stderr) and RC.  NETNS=1 in the environment runs it in the namespace.
run() {
  local target=$1 name=$2; shift 2
  local targs=() pre=() secs=30
  while [ $# -gt 0 ] && [ "$1" != -- ]; do targs+=("$1"); shift; done
  [ "${1:-}" = -- ] && shift
  [ "$target" = hvt ] && secs=300   # the emulated /dev/kvm is slow
  [ -n "${NETNS:-}" ] && pre=(ip netns exec "$netns")
  OUT=$(timeout -k 5 "$secs" "${pre[@]}" "$BUILD/uweb-$target" "${targs[@]}" \
        "$BUILD/$target/tests/unikernel/$name.$target" "$@" 2>&1)
  RC=$?
}

# expect LABEL STATUS TEXT: the last run exited with STATUS and printed TEXT
# (and, unless TEXT is SUCCESS, did not print SUCCESS).
expect() {
  local label=$1 status=$2 text=$3
  if [ "$RC" -eq 125 ] && [[ "$OUT" == *"/dev/kvm"* ]]; then
    skip "$label" "$(grep -m1 /dev/kvm <<<"$OUT")"
  elif [ "$RC" -ne "$status" ]; then
    not_ok "$label" "exit status $RC, expected $status"
  elif [[ "$OUT" != *"$text"* ]]; then
    not_ok "$label" "output lacks \"$text\""
  elif [ "$text" != SUCCESS ] && grep -q '^SUCCESS' <<<"$OUT"; then
    not_ok "$label" "printed SUCCESS"
  else
    ok "$label"
  fi
}

# Why TARGET cannot run NAME here, or nothing.
unavailable() {
  local target=$1 name=$2
  [ -x "$BUILD/uweb-$target" ] || { echo "build/uweb-$target is not built"; return; }
  [ -f "$BUILD/$target/tests/unikernel/$name.$target" ] || { echo "$name.$target is not built"; return; }
  if [ "$target" = hvt ]; then
    [ -c /dev/kvm ] || { echo "no /dev/kvm"; return; }
    (exec 3<>/dev/kvm) 2>/dev/null || { echo "/dev/kvm cannot be opened"; return; }
  fi
}

# ---------------------------------------------------------------- cases
# t_NAME TARGET LABEL: runs test NAME on TARGET, prints its result lines.

t_hello() {
  local args=("two words" 'q"uote' 'back\slash' '' $'tab\there' 'ünïcode' '"' '\')
  run "$1" hello -- "${args[@]}"
  expect "$2" 0 SUCCESS
  if [ "$RC" -eq 0 ]; then
    local i want missing=""
    for i in "${!args[@]}"; do
      want="argv[$((i + 1))] = \"${args[$i]}\""
      grep -qxF -- "$want" <<<"$OUT" || missing="$want"
    done
    [ -z "$missing" ] && ok "$2: arguments reach main unchanged" \
      || not_ok "$2: arguments reach main unchanged" "no line $missing"
  fi
  run "$1" hello -- --status 42
  expect "$2: main's return value is the exit status" 42 SUCCESS
}

t_clocks() { run "$1" clocks -- "$(date +%s)"; expect "$2" 0 SUCCESS; }
t_heap()   { run "$1" heap --mem=8; expect "$2" 0 SUCCESS; }
t_abort()  { run "$1" abort; expect "$2" 255 aborting; }
t_ssp()    { run "$1" ssp; expect "$2" 255 "stack smashing detected"; }
t_fortify() {
  run "$1" fortify
  expect "$2" 255 "buffer overflow detected"
  [[ "$OUT" == *"in-bounds checked calls work"* ]] && ok "$2: in-bounds calls work" \
    || not_ok "$2: in-bounds calls work" "they did not"
}
t_zlib() {
  local size=204800
  [ "$1" = hvt ] && size=8192   # the emulated /dev/kvm is ~1000x slower
  run "$1" zlib -- "$size"
  expect "$2" 0 SUCCESS
}

t_libc() {
  local ops=20000
  [ "$1" = hvt ] && ops=1000
  run "$1" libc -- "$ops"
  expect "$2" 0 SUCCESS
}

t_double_free() {
  run "$1" double_free -- 32
  expect "$2: small block" 255 "heap corrupted"
  run "$1" double_free -- 100000
  expect "$2: large block" 255 "heap corrupted"
}

t_block() {
  local disk=$tmp/disk.$1
  rm -f "$disk"; truncate -s 1M "$disk"
  run "$1" block --block:storage="$disk" -- 1048576
  expect "$2" 0 SUCCESS
  # What the guest wrote is in the file: block 1 holds (i * 7 + i / 256).
  local last b1
  last=$(tail -c 512 "$disk" | head -c 15)
  b1=$(od -An -tu1 -j 513 -N 1 "$disk" | tr -d ' ')
  if [ "$last" = "uweb block test" ] && [ "$b1" = 7 ]; then
    ok "$2: the file holds what the guest wrote"
  else
    not_ok "$2: the file holds what the guest wrote" "last block \"$last\", byte 513 = $b1"
  fi
}

t_manifest() {
  local t=$1 l=$2 disk=$tmp/mdisk.$1
  rm -f "$disk"; truncate -s 64K "$disk"
  run "$t" manifest --describe
  if [ "$RC" -eq 0 ] && grep -qx 'net service0' <<<"$OUT" && grep -qx 'block storage' <<<"$OUT"; then
    ok "$l: --describe lists the devices"
  else
    not_ok "$l: --describe lists the devices" "status $RC"
  fi
  run "$t" manifest --block:storage="$disk"
  expect "$l: missing net device refused" 125 service0
  [[ "$OUT" == *"guest started"* ]] && not_ok "$l: refused before the guest runs" "guest ran"
  run "$t" manifest --net:service0=uwnone0 --block:storage="$disk" --block:extra="$disk"
  expect "$l: undeclared device refused" 125 extra
  run "$t" manifest --block:service0="$disk" --net:storage=uwnone0
  expect "$l: device of the wrong type refused" 125 service0
  # The seccomp filter (spt: the guest's; hvt: the tender's own) pins
  # every descriptor: reads on the tap only, writes on the console,
  # stderr and the tap, block I/O on the file inside its 64 KiB, and on
  # hvt ioctl on the vCPU only (fds as in a run: devices 3 and 4, then
  # /dev/kvm 5, the VM 6, the vCPU 7; none of 5 or 6 may appear).
  run "$t" manifest --show-filter --net:service0=uwnone0 --block:storage="$disk"
  local want=("  read           fd in {3}  (tap devices)"
              "  pread64, pwrite64 fd 4, offset + count <= 65536  (block device)"
              "  ppoll          signal mask NULL")
  # spt guests write with writev (a frame in pieces); the hvt tender
  # writes each frame it was handed whole.
  if [ "$t" = spt ]; then
    want+=("  writev         fd in {1, 2, 3}  (console, messages, tap devices)")
  else
    want+=("  write          fd in {1, 2, 3}  (console, messages, tap devices)")
  fi
  [ "$t" = hvt ] && want+=("  ioctl          fd 7, request in {KVM_RUN, KVM_GET_REGS, KVM_GET_SREGS}")
  local w missing="" extra
  for w in "${want[@]}"; do grep -qxF -- "$w" <<<"$OUT" || missing="$w"; done
  extra=$(grep -E '^  (read|write|writev|pread64|ioctl) ' <<<"$OUT" | grep -vxF -f <(printf '%s\n' "${want[@]}"))
  if [ "$RC" -ne 0 ]; then
    not_ok "$l: --show-filter pins descriptors" "status $RC"
  elif [ -n "$missing" ] || [ -n "$extra" ]; then
    not_ok "$l: --show-filter pins descriptors" "missing \"$missing\" or unexpected \"$extra\""
  else
    ok "$l: --show-filter pins descriptors"
  fi
  if need_netns && make_tap "uwm$t"; then
    NETNS=1 run "$t" manifest --net:service0="uwm$t" --block:storage="$disk"
    expect "$l: declared devices given" 0 SUCCESS
  else
    skip "$l: declared devices given" "cannot create a network namespace with a tap device"
  fi
}

t_net() {
  local t=$1 l=$2
  if ! need_netns || ! make_tap "uwn$t"; then
    skip "$l" "cannot create a network namespace with a tap device"
    return
  fi
  local before after
  before=$(ip -n "$netns" -s -j link show "uwn$t" | python3 -c 'import json,sys; print(json.load(sys.stdin)[0]["stats64"]["rx"]["packets"])')
  NETNS=1 run "$t" net --net:service0="uwn$t" -- 5
  expect "$l" 0 SUCCESS
  after=$(ip -n "$netns" -s -j link show "uwn$t" | python3 -c 'import json,sys; print(json.load(sys.stdin)[0]["stats64"]["rx"]["packets"])')
  if [ $((after - before)) -ge 5 ]; then
    ok "$l: the host received the guest's 5 frames"
  else
    not_ok "$l: the host received the guest's 5 frames" "tap counted $((after - before))"
  fi
  # Frames in: the host pings the guest through the tap, the guest (waiting
  # in yield) answers each; every numbered ping must get its pong.
  local tender=$BUILD/uweb-$t image=$BUILD/$t/tests/unikernel/net.$t secs=30 pings
  [ "$t" = hvt ] && secs=300
  timeout -k 5 "$secs" ip netns exec "$netns" "$tender" --net:service0="uwn$t" "$image" echo 10 \
    >"$tmp/echo.$t" 2>&1 &
  local pid=$!
  pings=$(ip netns exec "$netns" timeout -k 5 "$secs" python3 - "uwn$t" <<'PY'
import os, socket, sys, time
s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(0x88b5))
s.bind((sys.argv[1], 0))
s.settimeout(0.2)
src = bytes.fromhex("02aabbccddee")
answered, k, deadline = set(), 0, time.time() + 25
while len(answered) < 10 and time.time() < deadline:
    for n in range(10):
        if n not in answered:
            payload = b"ping %d " % n + os.urandom(4).hex().encode() + b"x" * 40
            s.send(b"\xff" * 6 + src + b"\x88\xb5" + payload)
    try:
        while True:
            f = s.recv(2048)
            if f[:6] == src and f[14:18] == b"pong":
                answered.add(int(f[19:f.index(b" ", 19)]))
    except socket.timeout:
        pass
print(len(answered))
PY
)
  wait "$pid"; RC=$?
  OUT=$(cat "$tmp/echo.$t")
  expect "$l: the guest answers frames the host sends" 0 SUCCESS
  [ "${pings:-0}" = 10 ] && ok "$l: the host got all 10 answers" \
    || not_ok "$l: the host got all 10 answers" "got ${pings:-none}"
}

t_spt_sandbox() {
  local act want
  for act in getpid:39 write-fd:20 plain-write:1 read-fd:0 clock:228 ppoll-mask:271; do
    want=${act#*:}; act=${act%%:*}
    run "$1" spt_sandbox -- "$act"
    expect "$2: $act is killed" 159 "forbidden system call (nr $want)"
  done
  run "$1" spt_sandbox -- segv
  expect "$2: a bad memory access is reported" 139 "guest crashed: SIGSEGV"
  run "$1" spt_sandbox -- exec-data
  expect "$2: data is not executable" 139 "guest crashed: SIGSEGV"
  run "$1" spt_sandbox -- write-text
  expect "$2: code is not writable" 139 "guest crashed: SIGSEGV"
  run "$1" spt_sandbox -- stack
  expect "$2: a stack overflow hits the guard page" 139 "guest crashed: SIGSEGV"
  run "$1" spt_sandbox -- allowed
  expect "$2: the allowed calls work" 0 SUCCESS
}

# Devices declared by the build (UK_MANIFEST_declared in the test's
# build.mk, as an app declares them): seen by --describe, required, and
# usable; a guest that does not declare block "tls" is refused it.
t_declared() {
  local t=$1 l=$2 cert=$tmp/cert.$1
  { echo "-----BEGIN CERTIFICATE----- (test)"; head -c 2000 /dev/zero; } >"$cert"
  truncate -s 4096 "$cert"
  run "$t" declared --describe
  if [ "$RC" -eq 0 ] && [ "$OUT" = $'net service\nblock tls' ]; then
    ok "$l: --describe lists the build's devices"
  else
    not_ok "$l: --describe lists the build's devices" "status $RC"
  fi
  run "$t" declared --net:service=uwnone0
  expect "$l: started without --block:tls, refused" 125 "block device 'tls'"
  run "$t" hello --block:tls="$cert"
  expect "$l: --block:tls refused to a guest that does not declare it" 125 "declares no device 'tls'"
  if need_netns && make_tap "uwd$t"; then
    NETNS=1 run "$t" declared --net:service="uwd$t" --block:tls="$cert"
    expect "$l: --block:tls=FILE given: starts" 0 SUCCESS
    grep -qxF "tls: -----BEGIN CERTIFICATE----- (test)" <<<"$OUT" \
      && ok "$l: the guest reads the --block:tls file" \
      || not_ok "$l: the guest reads the --block:tls file" "no \"tls: ...\" line"
  else
    skip "$l: --block:tls=FILE given: starts" "cannot create a network namespace with a tap device"
  fi
  # hello declares its own devices (apps/hello/build.mk).
  local app=$BUILD/$t/apps/hello.$t
  if [ -f "$app" ]; then
    OUT=$("$BUILD/uweb-$t" --describe "$app" 2>&1); RC=$?
    [ "$RC" -eq 0 ] && [ "$OUT" = $'net service\nblock tls optional\nblock acme optional\nblock acmeca optional' ] \
      && ok "$l: hello.$t declares net service and block tls, acme, acmeca optional" \
      || not_ok "$l: hello.$t declares net service and block tls, acme, acmeca optional" "status $RC"
  else
    skip "$l: hello.$t declares net service and block tls, acme, acmeca optional" "hello.$t is not built"
  fi
}

# An optional device (block:tls? in the build): listed as optional,
# started without it (acquire gives EINVAL) and with it; the required one
# beside it is still required.
t_optional() {
  local t=$1 l=$2 data=$tmp/data.$1 cert=$tmp/opt-cert.$1
  truncate -s 512 "$data"
  truncate -s 1024 "$cert"
  run "$t" optional --describe
  if [ "$RC" -eq 0 ] && [ "$OUT" = $'block tls optional\nblock data' ]; then
    ok "$l: --describe marks the optional device"
  else
    not_ok "$l: --describe marks the optional device" "status $RC"
  fi
  run "$t" optional --block:data="$data"
  [[ "$OUT" == *"tls: absent"* ]] || RC=1
  expect "$l: starts without the optional device, acquire gives EINVAL" 0 SUCCESS
  run "$t" optional --block:data="$data" --block:tls="$cert"
  [[ "$OUT" == *"tls: attached, 1024 bytes"* ]] || RC=1
  expect "$l: the optional device given is attached" 0 SUCCESS
  run "$t" optional --block:tls="$cert"
  expect "$l: the required device is still required" 125 "block device 'data'"
}

# Two boots get different seeds (32 bytes each, 64 hex digits).
t_seed() {
  local s1 s2
  run "$1" seed; expect "$2" 0 SUCCESS
  s1=$(sed -n 's/^seed: \([0-9a-f]\{64\}\)$/\1/p' <<<"$OUT")
  run "$1" seed
  s2=$(sed -n 's/^seed: \([0-9a-f]\{64\}\)$/\1/p' <<<"$OUT")
  if [ -z "$s1" ] || [ -z "$s2" ]; then
    not_ok "$2: two boots get different seeds" "no seed line"
  elif [ "$s1" = "$s2" ]; then
    not_ok "$2: two boots get different seeds" "both $s1"
  else
    ok "$2: two boots get different seeds"
  fi
}

# Raw pread64/pwrite64 past the device: killed, the file keeps its size.
t_spt_block_escape() {
  local disk=$tmp/escape.img act size
  rm -f "$disk"; truncate -s 1M "$disk"
  for act in past-end far straddle carry wrap huge-offset huge-count read-past; do
    run "$1" spt_block_escape --block:storage="$disk" -- "$act"
    local nr=18; [ "$act" = read-past ] && nr=17
    expect "$2: $act is killed" 159 "forbidden system call (nr $nr)"
  done
  size=$(stat -c %s "$disk")
  [ "$size" = 1048576 ] && ok "$2: the file did not grow" \
    || { OUT=""; not_ok "$2: the file did not grow" "it is $size bytes"; }
  run "$1" spt_block_escape --block:storage="$disk" -- last
  expect "$2: the last block is writable" 0 SUCCESS
  # Over 4 GiB (sparse): the 64-bit sum with a carry out of the low half.
  rm -f "$disk"; truncate -s $((4 * 1024 * 1024 * 1024 + 1024 * 1024)) "$disk"
  run "$1" spt_block_escape --block:storage="$disk" -- cross-4g
  expect "$2: I/O across 4 GiB inside a larger device works" 0 SUCCESS
  run "$1" spt_block_escape --block:storage="$disk" -- past-end
  expect "$2: past the end of a 4 GiB + 1 MiB device is killed" 159 "forbidden system call (nr 18)"
  rm -f "$disk"
}

# The tender's environment and command line are not in its memory: a
# marker in an environment variable, the image's directory and the
# guest's argument, searched for by the guest (stdout must be a pipe).
t_spt_secrets() {
  local marker dir
  marker=uwsecret$(od -An -N6 -tx1 /dev/urandom | tr -d ' \n')
  dir=$tmp/$marker-dir; mkdir -p "$dir"
  cp "$BUILD/$1/tests/unikernel/spt_secrets.$1" "$dir/"
  OUT=$( (env UWEB_TEST_SECRET="$marker-env" timeout -k 5 60 "$BUILD/uweb-$1" \
          "$dir/spt_secrets.$1" "$marker" | cat >/dev/null) 2>&1; exit "${PIPESTATUS[0]}")
  RC=$?
  expect "$2: no environment or argv left in the tender's memory" 0 SUCCESS
}

# TLS in memory; on hvt one handshake only (slow on an emulated /dev/kvm).
t_tls() {
  if [ "$1" = hvt ]; then run "$1" tls -- --one; else run "$1" tls; fi
  expect "$2" 0 SUCCESS
}

# Folders without a case: `expect` and `tender-args` files, or SUCCESS.
t_default() {
  local t=$1 l=$2 dir=tests/unikernel/$3 status=0 text=SUCCESS targs=()
  if [ -f "$dir/expect" ]; then
    read -r status text <"$dir/expect"
  fi
  [ -f "$dir/tender-args" ] && read -r -a targs <"$dir/tender-args"
  run "$t" "$3" "${targs[@]}"
  expect "$l" "$status" "$text"
}

# Bad images: the tender refuses each with 125 and one line, never runs it.
t_images() {
  local t=$1 l=$2 img=$BUILD/$1/tests/unikernel/hello.$1 bad=$tmp/bad.$1
  check_image() {  # check_image WHAT: runs the tender on $bad
    OUT=$(timeout -k 5 60 "$BUILD/uweb-$t" "$bad" 2>&1); RC=$?
    expect "$l: $1 refused" 125 "uweb-$t: "
  }
  printf 'not an image\n' >"$bad"; check_image "a text file"
  head -c 200 "$img" >"$bad"; check_image "a truncated image"
  cp /bin/true "$bad"; check_image "a dynamic host program"
  # The manifest's ABI version (the word after the magic "umft") bumped.
  python3 - "$img" "$bad" <<'PY'
import sys
d = bytearray(open(sys.argv[1], "rb").read())
i = d.find(b"uweb-mft\0\0\0\0umft")
d[i + 16] += 1
open(sys.argv[2], "wb").write(d)
PY
  check_image "another ABI version"
  # The manifest note's owner renamed: no manifest.
  python3 - "$img" "$bad" <<'PY'
import sys
d = bytearray(open(sys.argv[1], "rb").read())
i = d.find(b"uweb-mft\0\0\0\0umft")
d[i:i + 8] = b"xxxx-mft"
open(sys.argv[2], "wb").write(d)
PY
  check_image "an image without a manifest"
  # A loadable segment moved below the guest base (first PT_LOAD's p_vaddr).
  python3 - "$img" "$bad" <<'PY'
import struct, sys
d = bytearray(open(sys.argv[1], "rb").read())
phoff, = struct.unpack_from("<Q", d, 32)
phnum, = struct.unpack_from("<H", d, 56)
for k in range(phnum):
    o = phoff + 56 * k
    if struct.unpack_from("<I", d, o)[0] == 1:          # PT_LOAD
        struct.pack_into("<Q", d, o + 16, 0x1000)       # p_vaddr
        break
open(sys.argv[2], "wb").write(d)
PY
  check_image "a segment outside guest memory"
  # A writable and executable segment.
  python3 - "$img" "$bad" <<'PY'
import struct, sys
d = bytearray(open(sys.argv[1], "rb").read())
phoff, = struct.unpack_from("<Q", d, 32)
phnum, = struct.unpack_from("<H", d, 56)
for k in range(phnum):
    o = phoff + 56 * k
    if struct.unpack_from("<I", d, o)[0] == 1:
        struct.pack_into("<I", d, o + 4, 7)             # p_flags = RWX
        break
open(sys.argv[2], "wb").write(d)
PY
  check_image "a writable and executable segment"
  # Two loadable segments at one address (the second PT_LOAD moved onto
  # the first): a later one would silently overwrite the earlier one.
  python3 - "$img" "$bad" <<'PY'
import struct, sys
d = bytearray(open(sys.argv[1], "rb").read())
phoff, = struct.unpack_from("<Q", d, 32)
phnum, = struct.unpack_from("<H", d, 56)
loads = [phoff + 56 * k for k in range(phnum) if struct.unpack_from("<I", d, phoff + 56 * k)[0] == 1]
first, = struct.unpack_from("<Q", d, loads[0] + 16)
struct.pack_into("<QQ", d, loads[1] + 16, first, first)    # p_vaddr, p_paddr
open(sys.argv[2], "wb").write(d)
PY
  OUT=$(timeout -k 5 60 "$BUILD/uweb-$t" "$bad" 2>&1); RC=$?
  expect "$l: overlapping loadable segments refused" 125 "overlap"
  # Corrupted images (random bytes in the ELF header, the program headers
  # and the manifest note; not in the code, which may then just loop):
  # the tender refuses them with its one line or runs them, and
  # whatever the guest then does is reported; the tender itself never
  # dies of a signal unannounced, never hangs.
  local n=300 k bad_runs=0 first=""
  [ "$t" = hvt ] && n=60
  python3 - "$img" "$tmp/mut.$t" "$n" <<'PY'
import random, sys
random.seed(20261121)
d = open(sys.argv[1], "rb").read()
note = d.find(b"uweb-mft") - 12
regions = [(0, 64 + 56 * 8), (note, note + 24 + 16 + 64)]   # headers; the note
for k in range(int(sys.argv[3])):
    m = bytearray(d)
    for _ in range(random.randint(1, 8)):
        lo, hi = random.choice(regions)
        i = random.randrange(lo, hi)
        m[i] = random.randrange(256) if random.random() < 0.7 else random.choice([0, 0xff, 0x7f, 0x80])
    open(f"{sys.argv[2]}.{k}", "wb").write(m)
PY
  for ((k = 0; k < n; k++)); do
    OUT=$(timeout -k 2 20 "$BUILD/uweb-$t" "$tmp/mut.$t.$k" 2>&1 </dev/null | tr -d '\0'; exit "${PIPESTATUS[0]}"); RC=$?
    if [ "$RC" -eq 124 ] || [ "$RC" -eq 137 ] || { [ "$RC" -gt 128 ] && [ "$RC" -ne 255 ] && [[ "$OUT" != *"uweb-$t: "* ]]; }; then
      bad_runs=$((bad_runs + 1))
      [ -z "$first" ] && first="image $k: status $RC"
    fi
  done
  rm -f "$tmp/mut.$t".*
  if [ "$bad_runs" -eq 0 ]; then
    ok "$l: $n corrupted images refused or reported"
  else
    OUT=""; not_ok "$l: $n corrupted images refused or reported" "$bad_runs unannounced deaths or hangs, first $first"
  fi
  OUT=$(timeout -k 5 60 "$BUILD/uweb-$t" --mem=1 "$img" 2>&1); RC=$?
  expect "$l: --mem=1 refused" 125 "uweb-$t: "
  OUT=$(timeout -k 5 60 "$BUILD/uweb-$t" --bogus "$img" 2>&1); RC=$?
  expect "$l: an unknown option refused" 125 "uweb-$t: "
  OUT=$("$BUILD/uweb-$t" --help 2>&1); RC=$?
  expect "$l: --help" 0 "SYNOPSIS"
}

# ---------------------------------------------------------------- main
for target in $TARGETS; do
  why=$(unavailable "$target" hello)
  if [ -n "$why" ]; then
    skip "image checks on $target" "$why"
  else
    t_images "$target" "image checks on $target"
  fi
done
for dir in tests/unikernel/*/; do
  name=$(basename "$dir")
  [ -f "$dir/main.c" ] || continue
  for target in $TARGETS; do
    case "$name" in
      hvt_*) [ "$target" = hvt ] || continue ;;
      spt_*) [ "$target" = spt ] || continue ;;
    esac
    label="$name on $target"
    why=$(unavailable "$target" "$name")
    if [ -n "$why" ]; then
      skip "$label" "$why"
      continue
    fi
    if declare -F "t_$name" >/dev/null; then
      "t_$name" "$target" "$label"
    else
      t_default "$target" "$label" "$name"
    fi
  done
done
exit 0
