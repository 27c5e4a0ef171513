#!/usr/bin/env python3
"""uweb-image and apps/site: help and errors; a generated tree (empty files,
deep paths, UTF-8 names, a large file, 10,000 small files, duplicates) read
back byte for byte through `uweb-image cat` and through HTTP; ranges across
chunk boundaries and random reads against the source; a Git repository
with history (each --ref holds its commit's tree, Last-Modified is the
commit's time); a damaged image (verify names the block, the server answers
500 for its files and serves the others); a truncated image refused with
one line.  UWEB_IMAGE_BIG=N sets the large file's size in MiB (default 50).
"""
import gzip
import hashlib
import http.client
import os
import random
import shutil
import struct
import subprocess
import sys
import time
from email.utils import formatdate

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "lib"))
from uwtest import T, Server, BUILD  # noqa: E402
from uwimage import make_tree, fetch_many as fetch_many3, urlpath  # noqa: E402

t = T()
TOOL = os.path.join(BUILD, "tools", "uweb-image")
SITE = os.path.join(BUILD, "apps", "site")
WORK = os.path.join(BUILD, "image-test")
BIG_MIB = int(os.environ.get("UWEB_IMAGE_BIG", "50"))
t.require_built(TOOL, SITE)
shutil.rmtree(WORK, ignore_errors=True)
os.makedirs(WORK)


def tool(*args, timeout=300):
    p = subprocess.run([TOOL, *args], capture_output=True, timeout=timeout)
    return p.returncode, p.stdout, p.stderr.decode(errors="replace")


def one_line(err):
    return err.count("\n") == 1 and err.startswith("uweb-image: ")


# ------------------------------------------------------------ help, errors
rc, out, err = tool("--help")
out = out.decode()
t.check("--help is a man page", rc == 0 and all(s in out for s in ("NAME\n", "SYNOPSIS\n", "OPTIONS\n", "EXIT STATUS\n")))
rc, _, err = tool("build")
t.check("build without a source: usage error, one line", rc == 2 and one_line(err), err)
rc, _, err = tool("frobnicate")
t.check("unknown command: usage error, one line", rc == 2 and one_line(err), err)
rc, _, err = tool("build", os.path.join(WORK, "missing"), "-o", os.path.join(WORK, "x.img"))
t.check("missing source: exit 1, one line", rc == 1 and one_line(err), err)
rc, _, err = tool("info", os.path.join(WORK, "missing.img"))
t.check("missing image: exit 1, one line", rc == 1 and one_line(err), err)

# ------------------------------------------------------------ the tree
TREE = os.path.join(WORK, "tree")
rnd = random.Random(11)
files = make_tree(TREE, rnd, BIG_MIB)
big = files["/media/big.bin"]
put_mid = os.path.join(TREE, "media", "mid.bin")
files["/media/mid.bin"] = os.urandom(300000)
with open(put_mid, "wb") as f:
    f.write(files["/media/mid.bin"])

IMG = os.path.join(WORK, "tree.img")
t0 = time.time()
rc, _, err = tool("build", TREE, "-o", IMG, "--level=3", "-q")
took = time.time() - t0
t.check(f"build of {len(files)} files ({BIG_MIB} MiB file) succeeds ({took:.1f} s)", rc == 0, err)
rc, out, err = tool("verify", IMG)
t.check("verify of a sound image: ok", rc == 0 and b": ok" in out, err)
rc, out, err = tool("info", IMG)
info = out.decode()
t.check("info counts files and deduplicated contents",
        f"files           {len(files)}\n" in info and "contents" in info and "source          folder" in info, info)

rc, out, err = tool("ls", IMG)
want = sorted(files, key=lambda p: p.encode())
t.check("ls lists every path in byte order", out.decode().splitlines() == want, err)
rc, out, err = tool("ls", IMG, "/docs")
t.check("ls PREFIX lists the paths under it", out.decode().splitlines() == ["/docs/index.html", "/docs/long.html"], out)

sample = ["/empty.txt", "/media/big.bin", "/media/mid.bin", "/a/b/c/d/e/f/g/h/i/j/k/l/m/n/o/p/deep.html",
          "/\u00fcn\u00efc\u00f8d\u00e9/\u65e5\u672c\u8a9e.html", "/dups/copy7.html"] + rnd.sample(sorted(files), 30)
bad = [p for p in sample if tool("cat", IMG, p)[1] != files[p]]
t.check(f"cat gives {len(sample)} files byte for byte (empty, deep, UTF-8, large, duplicates)", not bad, str(bad[:3]))
rc, _, err = tool("cat", IMG, "/nope.html")
t.check("cat of a missing path: exit 1, one line", rc == 1 and one_line(err), err)

small_tree = os.path.join(WORK, "small")
os.makedirs(small_tree)
for n in ("a.html", "b.css"):
    with open(os.path.join(small_tree, n), "w") as f:
        f.write(n * 50)
os.utime(os.path.join(small_tree, "a.html"), (1600000000, 1600000000))
tool("build", small_tree, "-o", os.path.join(WORK, "s1.img"), "-q")
tool("build", small_tree, "-o", os.path.join(WORK, "s2.img"), "-q")
with open(os.path.join(WORK, "s1.img"), "rb") as f1, open(os.path.join(WORK, "s2.img"), "rb") as f2:
    t.check("the same tree gives the same bytes", f1.read() == f2.read())


# ------------------------------------------------------------ HTTP
def fetch_many(port, reqs):
    return [(st, body) for st, _, body in fetch_many3("127.0.0.1", port, reqs)]


def get(conn, path, headers=None, method="GET"):
    conn.request(method, urlpath(path), headers=headers or {})
    r = conn.getresponse()
    return r.status, {k.lower(): v for k, v in r.getheaders()}, r.read()


with Server("site", [f"--image={IMG}", "--quiet"]) as s:
    c = http.client.HTTPConnection("127.0.0.1", s.port, timeout=30)
    res = fetch_many(s.port, [(p, {}) for p in want])
    bad = [p for p, (st, body) in zip(want, res) if st != 200 or body != files[p]]
    t.check(f"HTTP serves all {len(want)} files byte for byte", not bad, str(bad[:3]))
    st, h, body = get(c, "/docs/")
    t.check("dir/ serves dir/index.html", st == 200 and body == files["/docs/index.html"])
    st, h, _ = get(c, "/docs?x=1")
    t.check("dir without its slash: 308 to dir/ (query kept)", st == 308 and h.get("location") == "/docs/?x=1", str(h))
    st, h, body = get(c, "/")
    t.check("/ serves /index.html", st == 200 and body == files["/index.html"])
    st, h, body = get(c, "/docs/long.html", {"Accept-Encoding": "gzip"})
    t.check("a compressible file to a client that accepts gzip: gzip, Vary: Accept-Encoding, weak ETag",
            st == 200 and h.get("content-encoding") == "gzip" and h.get("vary") == "Accept-Encoding"
            and h.get("etag", "").startswith('W/"') and gzip.decompress(body) == files["/docs/long.html"]
            and len(body) < len(files["/docs/long.html"]) // 4, str(h))
    st, h2, _ = get(c, "/docs/long.html", {"Accept-Encoding": "gzip", "If-None-Match": h.get("etag", "")})
    t.check("its weak ETag in If-None-Match: 304", st == 304, str(st))
    st, h, body = get(c, "/docs/long.html", {"Accept-Encoding": "gzip", "Range": "bytes=100-199"})
    t.check("a Range answer is never compressed", st == 206 and "content-encoding" not in h
            and body == files["/docs/long.html"][100:200], str(h))
    st, h, body = get(c, "/media/mid.bin", {"Accept-Encoding": "gzip"})
    t.check("an incompressible type goes out as it is", st == 200 and "content-encoding" not in h
            and body == files["/media/mid.bin"], str(h))
    p = subprocess.run(["curl", "-s", "--compressed", "-D", "-", "-o", os.path.join(WORK, "curl.out"),
                        f"http://127.0.0.1:{s.port}/docs/long.html"], capture_output=True, timeout=30)
    with open(os.path.join(WORK, "curl.out"), "rb") as f:
        t.check("curl --compressed: a compressed answer, the file's bytes once decoded",
                p.returncode == 0 and b"content-encoding:" in p.stdout.lower() and f.read() == files["/docs/long.html"],
                p.stdout.decode(errors="replace")[-300:])
    st, _, _ = get(c, "/nope")
    t.check("unknown path: 404", st == 404)
    st, h, body = get(c, "/index.html", method="HEAD")
    t.check("HEAD: Content-Length, no body", st == 200 and h.get("content-length") == str(len(files["/index.html"])) and body == b"")
    st, h, _ = get(c, "/index.html")
    etag = h.get("etag", "")
    t.check("strong ETag from the content hash, content type, Last-Modified",
            etag.startswith('"') and len(etag) == 34 and h.get("content-type") == "text/html; charset=utf-8"
            and "last-modified" in h, str(h))
    st, _, _ = get(c, "/index.html", {"If-None-Match": etag})
    t.check("If-None-Match: 304", st == 304)
    st, _, _ = get(c, "/index.html", {"If-Modified-Since": h.get("last-modified", "")})
    t.check("If-Modified-Since: 304", st == 304)
    st, h2, _ = get(c, "/dups/copy3.html")
    st, h3, _ = get(c, "/many/00/page00001.html")
    t.check("duplicates share their ETag", h2.get("etag") == h3.get("etag"))
    size = len(big)
    st, h, _ = get(c, "/media/big.bin", {"Range": f"bytes={size}-"})
    t.check("Range past the end: 416", st == 416 and h.get("content-range") == f"bytes */{size}", str(h))
    bad = []
    chunk = 256 << 10
    for k in range(1, 40):
        first = k * chunk - rnd.randrange(1, 5000)
        last = min(size - 1, first + rnd.randrange(1, 3 * chunk))
        st, h, body = get(c, "/media/big.bin", {"Range": f"bytes={first}-{last}"})
        if st != 206 or body != big[first:last + 1] or h.get("content-range") != f"bytes {first}-{last}/{size}":
            bad.append((first, last, st))
    st, h, body = get(c, "/media/big.bin", {"Range": "bytes=-1000"})
    if st != 206 or body != big[-1000:]:
        bad.append("suffix")
    t.check("Range requests across chunk boundaries: 206 with the right bytes", not bad, str(bad[:3]))
    t0 = time.time()
    names = sorted(files)
    reqs, expect = [], []
    for k in range(10000):
        p = rnd.choice(names)
        data = files[p]
        if data and rnd.random() < 0.5:
            a = rnd.randrange(len(data))
            b = min(len(data) - 1, a + rnd.randrange(1, 100000))
            reqs.append((p, {"Range": f"bytes={a}-{b}"}))
            expect.append((206, data[a:b + 1]))
        else:
            reqs.append((p, {}))
            expect.append((200, data))
    got = fetch_many(s.port, reqs)
    bad = [r[0] for r, e, g in zip(reqs, expect, got) if e != g]
    t.check(f"10,000 random reads (whole and ranges) match the source ({time.time() - t0:.1f} s)", not bad, str(bad[:3]))
    st, _, body = get(c, "/media/big.bin")
    t.check(f"the {BIG_MIB} MiB file through HTTP, whole", st == 200 and hashlib.sha256(body).digest() == hashlib.sha256(big).digest())
    c.close()

# ------------------------------------------------------------ damage
def blocks(img):
    """The block table: [(offset, csize, kind)]."""
    with open(img, "rb") as f:
        data = f.read()
    nblocks, = struct.unpack_from("<Q", data, 48)
    table, = struct.unpack_from("<Q", data, 64)
    out = []
    for b in range(nblocks):
        off, cs, us, method, kind = struct.unpack_from("<QIIBB", data, table + 64 * b)
        out.append((off, cs, kind))
    return data, out


DAM = os.path.join(WORK, "damage")
os.makedirs(DAM)
for i in range(30):
    with open(os.path.join(DAM, f"page{i}.html"), "w") as f:
        f.write(f"<p>page {i}</p>\n" * 20)
with open(os.path.join(DAM, "big.bin"), "wb") as f:
    f.write(os.urandom(1500000))   # larger than a solid block: chunks of its own
good = os.path.join(WORK, "damage.img")
tool("build", DAM, "-o", good, "-q")
data, table = blocks(good)
solid = [b for b, (off, cs, kind) in enumerate(table) if kind == 0][0]   # the small pages' block
off, cs, _ = table[solid]
broken = bytearray(data)
broken[off + cs // 2] ^= 0x40
bimg = os.path.join(WORK, "broken.img")
with open(bimg, "wb") as f:
    f.write(broken)
rc, _, err = tool("verify", bimg)
t.check("verify of a damaged block fails naming the block and its files",
        rc == 1 and f"block {solid}: SHA-256 mismatch" in err and "/page3.html" in err, err)
with Server("site", [f"--image={bimg}"]) as s:
    st1, _, _ = s.get("/page3.html")
    st2, _, body = s.get("/big.bin")
    with open(os.path.join(DAM, "big.bin"), "rb") as f:
        t.check("the server answers 500 for the damaged block's files and serves the others",
                st1 == 500 and st2 == 200 and body == f.read(), f"{st1} {st2}")
    t.check("the server says why on its log", "SHA-256 mismatch" in s.output(), s.output()[-300:])
trunc = os.path.join(WORK, "truncated.img")
with open(trunc, "wb") as f:
    f.write(data[:-4096])
rc, _, err = tool("info", trunc)
t.check("a truncated image is refused with one line", rc == 1 and one_line(err) and "truncated image" in err, err)
p = subprocess.run([SITE, f"--image={trunc}", "--port=0"], capture_output=True, timeout=10)
err = p.stderr.decode()
t.check("site refuses a truncated image at start, one line", p.returncode == 1 and err.count("\n") == 1 and "truncated" in err, err)
p = subprocess.run([SITE, f"--block:site={good}", "--port=0", "--help"], capture_output=True, timeout=10)
t.check("site --help names --image and --cache", p.returncode == 0 and b"--image=FILE" in p.stdout and b"--cache" in p.stdout)
with Server("site", [f"--block:site={good}"]) as s:
    st, _, body = s.get("/page3.html")
    t.check("site serves the block device site (--block:site=FILE)", st == 200 and body == b"<p>page 3</p>\n" * 20, str(st))

# ------------------------------------------------------------ Git
REPO = os.path.join(WORK, "repo")
os.makedirs(REPO)
env = {**os.environ, "GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@example.org", "GIT_COMMITTER_NAME": "t",
       "GIT_COMMITTER_EMAIL": "t@example.org"}


def git(*args, when=None):
    e = dict(env)
    if when:
        e["GIT_AUTHOR_DATE"] = e["GIT_COMMITTER_DATE"] = f"{when} +0000"
    return subprocess.run(["git", "-C", REPO, *args], capture_output=True, env=e, check=True).stdout.decode().strip()


git("init", "-q", "-b", "main")
history = []
for n, when in enumerate((1500000000, 1600000000, 1700000000)):
    with open(os.path.join(REPO, "index.html"), "w") as f:
        f.write(f"<p>version {n}</p>\n")
    os.makedirs(os.path.join(REPO, "docs"), exist_ok=True)
    with open(os.path.join(REPO, "docs", f"new{n}.txt"), "w") as f:
        f.write(f"added in {n}\n")
    if n == 2:
        os.remove(os.path.join(REPO, "docs", "new0.txt"))
    git("add", "-A")
    git("commit", "-q", "-m", f"v{n}", when=when)
    history.append((git("rev-parse", "HEAD"), when))
git("tag", "v1", history[1][0])
bad = []
for ref, (commit, when) in (("v1", history[1]), (history[0][0][:10], history[0]), ("main", history[2])):
    img = os.path.join(WORK, f"git-{when}.img")
    rc, _, err = tool("build", REPO, f"--ref={ref}", "-o", img, "-q")
    if rc != 0:
        bad.append(f"{ref}: {err}")
        continue
    names = sorted("/" + x for x in git("ls-tree", "-r", "--name-only", commit).split("\n"))
    rc, out, _ = tool("ls", img)
    if out.decode().splitlines() != names:
        bad.append(f"{ref}: ls {out!r} != {names}")
    for name in names:
        if tool("cat", img, name)[1].decode() != git("show", f"{commit}:{name[1:]}") + "\n":
            bad.append(f"{ref}: {name}")
    rc, out, _ = tool("info", img)
    if f"commit          {commit}" not in out.decode():
        bad.append(f"{ref}: info {out!r}")
    with Server("site", [f"--image={img}"]) as s:
        st, h, _ = s.get("/index.html")
        lm = {k.lower(): v for k, v in h.items()}.get("last-modified")
        if lm != formatdate(when, usegmt=True):
            bad.append(f"{ref}: Last-Modified {lm}")
t.check("each --ref (tag, short commit, branch) holds its commit's tree; Last-Modified is the commit time", not bad, str(bad[:3]))
rc, _, err = tool("build", "file://" + REPO, "--ref=v1", "-o", os.path.join(WORK, "url.img"), "-q")
rc2, out, _ = tool("cat", os.path.join(WORK, "url.img"), "/index.html")
t.check("a file:// URL is cloned and read", rc == 0 and out == b"<p>version 1</p>\n", err)
rc, _, err = tool("build", REPO, "--ref=nosuchref", "-o", os.path.join(WORK, "bad.img"))
t.check("an unknown ref: exit 1, one line", rc == 1 and one_line(err) and not os.path.exists(os.path.join(WORK, "bad.img")), err)

shutil.rmtree(WORK, ignore_errors=True)
t.done()
