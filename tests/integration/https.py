#!/usr/bin/env python3
"""HTTPS against hello, once per TLS backend on unix: OpenSSL (build/apps/hello)
and mbedTLS (build/mbedtls/apps/hello, `make TLS=mbedtls`, or
UWEB_BUILD_MBEDTLS=DIR).  What a user checks with curl and openssl s_client:

- curl --tlsv1.2 --tls-max 1.2 and --tlsv1.3 get "Hello World!" with the
  test CA trusted (scripts/mkcert.sh); an RSA-2048 certificate works too;
- ALPN: http/1.1 offered alone is chosen, h2 is chosen whenever offered
  (the server prefers it; tests/h2/ has the rest of HTTP/2);
- SNI with two certificates: each name gets its own;
- resumption: -sess_out then -sess_in says "Reused", TLS 1.2 and 1.3;
- refused: TLS 1.1, a TLS 1.2 client offering only CBC suites, TLS 1.2
  under --tls-modern;
- --redirect-http answers plain HTTP with 308 to https; --hsts=SECONDS adds
  Strict-Transport-Security to HTTPS answers (never to plain ones);
- faults, each followed by a good request: garbage, a ClientHello cut at
  several points, a client that stalls mid-handshake (closed after the
  handshake timeout), a client that never reads its answers, a handshake
  larger than the limit; the log lines they give are rate-limited;
- SIGHUP after the certificate files are replaced: a new handshake gets the
  new certificate while a connection opened before goes on.
"""
import os
import re
import shutil
import signal
import socket
import ssl
import struct
import subprocess
import sys
import tempfile
import threading
import time

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "lib"))
from uwtest import T, Server, BUILD, ROOT, app, free_port, wait_port, curl  # noqa: E402

t = T()
CA_DIR = tempfile.mkdtemp(prefix="uweb-https-")
subprocess.run([os.path.join(ROOT, "scripts", "mkcert.sh"), CA_DIR], check=True)
CA = os.path.join(CA_DIR, "ca.pem")


def pem(name):
    return os.path.join(CA_DIR, name + ".pem"), os.path.join(CA_DIR, name + ".key")


def backends():
    mb = os.environ.get("UWEB_BUILD_MBEDTLS") or os.path.join(BUILD, "mbedtls")
    return [("openssl", app("hello")), ("mbedtls", os.path.join(mb, "apps", "hello"))]


class TLSServer(Server):
    """hello with HTTP on .port and HTTPS on .tls_port."""

    def __init__(self, binary, certs=("localhost",), args=()):
        self.tls_port = free_port()
        opts = [f"--tls-port={self.tls_port}", "--addr=127.0.0.1"]
        for c in certs:
            cert, key = c if isinstance(c, tuple) else pem(c)
            opts += [f"--tls-cert={cert}", f"--tls-key={key}"]
        super().__init__(None, [*opts, *args], binary=binary)

    def __enter__(self):
        super().__enter__()
        if not wait_port(self.tls_port):
            self.stop()
            raise RuntimeError(f"no HTTPS listener on {self.tls_port}: {self.output()}")
        return self

    @property
    def https(self):
        return f"https://127.0.0.1:{self.tls_port}"


def s_client(port, *args, data=b"", timeout=20):
    """openssl s_client against 127.0.0.1:port; returns (exit code, stdout + stderr)."""
    p = subprocess.run(["openssl", "s_client", "-connect", f"127.0.0.1:{port}", "-CAfile", CA, *args],
                       input=data, capture_output=True, timeout=timeout)
    return p.returncode, (p.stdout + p.stderr).decode(errors="replace")


def https_ok(s):
    """A good request after a fault: curl gets Hello World! over HTTPS."""
    rc, out, err = curl("--cacert", CA, "--max-time", "10", s.https + "/")
    return rc == 0 and out == b"Hello World!\n", f"curl exit {rc}: {err.strip()[-200:]} {out[:80]!r}"


def closed_within(sock, secs):
    """Seconds until the server closes the connection (EOF or reset), None if it did not within secs."""
    start = time.time()
    sock.settimeout(0.5)
    while time.time() - start < secs:
        try:
            if not sock.recv(65536):
                return time.time() - start
        except socket.timeout:
            continue
        except OSError:
            return time.time() - start
    return None


def closed_all(socks, secs):
    """closed_within for several connections at once: a list of seconds (or None)."""
    out = [None] * len(socks)
    ths = [threading.Thread(target=lambda i=i: out.__setitem__(i, closed_within(socks[i], secs)))
           for i in range(len(socks))]
    for th in ths:
        th.start()
    for th in ths:
        th.join()
    return out


def client_hello(server_name="localhost"):
    """The bytes of a real ClientHello (Python's ssl, TLS 1.2 and 1.3 offered)."""
    ctx = ssl.create_default_context(cafile=CA)
    ctx.set_alpn_protocols(["http/1.1"])
    inc, out = ssl.MemoryBIO(), ssl.MemoryBIO()
    obj = ctx.wrap_bio(inc, out, server_hostname=server_name)
    try:
        obj.do_handshake()
    except ssl.SSLWantReadError:
        pass
    return out.read()


def oversized_hello(extra):
    """A ClientHello grown by an unknown extension of `extra` bytes, in records of 16 KiB."""
    rec = client_hello()
    body = bytearray(rec[5:])                  # one handshake message in one record
    assert body[0] == 1
    msg = body[4:]
    at = 2 + 32
    at += 1 + msg[at]                           # session id
    at += 2 + struct.unpack(">H", msg[at:at + 2])[0]   # cipher suites
    at += 1 + msg[at]                           # compression methods
    ext_len = struct.unpack(">H", msg[at:at + 2])[0]
    ext = struct.pack(">HH", 0xfe77, extra) + b"\0" * extra
    msg = msg[:at] + struct.pack(">H", ext_len + len(ext)) + msg[at + 2:] + ext
    hs = bytes([1]) + len(msg).to_bytes(3, "big") + msg
    out = b""
    for i in range(0, len(hs), 16384):
        frag = hs[i:i + 16384]
        out += b"\x16\x03\x01" + struct.pack(">H", len(frag)) + frag
    return out


def tls_version_of(err):
    m = re.search(r"SSL connection using (TLSv[0-9.]+)", err)
    return m.group(1) if m else None


def run_backend(tag, binary):
    N = lambda s: f"https {tag}: {s}"   # noqa: E731
    # ---- versions, certificates, ALPN, SNI, resumption
    with TLSServer(binary, certs=("localhost", "other")) as s:
        for flags, want in ((["--tlsv1.2", "--tls-max", "1.2"], "TLSv1.2"), (["--tlsv1.3"], "TLSv1.3")):
            rc, out, err = curl("-v", "--cacert", CA, *flags, s.https + "/")
            t.check(N(f"curl {' '.join(flags)} gets Hello World! over {want}"),
                    rc == 0 and out == b"Hello World!\n" and tls_version_of(err) == want,
                    f"exit {rc}, {tls_version_of(err)}, {out[:60]!r} {err.strip()[-200:]}")
        rc, out, err = curl("-v", "--cacert", CA, "--resolve", f"localhost:{s.tls_port}:127.0.0.1",
                            f"https://localhost:{s.tls_port}/")
        t.check(N("curl https://localhost/ verifies the certificate by name"), rc == 0 and out == b"Hello World!\n",
                f"exit {rc}: {err.strip()[-200:]}")
        rc, out, err = curl(s.url + "/")
        t.check(N("plain HTTP still answers beside HTTPS"), rc == 0 and out == b"Hello World!\n", f"exit {rc} {err}")

        for offer, chosen in (("http/1.1", "http/1.1"), ("h2,http/1.1", "h2"), ("http/1.1,h2", "h2")):
            rc, out = s_client(s.tls_port, "-servername", "localhost", "-alpn", offer)
            t.check(N(f"ALPN {offer} offered: {chosen} chosen"),
                    f"ALPN protocol: {chosen}\n" in out and "Verify return code: 0 (ok)" in out,
                    " | ".join(l for l in out.splitlines() if "ALPN" in l or "Verify" in l or "error" in l)[:300])
        rc, out = s_client(s.tls_port, "-servername", "localhost", "-alpn", "spdy/3")
        t.check(N("ALPN with none in common (spdy/3 alone) is refused"), "ALPN protocol: spdy/3" not in out
                and ("no application protocol" in out or "Cipher is (NONE)" in out),
                " | ".join(out.splitlines()[-5:])[:300])

        for name, cn in (("localhost", "localhost"), ("other.localhost", "other.localhost")):
            rc, out = s_client(s.tls_port, "-servername", name, "-verify_hostname", name)
            t.check(N(f"SNI {name} gets the certificate for {cn}"),
                    re.search(rf"subject=.*CN ?= ?{re.escape(cn)}\s*$", out, re.M) is not None
                    and "Verify return code: 0 (ok)" in out,
                    " | ".join(l for l in out.splitlines() if "subject=" in l or "Verify" in l)[:300])

        req = b"GET / HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n"
        for ver in ("-tls1_2", "-tls1_3"):
            sess = os.path.join(CA_DIR, f"sess{ver}")
            rc1, out1 = s_client(s.tls_port, ver, "-servername", "localhost", "-sess_out", sess, "-ign_eof", data=req)
            rc2, out2 = s_client(s.tls_port, ver, "-servername", "localhost", "-sess_in", sess, "-ign_eof", data=req)
            v = "TLSv1.2" if ver == "-tls1_2" else "TLSv1.3"
            t.check(N(f"resumption {v}: the first connection is New, the second Reused"),
                    f"New, {v}" in out1 and f"Reused, {v}" in out2 and "Hello World!" in out2,
                    f"first: {[l for l in out1.splitlines() if 'New,' in l or 'Reused' in l]}, "
                    f"second: {[l for l in out2.splitlines() if 'New,' in l or 'Reused' in l]}")

        # Refusals.  The client is told to allow what it would refuse by
        # itself (SECLEVEL=0), so the refusal is the server's.
        rc, out = s_client(s.tls_port, "-tls1_1", "-cipher", "DEFAULT:@SECLEVEL=0", "-servername", "localhost")
        t.check(N("TLS 1.1 is refused"), rc != 0 and "no protocols available" not in out
                and "Cipher is (NONE)" in out,
                " | ".join(out.splitlines()[:3])[:300])
        cbc = "ECDHE-ECDSA-AES128-SHA:ECDHE-ECDSA-AES256-SHA:ECDHE-ECDSA-AES128-SHA256:ECDHE-ECDSA-AES256-SHA384:" \
              "ECDHE-RSA-AES128-SHA:ECDHE-RSA-AES256-SHA:ECDHE-RSA-AES128-SHA256:ECDHE-RSA-AES256-SHA384:" \
              "AES128-SHA:AES256-SHA:AES128-SHA256:AES256-SHA256"
        rc, out = s_client(s.tls_port, "-tls1_2", "-cipher", cbc + ":@SECLEVEL=0", "-servername", "localhost")
        t.check(N("a TLS 1.2 client with only CBC suites is refused"), rc != 0 and "Cipher is (NONE)" in out
                and "no ciphers available" not in out, " | ".join(out.splitlines()[:3])[:300])
        rc, out = s_client(s.tls_port, "-tls1_2", "-cipher", "ECDHE-ECDSA-AES128-GCM-SHA256", "-servername", "localhost")
        t.check(N("the same TLS 1.2 client with ECDHE-ECDSA-AES128-GCM-SHA256 gets it"),
                "Cipher is ECDHE-ECDSA-AES128-GCM-SHA256" in out, " | ".join(out.splitlines()[-4:])[:300])
        t.check(N("the server is still up"), s.alive(), s.output()[-300:])

    with TLSServer(binary, certs=("localhost-rsa",)) as s:
        rc, out, err = curl("-v", "--cacert", CA, s.https + "/")
        t.check(N("an RSA-2048 certificate serves (curl verifies it)"), rc == 0 and out == b"Hello World!\n",
                f"exit {rc}: {err.strip()[-200:]}")
        rc, out = s_client(s.tls_port, "-tls1_2", "-servername", "localhost")
        t.check(N("RSA over TLS 1.2: ECDHE-RSA with AES-GCM or ChaCha20"),
                re.search(r"Cipher is ECDHE-RSA-(AES(128|256)-GCM-SHA(256|384)|CHACHA20-POLY1305)", out) is not None,
                " | ".join(l for l in out.splitlines() if "Cipher" in l)[:200])

    # ---- --tls-modern, --redirect-http, --hsts
    with TLSServer(binary, args=["--tls-modern"]) as s:
        rc, out, err = curl("--cacert", CA, "--tlsv1.2", "--tls-max", "1.2", s.https + "/")
        t.check(N("--tls-modern refuses a TLS 1.2 client"), rc != 0 and out == b"", f"exit {rc}, {out[:60]!r}")
        rc, out, err = curl("--cacert", CA, "--tlsv1.3", s.https + "/")
        t.check(N("--tls-modern serves TLS 1.3"), rc == 0 and out == b"Hello World!\n", f"exit {rc}: {err}")

    with TLSServer(binary, args=["--redirect-http", "--hsts=600"]) as s:
        rc, out, err = curl("-D", "-", "-o", "/dev/null", s.url + "/some/path?q=1")
        head = out.decode(errors="replace")
        loc = re.search(r"^location: *(\S+)", head, re.I | re.M)
        t.check(N("--redirect-http: plain HTTP gets 308 to https://…/some/path?q=1"),
                head.startswith("HTTP/1.1 308") and loc is not None
                and loc.group(1) == f"https://127.0.0.1:{s.tls_port}/some/path?q=1",
                head.replace("\r\n", " | ")[:300])
        t.check(N("--hsts: the plain redirect carries no Strict-Transport-Security (RFC 6797 7.2)"),
                "strict-transport-security" not in head.lower(), head.replace("\r\n", " | ")[:300])
        rc, out, err = curl("-L", "--cacert", CA, "-D", "-", s.url + "/")
        text = out.decode(errors="replace")
        t.check(N("curl -L follows the redirect to Hello World! over HTTPS"),
                rc == 0 and text.endswith("Hello World!\n"), f"exit {rc}: {text[-200:]!r}")
        m = re.findall(r"^strict-transport-security: *([^\r\n]*)", text, re.I | re.M)
        t.check(N("--hsts=600: the HTTPS answer has Strict-Transport-Security: max-age=600"),
                len(m) == 1 and re.match(r"max-age=600\b", m[0]) is not None, repr(m))

    # ---- faults, each followed by a good request
    with TLSServer(binary) as s:
        hello = client_hello()
        lines0 = len(s.output().splitlines())
        for i in range(50):
            with socket.create_connection(("127.0.0.1", s.tls_port), timeout=5) as c:
                c.sendall(os.urandom(300) if i else b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
                gone = closed_within(c, 10)
            if i == 0:
                t.check(N("plain HTTP on the HTTPS port: closed"), gone is not None, "still open after 10 s")
            elif i == 1:
                t.check(N("garbage bytes: closed"), gone is not None, "still open after 10 s")
        ok, why = https_ok(s)
        t.check(N("after 50 garbage connections a good request is served"), ok, why)
        logged = len(s.output().splitlines()) - lines0
        t.check(N("50 garbage connections give rate-limited log lines (1..20)"), 1 <= logged <= 20,
                f"{logged} lines: {s.output().splitlines()[-3:]}")

        bad = []
        for cut in (1, 3, 5, 6, 9, 40, len(hello) // 2, len(hello) - 1):
            with socket.create_connection(("127.0.0.1", s.tls_port), timeout=5) as c:
                c.sendall(hello[:cut])
                c.shutdown(socket.SHUT_WR)
                if closed_within(c, 10) is None:
                    bad.append(cut)
        t.check(N(f"a ClientHello ({len(hello)} bytes) cut at 8 points, then EOF: each closed"), not bad,
                f"still open after 10 s for cuts {bad}")
        ok, why = https_ok(s)
        t.check(N("after the cut ClientHellos a good request is served"), ok, why)

        with socket.create_connection(("127.0.0.1", s.tls_port), timeout=5) as c:
            c.sendall(hello[:len(hello) // 2])      # stalls inside the ClientHello
            with socket.create_connection(("127.0.0.1", s.tls_port), timeout=5) as d:
                d.sendall(hello)                     # stalls after the ServerHello
                ok, why = https_ok(s)
                t.check(N("while two clients stall mid-handshake a good request is served"), ok, why)
                gone_c, gone_d = closed_all([c, d], 90)
        t.check(N(f"a client stalled inside its ClientHello is closed by the handshake timeout"
                  f" ({gone_c and round(gone_c, 1)} s)"), gone_c is not None, "still open after 90 s")
        t.check(N(f"a client stalled after the ServerHello is closed by the handshake timeout"
                  f" ({gone_d and round(gone_d, 1)} s)"), gone_d is not None, "still open after 90 s")
        ok, why = https_ok(s)
        t.check(N("after the stalled clients a good request is served"), ok, why)

        big = oversized_hello(40000)
        with socket.create_connection(("127.0.0.1", s.tls_port), timeout=5) as c:
            try:
                c.sendall(big)
            except OSError:
                pass
            gone = closed_within(c, 10)
        t.check(N(f"a {len(big)}-byte ClientHello (over the 16 KiB handshake limit) is refused and closed"),
                gone is not None, "still open after 10 s")
        ok, why = https_ok(s)
        t.check(N("after the oversized handshake a good request is served"), ok, why)

        # A client that sends requests and never reads their answers: the
        # server stops reading it when its answers do not drain, and serves
        # others meanwhile.
        ctx = ssl.create_default_context(cafile=CA)
        raw = socket.create_connection(("127.0.0.1", s.tls_port), timeout=5)
        raw.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        c = ctx.wrap_socket(raw, server_hostname="localhost")
        sent, stop = [0], threading.Event()

        def flood():
            reqs = b"GET /?pad=" + b"x" * 200 + b" HTTP/1.1\r\nHost: localhost\r\n\r\n"
            try:
                while not stop.is_set():
                    c.sendall(reqs * 64)
                    sent[0] += 64
            except OSError:
                pass
        th = threading.Thread(target=flood, daemon=True)
        th.start()
        time.sleep(3)
        sent3 = sent[0]
        ok, why = https_ok(s)
        t.check(N(f"a client that never reads ({sent[0]} pipelined requests sent) does not stop a good request"),
                ok, why)
        time.sleep(2)
        t.check(N("the server stops reading a client that never reads (backpressure) or closes it"),
                sent[0] == sent3 or not th.is_alive(), f"{sent3} requests sent after 3 s, {sent[0]} after 5 s")
        stop.set()
        raw.close()
        ok, why = https_ok(s)
        t.check(N("after the client that never read closes, a good request is served"), ok, why)
        t.check(N("the server survived every fault"), s.alive(), s.output()[-300:])

    # ---- SIGHUP: new handshakes see the new certificate, an open connection goes on
    live = tempfile.mkdtemp(prefix="uweb-https-live-", dir=CA_DIR)
    cert, key = os.path.join(live, "cert.pem"), os.path.join(live, "key.pem")
    shutil.copy(pem("localhost")[0], cert)
    shutil.copy(pem("localhost")[1], key)
    new_dir = os.path.join(CA_DIR, "new")
    os.makedirs(new_dir, exist_ok=True)
    for f in ("ca.pem", "ca.key"):
        shutil.copy(os.path.join(CA_DIR, f), new_dir)
    subprocess.run([os.path.join(ROOT, "scripts", "mkcert.sh"), new_dir], check=True)

    def fingerprint(path_or_out):
        p = subprocess.run(["openssl", "x509", "-noout", "-fingerprint", "-sha256"], capture_output=True,
                           input=path_or_out.encode())
        return p.stdout.decode().strip()

    with TLSServer(binary, certs=((cert, key),)) as s:
        ctx = ssl.create_default_context(cafile=CA)
        c = ctx.wrap_socket(socket.create_connection(("127.0.0.1", s.tls_port), timeout=10), server_hostname="localhost")
        one = b"GET / HTTP/1.1\r\nHost: localhost\r\n\r\n"

        def answer(conn):
            conn.sendall(one)
            got = b""
            while b"Hello World!\n" not in got:
                d = conn.recv(4096)
                if not d:
                    break
                got += d
            return got
        first = answer(c)
        old_fp = fingerprint(ssl.DER_cert_to_PEM_cert(c.getpeercert(True)))
        shutil.copy(os.path.join(new_dir, "localhost.pem"), cert + ".tmp")
        shutil.copy(os.path.join(new_dir, "localhost.key"), key + ".tmp")
        os.rename(cert + ".tmp", cert)
        os.rename(key + ".tmp", key)
        s.proc.send_signal(signal.SIGHUP)
        want = fingerprint(open(cert).read())
        got_fp = None
        for _ in range(50):
            rc, out = s_client(s.tls_port, "-servername", "localhost", "-verify_hostname", "localhost")
            got_fp = fingerprint(out)
            if got_fp == want:
                break
            time.sleep(0.1)
        t.check(N("after SIGHUP a new handshake gets the new certificate"),
                got_fp == want and want != old_fp and "Verify return code: 0 (ok)" in out, f"{got_fp} vs {want}")
        try:
            second = answer(c)
        except OSError as e:
            second = repr(e).encode()
        t.check(N("a connection opened before SIGHUP goes on (keep-alive request answered)"),
                b"Hello World!" in first and b"Hello World!" in second, f"{second[:100]!r}")
        c.close()
        t.check(N("the server is still up after SIGHUP"), s.alive(), s.output()[-300:])


for tag, binary in backends():
    if not os.path.isfile(binary):
        t.check(f"https {tag}: {os.path.relpath(binary, BUILD)} is built", False,
                f"{binary} is missing (make; the mbedTLS build: make {os.path.relpath(binary, ROOT)})")
        continue
    help_text = subprocess.run([binary, "--help"], capture_output=True, timeout=10).stdout.decode(errors="replace")
    if "--tls-cert" not in help_text:
        t.skip(f"https {tag}", f"{os.path.relpath(binary, ROOT)} has no --tls-cert (no TLS listener in uw_main yet)")
        continue
    try:
        run_backend(tag, binary)
    except (RuntimeError, subprocess.TimeoutExpired) as e:
        t.check(f"https {tag}: the server runs", False, str(e)[:400])
shutil.rmtree(CA_DIR, ignore_errors=True)
t.done()
