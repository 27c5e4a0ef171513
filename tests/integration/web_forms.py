#!/usr/bin/env python3
"""Forms (form.h) from curl: urlencoded (-d) and multipart (-F) bodies
with typed fields, required and int fields, streamed files, and the 400s
and 413s that name the field."""
import os, sys, tempfile, zlib
sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "lib"))
from uwtest import T, Server, BUILD, curl

t = T()
exe = os.path.join(BUILD, "tests", "apps", "webfeat")
t.require_built(exe)


def form(s, *args):
    rc, out, err = curl("-s", "-w", "\n%{http_code}", *args, s.url + "/form")
    body, _, code = out.decode(errors="replace").rpartition("\n")
    return code, body.strip()


with Server(None, binary=exe, args=["--quiet"]) as s, tempfile.TemporaryDirectory() as d:
    code, body = form(s, "-d", "name=Ann+Lee&age=42&note=a%26b")
    t.check("forms: urlencoded fields decoded", code == "200" and body == "name=Ann Lee age=42 note=a&b files=0", f"{code} {body}")
    code, body = form(s, "-d", "age=42")
    t.check("forms: a missing required field is 400 naming it", code == "400" and 'field "name" is required' in body, f"{code} {body}")
    code, body = form(s, "-d", "name=a&age=forty")
    t.check("forms: a bad int is 400 naming it", code == "400" and 'field "age": not an integer' in body, f"{code} {body}")
    code, body = form(s, "-d", "name=a&age=200")
    t.check("forms: an int out of range is 400", code == "400" and "out of range 0..150" in body, f"{code} {body}")
    code, body = form(s, "-d", "name=" + "x" * 65)
    t.check("forms: a text field over its cap is 413", code == "413" and 'field "name"' in body, f"{code} {body}")
    code, body = form(s, "-d", "name=a&evil=1")
    t.check("forms: an unknown field is 400", code == "400" and 'unknown field "evil"' in body, f"{code} {body}")
    code, body = form(s, "-d", "name=%zz")
    t.check("forms: a bad escape is 400", code == "400", f"{code} {body}")
    a, b = os.path.join(d, "a.txt"), os.path.join(d, "b.bin")
    open(a, "wb").write(b"hello\n")
    data = os.urandom(3 << 20)
    open(b, "wb").write(data)
    code, body = form(s, "-F", "name=Bo", "-F", "age=7", "-F", f"files[]=@{a}", "-F", f"files[]=@{b}")
    want = f"name=Bo age=7 note=- files=2 a.txt:6:{zlib.crc32(b'hello' + bytes([10])):08x} b.bin:{len(data)}:{zlib.crc32(data):08x}"
    t.check("forms: multipart fields and two streamed files (3 MiB)", code == "200" and body == want, f"{code} {body} want {want}")
    code, body = form(s, "-F", "age=7", "-F", f"files[]=@{a}")
    t.check("forms: multipart without the required field is 400", code == "400" and 'field "name" is required' in body, f"{code} {body}")
    code, body = form(s, "-F", "name=x", "-F", "age=x1")
    t.check("forms: multipart bad int is 400 naming it", code == "400" and 'field "age": not an integer' in body, f"{code} {body}")
    big = os.path.join(d, "big.bin")
    open(big, "wb").write(b"\0" * (9 << 20))
    code, body = form(s, "-F", "name=x", "-F", f"files[]=@{big}")
    t.check("forms: a file over the field's cap is 413 naming it", code == "413" and 'field "files[]": larger than' in body, f"{code} {body}")
    code, body = form(s, "-H", "Content-Type: text/plain", "--data-binary", "name=x")
    t.check("forms: another Content-Type is 415", code == "415", f"{code} {body}")
t.done()
