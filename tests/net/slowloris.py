#!/usr/bin/env python3
"""A unikernel under a slowloris: hello.spt with the default --mem=32 and
1,000 clients that open a connection, send part of a request head and
then one header line now and then, never finishing it.  The guest must
stay up, answer a new client (curl) while they hold on, and answer one
within a couple of seconds after they are gone.  Prints the guest's
memory (the tender's resident set, which is the guest memory touched)
before, under and after the slowloris.

Like tests/net/unikernel.py it makes a network namespace (tests/lib/uwnetns.py) with a tap
device (10.82.0.1/24 on the host side, the guest at 10.82.0.2), runs
itself inside it and removes it at the end.
"""
import os
import resource
import selectors
import socket
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
TAP, HOST, GUEST = "uwslt0", "10.82.0.1", "10.82.0.2"
CLIENTS = 1000


def outside():
    t.require_built(SPT, HELLO)
    run_inside(t, "slowloris on a unikernel", "uwsl", [(TAP, f"{HOST}/24")])


def rss_kib(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return -1


def curl_ok(timeout=5):
    """A new client: curl GET /, True when Hello World came back."""
    p = subprocess.run(["curl", "-sS", "-m", str(timeout), f"http://{GUEST}:8080/"], capture_output=True)
    return (p.returncode == 0 and p.stdout == b"Hello World!\n",
            p.stderr.decode(errors="replace").strip() or repr(p.stdout[:80]))


class Slowloris:
    """CLIENTS connections, each sending a request line and then one
    header line every few seconds from its own thread of selectors."""

    def __init__(self):
        self.socks = []
        self.failed = 0
        self.reopened = 0
        self.stop = threading.Event()

    def open(self):
        sel = selectors.DefaultSelector()
        for _ in range(CLIENTS):
            s = socket.socket()
            s.setblocking(False)
            s.connect_ex((GUEST, 8080))
            sel.register(s, selectors.EVENT_WRITE)
        pending, end = CLIENTS, time.time() + 20
        while pending and time.time() < end:
            for key, _ in sel.select(1):
                s = key.fileobj
                sel.unregister(s)
                pending -= 1
                if s.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR) != 0:
                    self.failed += 1
                    s.close()
                    continue
                try:
                    s.send(b"GET / HTTP/1.1\r\nHost: x\r\n")
                    self.socks.append(s)
                except OSError:
                    self.failed += 1
                    s.close()
        for key in list(sel.get_map().values()):
            self.failed += 1
            key.fileobj.close()
        sel.close()

    def trickle(self):
        """One header line on every connection every 2 s; a connection the
        guest closed (408, 503) is opened again and starts a new head, so
        CLIENTS stay on it all the time."""
        i = 0
        fresh = set()
        while not self.stop.wait(2):
            for k, s in enumerate(self.socks):
                try:
                    if s in fresh:
                        s.send(b"GET / HTTP/1.1\r\nHost: x\r\n")
                        fresh.discard(s)
                        continue
                    try:
                        if s.recv(4096, socket.MSG_DONTWAIT) == b"":
                            raise OSError("closed")
                    except BlockingIOError:
                        pass
                    s.send(b"X-%d: a\r\n" % i)
                except OSError:
                    s.close()
                    n = socket.socket()
                    n.setblocking(False)
                    n.connect_ex((GUEST, 8080))
                    self.socks[k] = n
                    fresh.add(n)
                    self.reopened += 1
            i += 1

    def close(self):
        self.stop.set()
        for s in self.socks:
            s.close()


def inside():
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (max(soft, min(hard, CLIENTS + 512)), hard))
    out = tempfile.TemporaryFile()
    g = subprocess.Popen([SPT, f"--net:service={TAP}", "--", HELLO, f"--ipv4={GUEST}/24", "--port=8080"],
                         stdout=out, stderr=subprocess.STDOUT)
    try:
        end = time.time() + 10
        ok, why = False, ""
        while time.time() < end and not ok:
            ok, why = curl_ok(1)
        if not t.check("slowloris: hello.spt (--mem=32, the default) starts and answers", ok, why):
            return
        before = rss_kib(g.pid)
        sl = Slowloris()
        start = time.time()
        sl.open()
        print(f"# {len(sl.socks)} slowloris connections open after {time.time() - start:.1f} s, "
              f"{sl.failed} failed", flush=True)
        th = threading.Thread(target=sl.trickle, daemon=True)
        th.start()
        during = []
        for _ in range(8):       # over 12 s: past the head timeout, with clients coming back
            time.sleep(1.5)
            during.append(curl_ok(3))
            if not during[-1][0]:
                print(f"# curl failed {time.time() - start:.1f} s after the slowloris started", flush=True)
        under = rss_kib(g.pid)
        t.check(f"slowloris: {CLIENTS} clients opened connections and sent part of a head",
                len(sl.socks) >= CLIENTS * 9 // 10, f"{len(sl.socks)} open, {sl.failed} failed")
        t.check("slowloris: the guest stays up under them", g.poll() is None,
                out.seek(0) or out.read()[-300:])
        t.check("slowloris: new clients are answered while they hold on (8 curls over 12 s)",
                all(ok for ok, _ in during), f"{sum(ok for ok, _ in during)} of 8: " +
                "; ".join(w for ok, w in during if not ok))
        print(f"# slowloris connections the guest closed and the clients opened again: {sl.reopened}", flush=True)
        sl.close()
        closed = time.time()
        after_ok, why = False, ""
        while not after_ok and time.time() - closed < 2:
            after_ok, why = curl_ok(1)
        took = time.time() - closed
        t.check("slowloris: a new client is answered within 2 s after they closed", after_ok,
                f"{why} after {took:.1f} s")
        time.sleep(2)
        answered = sum(curl_ok(2)[0] for _ in range(20))
        t.check("slowloris: 20 more clients answered afterwards", answered == 20, f"{answered} of 20")
        t.check("slowloris: the guest is still up", g.poll() is None)
        print(f"# guest memory touched (tender RSS): {before} KiB before, {under} KiB with "
              f"{len(sl.socks)} slowloris connections ({(under - before) / max(1, len(sl.socks)):.1f} KiB each), "
              f"{rss_kib(g.pid)} KiB after", flush=True)
    finally:
        g.kill()
        g.wait()
        if os.environ.get("UWEB_VERBOSE"):
            out.seek(0)
            lines = out.read().decode(errors="replace").splitlines()
            kinds = {}
            for ln in lines:
                k = ln.split(":", 2)[1] if ln.count(":") >= 2 else ln
                kinds[k] = kinds.get(k, 0) + 1
            for ln in lines:
                if "408" not in ln and "400" not in ln:
                    print("# guest: " + ln)
            for k, n in sorted(kinds.items(), key=lambda x: -x[1])[:10]:
                print(f"# guest: {n} x {k}")


if __name__ == "__main__":
    if sys.argv[1:] == ["--inside"]:
        inside()
    else:
        outside()
    t.done()
