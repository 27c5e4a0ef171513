#!/usr/bin/env python3
"""The HTTP client (through tests/client/fetch) against uweb's own servers
and against nginx started on a free port with its own configuration:
keep-alive reuse, chunked both ways, a server closing mid-body, a slow
server and timeouts, redirects, HEAD, 404."""
import gzip
import hashlib
import os
import shutil
import sys
import tempfile

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "lib"))
from uwtest import T, Server, BUILD, free_port  # noqa: E402
from uwclient import FETCH, Nginx, fetch, nginx_binary  # noqa: E402

t = T()
TARGET = os.path.join(BUILD, "tests", "apps", "benchtarget")
ECHO = os.path.join(BUILD, "tests", "apps", "echo")


def sha(b):
    return hashlib.sha256(b).hexdigest()


for exe in (FETCH, TARGET, ECHO):
    if not os.access(exe, os.X_OK):
        t.check(f"{os.path.basename(exe)} built", False, f"{exe} missing")
        t.done()

work = tempfile.mkdtemp(prefix="uweb-client-")
try:
    big = os.path.join(work, "big.bin")
    with open(big, "wb") as f:
        f.write(os.urandom(1 << 20) + b"end")
    blob = open(big, "rb").read()

    # ------------------------------------------------------------ uweb's servers
    with Server("benchtarget", binary=TARGET, args=["--quiet"]) as s:
        a, st, out = fetch(*[s.url + "/"] * 5)
        t.check("uweb: five GETs on one kept-alive connection", len(a) == 5 and all(x.get("status") == 200 for x in a)
                and st.get("connections") == 1 and st.get("reused") == 4, out)
        a, st, out = fetch(s.url + "/chunked/50000")
        want = "".join(f"line {i}\n" for i in range(50000)).encode()
        t.check("uweb: a chunked answer read whole", a and a[0].get("te") == "chunked" and a[0].get("length") == "-1"
                and a[0].get("sha256") == sha(want), out)
        a, st, out = fetch(s.url + "/bytes/3000000")
        t.check("uweb: 3 MB with Content-Length", a and a[0].get("len") == "3000000"
                and a[0].get("sha256") == sha(b"x" * 3000000), out)
        a, st, out = fetch(s.url + "/cut", s.url + "/")
        t.check("uweb: a server closing mid-body is an error, and the next request opens a new connection",
                a and "closed before the answer was complete" in a[0].get("error", "") and a[1].get("status") == 200
                and st.get("connections") == 2, out)
        a, st, out = fetch("--io-timeout", "500", s.url + "/slow/200")
        t.check("uweb: a slow answer within each read's timeout", a and a[0].get("status") == 200
                and a[0].get("sha256") == sha(b"part\n" * 4), out)
        a, st, out = fetch("--io-timeout", "100", s.url + "/slow/400")
        t.check("uweb: a slow answer past the read timeout times out", a and a[0].get("error", "").startswith("timed out"), out)
        a, st, out = fetch("--request-timeout", "500", s.url + "/slow/200")
        t.check("uweb: the whole-request timeout covers the body", a and a[0].get("error", "").startswith("timed out"), out)
        a, st, out = fetch("--max-redirects", "5", s.url + "/redirect/3", s.url + "/redirect/9")
        t.check("uweb: redirects followed up to the limit", a and a[0].get("status") == 200
                and "too many redirects" in a[1].get("error", ""), out)
        a, st, out = fetch(s.url + "/redirect/1")
        t.check("uweb: redirects not followed by default", a and a[0].get("status") == 302, out)
        a, st, out = fetch("--max-body", "1000", s.url + "/bytes/5000")
        t.check("uweb: a body over the cap", a and "size limit" in a[0].get("error", ""), out)
        a, st, out = fetch(f"http://localhost:{s.port}/", f"http://[::1]:{free_port()}/")
        t.check("uweb: a host name resolves; refused IPv6 literal is a connect error", a and a[0].get("status") == 200
                and "refused" in a[1].get("error", ""), out)
    with Server("echo", binary=ECHO, args=["--quiet"]) as s:
        a, st, out = fetch("--method", "POST", "--upload", big, s.url + "/echo",
                           "--method", "POST", "--upload-length", big, s.url + "/echo")
        t.check("uweb: 1 MiB uploaded chunked and with Content-Length, echoed back", len(a) == 2
                and all(x.get("sha256") == sha(blob) for x in a) and st.get("connections") == 1, out)

    # ------------------------------------------------------------ nginx
    if not nginx_binary():
        t.skip("nginx", "nginx is not installed")
        t.done()
    port = free_port()
    root = os.path.join(work, "www")
    os.makedirs(os.path.join(root, "up"))
    text = b"".join(b"nginx line %d\n" % i for i in range(40000))
    open(os.path.join(root, "text.txt"), "wb").write(text)
    open(os.path.join(root, "small.txt"), "wb").write(b"small\n")
    with Nginx(work, f"""
    keepalive_requests 3;
    server {{
        listen 127.0.0.1:{port};
        root {root};
        add_header X-Conn $connection always;
        gzip on;
        gzip_types text/plain;
        gzip_min_length 1;
        location /up/ {{ dav_methods PUT; create_full_put_path on; client_max_body_size 10m; }}
        location = /moved {{ return 302 /small.txt; }}
    }}""", [port]):
        url = f"http://127.0.0.1:{port}"
        a, st, out = fetch(*[url + "/small.txt"] * 5)
        conns = [x.get("conn") for x in a]
        t.check("nginx: keep-alive reuse, and a new connection after nginx's Connection: close (keepalive_requests 3)",
                len(a) == 5 and all(x.get("status") == 200 for x in a) and st.get("connections") == 2
                and st.get("reused") == 3 and conns[0] == conns[1] == conns[2] != conns[3] == conns[4], out)
        a, st, out = fetch("--header", "Accept-Encoding: gzip", "--out", os.path.join(work, "got.gz"), url + "/text.txt")
        got = open(os.path.join(work, "got.gz"), "rb").read() if os.path.exists(os.path.join(work, "got.gz")) else b""
        try:
            plain = gzip.decompress(got)
        except Exception as e:  # noqa: BLE001
            plain = repr(e).encode()
        t.check("nginx: a chunked (gzip) answer read whole", a and a[0].get("te") == "chunked" and plain == text, out)
        a, st, out = fetch("--method", "PUT", "--upload", big, url + "/up/chunked.bin",
                           "--method", "PUT", "--upload-length", big, url + "/up/length.bin")
        ok = all(os.path.exists(os.path.join(root, "up", n)) and open(os.path.join(root, "up", n), "rb").read() == blob
                 for n in ("chunked.bin", "length.bin"))
        t.check("nginx: 1 MiB PUT chunked and with Content-Length stored intact", len(a) == 2
                and all(x.get("status") in (201, 204) for x in a) and ok, out)
        a, st, out = fetch("--method", "HEAD", url + "/text.txt", "--method", "GET", url + "/small.txt")
        t.check("nginx: HEAD has no body and the connection carries on", len(a) == 2 and a[0].get("len") == "0"
                and a[1].get("sha256") == sha(b"small\n") and st.get("connections") == 1, out)
        a, st, out = fetch("--max-redirects", "2", url + "/missing", url + "/moved")   # options before the first URL
        t.check("nginx: 404, and a redirect followed", len(a) == 2 and a[0].get("status") == 404
                and a[1].get("status") == 200 and a[1].get("sha256") == sha(b"small\n"), out)
finally:
    shutil.rmtree(work, ignore_errors=True)
t.done()
