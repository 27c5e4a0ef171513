#!/usr/bin/env python3
"""uw_static_dir bodies by sendfile: a 64 MiB file served byte for byte,
whole and as a Range, over plain HTTP/1.1 and over TLS, with the server
run under strace -e trace=sendfile: plain answers go by sendfile (from the
Range's offset), TLS answers do not (they are read and encrypted), and a
compressed text answer does not either."""
import hashlib, os, re, shutil, subprocess, sys, tempfile, time
sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "lib"))
from uwtest import T, Server, BUILD, ROOT, curl, free_port, program, wait_port

t = T()
exe = program(os.path.join(BUILD, "tests", "apps", "webfeat"))
t.require_built(exe)
if not shutil.which("strace"):
    t.check("sendfile: strace is installed", False, "Debian package strace")
    t.done()

SIZE = 64 << 20
R0, R1 = 12345679, 40000000            # a Range that starts mid-page


def sha(b):
    return hashlib.sha256(b).hexdigest()


def sendfiles(path):
    """The sendfile calls strace saw so far that sent bytes: (file
    offset, bytes sent) each."""
    try:
        text = open(path).read()
    except OSError:
        return []
    return [(int(m.group(1)), int(m.group(2)))
            for m in re.finditer(r"sendfile\(\d+, \d+, \[(\d+)\][^)]*\)\s+= (\d+)", text)]


with tempfile.TemporaryDirectory() as top:
    root = os.path.join(top, "www")
    os.makedirs(root)
    data = os.urandom(SIZE)
    with open(os.path.join(root, "big.bin"), "wb") as f:
        f.write(data)
    with open(os.path.join(root, "text.txt"), "wb") as f:
        f.write(b"uweb serves the files of a unikernel quickly\n" * 20000)
    ca = os.path.join(top, "ca")
    subprocess.run([os.path.join(ROOT, "scripts", "mkcert.sh"), ca], check=True, capture_output=True)
    port, tls_port = free_port(), free_port()
    trace = os.path.join(top, "strace.log")
    argv = ["strace", "-f", "-qq", "-e", "trace=sendfile", "-o", trace, exe, f"--port={port}",
            f"--tls-port={tls_port}", f"--tls-cert={ca}/localhost.pem", f"--tls-key={ca}/localhost.key", "--quiet"]
    with Server(None, port=port, argv=argv, binary=exe, env={"WEBFEAT_ROOT": root}) as s:
        wait_port(tls_port)
        out = os.path.join(top, "out")

        def get(url, *args):
            rc, _, err = curl("-s", "-f", "--cacert", f"{ca}/ca.pem", "-o", out, *args, url, timeout=120)
            return open(out, "rb").read() if rc == 0 and os.path.exists(out) else err

        plain = f"http://127.0.0.1:{port}/files/big.bin"
        secure = f"https://localhost:{tls_port}/files/big.bin"
        body = get(plain)
        t.check("sendfile: 64 MiB over plain HTTP/1.1, byte for byte", body == data, f"{len(body)} bytes")
        calls = sendfiles(trace)
        t.check("sendfile: the plain answer went by sendfile (strace)",
                sum(n for _, n in calls) == SIZE and calls and calls[0][0] == 0, calls[:4])
        body = get(plain, "-r", f"{R0}-{R1}")
        t.check("sendfile: a Range over plain HTTP/1.1, byte for byte", body == data[R0:R1 + 1], f"{len(body)} bytes")
        more = sendfiles(trace)[len(calls):]
        t.check("sendfile: the Range went by sendfile from its offset",
                more and more[0][0] == R0 and sum(n for _, n in more) == R1 + 1 - R0, more[:4])
        before = len(sendfiles(trace))
        body = get(secure)
        t.check("sendfile: 64 MiB over TLS, byte for byte", body == data, f"{len(body)} bytes")
        body = get(secure, "-r", f"{R0}-{R1}")
        t.check("sendfile: a Range over TLS, byte for byte", body == data[R0:R1 + 1], f"{len(body)} bytes")
        text = open(os.path.join(root, "text.txt"), "rb").read()
        body = get(f"http://127.0.0.1:{port}/files/text.txt", "--compressed", "-H", "Accept-Encoding: gzip")
        t.check("sendfile: a compressed text file decodes to the file", body == text, f"{len(body)} bytes")
        t.check("sendfile: neither TLS nor compressed answers use it (read and written)",
                len(sendfiles(trace)) == before, sendfiles(trace)[before:][:4])
        rc, head, _ = curl("-s", "-I", plain)
        t.check("sendfile: HEAD still has the length and no body",
                rc == 0 and f"Content-Length: {SIZE}".encode() in head, head[:300])
t.done()
