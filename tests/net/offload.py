#!/usr/bin/env python3
"""Tap offloads on spt: Crunch & Zip's POST /upload of 256 MiB (the ZIP
of it streamed back: 256 MiB each way) through a --mem=32 guest with
offloads on (the tap opened with a virtio-net header, checksum and
segmentation offloads: the host hands over TCP super-frames) and off
(--net-offloads=off), the archive checked byte for byte against the
source; frames written from the host side on the tap through a packet
socket with virtio-net headers (PACKET_VNET_HDR) that are malformed or
whose checksum flags and sums lie, during an upload: the upload still
comes back whole and the guest keeps answering; a guest that does not ask
for offloads (tcp_client's manifest) is covered by tests/net/unikernel.py.
In a network namespace of its own (taps uwofN, 10.86.N.1/24 on the host).
"""
import hashlib
import os
import random
import re
import socket
import struct
import subprocess
import sys
import tempfile
import threading
import time
import zipfile

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
from uwtest import T, BUILD  # noqa: E402
from uwnetns import run_inside  # noqa: E402

t = T()
SPT = os.path.join(BUILD, "uweb-spt")
CZ = os.path.join(BUILD, "spt", "apps", "crunchzip.spt")
TAPS = [(f"uwof{i}", f"10.86.{i}.1/24") for i in range(3)]
SIZE = 256 << 20


class Guest:
    def __init__(self, n, *tender_args):
        self.addr = f"10.86.{n}.2"
        self.out = tempfile.NamedTemporaryFile()
        self.proc = subprocess.Popen([SPT, "--mem=32", *tender_args, f"--net:service=uwof{n}", "--", CZ,
                                      f"--ipv4={self.addr}/24", "--port=8080", "--quiet"],
                                     stdout=self.out, stderr=subprocess.STDOUT)
        end = time.monotonic() + 10
        self.ready = False
        while time.monotonic() < end and self.proc.poll() is None and not self.ready:
            self.ready = b"listening on" in open(self.out.name, "rb").read()
            time.sleep(0.05)

    def text(self):
        return open(self.out.name, "rb").read().decode(errors="replace")[-300:]

    def stop(self):
        if self.proc.poll() is None:
            self.proc.kill()
        self.proc.wait()


def upload(g, src, digest, tmp):
    """POSTs SRC, returns (ok, why, seconds): the ZIP holds SRC exactly."""
    out = os.path.join(tmp, "out.zip")
    start = time.monotonic()
    r = subprocess.run(["curl", "-sS", "-f", "-m", "120", "-o", out, "-F", f"f=@{src};filename=big.bin",
                        f"http://{g.addr}:8080/upload"], capture_output=True, text=True)
    secs = time.monotonic() - start
    if r.returncode != 0:
        return False, r.stderr[-200:], secs
    try:
        h = hashlib.sha256()
        with zipfile.ZipFile(out) as z, z.open("big.bin") as f:
            n = 0
            while True:
                b = f.read(1 << 20)
                if not b:
                    break
                h.update(b)
                n += len(b)
        ok = n == SIZE and h.hexdigest() == digest
        return ok, f"{n} bytes, sha256 {'equal' if ok else 'differs'}", secs
    except Exception as x:
        return False, repr(x), secs
    finally:
        os.unlink(out)


def hello(g):
    r = subprocess.run(["curl", "-sS", "-f", "-m", "5", "-o", "/dev/null", "-w", "%{http_code}",
                        f"http://{g.addr}:8080/"], capture_output=True, text=True)
    return r.stdout == "200"


def csum(data):
    if len(data) % 2:
        data += b"\0"
    s = sum(struct.unpack(f"!{len(data) // 2}H", data))
    while s >> 16:
        s = (s & 0xffff) + (s >> 16)
    return ~s & 0xffff


def bad_frames(tap, guest_mac, host_mac, src_ip, dst_ip, count, stop):
    """Writes COUNT frames (or until STOP) to the guest through a packet
    socket on TAP with a virtio-net header each: random flags, GSO types
    and sizes, checksum positions; TCP segments to port 8080 with wrong
    sums (some marked DATA_VALID or NEEDS_CSUM), truncated headers.
    Returns how many the kernel took."""
    s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW)
    s.setsockopt(263, 15, 1)     # SOL_PACKET, PACKET_VNET_HDR
    s.bind((tap, 0))
    rnd = random.Random(15)
    taken = 0
    for i in range(count):
        if stop.is_set():
            break
        payload = rnd.randbytes(rnd.choice([0, 1, 100, 1400, 3000, 8000]))
        tcp = struct.pack("!HHIIBBHHH", rnd.randrange(1024, 65535), 8080, rnd.getrandbits(32),
                          rnd.getrandbits(32), 0x50, rnd.choice([0x02, 0x10, 0x18, 0x04, 0x11, 0xff]),
                          65535, rnd.getrandbits(16), 0) + payload
        total = 20 + len(tcp)
        ip = struct.pack("!BBHHHBBH4s4s", 0x45, 0, total & 0xffff, i & 0xffff, 0, 64, 6, 0,
                         socket.inet_aton(src_ip), socket.inet_aton(dst_ip))
        ip = ip[:10] + struct.pack("!H", csum(ip)) + ip[12:]
        if rnd.random() < 0.2:
            ip = ip[:rnd.randrange(0, 20)]                        # truncated
        frame = guest_mac + host_mac + b"\x08\x00" + ip + tcp
        flags = rnd.choice([0, 1, 2, 3, 0x80, 0xff])
        gso = rnd.choice([0, 1, 3, 4, 5, 0x81, 0xff])
        vh = struct.pack("<BBHHHH", flags, gso, rnd.choice([0, 14, 54, 200, 65535]),
                         rnd.choice([0, 1, 536, 1448, 65535]), rnd.choice([0, 34, 60000]),
                         rnd.choice([16, 6, 0, 4000]))
        try:
            s.send(vh + frame)
            taken += 1
        except OSError:
            pass
    s.close()
    return taken


def mac_of(tap):
    with open(f"/sys/class/net/{tap}/address") as f:
        return bytes.fromhex(f.read().strip().replace(":", ""))


def neigh_mac(addr):
    subprocess.run(["ping", "-c", "1", "-W", "2", addr], capture_output=True)
    r = subprocess.run(["ip", "neigh", "show", addr], capture_output=True, text=True)
    m = re.search(r"lladdr ([0-9a-f:]{17})", r.stdout)
    return bytes.fromhex(m.group(1).replace(":", "")) if m else None


def main():
    tmp = tempfile.mkdtemp(prefix="uwof")
    src = os.path.join(tmp, "big.bin")
    h = hashlib.sha256()
    with open(src, "wb") as f:
        rnd = random.Random(256)
        for _ in range(SIZE >> 20):
            b = rnd.randbytes(1 << 20)
            h.update(b)
            f.write(b)
    digest = h.hexdigest()
    try:
        for n, (mode, args) in enumerate([("on", ()), ("off", ("--net-offloads=off",))]):
            g = Guest(n, *args)
            try:
                if not t.check(f"offloads {mode}: crunchzip starts (--mem=32)", g.ready, g.text()):
                    continue
                with open(f"/sys/class/net/uwof{n}/tun_flags") as f:
                    vnet = int(f.read(), 16) & 0x4000 != 0          # IFF_VNET_HDR
                t.check(f"offloads {mode}: the tap is opened {'with' if mode == 'on' else 'without'} a "
                        "virtio-net header", vnet == (mode == "on"))
                ok, why, secs = upload(g, src, digest, tmp)
                print(f"# offloads {mode}: 256 MiB up and its ZIP down in {secs:.1f} s", flush=True)
                t.check(f"offloads {mode}: 256 MiB upload, its ZIP back byte for byte", ok, why)
            finally:
                g.stop()
        g = Guest(2)
        try:
            if not t.check("offloads: crunchzip starts for the bad frames", g.ready, g.text()):
                return
            gmac = neigh_mac(g.addr)
            if not t.check("offloads: the guest's MAC from the host's neighbour table", gmac is not None):
                return
            stop = threading.Event()
            res = {}
            th = threading.Thread(target=lambda: res.update(n=bad_frames(
                "uwof2", gmac, mac_of("uwof2"), "10.86.2.1", g.addr, 200000, stop)))
            th.start()
            ok, why, secs = upload(g, src, digest, tmp)
            stop.set()
            th.join()
            print(f"# {res.get('n', 0)} frames with bad headers or sums taken by the kernel during the upload",
                  flush=True)
            t.check("offloads: an upload during frames with bad virtio-net headers and lying sums "
                    "comes back whole", ok, why)
            t.check("offloads: the guest still answers after them", g.proc.poll() is None and hello(g),
                    g.text())
        finally:
            g.stop()
    finally:
        os.unlink(src)
        os.rmdir(tmp)


if "--inside" not in sys.argv:
    t.require_built(SPT, CZ)
    run_inside(t, "tap offloads", "uwof", TAPS)
main()
t.done()
