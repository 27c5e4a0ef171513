#!/usr/bin/env python3
"""Pasteur under concurrent clients: many creators and readers at once
(every answer right, every paste read back whole), and a burn-after-reading
paste opened by 20 clients at once, several times over: exactly one of
them gets it, every other gets 404."""
import http.client
import json
import os
import sys
import threading

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "lib"))
from uwtest import T, Server, BUILD, app  # noqa: E402

t = T()
t.require_built(app("pasteur"))
STORE = os.path.join(BUILD, f"pasteur-concurrency-{os.getpid()}.img")


def adata(burn=False):
    return json.dumps({"v": 1, "iv": "AAAAAAAAAAAAAAAA", "expire": "1day", "burn": burn, "format": "plain"})


def call(port, method, path, body=None):
    c = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    try:
        c.request(method, path, body=body, headers={"Content-Type": "application/json"} if body else {})
        r = c.getresponse()
        return r.status, r.read()
    finally:
        c.close()


def create(port, ct, burn=False):
    st, b = call(port, "POST", "/api/paste", json.dumps({"adata": adata(burn), "ct": ct}))
    return st, (json.loads(b)["id"] if st == 201 else b)


try:
    with Server("pasteur", args=(f"--block:store={STORE}", "--store-size=32M", "--rate=1000000", "--burst=1000000")) as s:
        errors, made = [], {}
        lock = threading.Lock()

        def worker(w):
            for i in range(25):
                ct = f"w{w}i{i}" + "x" * (97 * (w + i) % 5000)
                st, pid = create(s.port, ct)
                if st != 201:
                    with lock:
                        errors.append(f"create {st} {pid}")
                    continue
                st, b = call(s.port, "GET", f"/api/paste/{pid}")
                if st != 200 or json.loads(b)["ct"] != ct:
                    with lock:
                        errors.append(f"read {st}")
                with lock:
                    made[pid] = ct

        threads = [threading.Thread(target=worker, args=(w,)) for w in range(16)]
        for th in threads:
            th.start()
        for th in threads:
            th.join()
        t.check("16 clients creating and reading 25 pastes each at once: every answer right", not errors and len(made) == 400,
                f"{len(made)} made, {errors[:3]}")
        bad = [pid for pid, ct in made.items() if json.loads(call(s.port, "GET", f"/api/paste/{pid}")[1] or b"{}").get("ct") != ct]
        t.check("and every paste reads back whole afterwards", not bad, f"{len(bad)} differ")

        outcomes = []
        for round_ in range(5):
            st, pid = create(s.port, f"burn{round_}", burn=True)
            results = []
            barrier = threading.Barrier(20)

            def opener():
                barrier.wait()
                results.append(call(s.port, "GET", f"/api/paste/{pid}")[0])

            ths = [threading.Thread(target=opener) for _ in range(20)]
            for th in ths:
                th.start()
            for th in ths:
                th.join()
            outcomes.append((results.count(200), results.count(404), len(results)))
        t.check("a burn paste opened by 20 clients at once: exactly one gets it, 19 get 404 (5 rounds)",
                all(o == (1, 19, 20) for o in outcomes), str(outcomes))
finally:
    if os.path.exists(STORE):
        os.unlink(STORE)
t.done()
