#!/usr/bin/env python3
"""Pasteur's page in headless Chromium (tests/lib/uwbrowser.py), driven by
browser_pasteur.js in three parts, each its own test program:

  browser_pasteur.py        create a paste in one browser context, open its
                            link in a fresh one and see the text decrypted;
                            a wrong or missing key, a password (wrong, then
                            right), Markdown with a script rendered inert,
                            code highlighted, burn after reading
  browser_pasteur_more.py   a flipped byte of ciphertext and changed sealed
                            metadata refused as tampered, an attachment
                            round trip, a comment added in one context and
                            read in another, the delete link
  browser_pasteur_https.py  over the TLS listener (the test CA of
                            scripts/mkcert.sh trusted by its SPKI hash): a
                            secure context, HTTP/2 by ALPN, plain and password

Each part also checks that no CSP violation happened and that the store's
bytes and every request the pages sent hold neither a plaintext nor a
key.  Screenshots: build/browser/pasteur-*.png."""
import os
import shutil
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "lib"))
from uwtest import T, Server, BUILD, ROOT, app, free_port, wait_port  # noqa: E402
from uwbrowser import node_env, run_with_secrets  # noqa: E402


def run(part):
    t = T()
    name = f"browser pasteur {part}"
    t.require_built(app("pasteur"))
    node, env = node_env(t, name)
    shots = os.path.join(BUILD, "browser")
    os.makedirs(shots, exist_ok=True)
    store = os.path.join(BUILD, f"browser-pasteur-{part}-{os.getpid()}.img")
    attachment = os.path.join(shots, "pasteur-attachment.bin")
    with open(attachment, "wb") as f:
        f.write(b"attached bytes \x00\x01\x02 " * 1000)
    if os.path.exists(store):
        os.unlink(store)
    args = [f"--block:store={store}", "--store-size=16M", "--rate=10000", "--burst=1000"]
    tls_port, ca = None, None
    if part == "https":
        ca = tempfile.mkdtemp(prefix="uweb-browser-pasteur-")
        subprocess.run([os.path.join(ROOT, "scripts", "mkcert.sh"), ca], check=True, capture_output=True)
        tls_port = free_port()
        args += [f"--tls-port={tls_port}", f"--tls-cert={ca}/localhost.pem", f"--tls-key={ca}/localhost.key"]
        spki = open(os.path.join(ca, "localhost.spki")).read().strip()
        env = {**env, "UWEB_CHROMIUM_ARGS": f"--ignore-certificate-errors-spki-list={spki}"}
    secrets = []
    try:
        with Server("pasteur", args=args) as s:
            url = s.url
            if tls_port:
                if not t.check(f"{name}: pasteur listens for HTTPS", wait_port(tls_port), s.output()[-300:]):
                    t.done()
                url = f"https://127.0.0.1:{tls_port}"
            secrets = run_with_secrets(t, name, node, env, [os.path.join(ROOT, "tests", "integration", "browser_pasteur.js"),
                                                            url, shots, attachment, part], timeout=240)
        data = open(store, "rb").read()
        t.check(f"{name}: the page reported its plaintexts and keys", len(secrets) >= 4, f"{len(secrets)} secrets")
        leaked = [x for x in secrets if x.encode() in data]
        t.check(f"{name}: the store's bytes hold no plaintext and no key", not leaked, f"found {leaked[:3]}")
        t.check(f"{name}: a screenshot of a decrypted paste was saved",
                open(os.path.join(shots, "pasteur-view.png"), "rb").read(8) == b"\x89PNG\r\n\x1a\n")
    finally:
        if os.path.exists(store):
            os.unlink(store)
        if ca:
            shutil.rmtree(ca, ignore_errors=True)
    t.done()


if __name__ == "__main__":
    run("core")
