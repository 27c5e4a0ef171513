#!/usr/bin/env python3
"""uweb-crunch: help, determinism, errors, and what the generated code serves.

Builds small servers from the tool's output (tests/tools/crunch_serve.c
linked with build/libuweb.a), including one embedding a 200 MiB asset that
is generated under build/ and never committed.  UWEB_CRUNCH_BIG=0 skips that
case (it takes a minute or two and about 3 GB of memory for gcc).
"""
import gzip
import hashlib
import os
import shutil
import subprocess
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "lib"))
from uwtest import T, Server, BUILD, ROOT, curl, free_port  # noqa: E402

t = T()
TOOL = os.path.join(BUILD, "tools", "uweb-crunch")
WORK = os.path.join(BUILD, "crunch-test")
LIB = os.path.join(BUILD, "libuweb.a")


def crunch(*args, env=None):
    p = subprocess.run([TOOL, *args], capture_output=True, cwd=WORK,
                       env={**os.environ, **(env or {})}, timeout=600)
    return p.returncode, p.stdout.decode(errors="replace"), p.stderr.decode(errors="replace")


def write(path, data):
    path = os.path.join(WORK, path)
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "wb") as f:
        f.write(data if isinstance(data, bytes) else data.encode())


def read(path):
    with open(os.path.join(WORK, path), "rb") as f:
        return f.read()


def build_server(gen_dir, name):
    """Compiles gen_dir/crunch_test_assets.c with the test server; returns the binary or None."""
    out = os.path.join(WORK, name)
    cmd = [os.environ.get("CC", "gcc"), "-std=gnu11", "-O2", "-Wall", "-Wextra", "-Werror", "-D_GNU_SOURCE",
           "-I" + os.path.join(ROOT, "include"), "-I" + gen_dir, "-o", out,
           os.path.join(ROOT, "tests", "tools", "crunch_serve.c"), os.path.join(gen_dir, "crunch_test_assets.c"),
           LIB] + open(LIB[:-2] + ".libs").read().split()  # the libraries libuweb.a needs (make writes them)
    p = subprocess.run(cmd, capture_output=True, timeout=900)
    if p.returncode != 0:
        print("# " + p.stderr.decode(errors="replace")[-2000:].replace("\n", "\n# "))
        return None
    return out


def sha256_file(path):
    h = hashlib.sha256()
    with open(path, "rb") as f:
        while True:
            b = f.read(1 << 20)
            if not b:
                return h.hexdigest()
            h.update(b)


t.require_built(TOOL, LIB)
shutil.rmtree(WORK, ignore_errors=True)
os.makedirs(WORK)

# ------------------------------------------------------------ help
rc, out, err = crunch("--help")
t.check("--help exits 0 with a man page", rc == 0 and "SYNOPSIS" in out and "EXIT STATUS" in out, f"rc={rc}")
rc, out, err = crunch()
t.check("no arguments: usage error, exit 2", rc == 2 and err.count("\n") == 1 and "uweb-crunch:" in err, err)
rc, out, err = crunch("-o", "x.c", "--bogus", "site")
t.check("unknown option: exit 2", rc == 2 and "--bogus" in err, err)

# ------------------------------------------------------------ a small site
css = "body { color: #123456; }\n" * 40
write("site/index.html", "<!doctype html><title>t</title><p>home</p>\n")
write("site/style.css", css)
write("site/docs/index.html", "<p>docs</p>\n")
write("site/docs/guide.txt", "guide\n" * 100)
write("site/img/logo.png", bytes(range(256)) * 4)
write("site/.hidden", "secret")
write("extra/robots.txt", "User-agent: *\n")
write("data.bin", os.urandom(3000))
# Bytes that C string literals get wrong when escaped carelessly: trigraphs,
# octal escapes followed by digits, quotes, backslashes, NUL, high bytes.
TRICKY = (b"??=??/??'??(??)??!??<??>??-???" + b"\x00123\x0178\x07\x08\x7f\xff0\xff9\"\\\r\n\t?\\0\\x41"
          + bytes(range(256)) + b"\x00" * 10 + b"\x00")
write("site/tricky.bin", TRICKY)
SITE_ARGS = ["site", "/robots.txt:extra/robots.txt", "/blob:data.bin", "/static/:site/docs"]

os.makedirs(os.path.join(WORK, "gen1"))
os.makedirs(os.path.join(WORK, "gen2"))
rc, out, err = crunch("-o", "gen1/crunch_test_assets.c", "-n", "crunch_test_assets", "-d", "gen1/deps.mk", *SITE_ARGS)
t.check("crunch a site", rc == 0 and err == "", err)
rc2, _, err2 = crunch("-o", "gen2/crunch_test_assets.c", "-n", "crunch_test_assets", *SITE_ARGS)
t.check("deterministic: the same inputs give byte-identical output",
        rc2 == 0 and read("gen1/crunch_test_assets.c") == read("gen2/crunch_test_assets.c")
        and read("gen1/crunch_test_assets.h") == read("gen2/crunch_test_assets.h"), err2)

rc3, _, err3 = crunch("-o", "gen2/crunch_test_assets.c", "-n", "crunch_test_assets", *reversed(SITE_ARGS))
t.check("the order of the inputs does not change the output",
        rc3 == 0 and read("gen1/crunch_test_assets.c") == read("gen2/crunch_test_assets.c"), err3)

# Touching files changes mtimes; SOURCE_DATE_EPOCH pins Last-Modified.
env = {"SOURCE_DATE_EPOCH": "1700000000"}
crunch("-o", "gen1/crunch_test_assets.c", "-n", "crunch_test_assets", *SITE_ARGS, env=env)
time.sleep(1.1)
os.utime(os.path.join(WORK, "site/style.css"))
crunch("-o", "gen2/crunch_test_assets.c", "-n", "crunch_test_assets", *SITE_ARGS, env=env)
t.check("deterministic with SOURCE_DATE_EPOCH whatever the file times",
        read("gen1/crunch_test_assets.c") == read("gen2/crunch_test_assets.c"))
deps = read("gen1/deps.mk").decode()
t.check("the depfile lists every input", "site/style.css" in deps and "extra/robots.txt" in deps
        and "site/.hidden" not in deps, deps[:300])

# ------------------------------------------------------------ errors
def error_case(name, args, want):
    for f in ("bad/out.c", "bad/out.h"):
        if os.path.exists(os.path.join(WORK, f)):
            os.unlink(os.path.join(WORK, f))
    os.makedirs(os.path.join(WORK, "bad"), exist_ok=True)
    rc, out, err = crunch("-o", "bad/out.c", *args)
    lines = err.strip().split("\n")
    left = [f for f in os.listdir(os.path.join(WORK, "bad"))]
    t.check(f"error: {name}", rc == 1 and len(lines) == 1 and want in err and not left,
            f"rc={rc} err={err!r} left={left}")


error_case("missing file", ["site", "/x:nope.txt"], "nope.txt: No such file or directory")
error_case("missing directory", ["nodir"], "nodir: No such file or directory")
error_case("two assets with the same path", ["/a.txt:extra/robots.txt", "/a.txt:data.bin"],
           "two assets with the same path")
error_case("a file and a directory index on the same path", ["site", "/docs/:data.bin"],
           "/docs/: two assets with the same path")
error_case("space in a URL path", ["/a b.txt:data.bin"], "not allowed in a URL path")
error_case("dot-dot segment", ["/a/../b:data.bin"], "'..' segment")
error_case("percent in a URL path", ["/a%20b:data.bin"], "not allowed in a URL path")
write("spaced/my file.txt", "x")
error_case("a directory file name not valid in a URL", ["spaced"], "my file.txt")
if os.path.exists("/proc/self/mem"):
    # Root reads any mode-000 file; /proc/self/mem is a regular file whose read fails.
    error_case("unreadable file", ["/m:/proc/self/mem"], "/proc/self/mem:")
else:
    t.skip("error: unreadable file", "no /proc/self/mem to fail a read")

# ------------------------------------------------------------ served by a real server
gen1 = os.path.join(WORK, "gen1")
crunch("-o", "gen1/crunch_test_assets.c", "-n", "crunch_test_assets", *SITE_ARGS)
binary = build_server(gen1, "serve-site")
t.check("the generated code compiles with -Wall -Wextra -Werror and links", binary is not None)
if binary:
    port = free_port()
    with Server("crunch-site", port=port, argv=[binary, f"--port={port}"]) as s:
        def get(path, headers=None):
            return s.get(path, headers)
        st, h, body = get("/")
        t.check("GET / is site/index.html", st == 200 and body == read("site/index.html")
                and h.get("Content-Type") == "text/html; charset=utf-8", f"{st} {h}")
        st, h, body = get("/docs/")
        t.check("a directory path serves its index.html", st == 200 and body == read("site/docs/index.html"))
        st, h, body = get("/docs")
        t.check("a directory without its slash redirects", st == 308 and h.get("Location") == "/docs/", f"{st} {h}")
        st, h, body = get("/static/guide.txt")
        t.check("a directory mounted under a prefix", st == 200 and body == read("site/docs/guide.txt"))
        st, h, body = get("/robots.txt")
        t.check("a file under an explicit URL", st == 200 and body == read("extra/robots.txt")
                and h.get("Content-Type") == "text/plain; charset=utf-8")
        st, h, body = get("/blob")
        t.check("random bytes round-trip (no compressed variant kept)", st == 200 and body == read("data.bin")
                and "Vary" not in h and h.get("Content-Type") == "application/octet-stream", f"{st} {h}")
        st, h, body = get("/img/logo.png")
        t.check("png: content type, served as is", st == 200 and body == read("site/img/logo.png")
                and h.get("Content-Type") == "image/png" and "Content-Encoding" not in h, f"{h}")
        st, h, body = get("/style.css", {"Accept-Encoding": "gzip"})
        t.check("gzip variant decompresses to the original", st == 200 and h.get("Content-Encoding") == "gzip"
                and gzip.decompress(body) == css.encode() and len(body) < len(css), f"{st} {h}")
        st, h, body = get("/tricky.bin")
        t.check("trigraphs, NUL, octal-looking bytes and quotes round-trip", st == 200 and body == TRICKY, f"{st}")
        st, h, body = get("/.hidden")
        t.check("hidden files are not embedded", st == 404)
        st, h, body = get("/nope")
        t.check("unknown path: 404", st == 404)

# ------------------------------------------------------------ 200 MiB
if os.environ.get("UWEB_CRUNCH_BIG", "1") == "0":
    t.skip("200 MiB asset round trip", "UWEB_CRUNCH_BIG=0")
    t.done()
big_dir = os.path.join(WORK, "big")
os.makedirs(big_dir, exist_ok=True)
big = os.path.join(big_dir, "big.txt")
size = 200 << 20
with open(big, "wb") as f:
    # Text-like lines (compressible), each unique so no variant is trivial.
    n = i = 0
    while n < size:
        chunk = b"".join(b"line %09d: %s\n" % (i + k, os.urandom(12).hex().encode()) for k in range(10000))
        i += 10000
        chunk = chunk[: size - n]
        f.write(chunk)
        n += len(chunk)
gen_big = os.path.join(WORK, "gen-big")
os.makedirs(gen_big, exist_ok=True)
start = time.time()
rc, out, err = crunch("-o", "gen-big/crunch_test_assets.c", "-n", "crunch_test_assets", "big")
crunch_s = time.time() - start
t.check("crunch a 200 MiB asset", rc == 0, err)
start = time.time()
binary = build_server(gen_big, "serve-big") if rc == 0 else None
cc_s = time.time() - start
print(f"# 200 MiB: uweb-crunch {crunch_s:.1f} s, "
      f"generated {os.path.getsize(os.path.join(gen_big, 'crunch_test_assets.c')) >> 20} MiB of C, "
      f"compile+link {cc_s:.1f} s")
t.check("the 200 MiB asset compiles and links", binary is not None)
if binary:
    port = free_port()
    with Server("crunch-big", port=port, argv=[binary, f"--port={port}"]) as s:
        got = os.path.join(WORK, "big.got")
        rc, _, err = curl("-o", got, "-D", got + ".head", s.url + "/big.txt", timeout=300)
        t.check("served bytes of the 200 MiB asset equal the file",
                rc == 0 and os.path.getsize(got) == size and sha256_file(got) == sha256_file(big), err)
        rc, body, err = curl("-H", "Range: bytes=-100", s.url + "/big.txt")
        with open(big, "rb") as f:
            f.seek(size - 100)
            tail = f.read()
        t.check("a range at the end of the 200 MiB asset", rc == 0 and body == tail, err)
        # curl decodes what Content-Encoding names: the header must say gzip.
        rc, _, err = curl("--compressed", "-H", "Accept-Encoding: gzip", "-o", got, "-D", got + ".head",
                          s.url + "/big.txt", timeout=300)
        head = open(got + ".head", "rb").read().decode("latin-1").lower() if rc == 0 else ""
        t.check("the gzip variant of the 200 MiB asset: Content-Encoding: gzip, decodes to the file",
                rc == 0 and "\r\ncontent-encoding: gzip\r\n" in head and sha256_file(got) == sha256_file(big),
                err or head)
        os.unlink(got)
for p in (big, os.path.join(gen_big, "crunch_test_assets.c"), os.path.join(WORK, "serve-big")):
    if os.path.exists(p):
        os.unlink(p)
t.done()
