#!/usr/bin/env python3
"""Crunch & Zip's page in a real browser: Debian's chromium driven by
playwright-core (npm, installed into build/node_modules when missing).

Loads the page, checks styles from style.css, clicks "+ Add a field" and
sees a new file input, saves build/browser/crunchzip.png; then picks two
files in two fields, submits, and checks the zip the browser downloads.  Skips with a
reason when node, chromium or playwright-core is not available.
"""
import os
import shutil
import subprocess
import sys
import zipfile

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "lib"))
from uwtest import T, Server, BUILD, ROOT  # noqa: E402

t = T()
NAME = "browser crunchzip"
if not shutil.which("node"):
    t.skip(NAME, "node is not installed")
    t.done()
if not os.access("/usr/bin/chromium", os.X_OK):
    t.skip(NAME, "/usr/bin/chromium is not installed (Debian package chromium)")
    t.done()
modules = os.path.join(BUILD, "node_modules")
if not os.path.isdir(os.path.join(modules, "playwright-core")):
    if not shutil.which("npm"):
        t.skip(NAME, "playwright-core is not in build/node_modules and npm is not installed")
        t.done()
    p = subprocess.run(["npm", "install", "--prefix", BUILD, "--no-audit", "--no-fund", "playwright-core"],
                       capture_output=True, timeout=300)
    if p.returncode != 0 or not os.path.isdir(os.path.join(modules, "playwright-core")):
        t.skip(NAME, "cannot install playwright-core with npm: "
               + (p.stderr.decode(errors="replace").strip().splitlines() or ["?"])[-1])
        t.done()
shots = os.path.join(BUILD, "browser")
os.makedirs(shots, exist_ok=True)
shot = os.path.join(shots, "crunchzip.png")
if os.path.exists(shot):
    os.unlink(shot)

# Two files to upload through the form: text, and binary bytes.
zip_out = os.path.join(shots, "archive.zip")
files = {"notes.txt": b"Crunch & Zip from a real browser\n" * 100, "bytes.bin": os.urandom(200000)}
for name, data in files.items():
    with open(os.path.join(shots, name), "wb") as f:
        f.write(data)
if os.path.exists(zip_out):
    os.unlink(zip_out)

with Server("crunchzip") as s:
    p = subprocess.run(["node", os.path.join(ROOT, "tests", "integration", "browser_crunchzip.js"), s.url, shot,
                        zip_out, *(os.path.join(shots, n) for n in files)],
                       capture_output=True, timeout=240, env={**os.environ, "NODE_PATH": modules})
    out = p.stdout.decode(errors="replace")
    sys.stdout.write(out)
    if p.returncode != 0 and "not ok - " not in out:
        t.check(NAME, False, f"node exited {p.returncode}: {p.stderr.decode(errors='replace')[-500:]}")
    elif p.returncode != 0:
        t.failed += 1
    if "skipped - " not in out:
        t.check("the screenshot is a PNG", os.path.exists(shot) and open(shot, "rb").read(8) == b"\x89PNG\r\n\x1a\n")
        got, why = {}, "no archive downloaded"
        if os.path.exists(zip_out):
            try:
                with zipfile.ZipFile(zip_out) as z:
                    bad = z.testzip()
                    got = {i.filename: z.read(i.filename) for i in z.infolist()}
                    why = f"CRC error in {bad}" if bad else f"entries {sorted(got)}"
            except zipfile.BadZipFile as e:
                why = f"not a zip: {e}"
        t.check("the downloaded zip holds both uploaded files, byte for byte", got == files, why)
t.done()
