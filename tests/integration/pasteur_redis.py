#!/usr/bin/env python3
"""Pasteur on Redis (--store=redis://HOST:PORT): a real redis-server
(Debian's) started here on a free port, two Pasteur processes sharing it.
A paste created through one is read through the other; a burn paste
opened by 20 clients at once through both is read exactly once; a delete
through one is seen by the other, and so is a comment; expiry is Redis's (the key's TTL); a
Redis that goes away is a 503, not a crash."""
import json
import os
import shutil
import socket
import subprocess
import sys
import threading
import time

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "lib"))
from uwtest import T, Server, BUILD, app, free_port, wait_port  # noqa: E402
from uwpasteur import call  # noqa: E402

t = T()
t.require_built(app("pasteur"))
redis = shutil.which("redis-server") or "/usr/bin/redis-server"
if not os.access(redis, os.X_OK):
    t.check("redis-server is installed", False, "Debian package redis-server is declared in DEB_PACKAGES (make)")
    t.done()


def adata(burn=False, expire="1day"):
    return json.dumps({"v": 1, "iv": "AAAAAAAAAAAAAAAA", "expire": expire, "burn": burn, "format": "plain"})


def create(port, ct, **kw):
    return call(port, "POST", "/api/paste", json.dumps({"adata": adata(**kw), "ct": ct}),
                {"Content-Type": "application/json"})


def redis_cmd(port, *args):
    with socket.create_connection(("127.0.0.1", port), timeout=5) as c:
        c.sendall(("*%d\r\n" % len(args) + "".join("$%d\r\n%s\r\n" % (len(a), a) for a in args)).encode())
        return c.recv(65536).decode(errors="replace")


rport = free_port()
rdir = os.path.join(BUILD, f"pasteur-redis-{os.getpid()}")
os.makedirs(rdir, exist_ok=True)
rp = subprocess.Popen([redis, "--port", str(rport), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
                       "--dir", rdir], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
try:
    if not t.check("redis-server starts", wait_port(rport)):
        t.done()
    args = (f"--store=redis://127.0.0.1:{rport}", "--rate=100000", "--burst=100000")
    with Server("pasteur", args=args) as a, Server("pasteur", args=args) as b:
        st, j = create(a.port, "c2hhcmVk")
        t.check("a paste created through one instance (201)", st == 201, f"{st} {j}")
        pid, token = j["id"], j["delete_token"]
        st, j2 = call(b.port, "GET", f"/api/paste/{pid}")
        t.check("is read through the other", st == 200 and j2["ct"] == "c2hhcmVk", f"{st} {j2}")
        st, info = call(b.port, "GET", f"/api/paste/{pid}/info")
        ttl = redis_cmd(rport, "TTL", f"pasteur:{pid}")
        t.check("its expiry is the key's TTL in Redis (1 day)", st == 200 and info["burn"] is False
                and ttl.startswith(":") and 86000 < int(ttl[1:]) <= 86400, f"{st} {info} {ttl!r}")
        st, _ = call(b.port, "DELETE", f"/api/paste/{pid}?token=" + "0" * 32)
        t.check("a wrong delete token is refused (403)", st == 403, st)
        st, _ = call(b.port, "DELETE", f"/api/paste/{pid}", headers={"X-Delete-Token": token})
        t.check("a delete through one instance is seen by the other",
                st == 200 and call(a.port, "GET", f"/api/paste/{pid}")[0] == 404, st)

        st, j = call(a.port, "POST", "/api/paste", json.dumps({"adata": json.dumps({"v": 1, "iv": "AAAA", "expire": "1day",
                     "burn": False, "format": "plain", "comments": True}), "ct": "ZGlzY3Vzcw"}), {"Content-Type": "application/json"})
        cid = j["id"]
        st, _ = call(a.port, "POST", f"/api/paste/{cid}/comments", json.dumps({"adata": json.dumps({"v": 1, "iv": "AAAA"}),
                     "ct": "Y29tbWVudA"}), {"Content-Type": "application/json"})
        st2, j = call(b.port, "GET", f"/api/paste/{cid}/comments")
        t.check("a comment added through one instance is listed by the other", st == 201 and st2 == 200
                and [c["ct"] for c in j["comments"]] == ["Y29tbWVudA"], f"{st} {st2} {j}")

        outcomes = []
        for round_ in range(5):
            st, j = create(a.port, f"YnVybg{round_}", burn=True)
            bid = j["id"]
            results = []
            barrier = threading.Barrier(20)

            def opener(port):
                barrier.wait()
                results.append(call(port, "GET", f"/api/paste/{bid}")[0])

            ths = [threading.Thread(target=opener, args=((a.port, b.port)[i % 2],)) for i in range(20)]
            for th in ths:
                th.start()
            for th in ths:
                th.join()
            outcomes.append((results.count(200), results.count(404)))
        t.check("a burn paste opened by 20 clients at once through both instances is read exactly once (5 rounds)",
                all(o == (1, 19) for o in outcomes), str(outcomes))

        errors = []

        def worker(w):
            for i in range(20):
                st, j = create((a.port, b.port)[w % 2], f"dzB{w}aT{i}")
                if st != 201:
                    errors.append(st)
                    continue
                st, j2 = call((b.port, a.port)[w % 2], "GET", f"/api/paste/{j['id']}")
                if st != 200 or j2["ct"] != f"dzB{w}aT{i}":
                    errors.append(("read", st))

        ths = [threading.Thread(target=worker, args=(w,)) for w in range(8)]
        for th in ths:
            th.start()
        for th in ths:
            th.join()
        t.check("8 clients creating through one instance and reading through the other", not errors, str(errors[:5]))

        st, j = create(a.port, "ZXhwaXJl", expire="5min")
        ttl = redis_cmd(rport, "TTL", f"pasteur:{j['id']}")
        t.check("a 5-minute paste has a 300 s TTL", ttl.startswith(":") and 290 < int(ttl[1:]) <= 300, repr(ttl))

        rp.terminate()
        rp.wait(10)
        st, j = call(a.port, "GET", f"/api/paste/{pid}")
        t.check("with Redis gone: 503 with a reason, and the server lives", st == 503 and "store" in j["error"] and a.alive(),
                f"{st} {j}")
finally:
    if rp.poll() is None:
        rp.terminate()
        rp.wait(10)
    shutil.rmtree(rdir, ignore_errors=True)
t.done()
