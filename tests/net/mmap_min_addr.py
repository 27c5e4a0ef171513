#!/usr/bin/env python3
"""spt guests on hosts with a higher vm.mmap_min_addr: uweb-spt maps guest
memory at 4 MiB (platform/spt/spt_abi.h), so a guest starts and answers
with vm.mmap_min_addr at 65536 (Debian's default), 1 MiB and 4 MiB; just
above 4 MiB the tender refuses with its one line, which shows the setting
was in force.  The tender runs without CAP_SYS_RAWIO (setpriv): with it,
root may map below vm.mmap_min_addr and the limit would not be tested.

vm.mmap_min_addr is one setting for the whole machine: each value is
kept only until the guest has mapped its memory (its listening line),
and the old value is put back in every case.  uweb-test: alone

In a network namespace of its own (tests/lib/uwnetns.py) with the tap
uwmm0 (10.91.0.1/24 on the host side, the guest at 10.91.0.2).
"""
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
from uwtest import T, BUILD  # noqa: E402
from uwnetns import run_inside  # noqa: E402

t = T()
SPT = os.path.join(BUILD, "uweb-spt")
HELLO = os.path.join(BUILD, "spt", "apps", "hello.spt")
TAP, HOST, GUEST = "uwmm0", "10.91.0.1", "10.91.0.2"
SETTING = "/proc/sys/vm/mmap_min_addr"
GUEST_BASE = 0x400000     # UW_SPT_GUEST_BASE


def outside():
    t.require_built(SPT, HELLO)
    run_inside(t, "spt under a higher vm.mmap_min_addr", "uwmm", [(TAP, f"{HOST}/24")])


def set_min(v):
    with open(SETTING, "w") as f:
        f.write(f"{v}\n")


def start(value, old):
    """hello.spt started with vm.mmap_min_addr = VALUE (OLD put back once
    the guest mapped its memory or ended): (process, its first line)."""
    argv = ["setpriv", "--bounding-set=-sys_rawio", SPT, f"--net:service={TAP}", "--", HELLO,
            f"--ipv4={GUEST}/24", "--quiet"]
    err = tempfile.TemporaryFile()
    try:
        set_min(value)
        p = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=err)
        line, done = [], threading.Event()

        def first():
            line.append(p.stdout.readline())
            done.set()
            for _ in p.stdout:
                pass
        threading.Thread(target=first, daemon=True).start()
        done.wait(15)
    finally:
        set_min(old)
    err.seek(0)
    return p, (line[0] if line else b"").decode(errors="replace") + err.read().decode(errors="replace")


def stop(p):
    if p.poll() is None:
        p.kill()
    p.wait()


def inside():
    try:
        with open(SETTING) as f:
            old = int(f.read())
        set_min(old)
    except OSError as x:
        t.skip("spt under a higher vm.mmap_min_addr", f"{SETTING} cannot be written: {x}")
        return
    if not shutil.which("setpriv"):
        t.skip("spt under a higher vm.mmap_min_addr", "setpriv(1) is not installed (util-linux)")
        return
    try:
        for value in (65536, 1 << 20, GUEST_BASE):
            name = f"spt: with vm.mmap_min_addr={value} hello starts and answers curl http://{GUEST}/"
            p, out = start(value, old)
            try:
                if not t.check(f"spt: with vm.mmap_min_addr={value} hello starts and listens",
                               "listening on" in out and p.poll() is None, out[-300:]):
                    continue
                r = subprocess.run(["curl", "-sS", "-f", "-m", "10", f"http://{GUEST}/"], capture_output=True)
                t.check(name, r.returncode == 0 and r.stdout == b"Hello World!\n",
                        r.stderr.decode(errors="replace") or r.stdout[:100])
            finally:
                stop(p)
        value = GUEST_BASE + 0x1000
        p, out = start(value, old)
        try:
            p.wait(15)
        except subprocess.TimeoutExpired:
            pass
        t.check(f"spt: with vm.mmap_min_addr={value} (above guest memory) the tender refuses "
                "with one line (status 125)", p.poll() == 125
                and "uweb-spt: cannot map 32 MiB of guest memory at 0x400000" in out, f"status {p.poll()}: {out[-300:]}")
        stop(p)
    finally:
        set_min(old)
    with open(SETTING) as f:
        now = int(f.read())
    t.check(f"vm.mmap_min_addr is back at {old}", now == old, f"it is {now}")


if "--inside" not in sys.argv:
    outside()
else:
    inside()
t.done()
