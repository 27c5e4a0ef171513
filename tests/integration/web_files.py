#!/usr/bin/env python3
"""Files from a directory (files.h) with curl and raw requests: ETag,
Last-Modified, 304, Range, HEAD, the directory index and its redirect,
uw_res_file; and every way out of the root refused (.., %2e%2e, encoded
slashes, backslashes, NUL, dot files, symlinks out of the root)."""
import http.client, os, socket, sys, tempfile
sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "lib"))
from uwtest import T, Server, BUILD, curl, read_all

t = T()
exe = os.path.join(BUILD, "tests", "apps", "webfeat")
t.require_built(exe)


def req(s, method, path, headers=None):
    c = http.client.HTTPConnection("127.0.0.1", s.port, timeout=10)
    c.request(method, path, headers=headers or {})
    r = c.getresponse()
    body = r.read()
    c.close()
    return r, body


def raw_status(s, path):
    """The status of a GET of path sent exactly as given."""
    with socket.create_connection(("127.0.0.1", s.port), timeout=5) as c:
        c.sendall(b"GET " + path + b" HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        out = read_all(c)
    try:
        return int(out.split(b" ", 2)[1])
    except (IndexError, ValueError):
        return out[:40]


with tempfile.TemporaryDirectory() as top:
    root = os.path.join(top, "www")
    os.makedirs(os.path.join(root, "sub"))
    open(os.path.join(top, "outside.txt"), "w").write("SECRET OUTSIDE\n")
    open(os.path.join(root, "a.txt"), "w").write("0123456789abcdefghijklmnopqrstuvwxyz\n")
    open(os.path.join(root, ".env"), "w").write("PASSWORD=x\n")
    open(os.path.join(root, "sub", "index.html"), "w").write("<h1>sub</h1>\n")
    big = os.urandom(3 << 20)
    open(os.path.join(root, "big.bin"), "wb").write(big)
    os.symlink("../a.txt", os.path.join(root, "sub", "link-in"))
    os.symlink(os.path.join(top, "outside.txt"), os.path.join(root, "link-out"))
    os.symlink("../../outside.txt", os.path.join(root, "sub", "rel-out"))
    os.mkfifo(os.path.join(root, "fifo"))
    with Server(None, binary=exe, args=["--quiet"], env={"WEBFEAT_ROOT": root}) as s:
        r, body = req(s, "GET", "/files/a.txt")
        etag, lm = r.getheader("ETag"), r.getheader("Last-Modified")
        t.check("files: a file with ETag, Last-Modified, its type", r.status == 200 and body.startswith(b"0123") and etag and lm
                and r.getheader("Content-Type") == "text/plain; charset=utf-8" and r.getheader("Accept-Ranges") == "bytes", r.getheaders())
        r, body = req(s, "GET", "/files/a.txt", {"If-None-Match": etag})
        t.check("files: If-None-Match gives 304", r.status == 304 and body == b"")
        r, body = req(s, "GET", "/files/a.txt", {"If-Modified-Since": lm})
        t.check("files: If-Modified-Since gives 304", r.status == 304)
        r, body = req(s, "GET", "/files/big.bin", {"Range": "bytes=1000-1999"})
        t.check("files: a Range is 206 with those bytes", r.status == 206 and body == big[1000:2000] and r.getheader("Content-Range") == f"bytes 1000-1999/{len(big)}")
        r, body = req(s, "GET", "/files/big.bin", {"Range": "bytes=-10"})
        t.check("files: a suffix range", r.status == 206 and body == big[-10:])
        r, body = req(s, "GET", "/files/big.bin", {"Range": f"bytes={len(big)}-"})
        t.check("files: an unsatisfiable range is 416", r.status == 416)
        r, body = req(s, "HEAD", "/files/big.bin")
        t.check("files: HEAD has the length and no body", r.status == 200 and body == b"" and r.getheader("Content-Length") == str(len(big)))
        rc, out, err = curl("-s", s.url + "/files/big.bin")
        t.check("files: curl gets a 3 MiB file whole", rc == 0 and out == big, err)
        r, body = req(s, "GET", "/files/sub")
        t.check("files: a directory without its slash is redirected", r.status == 308 and r.getheader("Location") == "/files/sub/", r.getheaders())
        r, body = req(s, "GET", "/files/sub/")
        t.check("files: a directory serves its index.html", r.status == 200 and body == b"<h1>sub</h1>\n" and r.getheader("Content-Type").startswith("text/html"))
        r, body = req(s, "GET", "/one")
        t.check("files: uw_res_file", r.status == 200 and body.startswith(b"0123"))
        r, body = req(s, "GET", "/files/nope.txt")
        t.check("files: a missing file is 404", r.status == 404)
        # the ways out
        out = {
            b"/files/../outside.txt": (400, 404),
            b"/files/sub/../../outside.txt": (400, 404),
            b"/files/%2e%2e/outside.txt": (400, 404),
            b"/files/%2E%2E/%2e%2e/outside.txt": (400, 404),
            b"/files/sub%2f..%2f..%2foutside.txt": (400, 404),
            b"/files/sub%5c..%5c..%5coutside.txt": (400, 404),
            b"/files/sub\\..\\..\\outside.txt": (400, 404),
            b"/files/a.txt%00.png": (400, 404),
            b"/files/.env": (404,),
            b"/files/%2eenv": (404,),
            b"/files/link-out": (403,),
            b"/files/sub/rel-out": (403,),
            b"/files/sub/link-in": (403,),
            b"/files/fifo": (403,),
            b"/files//etc/passwd": (400, 404),
        }
        for path, want in out.items():
            st = raw_status(s, path)
            t.check(f"files: {path.decode()} is refused ({'/'.join(map(str, want))})", st in want, f"got {st}")
        r, body = req(s, "GET", "/linked/sub/link-in")
        t.check("files: with follow_symlinks a symlink inside the root is served", r.status == 200 and body.startswith(b"0123"))
        st = raw_status(s, b"/linked/link-out")
        t.check("files: with follow_symlinks a symlink out of the root is still 403", st == 403, st)
        st = raw_status(s, b"/linked/sub/rel-out")
        t.check("files: with follow_symlinks a relative symlink out of the root is 403", st == 403, st)
        r, body = req(s, "GET", "/files/big.bin", {"Accept-Encoding": "gzip"})
        t.check("files: a binary file is not compressed on the fly", r.getheader("Content-Encoding") is None and body == big)
t.done()
