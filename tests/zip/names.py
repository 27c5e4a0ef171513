#!/usr/bin/env python3
"""Entry names that file systems take for the same, extracted for real.

1. zipgen writes one archive of 42 entries whose names collide on
   case-insensitive file systems (Windows, macOS) or normalizing ones
   (macOS): "é" composed and decomposed, "ä" and "Ä", the KELVIN and
   ANGSTROM signs, final sigma, "ẞ"/"ß", Hangul syllables and their jamo,
   directories of mixed case, plus bidi controls and backslashes.  bsdtar
   and unzip each extract it; every one of the 42 files must come out with
   its bytes, no two extracted paths may be the same name for such a file
   system, and every name must be NFC without bidi controls.  This
   machine's file systems are case-sensitive, so "the same name" is
   decided by Python's unicodedata (NFD, str.casefold, NFD: Unicode's
   canonical caseless match), independently of the writer's own tables.
2. The same through Crunch & Zip's POST /upload, with names as curl sends
   them: raw (as browsers do; `a\\b` keeps its backslash, which the writer
   then takes as a path separator: "a/b") and with --form-escape
   (`a\\"q` is `a"q`).
"""
import os
import shutil
import subprocess
import sys
import tempfile
import unicodedata
import zipfile

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "lib"))
from uwtest import T, Server, BUILD, curl  # noqa: E402

ZIPGEN = os.path.join(BUILD, "tests", "zip", "zipgen")
APP = os.path.join(BUILD, "apps", "crunchzip")
ENV = {**os.environ, "LC_ALL": "C.UTF-8", "LANG": "C.UTF-8"}
BIDI = {0x061C, 0x200E, 0x200F, *range(0x202A, 0x202F), *range(0x2066, 0x206A)}
t = T()

NAMES = [
    "\u00e9.txt", "e\u0301.txt", "\u00c9.TXT", "E\u0301.txt",           # é composed, decomposed, cases
    "\u00e4.txt", "\u00c4.txt", "a\u0308.txt", "A\u0308.TXT",           # ä Ä
    "\u00c5", "\u212b", "\u00e5", "A\u030a",                            # Å, ANGSTROM SIGN, å
    "K.bin", "\u212a.bin", "k.bin",                                     # KELVIN SIGN
    "\u03a3\u038a\u03a3\u03a5\u03a6\u039f\u03a3.txt",                   # ΣΊΣΥΦΟΣ
    "\u03c3\u03af\u03c3\u03c5\u03c6\u03bf\u03c2.txt",                   # σίσυφος (final sigma)
    "\u03c3\u03af\u03c3\u03c5\u03c6\u03bf\u03c3.txt",                   # σίσυφοσ
    "STRA\u1e9eE", "stra\u00dfe",                                       # ẞ ß
    "\uac00.txt", "\u1100\u1161.txt",                                   # 가 and its jamo
    "\u01c4.txt", "\u01c5.txt", "\u01c6.txt",                           # Ǆ ǅ ǆ
    "\u1f88.txt", "\u1f80.txt",                                         # ᾈ ᾀ
    "Dir/a.txt", "dir/A.TXT", "DIR/b.txt", "dir",                       # directories and a file
    "notes", "Notes/x",
    "evil\u202egpj.exe", "evilgpj.exe",                                 # RIGHT-TO-LEFT OVERRIDE
    "\u2067x\u2069.txt", "x.txt",                                       # isolates
    "a\\b.txt", "a/b.txt", "A\\B.TXT",                                  # backslashes
    "readme.md", "README.md",
]
assert len(NAMES) == 42


def run(argv, **kw):
    return subprocess.run(argv, capture_output=True, env=ENV, **kw)


def same_name_key(path):
    """How a case-insensitive, normalizing file system compares names."""
    nfd = unicodedata.normalize
    return nfd("NFD", nfd("NFD", path).casefold())


def collisions(paths):
    """Pairs of files a case-insensitive, normalizing file system would
    merge: equal names, or a file named like another's directory."""
    files, dirs, out = {}, set(), []
    for p in paths:
        parts = p.split("/")
        for i in range(1, len(parts)):
            dirs.add(same_name_key("/".join(parts[:i])))
    for p in paths:
        k = same_name_key(p)
        if k in files:
            out.append((files[k], p))
        files[k] = p
        if k in dirs:
            out.append((p, "a directory"))
    return out


def bad_names(names):
    return [n for n in names if not unicodedata.is_normalized("NFC", n) or any(ord(c) in BIDI for c in n)
            or "\\" in n]


def extract(tool, archive, dest):
    os.makedirs(dest)
    if tool == "bsdtar":
        return run(["bsdtar", "-xf", archive, "-C", dest])
    return run(["unzip", "-q", "-o", archive, "-d", dest], stdin=subprocess.DEVNULL)


def walk(dest):
    """Relative path -> bytes of every extracted file."""
    out = {}
    for d, _, fs in os.walk(dest):
        for f in fs:
            p = os.path.join(d, f)
            with open(p, "rb") as fh:
                out[os.path.relpath(p, dest)] = fh.read()
    return out


def check_extractions(case, archive, contents, tmp):
    """Every reader extracts every one of `contents` (distinct bytes)."""
    with zipfile.ZipFile(archive) as z:
        listed = z.namelist()
    bad = bad_names(listed)
    t.check(f"{case}: names are NFC, without bidi controls or backslashes", not bad, repr(bad[:5]))
    clash = collisions(listed)
    t.check(f"{case}: no two names are one on a case-insensitive, normalizing file system",
            not clash, repr(clash[:5]))
    for tool, pkg in (("bsdtar", "libarchive-tools"), ("unzip", "unzip")):
        if not shutil.which(tool):
            t.skip(f"{case}: {tool} extracts every file", f"{tool} missing (package {pkg})")
            continue
        dest = os.path.join(tmp, f"{case}-{tool}".replace(" ", "-"))
        r = extract(tool, archive, dest)
        got = walk(dest)
        lost = [c for c in contents if c not in got.values()]
        t.check(f"{case}: {tool} extracts all {len(contents)} files, none lost",
                r.returncode == 0 and len(got) == len(contents) and not lost,
                f"status {r.returncode}, {len(got)} files, {len(lost)} lost: "
                f"{r.stderr.decode(errors='replace')[-300:]}")
        clash = collisions(list(got))
        t.check(f"{case}: {tool}: no two extracted files collide on a case-insensitive, normalizing "
                f"file system", not clash, repr(clash[:5]))
    return listed


def zipgen_case(tmp):
    args, contents = [], []
    for i, n in enumerate(NAMES):
        p = os.path.join(tmp, f"in{i}")
        data = f"entry {i}: {n}\n".encode()
        with open(p, "wb") as f:
            f.write(data)
        args += ["-n", n, "-f", p]
        contents.append(data)
    archive = os.path.join(tmp, "names.zip")
    r = run([ZIPGEN, archive, *args])
    if not t.check("zipgen: 42 colliding names", r.returncode == 0, r.stderr.decode(errors="replace")):
        return
    listed = check_extractions("zipgen", archive, contents, tmp)
    t.check("zipgen: backslashes are path separators (a\\b.txt -> a/b.txt, then a/b (1).txt)",
            listed[NAMES.index("a\\b.txt")] == "a/b.txt" and listed[NAMES.index("a/b.txt")] == "a/b (1).txt",
            repr(listed[-5:]))


def upload_case(tmp):
    if not os.access(APP, os.X_OK):
        t.check("upload: crunchzip is built", False, f"{APP} missing")
        return
    raw = ["e\u0301.txt", "\u00e9.txt", "\u00c4.txt", "\u00e4.txt", "evil\u202egpj.exe", "a\\b.txt", "c\\"]
    escaped = ['q"uote.txt', "d\\e.txt"]     # sent as q\"uote.txt and d\\e.txt
    contents, form, form_esc = [], [], []
    for i, n in enumerate(raw + escaped):
        p = os.path.join(tmp, f"up{i}")
        data = f"upload {i}\n".encode()
        with open(p, "wb") as f:
            f.write(data)
        contents.append(data)
        (form if i < len(raw) else form_esc).extend(["-F", f"f{i}=@{p};filename={n}"])
    with Server("crunchzip") as s:
        out = os.path.join(tmp, "raw.zip")
        rc, _, err = curl("-f", "-o", out, *form, s.url + "/upload")
        t.check("upload: names as browsers send them: accepted", rc == 0, err)
        out2 = os.path.join(tmp, "escaped.zip")
        rc2, _, err2 = curl("-f", "--form-escape", "-o", out2, *form_esc, s.url + "/upload")
        t.check("upload: names with curl --form-escape: accepted", rc2 == 0, err2)
    if rc != 0 or rc2 != 0:
        return
    listed = check_extractions("upload", out, contents[:len(raw)], tmp)
    t.check("upload: names kept as sent, NFC, bidi controls dropped, backslash a separator",
            listed == ["\u00e9.txt", "\u00e9 (1).txt", "\u00c4.txt", "\u00e4 (1).txt", "evilgpj.exe",
                       "a/b.txt", "c"], repr(listed))
    with zipfile.ZipFile(out2) as z:
        listed = z.namelist()
    t.check("upload: --form-escape's \\\" and \\\\ undone (q\"uote.txt, d/e.txt)",
            listed == ['q"uote.txt', "d/e.txt"], repr(listed))


def main():
    if not os.access(ZIPGEN, os.X_OK):
        t.check("zipgen is built", False, f"{ZIPGEN} missing")
        t.done()
    os.makedirs(os.path.join(BUILD, "tests", "zip"), exist_ok=True)
    tmp = tempfile.mkdtemp(prefix="names-", dir=os.path.join(BUILD, "tests", "zip"))
    try:
        zipgen_case(tmp)
        upload_case(tmp)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    t.done()


if __name__ == "__main__":
    main()
