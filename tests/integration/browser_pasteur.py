#!/usr/bin/env python3
"""Pasteur's page in headless Chromium (tests/lib/uwbrowser.py): create a
paste in one browser context, open its link in a fresh one and see the
text decrypted; a wrong key, a password (wrong, then right), Markdown with
a script rendered inert, code highlighted, burn after reading (a second
open fails), an attachment round trip, no CSP violation.  Then the
store's bytes and every request the pages sent hold neither a plaintext
nor a key.  A comment added in one context is read in another.  Saves
build/browser/pasteur-*.png."""
import json
import os
import subprocess
import sys

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "lib"))
from uwtest import T, Server, BUILD, ROOT, app  # noqa: E402
from uwbrowser import node_env  # noqa: E402

t = T()
NAME = "browser pasteur"
t.require_built(app("pasteur"))
node, env = node_env(t, NAME)
shots = os.path.join(BUILD, "browser")
os.makedirs(shots, exist_ok=True)
store = os.path.join(BUILD, f"browser-pasteur-{os.getpid()}.img")
attachment = os.path.join(shots, "pasteur-attachment.bin")
with open(attachment, "wb") as f:
    f.write(b"attached bytes \x00\x01\x02 " * 1000)
if os.path.exists(store):
    os.unlink(store)
secrets = []
try:
    with Server("pasteur", args=(f"--block:store={store}", "--store-size=16M", "--rate=10000", "--burst=1000")) as s:
        p = subprocess.run([node, os.path.join(ROOT, "tests", "integration", "browser_pasteur.js"), s.url, shots, attachment],
                           capture_output=True, timeout=240, env=env)
        out = p.stdout.decode(errors="replace")
        for line in out.splitlines():
            if line.startswith("# secret "):
                secrets.append(json.loads(line[len("# secret "):]))
            elif not line.startswith("# "):
                print(line, flush=True)
        if p.returncode != 0 and "not ok - " not in out:
            t.check(NAME, False, f"node exited {p.returncode}: {p.stderr.decode(errors='replace')[-500:]}")
        elif p.returncode != 0:
            t.failed += 1
    data = open(store, "rb").read()
    t.check("the page reported its plaintexts and keys", len(secrets) >= 6, f"{len(secrets)} secrets")
    leaked = [x for x in secrets if x.encode() in data]
    t.check("the store's bytes hold no plaintext and no key", not leaked, f"found {leaked[:3]}")
    t.check("a screenshot of a decrypted paste was saved",
            open(os.path.join(shots, "pasteur-view.png"), "rb").read(8) == b"\x89PNG\r\n\x1a\n")
finally:
    if os.path.exists(store):
        os.unlink(store)
t.done()
