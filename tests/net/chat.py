#!/usr/bin/python3
"""apps/chat as an spt unikernel in a network namespace of its own
(tests/lib/uwnetns.py): the page, two WebSocket members through the
guest's lwIP seeing each other's messages (python3-websockets, Debian's:
hence /usr/bin/python3), and the room's server-sent events read by curl.
No root or no tap device is a skip; the tender or the image not built is
a failure.
"""
import asyncio
import json
import os
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
from uwtest import T, BUILD, curl  # noqa: E402
from uwnetns import run_inside  # noqa: E402

t = T()
NAME = "unikernel chat"
SPT, IMG = os.path.join(BUILD, "uweb-spt"), os.path.join(BUILD, "spt", "apps", "chat.spt")
try:
    import websockets
except ImportError:
    t.check(f"{NAME}: python3-websockets is installed", False, "Debian package python3-websockets (src/ws/build.mk)")
    t.done()
if "--inside" not in sys.argv:
    t.require_built(SPT, IMG)
    run_inside(t, NAME, "uwchat", [("uwchat0", "10.86.0.1/24")])

HOST = "10.86.0.2"
out = tempfile.TemporaryFile()
guest = subprocess.Popen([SPT, "--mem=64", "--net:service=uwchat0", "--", IMG, f"--ipv4={HOST}/24", "--port=8080"],
                         stdout=out, stderr=subprocess.STDOUT)


def guest_output():
    return os.pread(out.fileno(), os.fstat(out.fileno()).st_size, 0).decode(errors="replace")


try:
    up = False
    end = time.monotonic() + 20
    while time.monotonic() < end and guest.poll() is None:
        rc, body, _ = curl("-m", "2", f"http://{HOST}:8080/")
        if rc == 0:
            up = True
            break
        time.sleep(0.2)
    if not t.check(f"{NAME}: the page from chat.spt", up and b"<title>uweb chat</title>" in body, guest_output()[-300:]):
        t.done()
    events = subprocess.Popen(["curl", "-sN", "-m", "20", f"http://{HOST}:8080/events"], stdout=subprocess.PIPE)

    async def talk():
        a = await websockets.connect(f"ws://{HOST}:8080/ws?name=alice")
        b = await websockets.connect(f"ws://{HOST}:8080/ws?name=bob")
        seen = []
        while not any(m.get("system") == "bob joined" for m in seen):
            seen.append(json.loads(await asyncio.wait_for(a.recv(), 5)))
        await a.send("hello from the host")
        got = None
        while got is None:
            m = json.loads(await asyncio.wait_for(b.recv(), 5))
            if m.get("from") == "alice":
                got = m
        await b.send("x" * 1500)
        back = None
        while back is None:
            m = json.loads(await asyncio.wait_for(a.recv(), 5))
            if m.get("from") == "bob":
                back = m
        await a.close()
        await b.close()
        return got, back
    got, back = asyncio.run(asyncio.wait_for(talk(), 40))
    t.check(f"{NAME}: bob gets alice's message through the guest", got["text"] == "hello from the host", str(got))
    t.check(f"{NAME}: alice gets bob's 1500-byte message (compressed both ways)", back["text"] == "x" * 1500, str(back)[:80])
    time.sleep(0.5)
    events.terminate()
    text = events.stdout.read().decode(errors="replace")
    t.check(f"{NAME}: curl reads the room's server-sent events from the guest",
            "event: chat" in text and "hello from the host" in text, text[:200])
finally:
    guest.terminate()
    try:
        guest.wait(10)
    except subprocess.TimeoutExpired:
        guest.kill()
t.done()
