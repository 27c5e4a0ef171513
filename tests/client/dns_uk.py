#!/usr/bin/env python3
"""Host names in the client on the unikernels: lwIP's DNS client, through
the spt test guest tests/net/dns_client (uw_client_fetch of each URL).

In a network namespace of its own with one tap device (10.83.0.1/24 on
the host side, the guest at 10.83.0.2): dnsmasq answers DNS for uweb.test
(and DHCP), a small HTTP server on 10.83.0.1 answers the guest.  Checks:
with --dns=10.83.0.1 a name resolves and its answer arrives, an unknown
name is "host name did not resolve", and an IPv4 literal still connects;
without --ipv4 and --dns the DHCP lease's DNS server is used; a bad
--dns is refused.  https:// on the guest (mbedTLS) against an HTTPS
server on the host with a certificate of scripts/mkcert.sh's test CA for
uweb.test: with the CA bundle on the block device "ca" (--block:ca=FILE,
uw_block_slurp) the certificate is accepted; a name it does not carry is
refused; without a bundle (no system store on a unikernel) TLS fails.  Needs root, /dev/net/tun and dnsmasq (else skipped);
the guest and the tender must be built.
"""
import http.server
import os
import ssl
import shutil
import subprocess
import sys
import tempfile
import threading
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
from uwtest import T, BUILD, ROOT  # noqa: E402
from uwnetns import run_inside  # noqa: E402

t = T()
SPT = os.path.join(BUILD, "uweb-spt")
GUEST = os.path.join(BUILD, "spt", "tests", "net", "dns_client.spt")
for exe in (SPT, GUEST):
    if not os.access(exe, os.X_OK):
        t.check(f"{os.path.basename(exe)} built", False, f"{exe} missing")
        t.done()
dnsmasq = shutil.which("dnsmasq") or shutil.which("dnsmasq", path="/usr/sbin:/sbin")
if not dnsmasq:
    t.skip("unikernel DNS", "dnsmasq is not installed (dnsmasq-base)")
    t.done()
if "--inside" not in sys.argv:
    run_inside(t, "unikernel DNS", "uwdns", [("uwdns0", "10.83.0.1/24")])


class Hello(http.server.BaseHTTPRequestHandler):
    def do_GET(self):  # noqa: N802
        body = b"hello from the host\n"
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


def guest(*args, timeout=90, block=None):
    dev = [f"--block:ca={block}"] if block else []
    p = subprocess.run([SPT, "--net:service=uwdns0", *dev, "--", GUEST, *args], capture_output=True, timeout=timeout)
    return p.returncode, (p.stdout + p.stderr).decode(errors="replace")


httpd = http.server.ThreadingHTTPServer(("10.83.0.1", 0), Hello)
port = httpd.server_address[1]
threading.Thread(target=httpd.serve_forever, daemon=True).start()
tmp = tempfile.mkdtemp(prefix="uwdns")
log = open(os.path.join(tmp, "dnsmasq.log"), "w+b")
srv = subprocess.Popen([dnsmasq, "--no-daemon", "--conf-file=/dev/null", "--no-resolv", "--no-hosts",
                        "--interface=uwdns0", "--bind-interfaces", "--listen-address=10.83.0.1",
                        "--address=/uweb.test/10.83.0.1",
                        "--dhcp-range=10.83.0.50,10.83.0.60,255.255.255.0,2m",
                        f"--dhcp-leasefile={os.path.join(tmp, 'leases')}", f"--pid-file={os.path.join(tmp, 'pid')}"],
                       stdout=log, stderr=log)
try:
    for _ in range(50):
        log.seek(0)
        if srv.poll() is not None or b"DHCP, sockets bound" in log.read():
            break
        time.sleep(0.1)
    if srv.poll() is not None:
        log.seek(0)
        t.skip("unikernel DNS", f"dnsmasq cannot run: {log.read().decode(errors='replace')[-200:]}")
        t.done()
    rc, out = guest("--ipv4=10.83.0.2/24", "--dns=10.83.0.1", f"http://uweb.test:{port}/",
                    f"http://nothing.invalid:{port}/", f"http://10.83.0.1:{port}/")
    lines = [x for x in out.splitlines() if x.startswith(("OK", "ERROR", "DONE"))]
    t.check("spt: --dns: a host name resolves by lwIP's DNS client and its answer arrives",
            len(lines) == 4 and lines[0] == "OK 200 hello from the host", out[-400:])
    t.check("spt: --dns: an unknown name is 'host name did not resolve'",
            len(lines) == 4 and lines[1] == "ERROR host name did not resolve", out[-400:])
    t.check("spt: an IPv4 literal connects without DNS", len(lines) == 4 and lines[2].startswith("OK 200"), out[-400:])
    rc, out = guest(f"http://uweb.test:{port}/")
    lines = [x for x in out.splitlines() if x.startswith(("OK", "ERROR"))]
    t.check("spt: without --ipv4 and --dns, the DHCP lease's DNS server resolves the name",
            lines == ["OK 200 hello from the host"], out[-400:])
    rc, out = guest("--ipv4=10.83.0.2/24", "--dns=nope", f"http://uweb.test:{port}/", timeout=30)
    t.check("spt: a bad --dns is refused (status 2, a message)", rc == 2 and "--dns" in out, out[-300:])

    # https:// from the guest, the CA bundle on a block device
    certs = os.path.join(tmp, "certs")
    subprocess.run([os.path.join(ROOT, "scripts", "mkcert.sh"), certs], check=True, capture_output=True,
                   env={**os.environ, "MKCERT_SAN": "DNS:uweb.test"})
    ca_img = os.path.join(tmp, "ca.img")
    data = open(os.path.join(certs, "ca.pem"), "rb").read()
    open(ca_img, "wb").write(data + b"\0" * (-len(data) % 512))
    ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ctx.load_cert_chain(os.path.join(certs, "localhost.pem"), os.path.join(certs, "localhost.key"))
    httpsd = http.server.ThreadingHTTPServer(("10.83.0.1", 0), Hello)
    httpsd.socket = ctx.wrap_socket(httpsd.socket, server_side=True)
    sport = httpsd.server_address[1]
    threading.Thread(target=httpsd.serve_forever, daemon=True).start()
    try:
        rc, out = guest("--ipv4=10.83.0.2/24", "--dns=10.83.0.1", "--ca=ca", f"https://uweb.test:{sport}/",
                        f"https://10.83.0.1:{sport}/", block=ca_img)
        lines = [x for x in out.splitlines() if x.startswith(("OK", "ERROR"))]
        t.check("spt: https:// verified against the CA bundle of a block device (mbedTLS on the guest)",
                len(lines) == 2 and lines[0] == "OK 200 hello from the host", out[-400:])
        t.check("spt: https:// to a name the certificate does not carry is refused",
                len(lines) == 2 and lines[1].startswith("ERROR the server's certificate was refused"), out[-400:])
        rc, out = guest("--ipv4=10.83.0.2/24", "--dns=10.83.0.1", f"https://uweb.test:{sport}/")
        lines = [x for x in out.splitlines() if x.startswith(("OK", "ERROR"))]
        t.check("spt: https:// without a CA bundle fails (no system store on a unikernel), saying so",
                len(lines) == 1 and lines[0].startswith("ERROR TLS handshake failed") and "CA" in lines[0], out[-400:])
    finally:
        httpsd.shutdown()
finally:
    srv.terminate()
    try:
        srv.wait(10)
    except subprocess.TimeoutExpired:
        srv.kill()
    httpd.shutdown()
    shutil.rmtree(tmp, ignore_errors=True)
t.done()
