#!/usr/bin/env python3
"""Server-sent events read by curl from tests/apps/wsecho: the stream's
head (text/event-stream, no-store), named events with ids and multi-line
data, retry, Last-Event-ID honoured, keep-alive comments while idle.
(The browser's EventSource: tests/integration/browser_chat.py.)
"""
import os
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "lib"))
from uwtest import T, Server, BUILD, curl  # noqa: E402

t = T()
NAME = "sse"
WSECHO = os.path.join(BUILD, "tests", "apps", "wsecho")
t.require_built(WSECHO)

with Server(None, binary=WSECHO) as s:
    rc, out, err = curl("-N", "-i", f"{s.url}/sse", timeout=20)
    text = out.decode()
    head, _, body = text.partition("\r\n\r\n")
    t.check(f"{NAME}: curl reads the stream (exit 0)", rc == 0, err)
    t.check(f"{NAME}: Content-Type text/event-stream, Cache-Control no-store",
            "content-type: text/event-stream" in head.lower() and "cache-control: no-store" in head.lower(), head)
    t.check(f"{NAME}: chunked, not buffered", "transfer-encoding: chunked" in head.lower(), head)
    first = "event: tick\ndata: tick 1\ndata: line two\nid: 1\n\n"
    t.check(f"{NAME}: retry, then named events with multi-line data and ids",
            body.startswith("retry: 100\n\n" + first) and body.count("event: tick\n") == 5 and "id: 5\n" in body, body[:200])
    rc, out, _ = curl("-N", "-H", "Last-Event-ID: 41", f"{s.url}/sse", timeout=20)
    t.check(f"{NAME}: Last-Event-ID 41 resumes at 42", b"id: 42\n" in out and b"id: 41\n" not in out, out[:120])
    t0 = time.time()
    rc, out, _ = curl("-N", f"{s.url}/sse-idle", timeout=20)
    n = out.count(b": keep-alive\n\n")
    t.check(f"{NAME}: an idle stream sends keep-alive comments ({n} in {time.time() - t0:.1f}s), then its event",
            n >= 5 and out.endswith(b"data: done\n\n"), out[:120])
t.done()
