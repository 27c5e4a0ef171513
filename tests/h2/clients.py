#!/usr/bin/env python3
"""HTTP/2 with real clients: curl --http2 over TLS (ALPN h2) to hello,
crunchzip and the echo test app (bodies, HEAD, 404, 405, 413, streamed
answers, an upload that comes back as a zip unzip accepts),
curl --http2-prior-knowledge on a plain listener with --h2c (HTTP/1.1 still
served there), --http=1 and --http=2 (what ALPN offers), nghttp -nv's
SETTINGS exchange, a graceful stop with GOAWAY, and the same requests on the
mbedTLS build when it is there."""
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import zipfile

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "lib"))
from uwtest import T, Server, BUILD, ROOT, app, free_port, wait_port, curl, program  # noqa: E402

t = T()
TMP = tempfile.mkdtemp(prefix="uweb-h2-")
subprocess.run([os.path.join(ROOT, "scripts", "mkcert.sh"), TMP], check=True, capture_output=True)
CA = os.path.join(TMP, "ca.pem")
CERT = [f"--tls-cert={TMP}/localhost.pem", f"--tls-key={TMP}/localhost.key"]
ECHO = program(os.path.join(BUILD, "tests", "apps", "echo"))


class TLS(Server):
    def __init__(self, name=None, binary=None, args=()):
        self.tls_port = free_port()
        super().__init__(name, args=[f"--tls-port={self.tls_port}", *CERT, *args], binary=binary)

    def __enter__(self):
        super().__enter__()
        if not wait_port(self.tls_port):
            raise RuntimeError("no TLS listener: " + self.output())
        return self

    @property
    def https(self):
        return f"https://127.0.0.1:{self.tls_port}"


def h2curl(*args):
    """curl --http2 with the test CA; (rc, body, http_version, status)."""
    rc, out, err = curl("--http2", "--cacert", CA, "-w", "\n%{http_version} %{http_code}", *args)
    body, _, tail = out.rpartition(b"\n")
    ver, _, code = tail.decode().partition(" ")
    return rc, body, ver, code, err


def basics(tag, binary):
    with TLS(binary=binary, args=["--h2c"]) as s:
        rc, body, ver, code, err = h2curl(s.https + "/")
        t.check(f"{tag}: curl --http2 GET / over TLS is HTTP/2 and says Hello World", rc == 0 and ver == "2"
                and code == "200" and body == b"Hello World!\n", f"{rc} {ver} {code} {body!r} {err}")
        rc, out, err = curl("--http2", "--cacert", CA, "-I", s.https + "/")
        head = out.decode().lower()
        t.check(f"{tag}: HEAD over h2: 200, content-length 13, no body", rc == 0 and head.startswith("http/2 200")
                and "content-length: 13" in head, head + err)
        rc, body, ver, code, err = h2curl(s.https + "/nope")
        t.check(f"{tag}: 404 over h2", ver == "2" and code == "404" and b"404 Not Found" in body, f"{ver} {code} {body!r}")
        rc, out, err = curl("--http2", "--cacert", CA, "-D", "-", "-o", "/dev/null", "-X", "POST", "-d", "x", s.https + "/")
        head = out.decode().lower()
        t.check(f"{tag}: 405 over h2 with allow: GET", "http/2 405" in head and "allow: get" in head, head)
        rc, body, ver, code, err = h2curl("--http2-prior-knowledge", s.url + "/")
        t.check(f"{tag}: curl --http2-prior-knowledge on the --h2c listener", rc == 0 and ver == "2"
                and body == b"Hello World!\n", f"{rc} {ver} {body!r} {err}")
        rc, body, ver, code, err = h2curl("--http1.1", s.url + "/")
        t.check(f"{tag}: HTTP/1.1 still served on the --h2c listener", ver == "1.1" and body == b"Hello World!\n",
                f"{ver} {body!r}")
        rc, body, ver, code, err = h2curl("--http1.1", s.https + "/")
        t.check(f"{tag}: HTTP/1.1 still chosen by a client offering only http/1.1", ver == "1.1" and code == "200",
                f"{ver} {code}")
        # many requests on one connection, several at once
        urls = [s.https + f"/?n={i}" for i in range(20)]
        rc, out, err = curl("--http2", "--cacert", CA, "--parallel", "--parallel-max", "10", *urls)
        t.check(f"{tag}: 20 requests, 10 at once on one h2 connection", rc == 0 and out == b"Hello World!\n" * 20,
                f"{rc} {len(out)} {err}")


basics("openssl", app("hello"))
mb = os.path.join(os.environ.get("UWEB_BUILD_MBEDTLS") or os.path.join(BUILD, "mbedtls"), "apps", "hello")
if os.path.exists(mb):
    basics("mbedtls", program(mb))
else:
    t.skip("mbedtls: curl --http2 to hello", f"{mb} is not built (make TLS=mbedtls)")

# --http=1 / --http=2: what ALPN offers
with TLS("hello", args=["--http=1"]) as s:
    rc, body, ver, code, err = h2curl(s.https + "/")
    t.check("--http=1: a client offering h2 gets HTTP/1.1", ver == "1.1" and code == "200", f"{ver} {code}")
with TLS("hello", args=["--http=2"]) as s:
    rc, body, ver, code, err = h2curl(s.https + "/")
    t.check("--http=2: HTTP/2", ver == "2" and code == "200", f"{ver} {code}")
    rc, body, ver, code, err = h2curl("--http1.1", s.https + "/")
    t.check("--http=2: a client offering only http/1.1 is refused (no_application_protocol)", rc != 0,
            f"{rc} {ver} {code}")
r = subprocess.run([app("hello"), "--http=3"], capture_output=True)
t.check("--http=3 is a bad command line (exit 2)", r.returncode == 2, r.stderr.decode())
r = subprocess.run([app("hello"), "--help"], capture_output=True)
t.check("--help tells --http, --h2c and the HTTP/2 limits",
        all(o in r.stdout.decode() for o in ("--http=1|2|both", "--h2c", "--h2-max-streams", "--h2-header-list",
                                             "--h2-hpack-table", "--h2-stream-window", "--h2-conn-window")))

# nghttp -nv: the SETTINGS exchange
if shutil.which("nghttp"):
    with TLS("hello", args=["--h2c"]) as s:
        p = subprocess.run(["nghttp", "-nv", s.url + "/"], capture_output=True, timeout=20)
        out = p.stdout.decode(errors="replace")
        t.check("nghttp -nv (h2c): the server's SETTINGS (100 streams, header list 16384) and both ACKs",
                p.returncode == 0 and "recv SETTINGS frame" in out and "SETTINGS_MAX_CONCURRENT_STREAMS(0x03):100" in out
                and "SETTINGS_MAX_HEADER_LIST_SIZE(0x06):16384" in out and out.count("flags=0x01") >= 2
                and ":status: 200" in out, out[-1500:])
        p = subprocess.run(["nghttp", "-nv", s.https + "/"], capture_output=True, timeout=20)
        out = p.stdout.decode(errors="replace")
        t.check("nghttp -nv over TLS: h2 negotiated, 200", p.returncode == 0 and "negotiated protocol: h2" in out
                and ":status: 200" in out, out[-800:])
else:
    t.skip("nghttp -nv: the SETTINGS exchange", "nghttp is not installed (Debian package nghttp2-client)")

# the echo app: bodies, streamed answers, limits
with TLS(binary=ECHO) as s:
    blob = os.path.join(TMP, "blob")
    with open(blob, "wb") as f:
        f.write(os.urandom(3 * 1024 * 1024 + 17))
    want = open(blob, "rb").read()
    rc, out, err = curl("--http2", "--cacert", CA, "--data-binary", f"@{blob}", s.https + "/echo")
    t.check("echo: a 3 MiB POST body comes back byte for byte over h2", rc == 0 and out == want, f"{rc} {len(out)} {err}")
    rc, out, err = curl("--http2", "--cacert", CA, "-H", "Transfer-Encoding:", "-H", "Content-Length:",
                        "--data-binary", f"@{blob}", s.https + "/count")
    t.check("echo: a body without content-length is counted whole", rc == 0 and str(len(want)).encode() in out,
            f"{out[:200]!r} {err}")
    rc, body, ver, code, err = h2curl("--data-binary", "0123456789" * 10, s.https + "/small")
    t.check("echo: 413 over h2 for a body over the route's limit", code == "413", f"{code} {body[:200]!r}")
    for path in ("/stream", "/large", "/slices"):
        rc1, b1, _ = curl("--http1.1", "--cacert", CA, s.https + path)
        rc2, b2, ver, code, err = h2curl(s.https + path)
        t.check(f"echo: GET {path} over h2 is what HTTP/1.1 gets ({len(b1)} bytes)", rc2 == 0 and ver == "2" and b1 == b2,
                f"{len(b1)} vs {len(b2)} {err}")
    rc, body, ver, code, err = h2curl(s.https + "/users/42?x=1")
    rc1, b1, _ = curl("--http1.1", "--cacert", CA, s.https + "/users/42?x=1")
    t.check("echo: a query on a route that takes none: the same answer as HTTP/1.1", ver == "2" and body == b1,
            f"{body!r} vs {b1!r}")

# crunchzip: the page, and an upload that comes back as a zip
with TLS("crunchzip") as s:
    rc, body, ver, code, err = h2curl(s.https + "/")
    t.check("crunchzip: the page over h2", ver == "2" and code == "200" and b"<html" in body.lower(), f"{ver} {code}")
    files = {"a.txt": b"hello h2\n" * 1000, "b.bin": os.urandom(5 * 1024 * 1024)}
    args = []
    for n, d in files.items():
        p = os.path.join(TMP, n)
        with open(p, "wb") as f:
            f.write(d)
        args += ["-F", f"file=@{p};filename={n}"]
    out = os.path.join(TMP, "out.zip")
    rc, _, err = curl("--http2", "--cacert", CA, "-f", "-o", out, *args, s.https + "/upload")
    ok, why = False, err
    try:
        with zipfile.ZipFile(out) as z:
            ok = z.testzip() is None and {n: z.read(n) for n in z.namelist()} == files
    except Exception as x:
        why = repr(x)
    t.check("crunchzip: an upload over h2 comes back as the zip of its files", rc == 0 and ok, why)
    if shutil.which("unzip"):
        r = subprocess.run(["unzip", "-t", out], capture_output=True)
        t.check("crunchzip: unzip -t accepts the zip made over h2", r.returncode == 0, r.stdout.decode()[-300:])
    else:
        t.skip("crunchzip: unzip -t accepts the zip made over h2", "unzip is not installed")

# a 256 MiB upload through crunchzip over h2c: streamed, the server's memory flat
with TLS("crunchzip", args=["--h2c"]) as s:
    def hwm(pid):
        for line in open(f"/proc/{pid}/status"):
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) * 1024
        return 0
    before = hwm(s.proc.pid)
    block = os.urandom(1 << 20)
    p = subprocess.Popen(["curl", "-sS", "--http2-prior-knowledge", "-X", "POST", "-T", "-", "-o", "/dev/null",
                          "-w", "%{http_code} %{http_version} %{size_download}",
                          "-H", "Content-Type: multipart/form-data; boundary=XyZ", s.url + "/upload"],
                         stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        p.stdin.write(b'--XyZ\r\nContent-Disposition: form-data; name="f"; filename="big.bin"\r\n'
                      b"Content-Type: application/octet-stream\r\n\r\n")
        for _ in range(256):
            p.stdin.write(block)
        p.stdin.write(b"\r\n--XyZ--\r\n")
        p.stdin.close()
    except BrokenPipeError:
        pass
    out, err = p.stdout.read(), p.stderr.read()
    p.wait(120)
    code, ver, size = (out.decode().split() + ["", "", "0"])[:3]
    grew = hwm(s.proc.pid) - before
    t.check("crunchzip: a 256 MiB upload over h2c streams through: 200, a zip of 256 MiB, peak RSS grew < 32 MiB",
            code == "200" and ver == "2" and int(size) > 256 << 20 and grew < 32 << 20,
            f"{code} {ver} {size} bytes, peak RSS +{grew >> 20} MiB {err.decode()[-200:]}")

# graceful stop: a request in flight finishes, the connection gets GOAWAY
from h2raw import H2, GOAWAY, NO_ERROR, hpack  # noqa: E402
if hpack:
    with TLS(binary=ECHO, args=["--h2c"]) as s:
        c = H2("127.0.0.1", s.port)
        c.request(1, "/slow")
        c.until(lambda f: f.stream == 1, 2)
        s.proc.send_signal(signal.SIGTERM)
        g = c.goaway(5)
        r = c.response(1, 10)
        t.check("SIGTERM: GOAWAY(NO_ERROR, last stream 1) and the stream in flight finishes",
                g is not None and g.code() == NO_ERROR and int.from_bytes(g.payload[:4], "big") == 1
                and r is not None and r[0] == 200, f"{g} {r and r[0]} {c.frames[-5:]}")
        try:
            s.proc.wait(10)
        except subprocess.TimeoutExpired:
            pass
        t.check("SIGTERM: the server exits 0 after it", s.proc.returncode == 0, str(s.proc.returncode))
else:
    t.skip("SIGTERM: GOAWAY", "python3-hpack is not installed")

shutil.rmtree(TMP, ignore_errors=True)
t.done()
