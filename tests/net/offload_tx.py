#!/usr/bin/env python3
"""Send-side tap offloads on spt: with offloads the guest hands the host
TCP super-frames (a GSO virtio-net header, the host segments them and
computes their checksums); without them (--net-offloads=off, the tap
opened plain as for a guest that does not ask) every frame is at most
one MSS.  For each: Crunch & Zip through a --mem=32 guest takes a 256 MiB
POST and streams its ZIP back (256 MiB each way), checked byte for byte,
while the tap's receive counters (the frames the guest wrote) show how
many frames carried the guest's side; a 16 MiB download over IPv6 (a
ZIP of a 16 MiB upload, curl -6) the same way; 4,000-byte pings over
IPv4 and IPv6, whose answers the guest must fragment (only TCP is let
through lwIP's fragmentation unsplit, for the host to segment).  A guest built without
the offloads flag in its manifest is tests/net/unikernel.py's
tcp_client.  In a network namespace of its own (taps uwgsN, 10.87.N.1/24 and
fd00:87:N::1/64 on the host).
"""
import hashlib
import os
import random
import subprocess
import sys
import tempfile
import time
import zipfile

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
from uwtest import T, BUILD  # noqa: E402
from uwnetns import run_inside  # noqa: E402

t = T()
SPT = os.path.join(BUILD, "uweb-spt")
CZ = os.path.join(BUILD, "spt", "apps", "crunchzip.spt")
TAPS = [(f"uwgs{i}", f"10.87.{i}.1/24") for i in range(2)]
SIZE = 256 << 20
SMALL = 16 << 20
MSS = 1460


class Guest:
    """crunchzip.spt (--mem=32) on tap uwgsN with TENDER_ARGS, on 10.87.N.2 and fd00:87:N::2."""

    def __init__(self, n, *tender_args):
        self.n, self.addr, self.addr6 = n, f"10.87.{n}.2", f"fd00:87:{n}::2"
        self.log = tempfile.TemporaryFile()
        argv = [SPT, "--mem=32", *tender_args, f"--net:service=uwgs{n}", "--", CZ, f"--ipv4={self.addr}/24",
                f"--ipv6={self.addr6}/64", "--port=8080", "--quiet"]
        self.proc = subprocess.Popen(argv, stdout=self.log, stderr=subprocess.STDOUT)
        self.ready = any(self.listening() or time.sleep(0.05) for _ in range(200))

    def listening(self):
        self.log.seek(0)
        return self.proc.poll() is None and b"listening on" in self.log.read()

    def text(self):
        self.log.seek(0)
        return self.log.read().decode(errors="replace")[-300:]

    def frames(self):
        """(frames, bytes) the guest wrote to its tap so far (the tap's receive side)."""
        d = f"/sys/class/net/uwgs{self.n}/statistics/"
        return tuple(int(open(d + k).read()) for k in ("rx_packets", "rx_bytes"))


def upload(url, src, size, digest, *curl_args):
    """POSTs SRC to URL, returns (ok, why, seconds): the ZIP holds SRC exactly."""
    with tempfile.NamedTemporaryFile() as out:
        start = time.monotonic()
        r = subprocess.run(["curl", "-sS", "-f", "-m", "180", *curl_args, "-o", out.name, "-F",
                            f"f=@{src};filename=big.bin", url], capture_output=True, text=True)
        secs = time.monotonic() - start
        if r.returncode != 0:
            return False, r.stderr[-200:], secs
        try:
            with zipfile.ZipFile(out.name) as z, z.open("big.bin") as f:
                got = (z.getinfo("big.bin").file_size, hashlib.file_digest(f, "sha256").hexdigest())
        except Exception as x:
            return False, repr(x), secs
        return got == (size, digest), f"{got[0]} bytes, sha256 {'equal' if got[1] == digest else 'differs'}", secs


def random_file(path, size, seed):
    h = hashlib.sha256()
    rnd = random.Random(seed)
    with open(path, "wb") as f:
        for _ in range(size >> 20):
            b = rnd.randbytes(1 << 20)
            h.update(b)
            f.write(b)
    return h.hexdigest()


def main():
    for n in range(2):
        subprocess.run(["ip", "addr", "add", f"fd00:87:{n}::1/64", "dev", f"uwgs{n}", "nodad"],
                       capture_output=True)
    tmp = tempfile.mkdtemp(prefix="uwgs")
    src, small = os.path.join(tmp, "big.bin"), os.path.join(tmp, "small.bin")
    digest, digest_small = random_file(src, SIZE, 257), random_file(small, SMALL, 17)
    try:
        for n, (mode, args) in enumerate([("on", ()), ("off", ("--net-offloads=off",))]):
            g = Guest(n, *args)
            try:
                if not t.check(f"offloads {mode}: crunchzip starts (--mem=32)", g.ready, g.text()):
                    continue
                f0, b0 = g.frames()
                ok, why, secs = upload(f"http://{g.addr}:8080/upload", src, SIZE, digest)
                f1, b1 = g.frames()
                frames, sent = f1 - f0, b1 - b0
                print(f"# offloads {mode}: 256 MiB up and its ZIP down in {secs:.1f} s; the guest wrote "
                      f"{frames} frames, {sent} bytes ({sent / max(frames, 1):.0f} per frame)", flush=True)
                t.check(f"offloads {mode}: 256 MiB upload, its ZIP back byte for byte", ok, why)
                if mode == "on":
                    t.check("offloads on: the ZIP left the guest in super-frames (fewer than 1/8 of "
                            "one frame per MSS)", sent >= SIZE and frames < SIZE / MSS / 8,
                            f"{frames} frames for {sent} bytes")
                else:
                    t.check("offloads off: every frame at most one MSS (a frame per 1460 bytes or more)",
                            sent >= SIZE and frames >= SIZE / MSS, f"{frames} frames for {sent} bytes")
                f0, b0 = g.frames()
                ok, why, secs = upload(f"http://[{g.addr6}]:8080/upload", small, SMALL, digest_small, "-6")
                f1, b1 = g.frames()
                frames, sent = f1 - f0, b1 - b0
                print(f"# offloads {mode}: 16 MiB over IPv6 in {secs:.1f} s; {frames} frames, {sent} bytes",
                      flush=True)
                t.check(f"offloads {mode}: 16 MiB upload over IPv6 (curl -6), its ZIP back byte for byte",
                        ok, why)
                if mode == "on":
                    t.check("offloads on: IPv6 super-frames too", sent >= SMALL and frames < SMALL / MSS / 8,
                            f"{frames} frames for {sent} bytes")
                # Larger than the MTU both ways: the host fragments the
                # request, lwIP reassembles it and fragments its answer
                # (only TCP bypasses lwIP's fragmentation, lwipopts.h).
                # The tap would take an oversized frame, so the frames are
                # counted: each 4,028-byte answer is three of them.
                f0, _ = g.frames()
                pings = [subprocess.run(["ping"] + fam + ["-c", "2", "-i", "0.2", "-W", "2", "-s", "4000", a],
                                        capture_output=True, text=True)
                         for fam, a in (([], g.addr), (["-6"], g.addr6))]
                f1, _ = g.frames()
                t.check(f"offloads {mode}: 4,000-byte pings over IPv4 and IPv6 answered in fragments "
                        f"(the guest wrote {f1 - f0} frames for 4 answers)",
                        all(r.returncode == 0 for r in pings) and f1 - f0 >= 12,
                        " / ".join(r.stdout[-200:] for r in pings))
                t.check(f"offloads {mode}: the guest is still running", g.proc.poll() is None, g.text())
            finally:
                g.proc.kill()
                g.proc.wait()
    finally:
        os.unlink(src)
        os.unlink(small)
        os.rmdir(tmp)


if "--inside" not in sys.argv:
    t.require_built(SPT, CZ)
    run_inside(t, "tap offloads (send side)", "uwgs", TAPS)
main()
t.done()
