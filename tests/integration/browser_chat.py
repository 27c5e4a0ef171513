#!/usr/bin/env python3
"""apps/chat in a real browser (tests/lib/uwbrowser.py: Chromium through
playwright-core): two pages join under two names and each sees the
other's messages over WebSockets; a third page reads the room with
EventSource (server-sent events from /events), and a fourth reads
wsecho's /sse (named events, ids, Last-Event-ID on reconnect).  Then the
same over https (wss:// for the WebSockets; the test CA of
scripts/mkcert.sh trusted by its SPKI hash).  Saves build/browser/chat.png.
"""
import os
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "lib"))
from uwtest import T, Server, BUILD, ROOT, app, free_port, wait_port  # noqa: E402
from uwbrowser import node_env, run_script  # noqa: E402

t = T()
NAME = "browser chat"
WSECHO = os.path.join(BUILD, "tests", "apps", "wsecho")
t.require_built(app("chat"), WSECHO)
node, env = node_env(t, NAME)
shots = os.path.join(BUILD, "browser")
os.makedirs(shots, exist_ok=True)
shot = os.path.join(shots, "chat.png")
if os.path.exists(shot):
    os.unlink(shot)

with Server("chat") as s, Server(None, binary=WSECHO) as e:
    out = run_script(t, NAME, node, env, [os.path.join(ROOT, "tests", "integration", "browser_chat.js"),
                                          s.url, e.url, shot])
    if "chromium does not launch" not in out:
        t.check(f"{NAME}: the screenshot is a PNG",
                os.path.exists(shot) and open(shot, "rb").read(8) == b"\x89PNG\r\n\x1a\n")

ca = tempfile.mkdtemp(prefix="uweb-chat-tls-")
subprocess.run([os.path.join(ROOT, "scripts", "mkcert.sh"), ca], check=True, capture_output=True)
spki = open(os.path.join(ca, "localhost.spki")).read().strip()
tls_port = free_port()
with Server("chat", [f"--tls-port={tls_port}", "--addr=127.0.0.1", f"--tls-cert={ca}/localhost.pem",
                     f"--tls-key={ca}/localhost.key"]) as s, Server(None, binary=WSECHO) as e:
    wait_port(tls_port)
    run_script(t, NAME, node, {**env, "UWEB_CHROMIUM_ARGS": f"--ignore-certificate-errors-spki-list={spki}"},
               [os.path.join(ROOT, "tests", "integration", "browser_chat.js"), f"https://127.0.0.1:{tls_port}", e.url, "-"])
t.done()
