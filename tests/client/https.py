#!/usr/bin/env python3
"""https:// in the client (tests/client/fetch) and in uweb-bench, against
uweb's own HTTPS server (tests/apps/benchtarget on OpenSSL, and hello on
mbedTLS when built: UWEB_BUILD_MBEDTLS or BUILD/mbedtls; the client built
on mbedTLS too when that build has tests/client/fetch) and against nginx,
with a test CA made by scripts/mkcert.sh as `make run` makes it:

- a certificate of the test CA is accepted with --cacert, by IP literal and
  by host name (SNI), and the connection is kept alive and reused;
- the same server is refused with the system store (an unknown CA) and a
  self-signed certificate is refused even when named;
- a certificate for another name is refused (wrong host name);
- --insecure accepts what verification refuses;
- uweb-bench over https counts exactly, and fails on a refused certificate.
"""
import os
import shutil
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "lib"))
from uwtest import T, Server, BUILD, ROOT, free_port, wait_port  # noqa: E402
import uwclient  # noqa: E402
from uwclient import FETCH, Nginx, fetch, nginx_binary  # noqa: E402

t = T()
BENCH = os.path.join(BUILD, "tools", "uweb-bench")
TARGET = os.path.join(BUILD, "tests", "apps", "benchtarget")
for exe in (FETCH, BENCH, TARGET):
    if not os.access(exe, os.X_OK):
        t.check(f"{os.path.basename(exe)} built", False, f"{exe} missing")
        t.done()

work = tempfile.mkdtemp(prefix="uweb-client-https-")
subprocess.run([os.path.join(ROOT, "scripts", "mkcert.sh"), work], check=True)
CA = os.path.join(work, "ca.pem")
# a self-signed certificate for localhost (no CA behind it)
SELF = os.path.join(work, "self.pem"), os.path.join(work, "self.key")
subprocess.run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
                "-keyout", SELF[1], "-out", SELF[0], "-days", "2", "-subj", "/CN=localhost",
                "-addext", "subjectAltName=DNS:localhost,IP:127.0.0.1"], check=True, capture_output=True)


def pem(name):
    return os.path.join(work, name + ".pem"), os.path.join(work, name + ".key")


class TLSServer(Server):
    def __init__(self, binary, cert, args=()):
        self.tls_port = free_port()
        c, k = cert
        super().__init__(None, [f"--tls-port={self.tls_port}", "--addr=127.0.0.1", f"--tls-cert={c}",
                                f"--tls-key={k}", *args], binary=binary)

    def __enter__(self):
        super().__enter__()
        if not wait_port(self.tls_port):
            self.stop()
            raise RuntimeError(f"no HTTPS listener on {self.tls_port}: {self.output()}")
        return self


def verify_checks(who, port, wrong_name_port, self_port):
    """The checks against one server kind: port serves localhost.pem,
    wrong_name_port other.pem (other.localhost only), self_port a
    self-signed localhost certificate."""
    base = f"https://127.0.0.1:{port}"
    a, st, out = fetch("--cacert", CA, base + "/", f"https://localhost:{port}/", base + "/", base + "/")
    t.check(f"{who}: the test CA's certificate accepted by IP and by name; kept alive and reused",
            len(a) == 4 and all(x.get("status") == 200 for x in a) and st.get("connections") == 2
            and st.get("reused") == 2, out)
    a, st, out = fetch(base + "/")
    t.check(f"{who}: an unknown CA refused (verification on by default, the system store)",
            a and "certificate was refused" in a[0].get("error", ""), out)
    a, st, out = fetch("--cacert", CA, f"https://localhost:{wrong_name_port}/", f"https://127.0.0.1:{wrong_name_port}/")
    t.check(f"{who}: a certificate for another host name refused",
            len(a) == 2 and all("certificate was refused" in x.get("error", "") for x in a), out)
    a, st, out = fetch("--cacert", CA, f"https://localhost:{self_port}/")
    t.check(f"{who}: a self-signed certificate refused", a and "certificate was refused" in a[0].get("error", ""), out)
    a, st, out = fetch("--insecure", base + "/", f"https://localhost:{wrong_name_port}/", f"https://localhost:{self_port}/")
    t.check(f"{who}: --insecure accepts them all", len(a) == 3 and all(x.get("status") == 200 for x in a), out)


try:
    servers = [("uweb (OpenSSL)", TARGET)]
    mb = os.path.join(os.environ.get("UWEB_BUILD_MBEDTLS") or os.path.join(BUILD, "mbedtls"), "apps", "hello")
    if os.access(mb, os.X_OK):
        servers.append(("uweb (mbedTLS)", mb))
    else:
        t.skip("uweb (mbedTLS) server", f"{mb} not built (make mbedtls-apps)")
    for who, exe in servers:
        with TLSServer(exe, pem("localhost"), ["--quiet"]) as s, TLSServer(exe, pem("other"), ["--quiet"]) as o, \
                TLSServer(exe, SELF, ["--quiet"]) as ss:
            verify_checks(who, s.tls_port, o.tls_port, ss.tls_port)
            # the client on mbedTLS too, when that build has it
            mb_fetch = os.path.join(os.path.dirname(mb), "..", "tests", "client", "fetch")
            if exe == TARGET and os.access(mb_fetch, os.X_OK):
                uwclient.FETCH = mb_fetch
                try:
                    verify_checks(f"{who}, the client on mbedTLS", s.tls_port, o.tls_port, ss.tls_port)
                finally:
                    uwclient.FETCH = FETCH
            if exe == TARGET:
                a, st, out = fetch("--cacert", CA, f"https://127.0.0.1:{s.port}/")
                t.check("uweb: https:// to a plain HTTP port is a TLS handshake failure",
                        a and "TLS handshake failed" in a[0].get("error", ""), out)
                url = f"https://localhost:{s.tls_port}/"
                p = subprocess.run([BENCH, url, "-c", "4", "-n", "1000", "--cacert", CA, "--json"],
                                   capture_output=True, text=True, timeout=60)
                t.check("uweb-bench: https with --cacert, exact count on 4 connections",
                        p.returncode == 0 and '"requests":1000,' in p.stdout and '"connects":4,' in p.stdout,
                        p.stdout[:300] + p.stderr)
                p = subprocess.run([BENCH, url, "-c", "2", "-n", "10"], capture_output=True, text=True, timeout=60)
                t.check("uweb-bench: an unknown CA fails the run as connect errors with the reason",
                        p.returncode == 1 and "connect 10" in p.stdout and "uweb-bench: TLS: " in p.stderr,
                        p.stdout[:300] + p.stderr)
                p = subprocess.run([BENCH, url, "-c", "2", "-n", "10", "--insecure"], capture_output=True, text=True,
                                   timeout=60)
                t.check("uweb-bench: --insecure", p.returncode == 0, p.stdout[:300] + p.stderr)
                p = subprocess.run([BENCH, url, "--cacert", os.path.join(work, "none.pem")], capture_output=True,
                                   text=True, timeout=60)
                t.check("uweb-bench: an unreadable --cacert is one line, status 2",
                        p.returncode == 2 and p.stderr.count("\n") == 1 and "CA file" in p.stderr, p.stderr)

    # ------------------------------------------------------------ resumption
    sport = free_port()
    ss = subprocess.Popen(["openssl", "s_server", "-accept", str(sport), "-cert", pem("localhost")[0], "-key",
                           pem("localhost")[1], "-www", "-quiet"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        if wait_port(sport):
            out1, out2 = os.path.join(work, "s1.txt"), os.path.join(work, "s2.txt")
            fetch("--cacert", CA, "--out", out1, f"https://localhost:{sport}/")
            fetch("--cacert", CA, "--out", out2, f"https://localhost:{sport}/", f"https://localhost:{sport}/")
            first = open(out1, errors="replace").read() if os.path.exists(out1) else ""
            last = open(out2, errors="replace").read() if os.path.exists(out2) else ""
            t.check("the client resumes its TLS 1.3 session on a new connection to the same host (openssl s_server)",
                    "New, TLSv1.3" in first and "Reused, TLSv1.3" in last, first[:200] + " / " + last[:200])
        else:
            t.skip("TLS resumption", "openssl s_server did not start")
    finally:
        ss.terminate()
        ss.wait(10)

    # ------------------------------------------------------------ nginx
    if not nginx_binary():
        t.skip("nginx", "nginx is not installed")
        t.done()
    ports = [free_port() for _ in range(3)]
    certs = [pem("localhost"), pem("other"), SELF]
    servers = "".join(f"""
    server {{
        listen 127.0.0.1:{p} ssl;
        ssl_certificate {c};
        ssl_certificate_key {k};
        location / {{ return 200 "nginx over TLS\\n"; }}
    }}""" for p, (c, k) in zip(ports, certs))
    with Nginx(work, servers, ports):
        verify_checks("nginx", *ports)
        p = subprocess.run([BENCH, f"https://127.0.0.1:{ports[0]}/", "-c", "4", "-n", "1000", "--cacert", CA],
                           capture_output=True, text=True, timeout=60)
        t.check("uweb-bench: https against nginx, exact count", p.returncode == 0 and "requests     1000 " in p.stdout,
                p.stdout[:300] + p.stderr)
finally:
    shutil.rmtree(work, ignore_errors=True)
t.done()
