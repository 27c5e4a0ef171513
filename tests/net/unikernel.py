#!/usr/bin/env python3
"""Unikernel networking: uweb's apps as spt and hvt unikernels with their
own TCP/IP stack (lwIP) on a tap device, answering real clients.

The test creates a network namespace with one tap device per guest
(10.81.N.1/24 on the host side, the guest at 10.81.N.2), runs itself
again inside it, and removes the namespace at the end.  Checks: ping;
curl GET / on hello via spt; many concurrent connections; the guest
keeps serving after clients reset; 16 different pipelined requests
(ranges of crunchzip's style.css, 404s) answered in order; two
pipelined uploads (Content-Length, read in place from lwIP's buffers,
then chunked) and a GET in one write; Crunch & Zip's
POST /upload through spt checked with unzip (skipped, with the reason,
when unzip is missing), and 1 GiB through a guest with --mem=32; without
--ipv4 a lease from dnsmasq on the tap's host side, and a guest with no
DHCP server saying so; on hvt (a smoke test: KVM may be emulated in
software here) hello answers curl.  A tender, app image or test guest
that is not built is a failure; no root, no tap device or no usable
/dev/kvm is a skip.
"""
import errno
import io
import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
import zipfile

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
from uwtest import T, BUILD, ROOT, read_all  # noqa: E402

t = T()
SPT = os.path.join(BUILD, "uweb-spt")
HVT = os.path.join(BUILD, "uweb-hvt")
# The apps' port on the unikernels when no --port is given (the tutorial's
# curl http://ADDR/); unix keeps 8080.
PORT = 80
ZIPGEN = os.path.join(BUILD, "tests", "zip", "zipgen")
TCP_CLIENT = os.path.join(BUILD, "spt", "tests", "net", "tcp_client.spt")


def image(target, app):
    return os.path.join(BUILD, target, "apps", f"{app}.{target}")


# ------------------------------------------------------------ outside

def outside():
    if os.geteuid() != 0:
        t.skip("unikernel networking", "needs root for a network namespace and tap devices")
        t.done()
    if not os.path.exists("/dev/net/tun") or not shutil.which("ip"):
        t.skip("unikernel networking", "no /dev/net/tun or no ip(8)")
        t.done()
    # uweb's own parts: missing is a failure (make unikernel-apps-spt unikernel-apps-hvt).
    t.require_built(SPT, HVT, ZIPGEN, *(image(tg, a) for tg in ("spt", "hvt") for a in ("hello", "crunchzip")),
                    TCP_CLIENT)
    ns = f"uwnet{os.getpid()}"
    if subprocess.run(["ip", "netns", "add", ns], capture_output=True).returncode != 0:
        t.skip("unikernel networking", "cannot create a network namespace (ip netns add)")
        t.done()
    try:
        cmds = [["ip", "-n", ns, "link", "set", "lo", "up"]]
        for i in range(6):
            cmds += [["ip", "-n", ns, "tuntap", "add", "dev", f"uwtap{i}", "mode", "tap"],
                     ["ip", "-n", ns, "addr", "add", f"10.81.{i}.1/24", "dev", f"uwtap{i}"],
                     ["ip", "-n", ns, "link", "set", f"uwtap{i}", "up"]]
        for c in cmds:
            r = subprocess.run(c, capture_output=True)
            if r.returncode != 0:
                t.skip("unikernel networking", f"cannot set up a tap device: {' '.join(c)}: "
                       f"{r.stderr.decode().strip()}")
                t.done()
        r = subprocess.run(["ip", "netns", "exec", ns, sys.executable, os.path.abspath(__file__), "--inside"])
        sys.exit(r.returncode)
    finally:
        subprocess.run(["ip", "netns", "del", ns], capture_output=True)


# ------------------------------------------------------------ inside

class Guest:
    """A unikernel app on tap uwtapN at 10.81.N.2, on the unikernels' default
    port PORT: no --port, as in the tutorial (with ipv4=False: no --ipv4, the
    guest asks for a lease by DHCP)."""

    def __init__(self, target, app, n, mem=None, timeout=10.0, ipv4=True):
        self.addr = f"10.81.{n}.2"
        self.url = f"http://{self.addr}"
        tender = SPT if target == "spt" else HVT
        argv = [tender] + ([f"--mem={mem}"] if mem else []) + \
            [f"--net:service=uwtap{n}", "--", image(target, app)] + \
            ([f"--ipv4={self.addr}/24"] if ipv4 else []) + ["--quiet"]
        self.out = tempfile.TemporaryFile()
        self.started = time.monotonic()
        self.proc = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=self.out)
        self.ready = False
        line = []
        done = threading.Event()

        def first_line():
            line.append(self.proc.stdout.readline())
            done.set()
        threading.Thread(target=first_line, daemon=True).start()
        done.wait(timeout)
        self.ready = bool(line) and b"listening on" in line[0]
        self.first = line[0] if line else b""
        # keep the console drained, its lines kept for text()
        self.lines = []

        def drain():
            for ln in self.proc.stdout:
                self.lines.append(ln)
        threading.Thread(target=drain, daemon=True).start()

    def text(self):
        """Everything the guest wrote so far (console and stderr)."""
        err = os.pread(self.out.fileno(), os.fstat(self.out.fileno()).st_size, 0)
        return (self.first + b"".join(self.lines) + err).decode(errors="replace")

    def alive(self):
        return self.proc.poll() is None

    def log(self):
        self.out.seek(0)
        return (self.first + self.out.read()).decode(errors="replace")[-400:]

    def stop(self):
        if self.proc.poll() is None:
            self.proc.kill()
        self.proc.wait()


def cpu_ns(pid):
    total = 0
    for task in os.listdir(f"/proc/{pid}/task"):
        with open(f"/proc/{pid}/task/{task}/schedstat") as f:
            total += int(f.read().split()[0])
    return total


def curl(*args, timeout=60):
    p = subprocess.run(["curl", "-sS", *args], capture_output=True, timeout=timeout)
    return p.returncode, p.stdout, p.stderr.decode(errors="replace")


def get(addr, path="/", timeout=5.0):
    with socket.create_connection((addr, PORT), timeout=timeout) as s:
        s.sendall(f"GET {path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n".encode())
        return read_all(s, timeout)


def reset(s):
    s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\x00\x00\x00\x00\x00\x00\x00")
    s.close()


def test_spt_hello():
    g = Guest("spt", "hello", 0, mem=64)
    try:
        if not t.check("spt: hello starts and listens", g.ready, g.log()):
            return
        if shutil.which("ping"):
            r = subprocess.run(["ping", "-c", "3", "-i", "0.2", "-W", "2", g.addr], capture_output=True)
            t.check("spt: the guest answers ping", r.returncode == 0, r.stdout.decode()[-200:])
        else:
            t.skip("spt: the guest answers ping", "ping(8) is not installed (iputils-ping)")
        t.check("spt: hello without --port listens on port 80", f"http://{g.addr}:80/".encode() in g.first,
                g.first)
        rc, out, err = curl("-f", g.url + "/")
        t.check("spt: curl http://ADDR/ (port 80, no --port) on hello says Hello World!",
                rc == 0 and out == b"Hello World!\n", err or out)

        # idle: the guest waits in the platform's yield, no busy loop
        before = cpu_ns(g.proc.pid)
        time.sleep(2)
        used = cpu_ns(g.proc.pid) - before
        t.check("spt: an idle guest sleeps (under 10% of a CPU over 2 s)", used < 200_000_000,
                f"{used / 1e6:.0f} ms of CPU")

        # many connections at once: all open before any request is sent
        n = 300
        socks, fails = [], 0
        for _ in range(n):
            try:
                socks.append(socket.create_connection((g.addr, PORT), timeout=10))
            except OSError:
                fails += 1
        for s in socks:
            s.sendall(b"GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        good = 0
        for s in socks:
            r = read_all(s, 10)
            good += r.startswith(b"HTTP/1.1 200 ") and r.endswith(b"Hello World!\n")
            s.close()
        t.check(f"spt: {n} concurrent connections all answered (--mem=64)", good == n,
                f"{good} answered, {fails} failed to connect")

        # clients that reset: mid-head, right after a request, with unread data
        for _ in range(20):
            s = socket.create_connection((g.addr, PORT), timeout=5)
            s.sendall(b"GET / HTTP/1.1\r\nHo")
            reset(s)
            s = socket.create_connection((g.addr, PORT), timeout=5)
            s.sendall(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n" * 64)
            reset(s)
            s = socket.create_connection((g.addr, PORT), timeout=5)
            reset(s)
        time.sleep(0.2)
        rc, out, err = curl("-f", g.url + "/")
        t.check("spt: the guest keeps serving after 60 clients reset", g.alive() and rc == 0
                and out == b"Hello World!\n", err or g.log())
        # the guest closes first (Connection: close) and keeps the
        # connection in TIME-WAIT; the client reconnects from the same port
        answered, why = 0, ""
        for _ in range(20):
            try:
                with socket.socket() as s:
                    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
                    s.bind(("0.0.0.0", 61123))
                    s.settimeout(5)
                    for _ in range(100):     # the last one may still wait for the guest's last ACK
                        try:
                            s.connect((g.addr, PORT))
                            break
                        except OSError as x:
                            if x.errno != errno.EADDRNOTAVAIL:
                                raise
                            time.sleep(0.01)
                    s.sendall(b"GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
                    r = read_all(s, 5)
                    answered += r.endswith(b"Hello World!\n")
                    why = why or (r[:60] if not r.endswith(b"Hello World!\n") else "")
            except OSError as x:
                why = why or repr(x)
        t.check("spt: a client reconnecting from the same port after the guest closed is answered "
                "(20 times)", answered == 20, f"{answered} of 20; {why}")
        # malformed frames straight onto the guest's link
        sent = garbage_frames("uwtap0", g.addr, "10.81.0.1")
        time.sleep(0.3)
        rc, out, err = curl("-f", "-m", "5", g.url + "/")
        t.check(f"spt: the guest keeps serving after {sent} malformed frames", g.alive() and rc == 0
                and out == b"Hello World!\n", err or g.log())
        r = get(g.addr, "/nope")
        t.check("spt: an unknown path gets 404", r.startswith(b"HTTP/1.1 404 "), r[:100])
    finally:
        g.stop()


def csum(b):
    if len(b) % 2:
        b += b"\0"
    x = sum(int.from_bytes(b[i:i + 2], "big") for i in range(0, len(b), 2))
    while x >> 16:
        x = (x & 0xffff) + (x >> 16)
    return (~x) & 0xffff


def garbage_frames(ifname, guest, host, seed=7):
    """Sends malformed frames to the guest through an AF_PACKET socket on
    the tap interface: random bytes; IPv4 headers with bad lengths,
    versions, options and fragments; TCP segments to port PORT with random
    flags, offsets and options (valid checksums, so lwIP parses them);
    ICMP and UDP with random bodies.  Returns how many were sent."""
    import random
    rnd = random.Random(seed)
    s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW)
    s.bind((ifname, 0))
    mac_src = bytes.fromhex("02aabbccddee")
    eth = b"\xff" * 6 + mac_src + b"\x08\x00"
    gip, hip = socket.inet_aton(guest), socket.inet_aton(host)

    def ip4(proto, payload, ihl=5, tot=None, frag=0, ver=4, opts=b""):
        tot = 20 + len(opts) + len(payload) if tot is None else tot
        h = bytes([ver << 4 | ihl, 0]) + tot.to_bytes(2, "big") + rnd.randbytes(2) + frag.to_bytes(2, "big") \
            + bytes([64, proto]) + b"\0\0" + hip + gip + opts
        h = h[:10] + csum(h).to_bytes(2, "big") + h[12:]
        return h + payload

    def tcp(flags, data=b"", off=5, opts=b""):
        h = rnd.randbytes(2) + (PORT).to_bytes(2, "big") + rnd.randbytes(8) \
            + bytes([off << 4, flags]) + rnd.randbytes(2) + b"\0\0" + b"\0\0" + opts
        seg = h + data
        pseudo = hip + gip + bytes([0, 6]) + len(seg).to_bytes(2, "big")
        c = csum(pseudo + seg)
        return seg[:16] + c.to_bytes(2, "big") + seg[18:]

    frames = []
    for _ in range(300):
        frames.append(eth + rnd.randbytes(rnd.randrange(0, 200)))                 # junk
        frames.append(rnd.randbytes(rnd.randrange(1, 60)))                        # runts
        frames.append(eth + ip4(6, rnd.randbytes(40), ihl=rnd.randrange(0, 16)))  # bad IHL
        frames.append(eth + ip4(6, rnd.randbytes(40), tot=rnd.randrange(0, 65536)))
        frames.append(eth + ip4(rnd.randrange(256), rnd.randbytes(rnd.randrange(0, 100)), ver=rnd.randrange(16)))
        frames.append(eth + ip4(6, tcp(rnd.randrange(256), rnd.randbytes(rnd.randrange(0, 100)))))
        frames.append(eth + ip4(6, tcp(rnd.randrange(256), b"", off=rnd.randrange(16),
                                      opts=rnd.randbytes(4 * rnd.randrange(0, 11)))))
        frames.append(eth + ip4(6, rnd.randbytes(rnd.randrange(0, 30)), frag=rnd.randrange(65536)))
        frames.append(eth + ip4(1, rnd.randbytes(rnd.randrange(0, 100))))
        frames.append(eth + ip4(17, rnd.randbytes(rnd.randrange(0, 100))))
        frames.append(b"\xff" * 6 + mac_src + b"\x08\x06" + rnd.randbytes(rnd.randrange(0, 60)))  # ARP junk
    sent = 0
    for f in frames:
        try:
            s.send(f[:1514])
            sent += 1
        except OSError:
            pass
    s.close()
    return sent


def test_spt_parked_wakeup():
    """Idle keep-alive connections hold no worker; woken all at once in a
    small guest, those that find no memory are reset, from inside lwIP's
    receive callback, and the guest goes on."""
    g = Guest("spt", "hello", 0, mem=16)
    try:
        if not t.check("spt: hello starts with --mem=16", g.ready, g.log()):
            return
        socks = []
        for _ in range(300):
            try:
                s = socket.create_connection((g.addr, PORT), timeout=10)
                s.sendall(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
                s.settimeout(10)
                r = s.recv(4096)
                if r.endswith(b"Hello World!\n"):
                    socks.append(s)
                else:
                    s.close()
            except OSError:
                break
        for s in socks:
            try:
                s.sendall(b"GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
            except OSError:
                pass
        good = 0
        for s in socks:
            good += read_all(s, 10).endswith(b"Hello World!\n")
            s.close()
        print(f"# {len(socks)} idle connections woken at once: {good} answered, the others reset", flush=True)
        time.sleep(0.5)
        rc, out, err = curl("-f", g.url + "/")
        t.check("spt: after 300 idle connections woken at once in 16 MiB, the guest keeps serving",
                len(socks) > 0 and good > 0 and g.alive() and rc == 0 and out == b"Hello World!\n",
                f"{len(socks)} parked, {good} answered; {err or g.log()}")
    finally:
        g.stop()


def parse_answers(raw):
    """Splits answers (Content-Length or chunked, no HEAD) into [(status, headers, body)]."""
    out = []
    while raw:
        head, sep, rest = raw.partition(b"\r\n\r\n")
        if not sep:
            break
        lines = head.decode("latin-1").split("\r\n")
        headers = {k.strip().lower(): v.strip() for k, _, v in (ln.partition(":") for ln in lines[1:])}
        if headers.get("transfer-encoding", "").lower() == "chunked":
            body = b""
            while True:
                size, _, rest = rest.partition(b"\r\n")
                n = int(size.split(b";")[0], 16)
                if n == 0:
                    _, _, rest = rest.partition(b"\r\n")
                    break
                body += rest[:n]
                rest = rest[n + 2:]
        else:
            n = int(headers.get("content-length", "0"))
            body, rest = rest[:n], rest[n:]
        out.append((int(lines[0].split()[1]), headers, body))
        raw = rest
    return out


def test_spt_pipelined(g):
    """16 different requests in one write: ranges of style.css at different
    offsets and unknown paths; each answer must be the one for its request,
    in the order sent."""
    css = open(os.path.join(ROOT, "apps", "crunchzip", "assets", "style.css"), "rb").read()
    reqs, want = b"", []
    for k in range(16):
        last = b"Connection: close\r\n" if k == 15 else b""
        if k % 4 == 3:
            reqs += b"GET /nope-%d HTTP/1.1\r\nHost: x\r\n%s\r\n" % (k, last)
            want.append((404, None, None))
        else:
            first = 5 * k
            reqs += b"GET /style.css HTTP/1.1\r\nHost: x\r\nRange: bytes=%d-%d\r\n%s\r\n" % (first, first + 4, last)
            want.append((206, f"bytes {first}-{first + 4}/{len(css)}", css[first:first + 5]))
    with socket.create_connection((g.addr, PORT), timeout=10) as s:
        s.sendall(reqs)
        got = parse_answers(read_all(s, 10))
    seen = [(st, h.get("content-range"), body if st == 206 else None) for st, h, body in got]
    t.check("spt: 16 different pipelined requests answered in order (ranges of style.css, 404s)",
            seen == want, f"{len(got)} answers; first wrong: "
            f"{next((x for x in zip(seen, want) if x[0] != x[1]), None)}")


def test_spt_pipelined_uploads(g):
    """Request bodies on the unikernels are read in place, from lwIP's
    buffers (uw_conn_read_borrow): two uploads and a GET sent in one write
    on one connection, so the end of a body and the next request arrive
    in the same frames; the first body with Content-Length (read in
    place), the second chunked (copied).  Each answer must be right."""
    a, b = os.urandom(1 << 20), b"chunked upload through spt\n" * 12000
    css = open(os.path.join(ROOT, "apps", "crunchzip", "assets", "style.css"), "rb").read()

    def form(name, data):
        return (b"--uwB7\r\nContent-Disposition: form-data; name=\"file\"; filename=\"" + name
                + b"\"\r\nContent-Type: application/octet-stream\r\n\r\n" + data + b"\r\n--uwB7--\r\n")
    fa, fb = form(b"a.bin", a), form(b"b.txt", b)
    chunked = b"".join(b"%x\r\n%s\r\n" % (len(fb[i:i + 7000]), fb[i:i + 7000]) for i in range(0, len(fb), 7000))
    ct = b"Content-Type: multipart/form-data; boundary=uwB7\r\n"
    reqs = (b"POST /upload HTTP/1.1\r\nHost: x\r\n" + ct + b"Content-Length: %d\r\n\r\n" % len(fa) + fa
            + b"POST /upload HTTP/1.1\r\nHost: x\r\n" + ct + b"Transfer-Encoding: chunked\r\n\r\n"
            + chunked + b"0\r\n\r\n"
            + b"GET /style.css HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
    got, why = [], ""
    try:
        with socket.create_connection((g.addr, PORT), timeout=20) as s:
            # Sent from a thread: the guest streams the first ZIP back
            # while the rest is still being sent.
            w = threading.Thread(target=s.sendall, args=(reqs,))
            w.start()
            raw = read_all(s, 20)
            w.join()
            got = parse_answers(raw)
    except (OSError, ValueError) as x:
        why = repr(x)

    def zipped(body, name):
        try:
            with zipfile.ZipFile(io.BytesIO(body)) as z:
                return z.read(name)
        except Exception:
            return None
    ok = (len(got) == 3 and got[0][0] == 200 and zipped(got[0][2], "a.bin") == a
          and got[1][0] == 200 and zipped(got[1][2], "b.txt") == b and got[2][0] == 200 and got[2][2] == css)
    t.check("spt: two pipelined uploads (Content-Length, then chunked) and a GET on one connection "
            "all answered right", ok, why or f"{len(got)} answers, statuses {[x[0] for x in got]}")


def test_spt_crunchzip():
    g = Guest("spt", "crunchzip", 1, mem=32)
    tmp = tempfile.mkdtemp(prefix="uwnet")
    try:
        if not t.check("spt: crunchzip starts with --mem=32", g.ready, g.log()):
            return
        test_spt_pipelined(g)
        test_spt_pipelined_uploads(g)
        files = {"notes.txt": b"uweb unikernel\n" * 200000, "blob.bin": os.urandom(3 << 20), "empty": b""}
        args = []
        for i, (name, data) in enumerate(files.items()):
            p = os.path.join(tmp, f"in{i}")
            with open(p, "wb") as f:
                f.write(data)
            args += ["-F", f"file=@{p};filename={name}"]
        out = os.path.join(tmp, "out.zip")
        rc, _, err = curl("-f", "-o", out, *args, g.url + "/upload", timeout=120)
        ok, why = rc == 0, err
        if ok:
            try:
                with zipfile.ZipFile(out) as z:
                    ok = all(z.read(n) == d for n, d in files.items())
                    why = f"names {z.namelist()}"
            except Exception as x:
                ok, why = False, repr(x)
        t.check("spt: an upload through crunchzip comes back as a ZIP, byte for byte", ok, why)
        unzip_t("spt: unzip -t accepts the archive of an upload through crunchzip", out if ok else None)

        src = os.path.join(tmp, "big.bin")
        with open(src, "wb") as f:
            subprocess.run([ZIPGEN, "--emit", "random:1G:9"], stdout=f, check=True)
        big = os.path.join(tmp, "big.zip")
        start = time.monotonic()
        rc, _, err = curl("-f", "-o", big, "-F", f"f=@{src};filename=big.bin", g.url + "/upload", timeout=600)
        secs = time.monotonic() - start
        os.unlink(src)
        ok, why = rc == 0, err
        if ok:
            try:
                with zipfile.ZipFile(big) as z:
                    ok = z.testzip() is None and z.getinfo("big.bin").file_size == 1 << 30
                    why = "CRC or size mismatch"
            except Exception as x:
                ok, why = False, repr(x)
        print(f"# 1 GiB upload through spt (--mem=32) in {secs:.1f} s", flush=True)
        t.check("spt: a 1 GiB upload through a --mem=32 guest comes back whole", ok and g.alive(), why or g.log())
    finally:
        g.stop()
        shutil.rmtree(tmp, ignore_errors=True)


def unzip_t(name, path):
    """unzip -t on path (None: the archive did not come, a failure)."""
    if path is None:
        t.check(name, False, "no archive to test")
    elif not shutil.which("unzip"):
        t.skip(name, "unzip is not installed (Debian package unzip)")
    else:
        r = subprocess.run(["unzip", "-t", path], capture_output=True)
        t.check(name, r.returncode == 0, r.stdout.decode()[-300:])


def test_hvt_hello():
    name = "hvt: hello without --port answers curl http://ADDR/ (port 80)"
    if not os.access("/dev/kvm", os.R_OK | os.W_OK):
        t.skip(name, "/dev/kvm is not usable")
        return
    g = Guest("hvt", "hello", 2, timeout=120)
    try:
        if not t.check("hvt: hello starts and listens", g.ready, g.log()):
            return
        rc, out, err = curl("-f", "-m", "120", g.url + "/", timeout=150)
        t.check(name, rc == 0 and out == b"Hello World!\n", err or out)
    finally:
        g.stop()
    name = "hvt: a 24 KB upload through crunchzip comes back as a ZIP, byte for byte"
    g = Guest("hvt", "crunchzip", 2, timeout=120)
    tmp = tempfile.mkdtemp(prefix="uwnet")
    try:
        if not t.check("hvt: crunchzip starts and listens", g.ready, g.log()):
            return
        data = b"uweb on hvt\n" * 2000
        src, out = os.path.join(tmp, "notes.txt"), os.path.join(tmp, "out.zip")
        with open(src, "wb") as f:
            f.write(data)
        rc, _, err = curl("-f", "-m", "120", "-o", out, "-F", f"f=@{src};filename=notes.txt",
                          g.url + "/upload", timeout=150)
        ok, why = rc == 0, err
        if ok:
            try:
                with zipfile.ZipFile(out) as z:
                    ok, why = z.read("notes.txt") == data, "contents differ"
            except Exception as x:
                ok, why = False, repr(x)
        t.check(name, ok, why)
        unzip_t("hvt: unzip -t accepts the archive of an upload through crunchzip", out if ok else None)
    finally:
        g.stop()
        shutil.rmtree(tmp, ignore_errors=True)


def test_spt_tcp_client():
    """uw_tcp_connect from the guest to an echo server on the host: 8 MiB
    written by one task while another reads the echo back."""
    name = "spt: the guest connects out, 8 MiB echoed back intact (uw_tcp_connect, writes wait, reads)"
    guest = TCP_CLIENT
    srv = socket.socket()
    srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    srv.bind(("10.81.3.1", 0))
    srv.listen(1)
    port = srv.getsockname()[1]

    def echo():
        c, _ = srv.accept()
        c.settimeout(60)
        with c:
            while True:
                d = c.recv(65536)
                if not d:
                    break
                c.sendall(d)
            c.shutdown(socket.SHUT_WR)
    th = threading.Thread(target=echo, daemon=True)
    th.start()
    p = subprocess.run([SPT, "--net:service=uwtap3", "--", guest, "--ipv4=10.81.3.2/24",
                        "10.81.3.1", str(port), str(8 << 20)], capture_output=True, timeout=120)
    out = (p.stdout + p.stderr).decode(errors="replace")
    srv.close()
    t.check(name, p.returncode == 0 and "SUCCESS" in out, f"status {p.returncode}: {out[-300:]}")

    # through the default route: 10.82.0.1 is off the guest's subnet
    name = "spt: the guest reaches an address off its subnet through --ipv4-gateway"
    if subprocess.run(["ip", "addr", "add", "10.82.0.1/32", "dev", "lo"], capture_output=True).returncode != 0:
        t.skip(name, "cannot add an address in the namespace")
        return
    srv = socket.socket()
    srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    srv.bind(("10.82.0.1", 0))
    srv.listen(1)
    port = srv.getsockname()[1]
    th = threading.Thread(target=echo, daemon=True)
    th.start()
    p = subprocess.run([SPT, "--net:service=uwtap3", "--", guest, "--ipv4=10.81.3.2/24",
                        "--ipv4-gateway=10.81.3.1", "10.82.0.1", str(port), str(1 << 20)],
                       capture_output=True, timeout=120)
    out = (p.stdout + p.stderr).decode(errors="replace")
    srv.close()
    t.check(name, p.returncode == 0 and "SUCCESS" in out, f"status {p.returncode}: {out[-300:]}")


def test_spt_command_line():
    """--help lists the network options; bad or missing ones are refused."""
    base = [SPT, "--net:service=uwtap0", "--", image("spt", "hello")]
    p = subprocess.run(base + ["--help"], capture_output=True, timeout=30)
    out = p.stdout.decode(errors="replace")
    t.check("spt: hello --help lists --ipv4 and --ipv4-gateway", p.returncode == 0
            and "--ipv4=ADDR/PREFIX" in out and "--ipv4-gateway=ADDR" in out, out[-300:])
    for bad in ("--ipv4=10.0.0.2", "--ipv4=10.0.0.256/24", "--ipv4=10.0.0.2/33", "--ipv4=/24",
                "--ipv4=10.0.0.2/24x", "--ipv4-gateway=nope"):
        p = subprocess.run(base + [bad], capture_output=True, timeout=30)
        err = p.stderr.decode(errors="replace") + p.stdout.decode(errors="replace")
        t.check(f"spt: hello refuses {bad} (status 2, a message)", p.returncode == 2 and "--ipv4" in err,
                f"status {p.returncode}: {err[-200:]}")
    t.check("spt: hello --help says DHCP is used without --ipv4", "DHCP" in out, out[-300:])
    t.check("spt: hello --help gives port 80 and HTTPS port 443 as the defaults",
            re.search(r"--port=PORT .*\(default 80;", out) is not None
            and re.search(r"--tls-port=PORT .*\(default 443;", out) is not None, out[-300:])
    p = subprocess.run(base + ["--ipv4-gateway=10.81.0.1"], capture_output=True, timeout=30)
    err = p.stderr.decode(errors="replace") + p.stdout.decode(errors="replace")
    t.check("spt: hello refuses --ipv4-gateway without --ipv4 (status 1, a message)",
            p.returncode == 1 and "--ipv4-gateway needs --ipv4" in err, f"status {p.returncode}: {err[-200:]}")


def test_spt_dhcp():
    """Without --ipv4 the guest configures itself by DHCP: dnsmasq on
    uwtap4's host side leases 10.81.4.50-60, the guest logs the lease and
    answers curl there; on uwtap5 no server answers, and the guest says
    so once after 10 s, keeps listening on 0.0.0.0 and keeps asking."""
    name = "spt: without --ipv4 hello gets a lease from dnsmasq and answers curl on it"
    dnsmasq = shutil.which("dnsmasq") or shutil.which("dnsmasq", path="/usr/sbin:/sbin")
    if not dnsmasq:
        t.skip(name, "dnsmasq is not installed (dnsmasq-base)")
        return
    lonely = Guest("spt", "hello", 5, ipv4=False)     # no DHCP server on uwtap5
    tmp = tempfile.mkdtemp(prefix="uwdhcp")
    leases = os.path.join(tmp, "leases")
    srv_log = open(os.path.join(tmp, "dnsmasq.log"), "w+b")
    srv = subprocess.Popen([dnsmasq, "--no-daemon", "--conf-file=/dev/null", "--port=0", "--interface=uwtap4",
                            "--bind-interfaces", "--dhcp-range=10.81.4.50,10.81.4.60,255.255.255.0,2m",
                            f"--dhcp-leasefile={leases}", f"--pid-file={os.path.join(tmp, 'pid')}"],
                           stdout=srv_log, stderr=srv_log)
    g = None
    try:
        for _ in range(50):
            srv_log.seek(0)
            if srv.poll() is not None or b"DHCP, sockets bound" in srv_log.read():
                break
            time.sleep(0.1)
        if srv.poll() is not None:
            srv_log.seek(0)
            t.skip(name, f"dnsmasq cannot run (status {srv.returncode}): "
                   f"{srv_log.read().decode(errors='replace').strip()[-200:]}")
        else:
            g = Guest("spt", "hello", 4, ipv4=False)
            if t.check("spt: hello without --ipv4 starts and listens on 0.0.0.0",
                       g.ready and b"http://0.0.0.0:80/" in g.first, g.log()):
                m = None
                deadline = time.monotonic() + 30
                while m is None and time.monotonic() < deadline and g.alive():
                    m = re.search(r"DHCP: address (10\.81\.4\.(\d+))/24, gateway 10\.81\.4\.1, lease (\d+) s",
                                  g.text())
                    time.sleep(0.2)
                t.check("spt: the guest logs its lease: an address in dnsmasq's range, gateway, lease time",
                        m is not None and 50 <= int(m.group(2)) <= 60 and 60 <= int(m.group(3)) <= 120,
                        f"{g.text()[-300:]}")
                addr = m.group(1) if m else None
                seen = ""
                for _ in range(50):
                    try:
                        with open(leases) as f:
                            seen = f.read()
                    except OSError:
                        pass
                    if addr and f" {addr} " in seen:
                        break
                    time.sleep(0.1)
                t.check("spt: dnsmasq's lease file holds the guest's address", addr is not None
                        and f" {addr} " in seen, f"guest: {addr}; leases: {seen.strip()[-200:]}")
                if addr:
                    rc, out, err = curl("-f", "-m", "10", f"http://{addr}/")
                    t.check(name, rc == 0 and out == b"Hello World!\n", err or out)
                else:
                    t.check(name, False, "no lease")
    finally:
        if g:
            g.stop()
        srv.terminate()
        try:
            srv.wait(5)
        except subprocess.TimeoutExpired:
            srv.kill()
            srv.wait()
        srv_log.close()
        shutil.rmtree(tmp, ignore_errors=True)
    try:
        left = lonely.started + 13 - time.monotonic()
        if left > 0:
            time.sleep(left)
        out = lonely.text()
        t.check("spt: with no DHCP server the guest says once, after 10 s, that no lease came, and keeps running",
                lonely.ready and lonely.alive() and out.count("no lease after 10 s") == 1
                and "DHCP: address" not in out, out[-300:])
    finally:
        lonely.stop()


def inside():
    test_spt_command_line()
    test_spt_hello()
    test_spt_parked_wakeup()
    test_spt_tcp_client()
    test_spt_dhcp()
    test_spt_crunchzip()
    test_hvt_hello()
    t.done()


if __name__ == "__main__":
    if "--inside" in sys.argv:
        inside()
    else:
        outside()
