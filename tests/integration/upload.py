#!/usr/bin/env python3
"""POST /upload of Crunch & Zip: curl uploads files, the ZIP that comes
back holds them byte for byte; the archive starts before the upload ends;
bad requests answer 400, or close the connection once the archive has
started; the server's peak RSS stays flat over a 1 GiB upload."""
import io
import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import zipfile

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "lib"))
from uwtest import T, Server, BUILD, app, curl, read_all  # noqa: E402

t = T()
ZIPGEN = os.path.join(BUILD, "tests", "zip", "zipgen")
APP = app("crunchzip")


def emit(spec):
    return subprocess.run([ZIPGEN, "--emit", spec], capture_output=True, check=True).stdout


def vm(pid, key):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith(key + ":"):
                return int(line.split()[1]) * 1024
    return 0


def multipart(boundary, parts, close=True):
    out = b""
    for headers, data in parts:
        out += b"--" + boundary + b"\r\n" + headers + b"\r\n\r\n" + data + b"\r\n"
    if close:
        out += b"--" + boundary + b"--\r\n"
    return out


def post_raw(s, body, ctype=b"multipart/form-data; boundary=XyZ", extra=b""):
    head = (b"POST /upload HTTP/1.1\r\nHost: x\r\nContent-Type: " + ctype +
            b"\r\nContent-Length: " + str(len(body)).encode() + b"\r\n" + extra + b"\r\n")
    return s.raw(head + body, timeout=5)


def dechunk(body):
    """Decodes a chunked body; returns (data, complete)."""
    out, pos = b"", 0
    while True:
        m = re.match(rb"([0-9a-fA-F]+)\r\n", body[pos:])
        if not m:
            return out, False
        n = int(m.group(1), 16)
        pos += m.end()
        if n == 0:
            return out, body[pos:pos + 2] == b"\r\n"
        if pos + n + 2 > len(body):
            return out + body[pos:], False
        out += body[pos:pos + n]
        pos += n + 2


def test_round_trip(s, tmp):
    files = {
        "notes.txt": emit("text:3M:1"),
        "photo.jpg": emit("random:2M:2"),
        "empty.dat": b"",
        "small.csv": b"a,b\n1,2\n",
        "café ünïcode.txt": "unicode ✓\n".encode(),
    }
    paths = {}
    for i, (name, data) in enumerate(files.items()):
        p = os.path.join(tmp, f"in{i}")
        with open(p, "wb") as f:
            f.write(data)
        paths[name] = p
    args = []
    for name, p in paths.items():
        args += ["-F", f"file=@{p};filename={name}"]
    args += ["-F", "comment=a plain field, not a file",
             "-F", f"dup=@{paths['small.csv']};filename=small.csv",
             "-F", f"evil=@{paths['small.csv']};filename=../../etc/small.csv"]
    out = os.path.join(tmp, "out.zip")
    rc, _, err = curl("-f", "-D", os.path.join(tmp, "headers"), "-o", out, *args, s.url + "/upload")
    t.check("upload: curl succeeds", rc == 0, err)
    if rc != 0:
        return
    head = open(os.path.join(tmp, "headers"), "rb").read().decode(errors="replace").lower()
    t.check("upload: application/zip, attachment archive.zip, chunked",
            "content-type: application/zip" in head
            and 'content-disposition: attachment; filename="archive.zip"' in head
            and "transfer-encoding: chunked" in head, head)
    want = dict(files)
    want["small (1).csv"] = files["small.csv"]
    want["etc/small.csv"] = files["small.csv"]
    try:
        with zipfile.ZipFile(out) as z:
            bad = z.testzip()
            got = {n: z.read(n) for n in z.namelist()}
            stored = z.getinfo("photo.jpg").compress_type == zipfile.ZIP_STORED
            deflated = z.getinfo("notes.txt").compress_type == zipfile.ZIP_DEFLATED
    except Exception as x:
        t.check("upload: the zip reads back", False, repr(x))
        return
    t.check("upload: every file comes back byte for byte under its name",
            bad is None and got == want, f"testzip {bad}, names {sorted(got)} vs {sorted(want)}")
    t.check("upload: text deflated, random data stored", stored and deflated)
    if shutil.which("unzip"):
        r = subprocess.run(["unzip", "-t", out], capture_output=True)
        t.check("upload: unzip -t accepts the archive", r.returncode == 0, r.stdout.decode()[-300:])
    else:
        t.skip("upload: unzip -t accepts the archive", "unzip is not installed (Debian package unzip)")

    # a chunked upload: no Content-Length, so sizes are unknown (ZIP64 local fields)
    rc, _, err = curl("-f", "-H", "Transfer-Encoding: chunked", "-o", out,
                      "-F", f"a=@{paths['notes.txt']};filename=notes.txt",
                      "-F", f"b=@{paths['photo.jpg']};filename=photo.jpg", s.url + "/upload")
    try:
        with zipfile.ZipFile(out) as z:
            ok = rc == 0 and z.testzip() is None and z.read("notes.txt") == files["notes.txt"] \
                and z.read("photo.jpg") == files["photo.jpg"]
    except Exception as x:
        ok, err = False, repr(x)
    t.check("upload: a chunked upload (sizes unknown) comes back whole", ok, err)
    name = "upload: 7z t accepts the archive of a chunked upload (ZIP64 local fields)"
    if not ok:
        t.check(name, False, "no archive to test")
    elif shutil.which("7z"):
        r = subprocess.run(["7z", "t", out], capture_output=True)
        t.check(name, r.returncode == 0 and b"Everything is Ok" in r.stdout and b"Warning" not in r.stdout,
                r.stdout.decode()[-300:])
    else:
        t.skip(name, "7z is not installed (Debian package p7zip-full)")


def test_unnamed_parts(s):
    body = multipart(b"XyZ", [
        (b'Content-Disposition: form-data; name="f"; filename=""\r\nContent-Type: application/octet-stream', b""),
        (b'Content-Disposition: form-data; name="g"; filename=""\r\nContent-Type: image/png', b"\x89PNG data"),
        (b'Content-Disposition: form-data; name="h"\r\nContent-Type: application/json', b'{"a": 1}'),
        (b'Content-Disposition: form-data; name="field"', b"just a field"),
    ])
    r = post_raw(s, body)
    head, _, rest = r.partition(b"\r\n\r\n")
    data, complete = dechunk(rest)
    try:
        names = zipfile.ZipFile(io.BytesIO(data)).namelist()
    except Exception as x:
        names = [repr(x)]
    ok = (head.startswith(b"HTTP/1.1 200") and complete and len(names) == 2
          and re.fullmatch(r"upload-[0-9a-f]{16}\.png", names[0]) is not None
          and re.fullmatch(r"upload-[0-9a-f]{16}\.json", names[1]) is not None)
    t.check("upload: nameless file parts get random names, empty file inputs and fields are skipped",
            ok, f"{head[:40]!r} {names}")


def test_after_get_on_same_connection(s):
    """A browser posts the form on the connection that fetched the page."""
    body = multipart(b"XyZ", [(b'Content-Disposition: form-data; name="f"; filename="a.txt"', b"hello")])
    with s.connect() as c:
        c.sendall(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
        c.settimeout(5)
        got = b""
        while b"\r\n\r\n" not in got:
            got += c.recv(65536)
        length = int(re.search(rb"(?i)content-length: *(\d+)", got).group(1))
        while len(got.partition(b"\r\n\r\n")[2]) < length:
            got += c.recv(65536)
        c.sendall(b"POST /upload HTTP/1.1\r\nHost: x\r\nContent-Type: multipart/form-data; boundary=XyZ\r\n"
                  b"Content-Length: " + str(len(body)).encode() + b"\r\nConnection: close\r\n\r\n" + body)
        r = read_all(c, timeout=5)
    head, _, rest = r.partition(b"\r\n\r\n")
    data, complete = dechunk(rest)
    try:
        ok = zipfile.ZipFile(io.BytesIO(data)).read("a.txt") == b"hello"
    except Exception:
        ok = False
    t.check("upload: a POST after a GET on the same keep-alive connection", head.startswith(b"HTTP/1.1 200") and ok,
            repr(r[:200]))


def test_bad_requests(s):
    cases = [
        ("wrong Content-Type", post_raw(s, b"hello", ctype=b"text/plain")),
        ("multipart/mixed", post_raw(s, multipart(b"XyZ", []), ctype=b"multipart/mixed; boundary=XyZ")),
        ("missing boundary", post_raw(s, b"--XyZ--\r\n", ctype=b"multipart/form-data")),
        ("bad boundary", post_raw(s, b"--XyZ--\r\n", ctype=b"multipart/form-data; boundary=" + b"x" * 80)),
        ("malformed part header", post_raw(s, b"--XyZ\r\nno colon here\r\n\r\ndata\r\n--XyZ--\r\n")),
        ("truncated body", post_raw(s, b"--XyZ\r\nContent-Disposition: form-data; name=\"f\"; "
                                       b"filename=\"a.txt\"\r\n\r\nsome data, then the end")),
    ]
    for name, r in cases:
        head, _, body = r.partition(b"\r\n\r\n")
        t.check(f"upload: {name} answers 400 with the reason",
                head.startswith(b"HTTP/1.1 400") and body.startswith(b"Invalid multipart/form-data request: ")
                and len(body) > 40, repr(r[:300]))
    # POST is the only method of /upload; a GET falls to the static assets, which have no "upload".
    st, h, body = s.get("/upload")
    t.check("upload: GET /upload is not an upload (404 from the static assets)",
            st == 404 and not body.startswith(b"PK") and "zip" not in h.get("Content-Type", ""),
            f"{st} {h} {body[:40]!r}")


def test_streams_before_upload_ends(s):
    """The archive starts while the body is still arriving; a body that goes
    bad after that closes the connection: a truncated archive, no 0-chunk."""
    big = emit("random:1M:5")
    first = (b"--XyZ\r\nContent-Disposition: form-data; name=\"f\"; filename=\"big.bin\"\r\n\r\n" + big)
    total = len(first) + 10 ** 6
    with s.connect() as c:
        c.sendall(b"POST /upload HTTP/1.1\r\nHost: x\r\nContent-Type: multipart/form-data; boundary=XyZ\r\n"
                  b"Content-Length: " + str(total).encode() + b"\r\n\r\n" + first)
        c.settimeout(10)
        got = b""
        try:
            while b"\r\n\r\n" not in got or len(got) < 100000:
                d = c.recv(65536)
                if not d:
                    break
                got += d
        except socket.timeout:
            pass
        t.check("upload: the archive starts before the upload ends",
                got.startswith(b"HTTP/1.1 200") and len(got) >= 100000, f"{len(got)} bytes: {got[:60]!r}")
        # now a delimiter followed by garbage: a malformed body mid-archive
        c.sendall(b"\r\n--XyZ garbage\r\n" + b"x" * 1000)
        rest = read_all(c, timeout=10)
    head, _, body = (got + rest).partition(b"\r\n\r\n")
    data, complete = dechunk(body)
    t.check("upload: a body that goes bad after the start closes the connection (truncated archive)",
            not complete and len(data) >= 100000 and b"PK\x05\x06" not in data[-22:],
            f"complete={complete}, {len(data)} bytes")
    t.check("upload: the server survives", s.alive() and s.get("/")[0] == 200)


def test_memory_flat(s, tmp):
    """Peak RSS of the server grows by a bounded amount over a 1 GiB upload
    (the archive comes back as it goes: 1 GiB of random data is stored)."""
    src = os.path.join(tmp, "big.bin")
    with open(src, "wb") as f:
        subprocess.run([ZIPGEN, "--emit", "random:1G:9"], stdout=f, check=True)
    small = os.path.join(tmp, "small.bin")
    with open(small, "wb") as f:
        f.write(emit("text:1M:1"))
    curl("-f", "-o", "/dev/null", "-F", f"f=@{small}", s.url + "/upload")  # warm-up
    before = vm(s.proc.pid, "VmHWM")
    out = os.path.join(tmp, "big.zip")
    rc, _, err = curl("-f", "-o", out, "-F", f"f=@{src};filename=big.bin", s.url + "/upload", timeout=300)
    after = vm(s.proc.pid, "VmHWM")
    ok = rc == 0
    if ok:
        r = subprocess.run(["python3", "-c", "import sys, zipfile; z = zipfile.ZipFile(sys.argv[1]); "
                            "print(z.testzip(), z.getinfo('big.bin').file_size)", out], capture_output=True)
        ok = r.stdout.split() == [b"None", str(1 << 30).encode()]
        err = r.stdout.decode() + r.stderr.decode()[-300:]
    os.unlink(out)
    os.unlink(src)
    t.check("upload: 1 GiB upload comes back whole", ok, err)
    growth = after - before
    print(f"# peak RSS {before >> 10} KiB before, {after >> 10} KiB after a 1 GiB upload", flush=True)
    t.check("upload: peak RSS stays flat over a 1 GiB upload (grows < 16 MiB)",
            growth < (16 << 20), f"grew {growth >> 10} KiB")


def main():
    t.require_built(APP, ZIPGEN)
    os.makedirs(BUILD, exist_ok=True)
    tmp = tempfile.mkdtemp(prefix="upload-", dir=BUILD)
    try:
        with Server("crunchzip") as s:
            test_round_trip(s, tmp)
            test_unnamed_parts(s)
            test_after_get_on_same_connection(s)
            test_bad_requests(s)
            test_streams_before_upload_ends(s)
            test_memory_flat(s, tmp)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    t.done()


if __name__ == "__main__":
    main()
