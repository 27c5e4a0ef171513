#!/usr/bin/env python3
"""Crunch & Zip's page in a real browser: Debian's chromium driven by
playwright-core (npm, installed into build/node_modules when missing).

Loads the page, checks styles from style.css, clicks "+ Add a field" and
sees new required files[] inputs with their "Remove" buttons, saves
build/browser/crunchzip.png; then makes three fields, removes one, picks
a file in each of the other two, clicks "Start archiving", sees the
progress bar reach 100% (crunchzip-done.png) and checks the zip the
browser downloads; last, a form the server refuses (no file) shows the
server's message (crunchzip-refused.png).
node, npm and chromium are declared Debian packages (DEB_PACKAGES): one
that is missing, a failed npm install or a Chromium that does not launch
is a failure.  Debian's /usr/bin/node and /usr/bin/npm are preferred over
others on PATH; playwright-core is pinned to a release that still runs on
Debian 12's Node.js 18.
"""
import json
import os
import shutil
import subprocess
import sys

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "lib"))
from uwtest import T, Server, BUILD, ROOT, app, zip_entries  # noqa: E402

t = T()
NAME = "browser crunchzip"
PLAYWRIGHT = "1.61"          # 1.62 and later need Node.js 20; Debian 12 has 18
t.require_built(app("crunchzip"))


def tool(name, package):
    path = f"/usr/bin/{name}" if os.access(f"/usr/bin/{name}", os.X_OK) else shutil.which(name)
    if not path:
        t.check(f"{NAME}: {name} is installed", False, f"Debian package {package} is declared in DEB_PACKAGES (make)")
        t.done()
    return path


node, npm = tool("node", "nodejs"), tool("npm", "npm")
if not os.access("/usr/bin/chromium", os.X_OK):
    t.check(f"{NAME}: /usr/bin/chromium is installed", False, "Debian package chromium is declared in DEB_PACKAGES (make)")
    t.done()
modules = os.path.join(BUILD, "node_modules")


def playwright_version():
    try:
        with open(os.path.join(modules, "playwright-core", "package.json")) as f:
            return json.load(f).get("version", "")
    except (OSError, ValueError):
        return ""


if not playwright_version().startswith(PLAYWRIGHT + "."):
    p = subprocess.run([npm, "install", "--prefix", BUILD, "--no-audit", "--no-fund", f"playwright-core@{PLAYWRIGHT}"],
                       capture_output=True, timeout=300, env={**os.environ, "PATH": os.path.dirname(node)
                                                                 + os.pathsep + os.environ.get("PATH", "")})
    if not t.check(f"{NAME}: npm installs playwright-core@{PLAYWRIGHT} into build/node_modules",
                   p.returncode == 0 and playwright_version().startswith(PLAYWRIGHT + "."),
                   f"{npm} exited {p.returncode}: "
                   + " | ".join(p.stderr.decode(errors="replace").strip().splitlines()[-3:])):
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
    p = subprocess.run([node, os.path.join(ROOT, "tests", "integration", "browser_crunchzip.js"), s.url, shot,
                        zip_out, *(os.path.join(shots, n) for n in files)],
                       capture_output=True, timeout=240, env={**os.environ, "NODE_PATH": modules})
    out = p.stdout.decode(errors="replace")
    sys.stdout.write(out)
    if p.returncode != 0 and "not ok - " not in out:
        t.check(NAME, False, f"node exited {p.returncode}: {p.stderr.decode(errors='replace')[-500:]}")
    elif p.returncode != 0:
        t.failed += 1
    if "chromium does not launch" not in out:
        t.check("the screenshot is a PNG", os.path.exists(shot) and open(shot, "rb").read(8) == b"\x89PNG\r\n\x1a\n")
        got, why = zip_entries(zip_out)
        t.check("the downloaded zip holds both uploaded files, byte for byte", got == files, why)
t.done()
