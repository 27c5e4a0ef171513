#!/usr/bin/env python3
"""apps/site on the unikernels: an image made by uweb-image attached as the
block device "site" (uweb-spt --block:site=IMG).  On spt: a generated tree
(empty files, deep paths, UTF-8 names, a large file, 10,000 small files,
duplicates) fetched whole through HTTP from the guest, byte for byte;
gzip on the fly for a client that asks;
Range requests across chunk boundaries; a damaged image: the damaged
block's files answer 500, the others are served.  On hvt (a smoke test:
KVM may be emulated in software here): one file.  The guests get --port
explicitly.  UWEB_IMAGE_BIG=N sets the large file's size in MiB (default
50).  Runs in a network namespace of its own (tests/lib/uwnetns.py); no
root, tap device or usable /dev/kvm is a skip.
"""
import gzip
import os
import random
import shutil
import struct
import subprocess
import sys
import tempfile
import threading
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
from uwtest import T, BUILD  # noqa: E402
from uwnetns import run_inside  # noqa: E402
import uwimage  # noqa: E402

t = T()
SPT = os.path.join(BUILD, "uweb-spt")
HVT = os.path.join(BUILD, "uweb-hvt")
TOOL = os.path.join(BUILD, "tools", "uweb-image")
PORT = 8081
BIG_MIB = int(os.environ.get("UWEB_IMAGE_BIG", "50"))
if "--inside" not in sys.argv:
    t.require_built(SPT, TOOL, os.path.join(BUILD, "spt", "apps", "site.spt"))
    run_inside(t, "site on the unikernels", "uwimg", [("uwimgt0", "10.84.0.1/24"), ("uwimgt1", "10.84.1.1/24")])


class Guest:
    """site.TARGET on tap uwimgtN at 10.84.N.2:PORT serving IMG."""

    def __init__(self, target, img, n, timeout=20.0):
        self.addr = f"10.84.{n}.2"
        argv = [SPT if target == "spt" else HVT, f"--block:site={img}", f"--net:service=uwimgt{n}", "--",
                os.path.join(BUILD, target, "apps", f"site.{target}"), f"--ipv4={self.addr}/24", f"--port={PORT}"]
        self.out = tempfile.TemporaryFile()
        self.proc = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=self.out)
        line = []
        done = threading.Event()

        def first_line():
            line.append(self.proc.stdout.readline())
            done.set()
        threading.Thread(target=first_line, daemon=True).start()
        done.wait(timeout)
        self.first = line[0] if line else b""
        self.ready = b"listening on" in self.first
        self.lines = []

        def drain():
            for ln in self.proc.stdout:
                self.lines.append(ln)
        threading.Thread(target=drain, daemon=True).start()

    def text(self):
        err = os.pread(self.out.fileno(), os.fstat(self.out.fileno()).st_size, 0)
        return (self.first + b"".join(self.lines) + err).decode(errors="replace")

    def stop(self):
        self.proc.terminate()
        try:
            self.proc.wait(10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()


def fetch_many(addr, reqs, timeout=60):
    return uwimage.fetch_many(addr, PORT, reqs, batch=32, timeout=timeout)


def build(src, img):
    p = subprocess.run([TOOL, "build", src, "-o", img, "--level=3", "-q"], capture_output=True, timeout=600)
    return p.returncode == 0, p.stderr.decode(errors="replace")


def test_spt(work):
    tree, img = os.path.join(work, "tree"), os.path.join(work, "tree.img")
    rnd = random.Random(12)
    files = uwimage.make_tree(tree, rnd, BIG_MIB)
    ok, err = build(tree, img)
    if not t.check(f"spt: uweb-image builds the tree of {len(files)} files", ok, err):
        return
    g = Guest("spt", img, 0)
    try:
        if not t.check("spt: site starts with --block:site=IMG and listens", g.ready, g.text()[-400:]):
            return
        names = sorted(files, key=lambda p: p.encode())
        t0 = time.time()
        got = fetch_many(g.addr, [(p, {}) for p in names])
        bad = [p for p, (st, _, body) in zip(names, got) if st != 200 or body != files[p]]
        t.check(f"spt: HTTP serves all {len(names)} files byte for byte (empty, deep, UTF-8, "
                f"{BIG_MIB} MiB, duplicates; {time.time() - t0:.1f} s)", not bad, str(bad[:3]))
        (st, h, body), = fetch_many(g.addr, [("/docs/long.html", {"Accept-Encoding": "gzip"})])
        t.check("spt: a compressible file to a client that accepts gzip goes out gzip'd (Vary: Accept-Encoding)",
                st == 200 and h.get("content-encoding") == "gzip" and h.get("vary") == "Accept-Encoding"
                and gzip.decompress(body) == files["/docs/long.html"], str(h))
        big = files["/media/big.bin"]
        size, chunk, reqs, want = len(big), 256 << 10, [], []
        for k in range(1, 30):
            first = k * chunk - rnd.randrange(1, 5000)
            last = min(size - 1, first + rnd.randrange(1, 3 * chunk))
            reqs.append(("/media/big.bin", {"Range": f"bytes={first}-{last}"}))
            want.append((206, f"bytes {first}-{last}/{size}", big[first:last + 1]))
        got = fetch_many(g.addr, reqs)
        bad = [r[1] for r, w, (st, h, body) in zip(reqs, want, got) if (st, h.get("content-range"), body) != w]
        t.check("spt: Range requests across chunk boundaries: 206 with the right bytes", not bad, str(bad[:3]))
    finally:
        g.stop()


def test_spt_damaged(work):
    dam, good, bimg = os.path.join(work, "damage"), os.path.join(work, "damage.img"), os.path.join(work, "broken.img")
    os.makedirs(dam)
    for i in range(30):
        with open(os.path.join(dam, f"page{i}.html"), "w") as f:
            f.write(f"<p>page {i}</p>\n" * 20)
    big = os.urandom(1500000)   # larger than a solid block: chunks of its own
    with open(os.path.join(dam, "big.bin"), "wb") as f:
        f.write(big)
    ok, err = build(dam, good)
    if not t.check("spt: uweb-image builds the small tree", ok, err):
        return
    with open(good, "rb") as f:
        data = bytearray(f.read())
    nblocks, = struct.unpack_from("<Q", data, 48)
    table, = struct.unpack_from("<Q", data, 64)
    solid = [b for b in range(nblocks) if struct.unpack_from("<QIIBB", data, table + 64 * b)[4] == 0][0]
    off, cs = struct.unpack_from("<QI", data, table + 64 * solid)
    data[off + cs // 2] ^= 0x40
    with open(bimg, "wb") as f:
        f.write(data)
    g = Guest("spt", bimg, 0)
    try:
        if not t.check("spt: site starts on an image with a damaged block", g.ready, g.text()[-400:]):
            return
        (st1, _, _), (st2, _, body) = fetch_many(g.addr, [("/page3.html", {}), ("/big.bin", {})])
        t.check("spt: the damaged block's files answer 500, the others are served",
                st1 == 500 and st2 == 200 and body == big, f"{st1} {st2}")
    finally:
        g.stop()


def test_hvt(work):
    name = "hvt: site serves a file from --block:site=IMG"
    if not os.path.exists(HVT) or not os.path.exists(os.path.join(BUILD, "hvt", "apps", "site.hvt")):
        t.check(name, False, "uweb-hvt or site.hvt is not built")
        return
    if not os.access("/dev/kvm", os.R_OK | os.W_OK):
        t.skip(name, "/dev/kvm is not usable")
        return
    src, img = os.path.join(work, "hvt"), os.path.join(work, "hvt.img")
    os.makedirs(src)
    body = b"<p>served by hvt from an image</p>\n" * 30
    with open(os.path.join(src, "index.html"), "wb") as f:
        f.write(body)
    ok, err = build(src, img)
    if not t.check("hvt: uweb-image builds a one-file tree", ok, err):
        return
    g = Guest("hvt", img, 1, timeout=120)
    try:
        if not t.check("hvt: site starts and listens", g.ready, g.text()[-400:]):
            return
        got = fetch_many(g.addr, [("/index.html", {})], timeout=150)
        t.check(name, got[0][0] == 200 and got[0][2] == body, str(got[0][:2]))
    finally:
        g.stop()


work = tempfile.mkdtemp(prefix="uwimg", dir=BUILD)
try:
    test_spt(work)
    test_spt_damaged(work)
    test_hvt(work)
finally:
    shutil.rmtree(work, ignore_errors=True)
t.done()
