#!/usr/bin/env python3
"""HTTP/2 in the client (tests/client/fetch --h2) and in uweb-bench --h2,
against nginx with http2 on (TLS with the test CA of scripts/mkcert.sh, and
cleartext by prior knowledge for uweb-bench) and against uweb's own HTTPS
server, which offers h2 by ALPN:

- 100 requests from 100 tasks multiplexed on one connection, all h2;
- bodies larger than a stream's window (flow control), 20 at once, intact;
- HEAD and 404 on a stream; the server's GOAWAY after keepalive_requests
  makes the client open a new connection; a stream that times out is
  reset and the connection carries on;
- without --h2 the same server is spoken to in HTTP/1.1;
- uweb-bench --h2 -m 100 counts exactly (requests the server refused after
  its GOAWAY are sent again), checks bodies, speaks h2c by prior knowledge,
  and fails on an unexpected status.
"""
import hashlib
import os
import shutil
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "lib"))
from uwtest import T, Server, BUILD, ROOT, free_port, wait_port  # noqa: E402
import uwclient  # noqa: E402
from uwclient import FETCH, Nginx, nginx_binary  # noqa: E402

t = T()
BENCH = os.path.join(BUILD, "tools", "uweb-bench")
TARGET = os.path.join(BUILD, "tests", "apps", "benchtarget")
for exe in (FETCH, BENCH, TARGET):
    if not os.access(exe, os.X_OK):
        t.check(f"{os.path.basename(exe)} built", False, f"{exe} missing")
        t.done()

work = tempfile.mkdtemp(prefix="uweb-client-h2-")
subprocess.run([os.path.join(ROOT, "scripts", "mkcert.sh"), work], check=True)
CA = os.path.join(work, "ca.pem")


def fetch(*args, timeout=60):
    return uwclient.fetch("--cacert", CA, *args, timeout=timeout)


def bench(*args):
    p = subprocess.run([BENCH, *args], capture_output=True, text=True, timeout=120)
    return p.returncode, p.stdout + p.stderr


try:
    root = os.path.join(work, "www")
    os.makedirs(root)
    big = os.urandom(700 * 1024)
    open(os.path.join(root, "big.bin"), "wb").write(big)
    big_sha = hashlib.sha256(big).hexdigest()
    small_sha = hashlib.sha256(b"nginx h2\n").hexdigest()

    if not nginx_binary():
        t.skip("nginx", "nginx is not installed")
    else:
        tls_port, clear_port = free_port(), free_port()
        with Nginx(work, f"""
    keepalive_requests 300;
    keepalive_timeout 1s;
    server {{
        listen 127.0.0.1:{tls_port} ssl http2;
        listen 127.0.0.1:{clear_port} http2;
        ssl_certificate {work}/localhost.pem;
        ssl_certificate_key {work}/localhost.key;
        root {root};
        location = / {{ return 200 "nginx h2\\n"; }}
    }}""", [tls_port, clear_port]):
            url = f"https://localhost:{tls_port}"
            a, st, out = fetch("--h2", "--parallel", "100", url + "/")
            t.check("nginx: 100 requests multiplexed on one HTTP/2 connection", len(a) == 100
                    and all(x.get("status") == 200 and x.get("h2") == "1" and x.get("sha256") == small_sha for x in a)
                    and st.get("connections") == 1 and st.get("reused") == 99, out)
            a, st, out = fetch("--h2", "--parallel", "20", url + "/big.bin")
            t.check("nginx: 20 bodies of 700 KiB at once (past the stream window) arrive intact", len(a) == 20
                    and all(x.get("sha256") == big_sha for x in a) and st.get("connections") == 1, out)
            a, st, out = fetch("--h2", "--method", "HEAD", url + "/big.bin", "--method", "GET", url + "/missing", url + "/")
            t.check("nginx: HEAD and 404 on streams of the same connection", len(a) == 3 and a[0].get("status") == 200
                    and a[0].get("len") == "0" and a[1].get("status") == 404 and a[2].get("sha256") == small_sha
                    and st.get("connections") == 1, out)
            a, st, out = fetch("--h2", *[url + "/"] * 310)
            t.check("nginx: after its GOAWAY (keepalive_requests 300) a new connection carries on",
                    len(a) == 310 and all(x.get("status") == 200 for x in a) and st.get("connections") == 2, out)
            a, st, out = fetch("--h2", url + "/", "--sleep", "1600", url + "/")
            t.check("nginx: a connection the server closed while idle (keepalive_timeout 1s) is not used again",
                    len(a) == 2 and all(x.get("status") == 200 for x in a) and st.get("connections") == 2, out)
            a, st, out = fetch(url + "/", url + "/")
            t.check("nginx: without --h2 the client speaks HTTP/1.1", len(a) == 2 and all(x.get("h2") == "0" for x in a)
                    and st.get("connections") == 1, out)
            rc, out = bench(url + "/", "--cacert", CA, "--h2", "-m", "100", "-c", "2", "-n", "5000", "--json")
            t.check("uweb-bench --h2 -m 100: exact count over GOAWAYs (keepalive_requests 300)",
                    rc == 0 and '"requests":5000,' in out and '"ok":5000,' in out, out[-600:])
            rc, out = bench(url + "/big.bin", "--cacert", CA, "--h2", "-m", "8", "-c", "1", "-n", "40",
                            "--expect-body-sha256", big_sha)
            t.check("uweb-bench --h2: bodies checked", rc == 0 and "body 0" in out, out[-600:])
            rc, out = bench(f"http://127.0.0.1:{clear_port}/", "--h2", "-m", "10", "-c", "2", "-n", "1000")
            t.check("uweb-bench --h2 over http:// by prior knowledge", rc == 0 and "200: 1000" in out, out[-600:])
            rc, out = bench(url + "/missing", "--cacert", CA, "--h2", "-m", "10", "-c", "1", "-n", "50")
            t.check("uweb-bench --h2: a 404 fails the run", rc == 1 and "404: 50" in out and "status 50" in out, out[-600:])

    # ------------------------------------------------------------ uweb's server
    tls_port = free_port()
    with Server(None, [f"--tls-port={tls_port}", "--addr=127.0.0.1", f"--tls-cert={work}/localhost.pem",
                       f"--tls-key={work}/localhost.key", "--quiet"], binary=TARGET) as s:
        if not wait_port(tls_port):
            t.check("uweb: HTTPS listener", False, s.output())
        else:
            url = f"https://localhost:{tls_port}"
            a, st, out = fetch("--h2", "--parallel", "100", url + "/")
            if a and all(x.get("h2") == "0" for x in a if "h2" in x):
                t.skip("uweb: h2", "this server does not offer h2 by ALPN")
            else:
                t.check("uweb: 100 requests multiplexed on one HTTP/2 connection", len(a) == 100
                        and all(x.get("status") == 200 and x.get("h2") == "1" for x in a)
                        and st.get("connections") == 1, out)
                rc, out = bench(url + "/", "--cacert", CA, "--h2", "-m", "100", "-c", "2", "-n", "5000")
                t.check("uweb-bench --h2 -m 100 against uweb: exact count", rc == 0 and "200: 5000" in out, out[-600:])
                a, st, out = fetch("--h2", "--request-timeout", "300", url + "/slow/400", url + "/")
                t.check("uweb: a stream past its timeout is reset; the connection carries the next request",
                        len(a) == 2 and a[0].get("error", "").startswith("timed out") and a[1].get("status") == 200
                        and a[1].get("h2") == "1" and st.get("connections") == 1, out)
finally:
    shutil.rmtree(work, ignore_errors=True)
t.done()
