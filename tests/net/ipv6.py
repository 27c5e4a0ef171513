#!/usr/bin/env python3
"""IPv6 on the unikernels: hello as an spt guest with --ipv6 in a network
namespace of its own (tap uw6aN, the host at 10.84.N.1 and fd00:84:N::1,
the guest at .2 / ::2).  Checks: a static --ipv6=ADDR/PREFIX answers
ping -6 and curl -6, and IPv4 still (the service listens on both
families, its line says [::]); --ipv6-gateway: an answer to a client
address off the link (on the host's lo) goes by the gateway; --ipv6=slaac
takes the prefix of a router advertisement (dnsmasq --enable-ra on the
host side; skipped without dnsmasq), says the address it formed, and
answers curl -6 there; malformed values are refused with status 2.
"""
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
from uwtest import T, BUILD  # noqa: E402
from uwnetns import run_inside  # noqa: E402

t = T()
SPT = os.path.join(BUILD, "uweb-spt")
HELLO = os.path.join(BUILD, "spt", "apps", "hello.spt")
TAPS = [(f"uw6a{i}", f"10.84.{i}.1/24") for i in range(3)]


class Guest:
    """hello.spt on tap uw6aN with ARGS; waits for its listening line."""

    def __init__(self, n, *args):
        self.out = tempfile.NamedTemporaryFile()
        self.proc = subprocess.Popen([SPT, f"--net:service=uw6a{n}", "--", HELLO,
                                      f"--ipv4=10.84.{n}.2/24", "--port=8080", *args],
                                     stdout=self.out, stderr=subprocess.STDOUT)
        self.ready = self.wait(r"listening on http://\S+", 10)

    def text(self):
        with open(self.out.name, "rb") as f:
            return f.read().decode(errors="replace")

    def wait(self, pattern, timeout):
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            m = re.search(pattern, self.text())
            if m:
                return m
            if self.proc.poll() is not None:
                return None
            time.sleep(0.05)
        return None

    def stop(self):
        if self.proc.poll() is None:
            self.proc.kill()
        self.proc.wait()


def sh(*cmd):
    return subprocess.run(cmd, capture_output=True, text=True)


def curl(url, *args):
    r = sh("curl", "-sS", "-m", "5", *args, url)
    return r.returncode == 0 and r.stdout == "Hello World!\n", (r.stderr or r.stdout)[-200:]


def ping6(addr):
    # the address goes through duplicate address detection (about a second) first
    r = None
    for _ in range(5):
        r = sh("ping", "-6", "-c", "2", "-i", "0.2", "-W", "1", addr)
        if r.returncode == 0:
            break
    return r.returncode == 0, r.stdout[-200:]


def test_static():
    for tap, _ in TAPS[:2]:
        n = tap[-1]
        sh("ip", "addr", "add", f"fd00:84:{n}::1/64", "dev", tap, "nodad")
    g = Guest(0, "--ipv6=fd00:84:0::2/64")
    try:
        if not t.check("ipv6: hello with --ipv6 listens on [::]", g.ready and "[::]" in g.ready.group(0),
                       g.text()[-300:]):
            return
        t.check("ipv6: ping -6 the static address", *ping6("fd00:84:0::2"))
        t.check("ipv6: the address's line once detection passed",
                g.wait(r"uweb: IPv6: address fd00:84::2\n", 3) is not None, g.text()[-300:])
        t.check("ipv6: curl -6 GET / on hello", *curl("http://[fd00:84:0::2]:8080/", "-6"))
        t.check("ipv6: IPv4 on the same listener", *curl("http://10.84.0.2:8080/", "-4"))
    finally:
        g.stop()
    # a client address off the link: the answer goes to --ipv6-gateway (the host)
    sh("ip", "addr", "add", "fd00:99::1/128", "dev", "lo")
    g = Guest(1, "--ipv6=fd00:84:1::2/64", "--ipv6-gateway=fd00:84:1::1")
    try:
        if t.check("ipv6: hello with --ipv6-gateway listens", g.ready is not None, g.text()[-300:]):
            ping6("fd00:84:1::2")
            t.check("ipv6: a client off the link answered by the gateway",
                    *curl("http://[fd00:84:1::2]:8080/", "--interface", "fd00:99::1"))
    finally:
        g.stop()


def test_slaac():
    if not shutil.which("dnsmasq"):
        t.skip("ipv6: --ipv6=slaac takes an advertised prefix", "dnsmasq is not installed (dnsmasq-base)")
        return
    sh("ip", "addr", "add", "fd00:84:2::1/64", "dev", "uw6a2", "nodad")
    ra = subprocess.Popen(["dnsmasq", "--no-daemon", "--conf-file=/dev/null", "--port=0", "--interface=uw6a2",
                           "--bind-interfaces", "--enable-ra", "--dhcp-range=fd00:84:2::,ra-only,64"],
                          stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    g = Guest(2, "--ipv6=slaac")
    try:
        m = g.wait(r"uweb: IPv6: address (fd00:84:2:[0-9a-f:]+) \(SLAAC\)\n", 20) if g.ready else None
        if not t.check("ipv6: --ipv6=slaac takes an advertised prefix", m is not None, g.text()[-300:]):
            return
        addr = m.group(1)
        t.check("ipv6: ping -6 the SLAAC address", *ping6(addr))
        t.check("ipv6: curl -6 on the SLAAC address", *curl(f"http://[{addr}]:8080/", "-6"))
    finally:
        g.stop()
        ra.kill()
        ra.wait()


def test_refused():
    for bad in ("--ipv6=fd00::2", "--ipv6=fd00::2/129", "--ipv6=10.0.0.2/24", "--ipv6=ff02::1/64",
                "--ipv6-gateway=nonsense"):
        # the guest's stderr comes out on the tender's console (stdout)
        r = subprocess.run([SPT, "--net:service=uw6a0", "--", HELLO, bad], stdout=subprocess.PIPE,
                           stderr=subprocess.STDOUT, text=True, timeout=10)
        lines = r.stdout.strip().splitlines()
        t.check(f"ipv6: {bad} refused with status 2 and one line", r.returncode == 2 and len(lines) == 1
                and "--ipv6" in lines[0], f"status {r.returncode}: {r.stdout[-200:]}")


if "--inside" not in sys.argv:
    t.require_built(SPT, HELLO)
    if not shutil.which("ping") or not shutil.which("curl"):
        t.skip("ipv6 on the unikernels", "needs ping and curl")
        t.done()
    run_inside(t, "ipv6 on the unikernels", "uw6", TAPS)

test_static()
test_slaac()
test_refused()
t.done()
