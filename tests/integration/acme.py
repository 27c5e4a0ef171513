#!/usr/bin/env python3
"""ACME (--acme-*) against pebble (-strict, its DNS server sending every
name here): hello obtains its certificate by HTTP-01 and by TLS-ALPN-01
(and on the mbedTLS backend when built), serves it (curl trusts it with
pebble's root), keeps it in --acme-dir or on the block device acme and
reuses it after a restart, renews it (--acme-renew-after, and short-lived
certificates at two thirds of their lifetime) while a keep-alive
connection stays open and new handshakes go on, and on failures (terms
not agreed, a wrong challenge answer, a rate limit, no ACME server, half
the nonces rejected) logs one line, keeps serving plain HTTP and retries.
Retry-After in seconds and as an HTTP-date; ARI (RFC 9773) through a
directory of the test's that adds renewalInfo to pebble's (Debian's
pebble 2.4 has none), on both TLS backends."""
import base64
import email.utils
import json
import os
import re
import socket
import ssl
import subprocess
import sys
import tempfile
import threading
import time
import http.server
import urllib.request

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "lib"))
from uwtest import BUILD, T, Server, app, curl, free_port, program  # noqa: E402
import pebble  # noqa: E402

t = T()
t.require_built(app("hello"))
if not pebble.available():
    t.skip("acme against pebble", "pebble, pebble-challtestsrv or openssl is not installed (make test installs them)")
    t.done()

NAMES = ["hello.test", "www.hello.test"]
work = tempfile.mkdtemp(prefix="uweb-acme-")


def wait_for(pred, timeout):
    end = time.time() + timeout
    while time.time() < end:
        v = pred()
        if v:
            return v
        time.sleep(0.1)
    return pred()


def acme_args(pb, *extra, state=None):
    args = [f"--tls-port={pb.tls_port}", f"--acme-directory={pb.directory}", f"--acme-domain={','.join(NAMES)}",
            f"--acme-ca={pb.api_ca}", "--acme-email=admin@hello.test", "--acme-agree-tos", "--acme-retry=1", *extra]
    if state:
        args.append(f"--acme-dir={state}")
    return args


def issued(s, n=1):
    return len(re.findall(r"acme: certificate for \S+ issued", s.output())) >= n


def https_get(pb, roots, name, path="/"):
    return curl("--cacert", roots, "--resolve", f"{name}:{pb.tls_port}:127.0.0.1", f"https://{name}:{pb.tls_port}{path}")


def peer_cert(port, roots, name):
    ctx = ssl.create_default_context(cafile=roots)
    with socket.create_connection(("127.0.0.1", port), timeout=5) as raw:
        with ctx.wrap_socket(raw, server_hostname=name) as c:
            return c.getpeercert()


def acme_lines(s):
    return [ln for ln in s.output().splitlines() if ": acme: " in ln]


def main():
    hp, tp = free_port(), free_port()
    with pebble.Pebble(hp, tp) as pb:
        roots = os.path.join(work, "roots.pem")
        with open(roots, "wb") as f:
            f.write(pb.roots())

        # HTTP-01: the certificate arrives, HTTPS serves it for both names
        state = os.path.join(work, "state")
        t0 = time.time()
        with Server("hello", port=hp, args=acme_args(pb, state=state)) as s:
            code = s.get("/")[0]
            t.check("http-01: plain HTTP serves while the certificate is obtained", code == 200, f"status {code}")
            ok = wait_for(lambda: issued(s), 20)
            t.check("http-01: certificate issued", ok, " | ".join(acme_lines(s)) or s.output()[-500:])
            took = time.time() - t0
            for name in NAMES:
                rc, out, err = https_get(pb, roots, name)
                t.check(f"http-01: curl with pebble's root trusts https://{name}/", rc == 0 and out == b"Hello World!\n",
                        err.strip())
            cert = peer_cert(tp, roots, NAMES[0]) if ok else {}
            sans = sorted(v for k, v in cert.get("subjectAltName", ()) if k == "DNS")
            t.check("http-01: the certificate names exactly the domains", sans == sorted(NAMES), f"{sans}")
            code = s.get("/.well-known/acme-challenge/nonsense")[0]
            t.check("an unknown challenge token answers 404", code == 404, f"status {code}")
            t.check("state: account.key, cert.pem, cert.key written",
                    all(os.path.exists(os.path.join(state, f)) for f in ("account.key", "cert.pem", "cert.key")),
                    f"{os.listdir(state) if os.path.isdir(state) else 'no state dir'}")
            print(f"# time to a served certificate (http-01): {took:.2f} s")

        # a restart reuses the stored certificate
        with Server("hello", port=hp, args=acme_args(pb, state=state)) as s:
            ok = wait_for(lambda: "read from the state directory" in s.output(), 10)
            rc, out, err = https_get(pb, roots, NAMES[0])
            t.check("restart: the stored certificate is reused, no new order",
                    ok and not issued(s) and rc == 0, " | ".join(acme_lines(s)) + err)

        # state on the block device "acme" instead of a directory
        dev = os.path.join(work, "acme.img")
        with open(dev, "wb") as f:
            f.truncate(65536)
        with Server("hello", port=hp, args=acme_args(pb, f"--block:acme={dev}")) as s:
            ok = wait_for(lambda: issued(s), 20)
        with Server("hello", port=hp, args=acme_args(pb, f"--block:acme={dev}")) as s:
            again = wait_for(lambda: "read from the block device acme" in s.output(), 10)
            rc, out, err = https_get(pb, roots, NAMES[0])
            t.check("--block:acme=FILE: the certificate is stored there and reused after a restart",
                    ok and again and not issued(s) and rc == 0, " | ".join(acme_lines(s)) + err)

        # the stored account is found again (no new one) when a certificate must be ordered
        os.unlink(os.path.join(state, "cert.pem"))
        with Server("hello", port=hp, args=acme_args(pb, state=state)) as s:
            ok = wait_for(lambda: issued(s), 20)
            t.check("restart without a certificate: the stored account orders a new one",
                    ok and "created" not in s.output(), " | ".join(acme_lines(s)))

        # --redirect-http: every path answers 308 to https except the challenges
        with Server("hello", port=hp, args=acme_args(pb, "--redirect-http")) as s:
            ok = wait_for(lambda: issued(s), 20)
            code, headers, _ = s.get("/x")
            t.check("--redirect-http: HTTP-01 still answered, other paths redirected",
                    ok and code == 308 and headers.get("Location") == f"https://127.0.0.1:{tp}/x",
                    f"{code} {headers.get('Location')} | " + " | ".join(acme_lines(s)))

        # terms of service not agreed to: a line saying so, no account
        args = [a for a in acme_args(pb) if a != "--acme-agree-tos"]
        with Server("hello", port=hp, args=args) as s:
            tos = wait_for(lambda: [ln for ln in acme_lines(s) if "terms of service" in ln], 10)
            t.check("without --acme-agree-tos: one line naming the terms and the option",
                    tos and "--acme-agree-tos" in tos[0] and not issued(s), " | ".join(acme_lines(s)))

        # the mbedTLS backend (make TLS=mbedtls) takes the certificate too
        mb = program(os.path.join(os.environ.get("UWEB_BUILD_MBEDTLS") or os.path.join(BUILD, "mbedtls"), "apps", "hello"))
        if os.path.isfile(mb):
            with Server("hello", binary=mb, port=hp, args=acme_args(pb)) as s:
                ok = wait_for(lambda: issued(s), 20)
                rc, out, err = https_get(pb, roots, NAMES[0])
                t.check("mbedTLS backend: http-01 certificate issued and served", ok and rc == 0,
                        " | ".join(acme_lines(s)) + err)
            # the challenge certificate's critical acmeIdentifier extension,
            # which mbedTLS's parser refuses unless told
            with Server("hello", binary=mb, port=hp, args=acme_args(pb, "--acme-challenge=tls-alpn-01")) as s:
                ok = wait_for(lambda: issued(s), 20)
                rc, out, err = https_get(pb, roots, NAMES[1])
                t.check("mbedTLS backend: tls-alpn-01 certificate issued and served", ok and rc == 0,
                        " | ".join(acme_lines(s)) + err)
        else:
            for c in ("http-01", "tls-alpn-01"):
                t.skip(f"mbedTLS backend: {c} certificate issued and served", f"{mb} is not built")
        # src/acme/crypto_mbedtls.c (the unikernels' crypto) checked by OpenSSL
        ut = os.path.join(os.path.dirname(os.path.dirname(mb)), "tests", "unit", "test_acme")
        if os.path.isfile(ut):
            r = subprocess.run([ut], capture_output=True, text=True, timeout=120)
            bad = [ln for ln in r.stdout.splitlines() if ln.startswith("not ok")]
            t.check("mbedTLS backend: keys, ES256, CSR and the TLS-ALPN-01 certificate pass test_acme's checks",
                    r.returncode == 0 and not bad and "ok - test_csr" in r.stdout, " | ".join(bad) or r.stderr[-300:])
        else:
            t.skip("mbedTLS backend: keys, ES256, CSR and the TLS-ALPN-01 certificate pass test_acme's checks",
                   f"{ut} is not built")

        # TLS-ALPN-01
        with Server("hello", port=hp, args=acme_args(pb, "--acme-challenge=tls-alpn-01")) as s:
            ok = wait_for(lambda: issued(s), 20)
            t.check("tls-alpn-01: certificate issued", ok, " | ".join(acme_lines(s)) or s.output()[-500:])
            rc, out, err = https_get(pb, roots, NAMES[1])
            t.check("tls-alpn-01: curl with pebble's root trusts it", rc == 0 and out == b"Hello World!\n", err.strip())

        # renewal: a keep-alive connection goes on through the swap, new
        # connections get the new certificate
        with Server("hello", port=hp, args=acme_args(pb, "--acme-renew-after=2")) as s:
            ok = wait_for(lambda: issued(s), 20)
            first = peer_cert(tp, roots, NAMES[0]) if ok else {}
            ctx = ssl.create_default_context(cafile=roots)
            keep = ctx.wrap_socket(socket.create_connection(("127.0.0.1", tp), timeout=10), server_hostname=NAMES[0])
            req = f"GET / HTTP/1.1\r\nHost: {NAMES[0]}\r\n\r\n".encode()

            def one():
                keep.sendall(req)
                buf = b""
                while not buf.endswith(b"Hello World!\n"):
                    d = keep.recv(4096)
                    if not d:
                        break
                    buf += d
                return buf.startswith(b"HTTP/1.1 200")
            before = one()
            # new connections (a handshake each) all through the swap
            stop, tally = threading.Event(), {"ok": 0, "failed": []}

            def hammer():
                while not stop.is_set():
                    try:
                        rc, out, err = https_get(pb, roots, NAMES[0])
                        if rc == 0 and out == b"Hello World!\n":
                            tally["ok"] += 1
                        else:
                            tally["failed"].append(err.strip())
                    except Exception as e:  # noqa: BLE001
                        tally["failed"].append(str(e))
            th = threading.Thread(target=hammer)
            th.start()
            renewed = wait_for(lambda: issued(s, 2), 20)
            time.sleep(0.3)
            stop.set()
            th.join()
            after = one()
            keep.close()
            t.check("renewal: new HTTPS connections during the swap all succeed",
                    tally["ok"] > 0 and not tally["failed"], f"{tally['ok']} ok, failures: {tally['failed'][:3]}")
            t.check("renewal: a second certificate installed", renewed, " | ".join(acme_lines(s)))
            t.check("renewal: the open keep-alive connection goes on through the swap", before and after)
            second = peer_cert(tp, roots, NAMES[0]) if renewed else {}
            t.check("renewal: new connections get the new certificate",
                    first.get("serialNumber") and second.get("serialNumber") != first.get("serialNumber"),
                    f"{first.get('serialNumber')} then {second.get('serialNumber')}")


    # the challenge fails: pebble's validation port answers the wrong key authorization
    hp2, tp2 = free_port(), free_port()
    wrong = http.server.ThreadingHTTPServer(("127.0.0.1", 0), WrongAnswer)
    threading.Thread(target=wrong.serve_forever, daemon=True).start()
    with pebble.Pebble(wrong.server_address[1], tp2) as pb:
        with Server("hello", port=hp2, args=acme_args(pb, "--acme-challenge=http-01")) as s:
            bad = wait_for(lambda: [ln for ln in acme_lines(s) if "authorization of" in ln], 15)
            t.check("challenge failure: one line with the problem type and detail",
                    bad and "urn:ietf:params:acme:error:" in bad[0], " | ".join(acme_lines(s)))
            again = wait_for(lambda: len([ln for ln in acme_lines(s) if "authorization of" in ln]) >= 2, 15)
            t.check("challenge failure: retried", again, " | ".join(acme_lines(s)))
            t.check("challenge failure: plain HTTP keeps serving", s.get("/")[0] == 200)
        # --acme-challenge=any falls back to TLS-ALPN-01 after HTTP-01 failed
        with Server("hello", port=hp2, args=acme_args(pb, "--acme-challenge=any")) as s:
            ok = wait_for(lambda: issued(s), 20)
            t.check("any: HTTP-01 fails, the next attempt falls back to TLS-ALPN-01 and succeeds",
                    ok and "(http-01)" in s.output(), " | ".join(acme_lines(s)))
    wrong.shutdown()

    # short-lived certificates (pebble's validity 6 s): renewed at two thirds
    # of the lifetime without any option, before the first one expires
    hp4, tp4 = free_port(), free_port()
    with pebble.Pebble(hp4, tp4, validity=6) as pb:
        with Server("hello", port=hp4, args=[a for a in acme_args(pb) if not a.startswith("--tls-port")] +
                    [f"--tls-port={tp4}"]) as s:
            first = wait_for(lambda: issued(s), 15)
            t0 = time.time()
            second = wait_for(lambda: issued(s, 2), 12)
            took = time.time() - t0
            t.check("default schedule: a 6 s certificate is renewed before it expires", first and second and took < 6,
                    f"after {took:.1f} s | " + " | ".join(acme_lines(s)))

    # a rate-limited answer: its type and detail in the line, Retry-After honoured
    limited = http.server.ThreadingHTTPServer(("127.0.0.1", 0), RateLimited)
    threading.Thread(target=limited.serve_forever, daemon=True).start()
    with Server("hello", args=[f"--tls-port={free_port()}",
                               f"--acme-directory=http://127.0.0.1:{limited.server_address[1]}/dir",
                               "--acme-domain=hello.test", "--acme-retry=1"]) as s:
        line = wait_for(lambda: [ln for ln in acme_lines(s) if "rateLimited" in ln], 10)
        t.check("rate limited: the problem's type and detail, then the server's Retry-After (120 s)",
                line and "too many new orders recently" in line[0] and "next attempt in 120 s" in line[0],
                " | ".join(acme_lines(s)))
    limited.shutdown()
    # Retry-After as an HTTP-date (parsed without the C library's time code)
    RateLimited.retry_after = email.utils.formatdate(time.time() + 90, usegmt=True)
    limited = http.server.ThreadingHTTPServer(("127.0.0.1", 0), RateLimited)
    threading.Thread(target=limited.serve_forever, daemon=True).start()
    with Server("hello", args=[f"--tls-port={free_port()}",
                               f"--acme-directory=http://127.0.0.1:{limited.server_address[1]}/dir",
                               "--acme-domain=hello.test", "--acme-retry=1"]) as s:
        line = wait_for(lambda: [ln for ln in acme_lines(s) if "rateLimited" in ln], 10)
        secs = re.search(r"next attempt in (\d+) s", line[0]) if line else None
        t.check("rate limited: a Retry-After HTTP-date 90 s ahead is honoured",
                secs and 80 <= int(secs.group(1)) <= 90, " | ".join(acme_lines(s)))
    limited.shutdown()

    # ARI (RFC 9773): Debian's pebble offers no renewalInfo, so a directory
    # of the test's adds one whose window opens in 2 s; the client renews
    # then (without ARI pebble's long-lived certificate would not be renewed)
    hp5, tp5 = free_port(), free_port()
    with pebble.Pebble(hp5, tp5) as pb:
        ctx = ssl.create_default_context(cafile=pb.api_ca)
        with urllib.request.urlopen(pb.directory, context=ctx, timeout=10) as r:
            d = json.load(r)
        ari = http.server.ThreadingHTTPServer(("127.0.0.1", 0), AriDirectory)
        AriDirectory.directory = {**d, "renewalInfo": f"http://127.0.0.1:{ari.server_address[1]}/ari/"}
        AriDirectory.asked = []
        threading.Thread(target=ari.serve_forever, daemon=True).start()
        args = [a for a in acme_args(pb) if not a.startswith(("--tls-port", "--acme-directory"))]
        args += [f"--tls-port={tp5}", f"--acme-directory=http://127.0.0.1:{ari.server_address[1]}/dir"]
        mb = program(os.path.join(os.environ.get("UWEB_BUILD_MBEDTLS") or os.path.join(BUILD, "mbedtls"), "apps", "hello"))
        ari_renewal(pb, hp5, tp5, args, "", None)
        if os.path.isfile(mb):
            ari_renewal(pb, hp5, tp5, args, "mbedTLS backend: ", mb)
        else:
            t.skip("mbedTLS backend: ARI", f"{mb} is not built")
        ari.shutdown()

    # no ACME server at start: HTTP serves, and the certificate comes once it is up
    hp3, tp3 = free_port(), free_port()
    with pebble.Pebble(hp3, tp3, nonce_reject=50) as pb:
        pb.stop_pebble()
        with Server("hello", port=hp3, args=acme_args(pb)) as s:
            down = wait_for(lambda: [ln for ln in acme_lines(s) if "directory" in ln], 10)
            t.check("ACME server down: a one-line error", down and len(down[0]) < 300, " | ".join(acme_lines(s)))
            t.check("ACME server down: plain HTTP serves", s.get("/")[0] == 200)
            pb.start_pebble()
            ok = wait_for(lambda: issued(s), 25)
            t.check("ACME server back (rejecting half the nonces): certificate issued", ok,
                    " | ".join(acme_lines(s)[-6:]))


def ari_renewal(pb, hp, tp, args, label, binary):
    AriDirectory.asked = []
    with Server("hello", binary=binary, port=hp, args=args) as s:
        first = wait_for(lambda: issued(s), 15)
        cert = peer_cert(tp, roots_of(pb), NAMES[0]) if first else {}
        second = wait_for(lambda: issued(s, 2), 15)
        ids = list(AriDirectory.asked)
        serial = None
        if ids and "." in ids[0]:
            part = ids[0].split(".", 1)[1]
            serial = int.from_bytes(base64.urlsafe_b64decode(part + "=" * (-len(part) % 4)), "big")
        t.check(f"{label}ARI: the client asks renewalInfo for its certificate (AKI.serial) and renews in its window",
                first and second and serial is not None and cert.get("serialNumber") and
                serial == int(cert["serialNumber"], 16), f"asked {ids} | " + " | ".join(acme_lines(s)))


def roots_of(pb):
    path = os.path.join(work, f"roots-{pb.port}.pem")
    with open(path, "wb") as f:
        f.write(pb.roots())
    return path


class AriDirectory(http.server.BaseHTTPRequestHandler):
    """pebble's directory with a renewalInfo URL, and that URL's answer: a
    window from 2 to 3 s from now (RFC 3339, as ARI gives it)."""
    directory, asked = {}, []

    def do_GET(self):
        if self.path.startswith("/ari/"):
            self.asked.append(self.path[5:])
            fmt = lambda t: time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(t))  # noqa: E731
            doc = {"suggestedWindow": {"start": fmt(time.time() + 2), "end": fmt(time.time() + 3)}}
        else:
            doc = self.directory
        body = json.dumps(doc).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *a):
        pass


class RateLimited(http.server.BaseHTTPRequestHandler):
    """An ACME server that answers every request with a rate-limit problem."""
    retry_after = "120"

    def do_GET(self):
        body = b'{"type":"urn:ietf:params:acme:error:rateLimited","detail":"too many new orders recently"}'
        self.send_response(429)
        self.send_header("Content-Type", "application/problem+json")
        self.send_header("Retry-After", self.retry_after)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *a):
        pass


class WrongAnswer(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        body = b"not-the-key-authorization"
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *a):
        pass


try:
    main()
finally:
    import shutil
    shutil.rmtree(work, ignore_errors=True)
t.done()
