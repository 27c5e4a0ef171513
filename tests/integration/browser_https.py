#!/usr/bin/env python3
"""Crunch & Zip over HTTPS in a real browser: Debian's chromium through
playwright-core (browser_crunchzip.js, the same walk as
browser_crunchzip.py) against crunchzip's TLS listener, with the test CA of
scripts/mkcert.sh trusted through a launch option: the certificate's SPKI
hash in --ignore-certificate-errors-spki-list (Chromium accepts exactly
that key, nothing else).  The page must be a secure context; two files
are uploaded and the zip Chromium downloads is checked; ALPN must have
chosen HTTP/2 (the page's performance.getEntries()[0].nextHopProtocol is
"h2", so the upload goes over h2 too); the screenshot is
build/browser/crunchzip_https.png.  playwright-core comes from
build/node_modules (browser_crunchzip.py installs it; so does this test).
"""
import os
import shutil
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "lib"))
from uwtest import T, Server, BUILD, ROOT, app, zip_entries, free_port, wait_port  # noqa: E402

t = T()
NAME = "browser https"
PLAYWRIGHT = "1.61"          # as browser_crunchzip.py: the last for Debian 12's Node.js 18
t.require_built(app("crunchzip"))
node = "/usr/bin/node" if os.access("/usr/bin/node", os.X_OK) else shutil.which("node")
npm = "/usr/bin/npm" if os.access("/usr/bin/npm", os.X_OK) else shutil.which("npm")
if not (node and npm and os.access("/usr/bin/chromium", os.X_OK)):
    t.check(f"{NAME}: node, npm and chromium are installed", False, "Debian packages nodejs npm chromium (make)")
    t.done()
if "--tls-cert" not in subprocess.run([app("crunchzip"), "--help"], capture_output=True, timeout=10).stdout.decode():
    t.skip(NAME, f"{os.path.relpath(app('crunchzip'), ROOT)} has no --tls-cert (no TLS listener in uw_main yet)")
    t.done()
modules = os.path.join(BUILD, "node_modules")
if not os.path.isfile(os.path.join(modules, "playwright-core", "package.json")):
    p = subprocess.run([npm, "install", "--prefix", BUILD, "--no-audit", "--no-fund", f"playwright-core@{PLAYWRIGHT}"],
                       capture_output=True, timeout=300,
                       env={**os.environ, "PATH": os.path.dirname(node) + os.pathsep + os.environ.get("PATH", "")})
    if not t.check(f"{NAME}: npm installs playwright-core@{PLAYWRIGHT}", p.returncode == 0, p.stderr.decode()[-300:]):
        t.done()

ca = tempfile.mkdtemp(prefix="uweb-browser-https-")
subprocess.run([os.path.join(ROOT, "scripts", "mkcert.sh"), ca], check=True)
spki = open(os.path.join(ca, "localhost.spki")).read().strip()
shots = os.path.join(BUILD, "browser")
os.makedirs(shots, exist_ok=True)
shot, zip_out = os.path.join(shots, "crunchzip_https.png"), os.path.join(shots, "archive_https.zip")
for f in (shot, zip_out):
    if os.path.exists(f):
        os.unlink(f)
files = {"notes.txt": b"Crunch & Zip over HTTPS\n" * 100, "bytes.bin": os.urandom(300000)}
for name, data in files.items():
    with open(os.path.join(shots, "https-" + name), "wb") as f:
        f.write(data)

tls_port = free_port()
with Server("crunchzip", [f"--tls-port={tls_port}", "--addr=127.0.0.1",
                          f"--tls-cert={ca}/localhost.pem", f"--tls-key={ca}/localhost.key"]) as s:
    if not t.check(f"{NAME}: crunchzip listens for HTTPS", wait_port(tls_port), s.output()[-300:]):
        t.done()
    url = f"https://127.0.0.1:{tls_port}"
    p = subprocess.run([node, os.path.join(ROOT, "tests", "integration", "browser_crunchzip.js"), url, shot, zip_out,
                        *(os.path.join(shots, "https-" + n) for n in files)],
                       capture_output=True, timeout=240,
                       env={**os.environ, "NODE_PATH": modules,
                            "UWEB_CHROMIUM_ARGS": f"--ignore-certificate-errors-spki-list={spki}",
                            "UWEB_EXPECT_PROTOCOL": "h2"})
    out = p.stdout.decode(errors="replace")
    sys.stdout.write("".join(line.replace(" - ", f" - {NAME}: ", 1) + "\n" for line in out.splitlines()))
    if p.returncode != 0 and "not ok - " not in out:
        t.check(NAME, False, f"node exited {p.returncode}: {p.stderr.decode(errors='replace')[-500:]}")
    elif p.returncode != 0:
        t.failed += 1
    if "chromium does not launch" not in out:
        t.check(f"{NAME}: the screenshot is a PNG", os.path.exists(shot) and open(shot, "rb").read(8) == b"\x89PNG\r\n\x1a\n")
        got, why = zip_entries(zip_out)
        want = {"https-" + n: d for n, d in files.items()}
        t.check(f"{NAME}: the zip downloaded over HTTPS holds both files, byte for byte", got == want, why)
shutil.rmtree(ca, ignore_errors=True)
t.done()
