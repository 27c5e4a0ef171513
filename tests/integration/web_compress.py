#!/usr/bin/env python3
"""Compression on the fly (compress.h) with curl --compressed and python's
gzip and brotli decoders: decoded bytes equal the original for whole and
streamed answers; images, small answers and clients that refuse get the
identity."""
import http.client, os, subprocess, sys, zlib
sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "lib"))
from uwtest import T, Server, BUILD, curl

t = T()
exe = os.path.join(BUILD, "tests", "apps", "webfeat")
t.require_built(exe)
try:
    import brotli
except ImportError:           # Debian's python3-brotli, under another python3 of the same version
    sys.path.append("/usr/lib/python3/dist-packages")
    try:
        import brotli
    except ImportError:
        brotli = None
if brotli is None:
    t.skip("compress: brotli decoded by python", "no python brotli module (Debian: python3-brotli)")


def get(s, path, ae=None):
    c = http.client.HTTPConnection("127.0.0.1", s.port, timeout=20)
    c.request("GET", path, headers={"Accept-Encoding": ae} if ae is not None else {})
    r = c.getresponse()
    body = r.read()
    c.close()
    return r, body


with Server(None, binary=exe, args=["--quiet"]) as s:
    ref = {}
    for n in (100, 5000, 1 << 20):
        r, body = get(s, f"/text?n={n}", "identity")
        ref[n] = body
    r, body = get(s, "/text?n=1048576", "gzip")
    t.check("compress: gzip for a 1 MiB text answer, Vary set", r.getheader("Content-Encoding") == "gzip" and r.getheader("Vary") == "Accept-Encoding" and len(body) < len(ref[1 << 20]) // 2, f"{r.getheaders()}")
    t.check("compress: gzip decodes to the original (python zlib)", zlib.decompress(body, 31) == ref[1 << 20])
    r, body = get(s, "/stream?n=1048576", "gzip")
    t.check("compress: a streamed answer is gzip-chunked and decodes to the original", r.getheader("Content-Encoding") == "gzip" and zlib.decompress(body, 31) == ref[1 << 20])
    r, body = get(s, "/text?n=1048576", "br;q=1, gzip;q=0.5")
    if brotli:
        t.check("compress: brotli chosen by q-value decodes to the original (python brotli)", r.getheader("Content-Encoding") == "br" and brotli.decompress(body) == ref[1 << 20])
    else:
        t.check("compress: brotli chosen by q-value", r.getheader("Content-Encoding") == "br")
    r, body = get(s, "/stream?n=1048576", "br")
    ok = r.getheader("Content-Encoding") == "br" and (brotli is None or brotli.decompress(body) == ref[1 << 20])
    t.check("compress: a streamed answer in brotli decodes to the original", ok)
    r, body = get(s, "/text?n=1048576", "br;q=0.2, gzip")
    t.check("compress: gzip preferred by q-value", r.getheader("Content-Encoding") == "gzip")
    rc, out, err = curl("-s", "--compressed", s.url + "/text?n=1048576")
    t.check("compress: curl --compressed gets the original bytes", rc == 0 and out == ref[1 << 20], err)
    rc, out, err = curl("-s", "--compressed", "-D", "-", "-o", "/dev/null", s.url + "/stream?n=5000")
    t.check("compress: curl --compressed is offered br or gzip", rc == 0 and (b"content-encoding: br" in out.lower() or b"content-encoding: gzip" in out.lower()), out)
    r, body = get(s, "/png?n=100000", "gzip, br")
    t.check("compress: images are not compressed", r.getheader("Content-Encoding") is None and len(body) == 100000)
    r, body = get(s, "/text?n=100", "gzip")
    t.check("compress: answers under the threshold are not compressed", r.getheader("Content-Encoding") is None and body == ref[100])
    r, body = get(s, "/text?n=5000")
    t.check("compress: no Accept-Encoding, no compression", r.getheader("Content-Encoding") is None and body == ref[5000] and r.getheader("Vary") == "Accept-Encoding")
    r, body = get(s, "/text?n=5000", "gzip;q=0, br;q=0")
    t.check("compress: q=0 refuses a coding", r.getheader("Content-Encoding") is None and body == ref[5000])
with Server(None, binary=exe, args=["--quiet", "--h2c"]) as s:
    rc, out, err = curl("-s", "--http2-prior-knowledge", "--compressed", "-w", "%{http_version}", s.url + "/stream?n=300000")
    t.check("compress: over HTTP/2 (h2c) too, decoded to the original by curl", rc == 0 and out[-1:] == b"2" and out[:-1] == ref[1 << 20][:300000], err)
t.done()
