#!/usr/bin/env python3
"""ACME on the unikernels: hello.spt in a network namespace
(tests/lib/uwnetns.py) obtains its certificate from pebble (-strict, its
default 5 % nonce rejection) running in the same namespace, pebble's DNS
server (pebble-challtestsrv) sending the name to the guest's address and
its validation to the guest's ports 80 (HTTP-01) and 443 (TLS-ALPN-01).
The guest's state is on the block device acme (--block:acme=FILE), the
CA of pebble's API on the block device acmeca (--acme-ca=acmeca).

Checks, for HTTP-01 and TLS-ALPN-01 each: the certificate is issued and
curl with pebble's root trusts https://hello.test/ from the guest;
restarted with the same block device, the guest reuses the stored
certificate (its log says so, no new order reaches pebble).  hvt: not
run (on this host's emulated /dev/kvm the SSE-less guest's first HTTPS
request to pebble timed out after the ACME client's 30 s: its TLS
handshake takes longer; tests/net/https.py says the same for HTTPS).  No root, no tap device or no pebble is a skip; a tender or image
not built is a failure.
"""
import os
import re
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
from uwtest import T, BUILD, curl  # noqa: E402
from uwnetns import run_inside  # noqa: E402
import pebble  # noqa: E402

t = T()
NAME = "acme on spt"
SPT = os.path.join(BUILD, "uweb-spt")
IMAGE = os.path.join(BUILD, "spt", "apps", "hello.spt")
HOST, GUEST, DOMAIN = "10.89.1.1", "10.89.1.2", "hello.test"


def declares(dev):
    try:
        return f'"{dev}"' in open(os.path.join(BUILD, "gen", "manifest", "hello.c")).read()
    except OSError:
        return False


if not pebble.available():
    t.skip(NAME, "pebble, pebble-challtestsrv or openssl is not installed (make test installs them)")
    t.done()
if not (declares("acme") and declares("acmeca")):
    t.skip(NAME, "hello's manifest declares no block devices acme and acmeca (apps/hello/build.mk)")
    t.done()
if "--inside" not in sys.argv:
    t.require_built(SPT, IMAGE)
    run_inside(t, NAME, "uwac", [("uwacme1", f"{HOST}/24")])

work = tempfile.mkdtemp(prefix="uweb-acme-spt-")


def block_file(path, data=b"", size=65536):
    with open(path, "wb") as f:
        f.write(data)
        f.truncate(max(size, (len(data) + 511) // 512 * 512))
    return path


class Guest:
    def __init__(self, pb, state, *extra):
        self.out = tempfile.TemporaryFile()
        argv = [SPT, "--mem=64", "--net:service=uwacme1", f"--block:acme={state}", f"--block:acmeca={CA_DEV}",
                "--", IMAGE, f"--ipv4={GUEST}/24", "--port=80", "--tls-port=443",
                f"--acme-directory={pb.directory}", f"--acme-domain={DOMAIN}", "--acme-ca=acmeca",
                "--acme-email=admin@hello.test", "--acme-agree-tos", "--acme-retry=1", *extra]
        self.p = subprocess.Popen(argv, stdout=self.out, stderr=subprocess.STDOUT)

    def text(self):
        return os.pread(self.out.fileno(), os.fstat(self.out.fileno()).st_size, 0).decode(errors="replace")

    def wait(self, pattern, timeout):
        end = time.monotonic() + timeout
        while time.monotonic() < end and self.p.poll() is None:
            if re.search(pattern, self.text()):
                return True
            time.sleep(0.1)
        return bool(re.search(pattern, self.text()))

    def acme_lines(self):
        return " | ".join(ln for ln in self.text().splitlines() if ": acme: " in ln) or self.text()[-400:]

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        if self.p.poll() is None:
            self.p.kill()
        self.p.wait()


def https_get(roots):
    return curl("--cacert", roots, "-m", "10", "--resolve", f"{DOMAIN}:443:{GUEST}", f"https://{DOMAIN}/")


def orders(pb):
    """Orders pebble has placed so far (its log's one line per newOrder)."""
    return len(re.findall(r"POST /order-plz", pb.output()))


with pebble.Pebble(80, 443, api_host=HOST, target=GUEST) as pb:
    roots = os.path.join(work, "roots.pem")
    with open(roots, "wb") as f:
        f.write(pb.roots())
    CA_DEV = block_file(os.path.join(work, "api-ca.img"), open(pb.api_ca, "rb").read(), 0)
    for challenge in ("http-01", "tls-alpn-01"):
        state = block_file(os.path.join(work, f"acme-{challenge}.img"))
        t0, n0 = time.monotonic(), orders(pb)
        with Guest(pb, state, f"--acme-challenge={challenge}") as g:
            ok = g.wait(rf"acme: certificate for {DOMAIN} issued", 60)
            t.check(f"spt {challenge}: the guest obtains a certificate from pebble (a new order)",
                    ok and orders(pb) > n0, g.acme_lines())
            rc, body, err = https_get(roots) if ok else (1, b"", "no certificate")
            took = time.monotonic() - t0
            t.check(f"spt {challenge}: curl with pebble's root trusts https://{DOMAIN}/ from the guest",
                    rc == 0 and body == b"Hello World!\n", f"exit {rc}: {err.strip()[-300:]}")
            if ok and rc == 0:
                print(f"# spt {challenge}: start to a served certificate in {took:.2f} s", flush=True)
        before = orders(pb)
        with Guest(pb, state, f"--acme-challenge={challenge}") as g:
            again = g.wait(r"acme: certificate for \S+ read from the block device acme", 30)
            rc, body, err = https_get(roots) if again else (1, b"", "")
            time.sleep(0.5)
            t.check(f"spt {challenge}: restarted, the guest reuses the certificate on the block device acme "
                    "(no new order)", again and rc == 0 and "issued" not in g.text() and orders(pb) == before,
                    g.acme_lines() + err)

t.skip("hvt: ACME", "not run: on an emulated /dev/kvm (no vmx/svm) the SSE-less hvt guest's TLS handshake to "
       "pebble outlasts the ACME client's 30 s request timeout; the engine is the one spt runs")
t.done()
