#!/usr/bin/env python3
"""Pasteur's page in Firefox: Debian's firefox-esr, headless, driven by
puppeteer-core over WebDriver BiDi (tests/lib/uwbrowser.py firefox_env;
browser_pasteur_firefox.js).  A paste created in one browser context and
its link opened in a fresh one show the same plaintext; so does one with
a password (a wrong one refused); no CSP violation; the store holds no
plaintext and no key.  Screenshots: build/browser/pasteur-firefox-*.png."""
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "lib"))
from uwtest import T, Server, BUILD, ROOT, app  # noqa: E402
from uwbrowser import firefox_env, run_with_secrets  # noqa: E402

t = T()
name = "browser pasteur firefox"
t.require_built(app("pasteur"))
node, env = firefox_env(t, name)
shots = os.path.join(BUILD, "browser")
os.makedirs(shots, exist_ok=True)
store = os.path.join(BUILD, f"browser-pasteur-firefox-{os.getpid()}.img")
secrets = []
try:
    with Server("pasteur", args=[f"--block:store={store}", "--store-size=16M", "--rate=10000", "--burst=1000"]) as s:
        home = os.path.join(BUILD, "firefox-home")
        os.makedirs(home, exist_ok=True)
        secrets = run_with_secrets(t, name, node, {**env, "HOME": home},
                                   [os.path.join(ROOT, "tests", "integration", "browser_pasteur_firefox.js"), s.url, shots])
    data = open(store, "rb").read()
    t.check(f"{name}: the page reported its plaintexts and keys", len(secrets) == 4, f"{len(secrets)} secrets")
    leaked = [x for x in secrets if x.encode() in data]
    t.check(f"{name}: the store's bytes hold no plaintext and no key", not leaked, f"found {leaked[:3]}")
    shot = os.path.join(shots, "pasteur-firefox-view.png")
    t.check(f"{name}: a screenshot of the decrypted paste was saved",
            os.path.exists(shot) and open(shot, "rb").read(8) == b"\x89PNG\r\n\x1a\n")
finally:
    if os.path.exists(store):
        os.unlink(store)
t.done()
