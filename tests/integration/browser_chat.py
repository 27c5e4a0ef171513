#!/usr/bin/env python3
"""apps/chat in a real browser (tests/lib/uwbrowser.py: Chromium through
playwright-core): two pages join under two names and each sees the
other's messages over WebSockets; a third page reads the room with
EventSource (server-sent events from /events), and a fourth reads
wsecho's /sse (named events, ids, Last-Event-ID on reconnect).  Saves
build/browser/chat.png.
"""
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "lib"))
from uwtest import T, Server, BUILD, ROOT, app  # noqa: E402
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
t.done()
