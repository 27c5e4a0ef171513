"""Runs a test script again inside a network namespace of its own with tap
devices, for the tests in tests/net/ (root needed):

    from uwnetns import run_inside
    if "--inside" not in sys.argv:
        run_inside(t, "unikernel networking", "uwsl", [("uwslt0", "10.82.0.1/24")])   # does not return
    ... the checks, run in the namespace ...

Missing root, /dev/net/tun or ip(8), or a namespace that cannot be made,
are a "skipped" line; the namespace is removed at the end.  The exit
status is the inner run's.
"""
import os
import shutil
import subprocess
import sys


def run_inside(t, what, prefix, taps):
    """Creates namespace PREFIX<pid> with lo up and each (TAP, HOST_ADDR/PREFIXLEN)
    of taps, re-runs sys.argv[0] with --inside in it, exits with its status."""
    if os.geteuid() != 0:
        t.skip(what, "needs root for a network namespace and tap devices")
        t.done()
    if not os.path.exists("/dev/net/tun") or not shutil.which("ip"):
        t.skip(what, "no /dev/net/tun or no ip(8)")
        t.done()
    ns = f"{prefix}{os.getpid()}"
    if subprocess.run(["ip", "netns", "add", ns], capture_output=True).returncode != 0:
        t.skip(what, "cannot create a network namespace (ip netns add)")
        t.done()
    try:
        cmds = [["ip", "-n", ns, "link", "set", "lo", "up"]]
        for tap, addr in taps:
            cmds += [["ip", "-n", ns, "tuntap", "add", "dev", tap, "mode", "tap"],
                     ["ip", "-n", ns, "addr", "add", addr, "dev", tap],
                     ["ip", "-n", ns, "link", "set", tap, "up"]]
        for c in cmds:
            r = subprocess.run(c, capture_output=True)
            if r.returncode != 0:
                t.skip(what, f"cannot set up a tap device: {' '.join(c)}: {r.stderr.decode().strip()}")
                t.done()
        r = subprocess.run(["ip", "netns", "exec", ns, sys.executable, os.path.abspath(sys.argv[0]), "--inside"])
        sys.exit(r.returncode)
    finally:
        subprocess.run(["ip", "netns", "del", ns], capture_output=True)
