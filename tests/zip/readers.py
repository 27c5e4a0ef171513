#!/usr/bin/env python3
"""Archives written by uweb's ZIP writer (through tests/zip/zipgen), each
checked by five independent readers: unzip -t, 7z t, bsdtar (list, and
extraction compared byte for byte), Python's zipfile (testzip and
contents) and zipdetails (structure dump).

Cases: empty archive, one empty file, many small files, 65,536 entries
(ZIP64 end records), streamed entries of unknown size, incompressible data
(stored), UTF-8 names, sanitized names, duplicates, and an archive past
4 GiB (a stored entry of unknown size from a generator, then a small
entry at an offset past 4 GiB).  Archives go to a temporary directory
under build/ and are deleted.  UWEB_ZIP_CASE=dup runs only the cases
whose name contains "dup"."""
import os
import shutil
import subprocess
import sys
import tempfile
import time
import zipfile

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "lib"))
from uwtest import T, BUILD  # noqa: E402

ZIPGEN = os.path.join(BUILD, "tests", "zip", "zipgen")
ENV = {**os.environ, "LC_ALL": "C.UTF-8", "LANG": "C.UTF-8"}
t = T()
READERS = {"unzip": "unzip", "7z": "p7zip-full", "bsdtar": "libarchive-tools", "zipdetails": "perl"}


def run(argv, **kw):
    return subprocess.run(argv, capture_output=True, env=ENV, **kw)


def emit(spec):
    """The bytes of a generator (small ones only)."""
    return run([ZIPGEN, "--emit", spec], check=True).stdout


def streams_equal(a_argv, b_argv):
    """Compares the standard outputs of two commands chunk by chunk."""
    a = subprocess.Popen(a_argv, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, env=ENV)
    b = subprocess.Popen(b_argv, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, env=ENV)
    same, total = True, 0
    while True:
        x = a.stdout.read(1 << 20)
        y = b.stdout.read(len(x) or 1)
        while len(y) < len(x):
            more = b.stdout.read(len(x) - len(y))
            if not more:
                break
            y += more
        if x != y:
            same = False
            break
        if not x:
            break
        total += len(x)
    a.kill(); b.kill(); a.wait(); b.wait()
    return same, total


class Entry:
    def __init__(self, name, data=None, spec=None):
        self.name, self.data, self.spec = name, data, spec


def check_readers(case, path, entries, big=False, zipdetails=True):
    """Every reader must accept the archive and see exactly `entries`."""
    names = [e.name for e in entries]

    # unzip -t (an empty archive is a warning, status 1, for unzip)
    r = run(["unzip", "-t", path])
    out = r.stdout.decode(errors="replace")
    ok = r.returncode == 0 or (not entries and r.returncode == 1 and "zipfile is empty" in out)
    t.check(f"{case}: unzip -t", ok and (not entries or "No errors detected" in out),
            f"status {r.returncode}: {out[-300:]} {r.stderr.decode(errors='replace')[-300:]}")

    # 7z t: no errors nor warnings
    r = run(["7z", "t", path])
    out = r.stdout.decode(errors="replace")
    t.check(f"{case}: 7z t", r.returncode == 0 and "Everything is Ok" in out and "Warning" not in out,
            f"status {r.returncode}: {out[-400:]}")

    # bsdtar: the list, then extraction byte for byte
    r = run(["bsdtar", "-tf", path])
    listed = r.stdout.decode(errors="replace").splitlines()
    t.check(f"{case}: bsdtar -tf lists the names", r.returncode == 0 and listed == names,
            f"status {r.returncode}: {listed[:5]} vs {names[:5]} {r.stderr[-200:]!r}")
    if big:
        bad = []
        for e in entries:
            if e.spec:
                same, n = streams_equal(["bsdtar", "-xOf", path, e.name], [ZIPGEN, "--emit", e.spec])
            else:
                got = run(["bsdtar", "-xOf", path, e.name]).stdout
                same = got == e.data
            if not same:
                bad.append(e.name)
        t.check(f"{case}: bsdtar extracts every byte", not bad, f"differs: {bad}")
    else:
        d = tempfile.mkdtemp(dir=os.path.dirname(path))
        r = run(["bsdtar", "-xf", path, "-C", d])
        bad = []
        for e in entries:
            try:
                with open(os.path.join(d, e.name), "rb") as f:
                    if f.read() != e.data:
                        bad.append(e.name)
            except OSError as x:
                bad.append(f"{e.name} ({x})")
        extracted = sum(len(fs) for _, _, fs in os.walk(d))
        shutil.rmtree(d)
        t.check(f"{case}: bsdtar extracts every byte", r.returncode == 0 and not bad and extracted == len(entries),
                f"status {r.returncode}, {extracted} files, differs: {bad[:5]}")

    # Python's zipfile
    try:
        with zipfile.ZipFile(path) as z:
            first_bad = z.testzip()
            zn = z.namelist()
            bad = []
            for e in entries:
                with z.open(e.name) as f:
                    if e.spec:
                        g = subprocess.Popen([ZIPGEN, "--emit", e.spec], stdout=subprocess.PIPE)
                        while True:
                            x = f.read(1 << 20)
                            y = g.stdout.read(len(x)) if x else g.stdout.read(1)
                            if x != y:
                                bad.append(e.name)
                                break
                            if not x:
                                break
                        g.kill(); g.wait()
                    elif f.read() != e.data:
                        bad.append(e.name)
        t.check(f"{case}: python zipfile", first_bad is None and zn == names and not bad,
                f"testzip {first_bad}, names {zn[:5]}, differs {bad[:5]}")
    except Exception as x:  # any exception is the reader refusing the archive
        t.check(f"{case}: python zipfile", False, repr(x))

    # zipdetails: a full structure dump without complaint
    if not zipdetails:
        t.skip(f"{case}: zipdetails", "zipdetails 2.104 needs minutes past a few thousand entries "
               "(2,000 take 5 s, 8,000 a minute); the other readers and the unit test read this archive")
        return ""
    r = run(["zipdetails", path])
    out = r.stdout.decode(errors="replace")
    err = r.stderr.decode(errors="replace")
    locals_ = out.count("LOCAL HEADER #")
    centrals = out.count("CENTRAL HEADER #")
    ok = (r.returncode == 0 and "END CENTRAL HEADER" in out and locals_ == len(entries)
          and centrals == len(entries) and "Error" not in out + err and "WARNING" not in (out + err).upper())
    t.check(f"{case}: zipdetails", ok,
            f"status {r.returncode}, {locals_} local and {centrals} central headers for {len(entries)}: {err[-300:]}")
    return out


def zipgen(path, args, opts=()):
    r = run([ZIPGEN, *opts, path, *args])
    if r.returncode != 0:
        raise RuntimeError(r.stderr.decode(errors="replace"))


def main():
    missing = [f"{cmd} ({pkg})" for cmd, pkg in READERS.items() if not shutil.which(cmd)]
    if not os.access(ZIPGEN, os.X_OK):
        missing.append(ZIPGEN)
    if missing:
        t.skip("zip readers", "missing " + ", ".join(missing))
        t.done()
    os.makedirs(os.path.join(BUILD, "tests", "zip"), exist_ok=True)
    tmp = tempfile.mkdtemp(prefix="readers-", dir=os.path.join(BUILD, "tests", "zip"))
    try:
        cases(tmp)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    t.done()


def case(tmp, name, args, entries, opts=(), **kw):
    if os.environ.get("UWEB_ZIP_CASE", "") not in name:   # one case by name, while developing
        return None
    path = os.path.join(tmp, name.replace(" ", "-").replace(",", "") + ".zip")
    start = time.time()
    try:
        zipgen(path, args, opts)
    except RuntimeError as x:
        t.check(f"{name}: zipgen", False, str(x))
        return None
    written = time.time()
    out = check_readers(name, path, entries, **kw)
    print(f"# {name}: written in {written - start:.1f} s, read in {time.time() - written:.1f} s", flush=True)
    size = os.path.getsize(path)
    os.unlink(path)
    return out, size


def cases(tmp):
    case(tmp, "empty archive", [], [])

    r = case(tmp, "one empty file", ["-n", "empty.txt", "-g", "zero:0"], [Entry("empty.txt", b"")])
    if r:
        t.check("one empty file: plain ZIP of 134 bytes, no ZIP64",
                r[1] == 30 + 9 + 9 + 46 + 9 + 9 + 22 and "ZIP64" not in r[0], f"{r[1]} bytes")

    # many small files of different sizes and kinds
    args, entries = [], []
    for i in range(300):
        kind = ("text", "random", "zero")[i % 3]
        spec = f"{kind}:{(i * 997) % 70000}:{i}"
        args += ["-n", f"dir{i % 7}/file{i}.dat", "-g", spec]
        entries.append(Entry(f"dir{i % 7}/file{i}.dat", emit(spec)))
    r = case(tmp, "many small files", args, entries)
    if r:
        t.check("many small files: plain ZIP", "ZIP64" not in r[0])

    small = emit("text:100:1")
    case(tmp, "65536 entries", ["-r", "65536", "-n", "f%u.txt", "-g", "text:100:1"],
         [Entry(f"f{i}.txt", small) for i in range(65536)], zipdetails=False)

    t1, r1, t2 = emit("text:3M:1"), emit("random:3M:2"), emit("text:200K:3")
    r = case(tmp, "streamed entries", ["-u", "-n", "t1.txt", "-g", "text:3M:1", "-n", "r1.bin", "-g", "random:3M:2",
                                       "-k", "-n", "t2.txt", "-g", "text:200K:3"],
             [Entry("t1.txt", t1), Entry("r1.bin", r1), Entry("t2.txt", t2)])

    rnd = emit("random:1M:7")
    r = case(tmp, "incompressible data", ["-n", "a.jpg", "-g", "random:1M:7", "-u", "-n", "b.mp4", "-g", "random:1M:7"],
             [Entry("a.jpg", rnd), Entry("b.mp4", rnd)])
    if r:
        t.check("incompressible data: stored, not deflated",
                r[0].count("Compression Method    0000 'Stored'") == 4 and r[1] < 2 * len(rnd) + 500,
                f"{r[1]} bytes")

    utf = ["café.txt", "日本語/ファイル.txt", "emoji 😀.bin", "Ελληνικά"]
    args, entries = [], []
    for i, n in enumerate(utf):
        args += ["-n", n, "-g", f"text:{1000 * i}:{i}"]
        entries.append(Entry(n, emit(f"text:{1000 * i}:{i}")))
    r = case(tmp, "UTF-8 names", args, entries)
    if r:
        t.check("UTF-8 names: flag bit 11 on every header", r[0].count("[Bit 11]              1 'Language Encoding'") == 8)

    raw = ["../../evil.txt", "/abs/path.txt", "C:\\win\\path.txt", "a\\b.txt", "./x/../y.txt", "", "bad\x01ctl"]
    want = ["evil.txt", "abs/path.txt", "win/path.txt", "a/b.txt", "x/y.txt", "unnamed", "bad_ctl"]
    args, entries = [], []
    for i, (n, w) in enumerate(zip(raw, want)):
        args += ["-n", n, "-g", f"text:{100 + i}:{i}"]
        entries.append(Entry(w, emit(f"text:{100 + i}:{i}")))
    case(tmp, "sanitized names", args, entries)

    args, entries = [], []
    for i, (n, w) in enumerate([("a.txt", "a.txt"), ("a.txt", "a (1).txt"), ("a.txt", "a (2).txt"),
                                ("d/r", "d/r"), ("d/r", "d/r (1)"),
                                ("f", "f"), ("f/g", "f (1)/g"), ("x/y", "x/y"), ("x", "x (1)")]):
        args += ["-n", n, "-g", f"text:{50 + i}:{i}"]
        entries.append(Entry(w, emit(f"text:{50 + i}:{i}")))
    case(tmp, "duplicates, file and directory clashes", args, entries)

    # past 4 GiB: generated on the fly, never held whole
    big = "random:4097M:11"
    r = case(tmp, "ZIP64 archive past 4 GiB",
             ["-u", "-n", "big.bin", "-g", big, "-n", "after.txt", "-g", "text:5000:12"],
             [Entry("big.bin", spec=big), Entry("after.txt", emit("text:5000:12"))], opts=["-c", "1M"], big=True)
    if r:
        out = r[0]
        t.check("ZIP64 archive past 4 GiB: ZIP64 end records and extra fields",
                "ZIP64 END CENTRAL DIR" in out and out.count("Extra ID #0001        0001 'ZIP64'") >= 3
                and r[1] > (4097 << 20), f"{r[1]} bytes")


if __name__ == "__main__":
    main()
