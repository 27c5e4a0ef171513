"""Shared by the image tests (tests/tools/image.py, tests/net/image_uk.py):
the generated tree and pipelined GETs."""
import http.client
import os
import socket
from urllib.parse import quote


def make_tree(root, rnd, big_mib):
    """Writes the round-trip tree under root (empty files, deep paths,
    UTF-8 names, 10,000 small files, 20 duplicates, a file of big_mib MiB
    and some bytes); returns {"/path": bytes}."""
    files = {}

    def put(rel, data):
        path = os.path.join(root, rel)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, "wb") as f:
            f.write(data)
        files["/" + rel] = data
    put("index.html", b"<!doctype html><title>root</title>\n")
    put("empty.txt", b"")
    put("also/empty.css", b"")
    put("a/b/c/d/e/f/g/h/i/j/k/l/m/n/o/p/deep.html", b"<p>deep</p>\n")
    put("\u00fcn\u00efc\u00f8d\u00e9/\u65e5\u672c\u8a9e.html", "<p>\u65e5\u672c\u8a9e</p>\n".encode())
    put("docs/index.html", b"<h1>docs</h1>\n")
    put("docs/long.html", b"".join(b"<p>paragraph %d of a long page, to be compressed</p>\n" % i for i in range(6000)))
    words = [b"alpha", b"beta", b"gamma", b"delta", b"option", b"server", b"<p>", b"</p>", b"\n"]
    for i in range(10000):
        body = b"<html><body>" + b" ".join(rnd.choice(words) for _ in range(rnd.randrange(5, 120))) + b"</body></html>\n"
        put(f"many/{i // 500:02d}/page{i:05d}.html", body)
    for i in range(20):
        put(f"dups/copy{i}.html", files["/many/00/page00001.html"])
    big = bytearray()
    block = bytes(rnd.getrandbits(8) for _ in range(4096))
    while len(big) < big_mib << 20:
        big += block if rnd.random() < 0.5 else os.urandom(4096)
    put("media/big.bin", bytes(big[:(big_mib << 20) + 777]))
    return files


def urlpath(p):
    return quote(p, safe="/?=&")


class _File:
    """A socket stand-in for HTTPResponse: one buffered reader for every
    response of the connection, which a response does not close."""
    def __init__(self, f):
        self.f = f

    def makefile(self, *args, **kw):
        return self

    def __getattr__(self, name):
        return getattr(self.f, name)

    def close(self):
        pass


def fetch_many(host, port, reqs, batch=64, timeout=30):
    """Pipelined GETs on one connection: [(path, headers)] ->
    [(status, {lower-case name: value}, body)]."""
    out = []
    with socket.create_connection((host, port), timeout=timeout) as sk:
        f = sk.makefile("rb")
        for i in range(0, len(reqs), batch):
            part = reqs[i:i + batch]
            wire = b"".join(f"GET {urlpath(p)} HTTP/1.1\r\nHost: x\r\n".encode()
                            + b"".join(f"{k}: {v}\r\n".encode() for k, v in h.items()) + b"\r\n" for p, h in part)
            sk.sendall(wire)
            for _ in part:
                r = http.client.HTTPResponse(_File(f), method="GET")
                r.begin()
                out.append((r.status, {k.lower(): v for k, v in r.getheaders()}, r.read()))
    return out
