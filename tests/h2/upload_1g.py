#!/usr/bin/env python3
"""A 1 GiB upload over HTTP/2 with TLS (curl --http2, ALPN h2) to
crunchzip's /upload, as tests/integration/upload.py does over HTTP/1.1:
the zip streams back as the body arrives, it holds the 1 GiB file whole
(its size and CRC-32 as sent), and the server's peak RSS grows by less
than 16 MiB over the upload (the bound of the HTTP/1.1 test).  Prints the
time it took.

uweb-test: alone
"""
import os
import shutil
import subprocess
import sys
import tempfile
import time
import zipfile
import zlib

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "lib"))
from uwtest import T, Server, BUILD, ROOT, free_port, wait_port  # noqa: E402

t = T()
APP = os.path.join(BUILD, "apps", "crunchzip")
t.require_built(APP)
TMP = tempfile.mkdtemp(prefix="uweb-h2-1g-", dir=BUILD)
subprocess.run([os.path.join(ROOT, "scripts", "mkcert.sh"), TMP], check=True, capture_output=True)
CA = os.path.join(TMP, "ca.pem")
SIZE = 1 << 30


def hwm(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) * 1024
    return 0


tls_port = free_port()
with Server("crunchzip", args=[f"--tls-port={tls_port}", f"--tls-cert={TMP}/localhost.pem",
                               f"--tls-key={TMP}/localhost.key"]) as s:
    if not wait_port(tls_port):
        t.check("crunchzip listens for HTTPS", False, s.output())
        t.done()
    url = f"https://localhost:{tls_port}/upload"
    small = os.path.join(TMP, "small.bin")
    with open(small, "wb") as f:
        f.write(os.urandom(1 << 20))
    subprocess.run(["curl", "-sS", "--http2", "--cacert", CA, "-f", "-o", "/dev/null", "-F", f"f=@{small}", url],
                   capture_output=True, timeout=60)                          # warm-up
    before = hwm(s.proc.pid)
    out = os.path.join(TMP, "big.zip")
    p = subprocess.Popen(["curl", "-sS", "--http2", "--cacert", CA, "-X", "POST", "-T", "-", "-o", out,
                          "-w", "%{http_code} %{http_version}",
                          "-H", "Content-Type: multipart/form-data; boundary=XyZ", url],
                         stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    block = os.urandom(1 << 20)
    crc = 0
    t0 = time.time()
    try:
        p.stdin.write(b'--XyZ\r\nContent-Disposition: form-data; name="f"; filename="big.bin"\r\n'
                      b"Content-Type: application/octet-stream\r\n\r\n")
        for _ in range(SIZE >> 20):
            p.stdin.write(block)
            crc = zlib.crc32(block, crc)
        p.stdin.write(b"\r\n--XyZ--\r\n")
        p.stdin.close()
    except BrokenPipeError:
        pass
    res, err = p.stdout.read(), p.stderr.read()
    p.wait(600)
    secs = time.time() - t0
    after = hwm(s.proc.pid)
    code, ver = (res.decode().split() + ["", ""])[:2]
    why = f"{code} HTTP/{ver} {err.decode()[-200:]}"
    ok = code == "200" and ver == "2"
    if ok:
        try:
            with zipfile.ZipFile(out) as z:
                i = z.getinfo("big.bin")
                ok = i.file_size == SIZE and i.CRC == crc
                why = f"{i.file_size} bytes, crc {i.CRC:08x} (sent {crc:08x})"
        except Exception as x:
            ok, why = False, repr(x)
    print(f"# 1 GiB over h2 (TLS) through crunchzip in {secs:.1f} s, {SIZE / secs / 1e6:.0f} MB/s; "
          f"peak RSS {before >> 10} KiB before, {after >> 10} KiB after", flush=True)
    t.check("crunchzip: a 1 GiB upload over h2 with TLS comes back as a zip holding it whole", ok, why)
    t.check("crunchzip: peak RSS stays flat over a 1 GiB upload over h2 (grows < 16 MiB)",
            ok and after - before < 16 << 20, f"grew {(after - before) >> 10} KiB")

shutil.rmtree(TMP, ignore_errors=True)
t.done()
