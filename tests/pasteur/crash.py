#!/usr/bin/env python3
"""Pasteur killed with SIGKILL while clients create and delete pastes, 30
times at random points, on one store: after each restart every paste
whose creation was acknowledged (201) is there and whole (unless a
delete of it was in flight at the kill), every acknowledged delete stayed
deleted, and nothing is answered damaged
(500).  PASTEUR_CRASH_RUNS=N changes the number of runs."""
import http.client
import json
import os
import random
import signal
import sys
import threading
import time

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "lib"))
from uwtest import T, Server, BUILD, app  # noqa: E402

t = T()
t.require_built(app("pasteur"))
STORE = os.path.join(BUILD, f"pasteur-crash-{os.getpid()}.img")
RUNS = int(os.environ.get("PASTEUR_CRASH_RUNS", "30"))
ADATA = json.dumps({"v": 1, "iv": "AAAAAAAAAAAAAAAA", "expire": "never", "burn": False, "format": "plain"})


def call(port, method, path, body=None, headers=None):
    c = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    try:
        c.request(method, path, body=body, headers=headers or {})
        r = c.getresponse()
        return r.status, r.read()
    finally:
        c.close()


acked, deleted, doubtful, damaged, lost = {}, set(), set(), [], []
lock = threading.Lock()
rng = random.Random(12345)
args = (f"--block:store={STORE}", "--store-size=64M", "--rate=1000000", "--burst=1000000", "--quiet")


def check(port, ids):
    for pid in ids:
        st, body = call(port, "GET", f"/api/paste/{pid}")
        if pid in doubtful and st in (200, 404):
            continue
        if pid in deleted:
            if st != 404:
                lost.append(f"deleted {pid} answered {st}")
        elif st == 500:
            damaged.append(pid)
        elif st != 200 or json.loads(body)["ct"] != acked[pid][0]:
            lost.append(f"{pid} answered {st}")


def client(port, stop, seed):
    r = random.Random(seed)
    while not stop.is_set():
        try:
            if acked and r.random() < 0.2:
                with lock:
                    pid = r.choice(list(acked))
                if pid in deleted or pid in doubtful:
                    continue
                with lock:
                    doubtful.add(pid)           # gone or not, until the answer
                st, _ = call(port, "DELETE", f"/api/paste/{pid}", headers={"X-Delete-Token": acked[pid][1]})
                with lock:
                    if st == 200:
                        deleted.add(pid)
                    if st in (200, 403):
                        doubtful.discard(pid)
                continue
            ct = "".join(r.choice("ABCDEFGHIJKLMNOPQRSTUVWXYZ") for _ in range(r.randrange(1, 3000)))
            st, body = call(port, "POST", "/api/paste", json.dumps({"adata": ADATA, "ct": ct}),
                            {"Content-Type": "application/json"})
            if st == 201:
                j = json.loads(body)
                with lock:
                    acked[j["id"]] = (ct, j["delete_token"])
        except (OSError, http.client.HTTPException):
            return                              # the server was killed (mid-answer, perhaps)


try:
    new = []
    for run in range(RUNS):
        with Server("pasteur", args=args) as s:
            check(s.port, new)
            with lock:
                before = set(acked)
            stop = threading.Event()
            ths = [threading.Thread(target=client, args=(s.port, stop, run * 10 + i)) for i in range(3)]
            for th in ths:
                th.start()
            time.sleep(rng.uniform(0.05, 0.4))
            s.stop(signal.SIGKILL)
            stop.set()
            for th in ths:
                th.join()
            with lock:
                new = [p for p in acked if p not in before] + rng.sample(sorted(before), min(20, len(before)))
    with Server("pasteur", args=args) as s:
        check(s.port, list(acked))
    t.check(f"{RUNS} kills during writes: {len(acked)} acknowledged pastes all there and whole after the restarts",
            len(acked) > RUNS and not lost, f"{len(acked)} acknowledged; {lost[:3]}")
    t.check(f"{len(deleted)} acknowledged deletes stayed deleted; nothing answered as damaged",
            not damaged and len(deleted) > 0, f"damaged {damaged[:3]}")
finally:
    if os.path.exists(STORE):
        os.unlink(STORE)
t.done()
