#!/usr/bin/env python3
"""Static assets over HTTP, checked with curl against apps/crunchzip.

Every header the static handler sends, conditional requests (304), ranges
(206, 416, If-Range), Accept-Encoding negotiation, and the compressed
representations decompressing to the files in apps/crunchzip/assets/.
"""
import email.utils
import gzip
import os
import re
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "lib"))
from uwtest import T, Server, ROOT, app  # noqa: E402

t = T()
APP = app("crunchzip")
ASSETS = os.path.join(ROOT, "apps", "crunchzip", "assets")
INDEX = open(os.path.join(ASSETS, "index.html"), "rb").read()
CSS = open(os.path.join(ASSETS, "style.css"), "rb").read()


def curl(url, *args, method=None):
    """Returns (status, headers {lowercase name: [values]}, body bytes) of the last response."""
    with tempfile.TemporaryDirectory() as d:
        head, body = os.path.join(d, "h"), os.path.join(d, "b")
        cmd = ["curl", "-sS", "--max-time", "20", "-D", head, "-o", body, *args]
        if method == "HEAD":
            cmd.append("-I")
        elif method:
            cmd += ["-X", method]
        p = subprocess.run(cmd + [url], capture_output=True)
        if p.returncode != 0:
            return 0, {"error": [p.stderr.decode(errors="replace")]}, b""
        raw = open(head, "rb").read().decode("latin-1")
        data = open(body, "rb").read() if os.path.exists(body) else b""
    blocks = [b for b in raw.split("\r\n\r\n") if b.strip()]
    lines = blocks[-1].split("\r\n")
    status = int(lines[0].split()[1])
    headers = {}
    for line in lines[1:]:
        k, _, v = line.partition(":")
        headers.setdefault(k.strip().lower(), []).append(v.strip())
    return status, headers, data


def h1(headers, name):
    v = headers.get(name.lower())
    return v[0] if v else None


def curl_has(feature):
    out = subprocess.run(["curl", "-V"], capture_output=True).stdout.decode()
    return feature.lower() in out.lower()


t.require_built(APP)

with Server("crunchzip") as s:
    u = s.url

    # ---------------------------------------------------------- 200 and its headers
    st, h, body = curl(u + "/")
    t.check("GET / answers 200 with index.html", st == 200 and body == INDEX, f"{st}")
    t.check("Content-Type of index.html", h1(h, "content-type") == "text/html; charset=utf-8", str(h))
    t.check("Content-Length is the file size", h1(h, "content-length") == str(len(INDEX)), str(h))
    etag = h1(h, "etag") or ""
    t.check("ETag is strong and quoted", re.fullmatch(r'"[^"]+"', etag) is not None, etag)
    lm = h1(h, "last-modified") or ""
    t.check("Last-Modified is an HTTP date", lm.endswith(" GMT") and email.utils.parsedate_to_datetime(lm) is not None, lm)
    t.check("Cache-Control is the configured one", h1(h, "cache-control") == "no-cache", str(h))
    t.check("Accept-Ranges: bytes", h1(h, "accept-ranges") == "bytes", str(h))
    t.check("Vary: Accept-Encoding", h1(h, "vary") == "Accept-Encoding", str(h))
    t.check("no Content-Encoding without Accept-Encoding", "content-encoding" not in h, str(h))
    st2, h2, body2 = curl(u + "/index.html")
    t.check("/index.html is the same asset as /", st2 == 200 and body2 == INDEX and h1(h2, "etag") == etag)

    st, h, body = curl(u + "/style.css")
    t.check("GET /style.css", st == 200 and body == CSS and h1(h, "content-type") == "text/css; charset=utf-8",
            f"{st} {h}")
    css_etag = h1(h, "etag")
    st, h, body = curl(u + "/style.css?v=3")
    t.check("a query string does not change the asset", st == 200 and body == CSS)

    st, h, body = curl(u + "/", method="HEAD")
    t.check("HEAD: the headers of GET", st == 200 and h1(h, "content-length") == str(len(INDEX))
            and h1(h, "etag") == etag and h1(h, "content-type") == "text/html; charset=utf-8", f"{st} {h}")
    raw = s.raw(b"HEAD / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
    t.check("HEAD: no body", raw.startswith(b"HTTP/1.1 200") and raw.endswith(b"\r\n\r\n")
            and raw.count(b"\r\n\r\n") == 1, raw[-100:])

    st, h, body = curl(u + "/missing.js")
    t.check("unknown asset: 404", st == 404)
    t.check("unknown asset: the app's 404 page (assets/404.html through uw_mw_error_pages)",
            b"Nothing here" in body and h1(h, "content-type") == "text/html; charset=utf-8", f"{h} {body[:80]!r}")
    st, h, body = curl(u + "/style.css", "-d", "x=1")
    t.check("POST to an asset: 405 with Allow", st == 405 and "GET" in (h1(h, "allow") or ""), f"{st} {h}")

    # ---------------------------------------------------------- encodings
    st, h, body = curl(u + "/style.css", "-H", "Accept-Encoding: gzip")
    t.check("gzip: Content-Encoding and smaller body", st == 200 and h1(h, "content-encoding") == "gzip"
            and len(body) < len(CSS) and h1(h, "content-length") == str(len(body)), f"{st} {h}")
    t.check("gzip variant decompresses to style.css", gzip.decompress(body) == CSS if body else False)
    t.check("gzip variant has its own ETag", h1(h, "etag") not in (None, css_etag), str(h))
    st, h, body = curl(u + "/style.css", "-H", "Accept-Encoding: gzip, deflate, br")
    t.check("br preferred when as acceptable as gzip (smaller)", st == 200 and h1(h, "content-encoding") == "br",
            str(h))
    if curl_has("brotli"):
        # curl decodes what Content-Encoding names; the raw bytes must be br, not the file.
        for path, want in (("/style.css", CSS), ("/", INDEX)):
            st, h, raw = curl(u + path, "-H", "Accept-Encoding: br")
            st2, h2, body = curl(u + path, "--compressed", "-H", "Accept-Encoding: br")
            t.check(f"br: {path} answers Content-Encoding: br, smaller, and decodes to the file",
                    st == st2 == 200 and h1(h, "content-encoding") == h1(h2, "content-encoding") == "br"
                    and len(raw) < len(want) and raw != want and body == want,
                    f"{st} {h1(h, 'content-encoding')}, {len(raw)} raw bytes, decoded equal: {body == want}")
    else:
        t.skip("br: the br variants decode to the files", "this curl has no brotli")
    st, h, body = curl(u + "/style.css", "-H", "Accept-Encoding: br;q=0.5, gzip;q=0.8")
    t.check("q-values: gzip;q=0.8 beats br;q=0.5", h1(h, "content-encoding") == "gzip", str(h))
    st, h, body = curl(u + "/style.css", "-H", "Accept-Encoding: br;q=0, gzip;q=0")
    t.check("q=0 honoured: identity", st == 200 and "content-encoding" not in h and body == CSS, str(h))
    st, h, body = curl(u + "/style.css", "-H", "Accept-Encoding: *")
    t.check("'*' accepts the smallest", h1(h, "content-encoding") == "br", str(h))
    st, h, body = curl(u + "/style.css", "-H", "Accept-Encoding: identity;q=0")
    t.check("identity;q=0 and nothing else acceptable: 406", st == 406 and h1(h, "vary") == "Accept-Encoding",
            f"{st} {h}")
    st, h, body = curl(u + "/style.css", "-H", "Accept-Encoding: gzip;q=5")
    t.check("malformed Accept-Encoding is ignored: identity", st == 200 and "content-encoding" not in h
            and body == CSS, f"{st} {h}")
    raw = s.raw(b"GET /style.css HTTP/1.1\r\nHost: x\r\nAccept-Encoding: identity;q=0.1\r\n"
                b"Accept-Encoding: gzip\r\nConnection: close\r\n\r\n")
    t.check("Accept-Encoding sent twice is read as one list", b"\r\nContent-Encoding: gzip\r\n" in raw, raw[:300])

    # ---------------------------------------------------------- conditionals
    st, h, body = curl(u + "/", "-H", f"If-None-Match: {etag}")
    t.check("If-None-Match with the ETag: 304 without a body", st == 304 and body == b"", f"{st}")
    t.check("304 carries ETag, Cache-Control and Vary", h1(h, "etag") == etag and h1(h, "cache-control") == "no-cache"
            and h1(h, "vary") == "Accept-Encoding", str(h))
    st, h, body = curl(u + "/", "-H", f'If-None-Match: "nope", W/{etag}')
    t.check("If-None-Match list with a weak match: 304", st == 304, f"{st}")
    st, h, body = curl(u + "/", "-H", 'If-None-Match: "nope"')
    t.check("If-None-Match without a match: 200", st == 200 and body == INDEX, f"{st}")
    st, h, body = curl(u + "/", "-H", "If-None-Match: *")
    t.check("If-None-Match: * on an existing asset: 304", st == 304, f"{st}")
    st, h, body = curl(u + "/", "-H", f"If-None-Match: {etag}", "-H", "Accept-Encoding: gzip")
    t.check("the identity ETag does not validate the gzip representation", st == 200
            and h1(h, "content-encoding") == "gzip", f"{st} {h}")
    st, h, body = curl(u + "/", "-H", f"If-Modified-Since: {lm}")
    t.check("If-Modified-Since = Last-Modified: 304", st == 304 and body == b"", f"{st}")
    st, h, body = curl(u + "/", "-H", "If-Modified-Since: Sat, 01 Jan 2000 00:00:00 GMT")
    t.check("If-Modified-Since in the past: 200", st == 200 and body == INDEX, f"{st}")
    st, h, body = curl(u + "/", "-H", "If-Modified-Since: not a date")
    t.check("an invalid If-Modified-Since is ignored", st == 200, f"{st}")
    st, h, body = curl(u + "/", "-H", 'If-None-Match: "nope"', "-H", f"If-Modified-Since: {lm}")
    t.check("If-None-Match takes precedence over If-Modified-Since", st == 200, f"{st}")

    # ---------------------------------------------------------- ranges
    n = len(CSS)
    st, h, body = curl(u + "/style.css", "-H", "Range: bytes=0-9")
    t.check("Range first-last: 206 with Content-Range", st == 206 and body == CSS[:10]
            and h1(h, "content-range") == f"bytes 0-9/{n}" and h1(h, "content-length") == "10", f"{st} {h}")
    st, h, body = curl(u + "/style.css", "-H", "Range: bytes=100-")
    t.check("Range first-: to the end", st == 206 and body == CSS[100:]
            and h1(h, "content-range") == f"bytes 100-{n - 1}/{n}", f"{st} {h}")
    st, h, body = curl(u + "/style.css", "-H", "Range: bytes=-25")
    t.check("Range -suffix: the last bytes", st == 206 and body == CSS[-25:]
            and h1(h, "content-range") == f"bytes {n - 25}-{n - 1}/{n}", f"{st} {h}")
    st, h, body = curl(u + "/style.css", "-r", "5-5")
    t.check("curl -r 5-5: one byte", st == 206 and body == CSS[5:6], f"{st}")
    st, h, body = curl(u + "/style.css", "-H", f"Range: bytes={n}-")
    t.check("unsatisfiable Range: 416 with Content-Range */size", st == 416
            and h1(h, "content-range") == f"bytes */{n}" and body == b"", f"{st} {h}")
    st, h, body = curl(u + "/style.css", "-H", "Range: bytes=0-1,5-6")
    t.check("several ranges: the whole asset (200)", st == 200 and body == CSS, f"{st}")
    st, h, body = curl(u + "/style.css", "-H", "Range: lines=1-2")
    t.check("an unknown range unit is ignored", st == 200 and body == CSS, f"{st}")
    st, h, body = curl(u + "/style.css", "-H", "Range: bytes=0-9", "-H", f"If-Range: {css_etag}")
    t.check("If-Range with the current ETag: 206", st == 206 and body == CSS[:10], f"{st}")
    st, h, body = curl(u + "/style.css", "-H", "Range: bytes=0-9", "-H", 'If-Range: "old"')
    t.check("If-Range with another ETag: the whole asset", st == 200 and body == CSS, f"{st}")
    st, h, body = curl(u + "/style.css", "-H", "Range: bytes=0-9", "-H", f"If-Range: {lm}")
    t.check("If-Range with the Last-Modified date: 206", st == 206, f"{st}")
    st, h, body = curl(u + "/style.css", "-H", "Range: bytes=0-9", method="HEAD")
    t.check("HEAD ignores Range", st == 200 and h1(h, "content-length") == str(n), f"{st} {h}")
    st, h, body = curl(u + "/style.css", "-H", "Range: bytes=0-9", "-H", "Accept-Encoding: gzip")
    gz_st, gz_h, gz_full = curl(u + "/style.css", "-H", "Accept-Encoding: gzip")
    t.check("Range on the gzip representation: its bytes", st == 206 and body == gz_full[:10]
            and h1(h, "content-encoding") == "gzip", f"{st} {h}")

    # ---------------------------------------------------------- pipelining
    reqs = b"".join(b"GET /style.css HTTP/1.1\r\nHost: x\r\n\r\n" for _ in range(15))
    raw = s.raw(reqs + b"GET /style.css HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
    t.check("16 pipelined requests: 16 complete answers", raw.count(b"HTTP/1.1 200 OK") == 16
            and raw.count(CSS) == 16, f"{raw.count(b'HTTP/1.1 200 OK')} answers")
    t.check("the server is still up", s.alive())
t.done()
