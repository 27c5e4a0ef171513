#!/usr/bin/env python3
"""testssl.sh (Debian package testssl.sh) against hello's HTTPS listener on
unix, once per TLS backend (OpenSSL: build/apps/hello; mbedTLS:
build/mbedtls/apps/hello or UWEB_BUILD_MBEDTLS=DIR/apps/hello), with the test
CA of scripts/mkcert.sh added (--add-ca) so the chain is judged as a real
one would be.  A check fails on any finding rated HIGH or CRITICAL; the
counts per severity are in the check's line (cert_revocation, rated HIGH
because a local test CA has no CRL or OCSP responder, is shown there and
not counted), the findings above INFO are
printed beside it (UWEB_VERBOSE=1 shows them under make test).

make test runs the short form (protocols, cipher categories, the server's
cipher order, server defaults, vulnerabilities; --fast); UWEB_TESTSSL=full (`make testssl`)
runs everything testssl.sh does by default.
"""
import collections
import json
import os
import shutil
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "lib"))
from uwtest import T, Server, BUILD, ROOT, app, free_port, wait_port  # noqa: E402

t = T()
CERT_OWN = ("cert_revocation",)
FULL = os.environ.get("UWEB_TESTSSL") == "full"
testssl = shutil.which("testssl") or shutil.which("testssl.sh")
if not testssl:
    t.check("testssl: testssl.sh is installed", False, "Debian package testssl.sh is declared in DEB_PACKAGES (make)")
    t.done()
work = tempfile.mkdtemp(prefix="uweb-testssl-")
subprocess.run([os.path.join(ROOT, "scripts", "mkcert.sh"), work], check=True)
mb = os.environ.get("UWEB_BUILD_MBEDTLS") or os.path.join(BUILD, "mbedtls")
for tag, binary in (("openssl", app("hello")), ("mbedtls", os.path.join(mb, "apps", "hello"))):
    name = f"testssl {tag}{' (full)' if FULL else ''}"
    if not os.path.isfile(binary):
        t.check(f"{name}: {binary} is built", False, f"missing (make {os.path.relpath(binary, ROOT)})")
        continue
    if "--tls-cert" not in subprocess.run([binary, "--help"], capture_output=True, timeout=10).stdout.decode():
        t.skip(name, f"{os.path.relpath(binary, ROOT)} has no --tls-cert (no TLS listener in uw_main yet)")
        continue
    tls_port = free_port()
    args = [f"--tls-port={tls_port}", "--addr=127.0.0.1", "--quiet",
            f"--tls-cert={work}/localhost.pem", f"--tls-key={work}/localhost.key"]
    with Server(None, args, binary=binary) as s:
        if not t.check(f"{name}: HTTPS listens", wait_port(tls_port), s.output()[-300:]):
            continue
        out = os.path.join(work, f"{tag}.json")
        checks = [] if FULL else ["--fast", "-p", "-s", "-P", "-S", "-U"]
        p = subprocess.run([testssl, "--quiet", "--color", "0", "--warnings", "off", "--add-ca", f"{work}/ca.pem",
                            "--jsonfile", out, *checks, f"127.0.0.1:{tls_port}"],
                           capture_output=True, timeout=1500 if FULL else 420)
        try:
            findings = json.load(open(out))
        except (OSError, ValueError) as e:
            t.check(name, False, f"no JSON from testssl.sh (exit {p.returncode}): {e}; "
                    + p.stdout.decode(errors="replace")[-300:].replace("\n", " | "))
            continue
        sev = collections.Counter(f.get("severity", "?") for f in findings)
        # The local test CA publishes no CRL or OCSP responder: a finding
        # about the certificate, not about the server; shown, not counted.
        cert_own = [f for f in findings if f.get("id") in CERT_OWN and f.get("severity") in ("HIGH", "CRITICAL")]
        bad = [f for f in findings if f.get("severity") in ("HIGH", "CRITICAL") and f not in cert_own]
        for f in findings:
            if f.get("severity") not in ("OK", "INFO", "DEBUG"):
                print(f"  {tag} {f.get('severity')}: {f.get('id')}: {f.get('finding')}")
        counts = ", ".join(f"{sev[k]} {k}" for k in ("CRITICAL", "HIGH", "MEDIUM", "LOW", "WARN", "OK", "INFO") if sev[k])
        own = f"; not counted: {', '.join(f['severity'] + ' ' + f['id'] for f in cert_own)} of the test CA" if cert_own else ""
        t.check(f"{name}: no finding rated HIGH or CRITICAL ({counts}{own})", not bad and sev["OK"] > 0,
                "; ".join(f"{f['severity']} {f['id']}: {f.get('finding')}" for f in bad)[:600])
        t.check(f"{name}: the server is still up", s.alive(), s.output()[-300:])
shutil.rmtree(work, ignore_errors=True)
t.done()
