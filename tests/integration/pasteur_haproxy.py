#!/usr/bin/env python3
"""Many Pasteur instances behind a load balancer: Debian's HAProxy (round
robin, option forwardfor) in front of two Pasteur processes sharing one
redis-server, all started here on free loopback ports.  A paste created
through the balancer is read through both instances; a burn paste opened
by 20 clients at once through the balancer is read exactly once; the rate
limit sees the address HAProxy adds (--trust-proxy), so a client forging
X-Forwarded-For entries of its own gets no more than its share."""
import http.client
import json
import os
import shutil
import subprocess
import sys
import tempfile
import threading

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "lib"))
from uwtest import T, Server, app, free_port, wait_port  # noqa: E402

t = T()
t.require_built(app("pasteur"))
for prog, pkg in (("redis-server", "redis-server"), ("haproxy", "haproxy")):
    if not (shutil.which(prog) or os.access(f"/usr/sbin/{prog}", os.X_OK)):
        t.check(f"{prog} is installed", False, f"Debian package {pkg} is declared in DEB_PACKAGES (make)")
        t.done()
haproxy = shutil.which("haproxy") or "/usr/sbin/haproxy"


def call(port, method, path, body=None, headers=None):
    c = http.client.HTTPConnection("127.0.0.1", port, timeout=20)
    try:
        c.request(method, path, body=body, headers=headers or {})
        r = c.getresponse()
        data = r.read()
        return r.status, (json.loads(data) if data else None)
    finally:
        c.close()


def create(port, ct, burn=False, headers=None):
    adata = json.dumps({"v": 1, "iv": "AAAAAAAAAAAAAAAA", "expire": "1day", "burn": burn, "format": "plain"})
    return call(port, "POST", "/api/paste", json.dumps({"adata": adata, "ct": ct}),
                {"Content-Type": "application/json", **(headers or {})})


work = tempfile.mkdtemp(prefix="uweb-pasteur-haproxy-")
procs = []
try:
    rport = free_port()
    procs.append(subprocess.Popen(["redis-server", "--port", str(rport), "--bind", "127.0.0.1", "--save", "",
                                   "--appendonly", "no", "--dir", work],
                                  stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL))
    if not t.check("redis-server starts", wait_port(rport)):
        t.done()
    args = (f"--store=redis://127.0.0.1:{rport}", "--trust-proxy", "--rate=2", "--burst=2")
    with Server("pasteur", args=args) as a, Server("pasteur", args=args) as b:
        lb = free_port()
        cfg = os.path.join(work, "haproxy.cfg")
        with open(cfg, "w") as f:
            f.write(f"""global
    maxconn 256
defaults
    mode http
    timeout connect 5s
    timeout client 30s
    timeout server 30s
frontend pasteur
    bind 127.0.0.1:{lb}
    option forwardfor
    default_backend instances
backend instances
    balance roundrobin
    http-reuse never
    server a 127.0.0.1:{a.port}
    server b 127.0.0.1:{b.port}
""")
        hp = subprocess.Popen([haproxy, "-f", cfg, "-db"], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        procs.append(hp)
        if not t.check("haproxy starts", wait_port(lb), ""):
            t.done()
        st, j = create(lb, "dGhyb3VnaCB0aGUgYmFsYW5jZXI")
        t.check("a paste created through HAProxy (201)", st == 201, f"{st} {j}")
        pid = j["id"]
        reads = [call(port, "GET", f"/api/paste/{pid}") for port in (a.port, b.port, lb, lb)]
        t.check("is read through both instances and through HAProxy (which alternates)",
                all(r[0] == 200 and r[1]["ct"] == "dGhyb3VnaCB0aGUgYmFsYW5jZXI" for r in reads), str([r[0] for r in reads]))

        st, j = create(lb, "YnVybg", burn=True)
        bid = j["id"]
        results, barrier = [], threading.Barrier(20)

        def opener():
            barrier.wait()
            results.append(call(lb, "GET", f"/api/paste/{bid}")[0])

        ths = [threading.Thread(target=opener) for _ in range(20)]
        for th in ths:
            th.start()
        for th in ths:
            th.join()
        t.check("a burn paste opened by 20 clients at once through HAProxy is read exactly once",
                results.count(200) == 1 and results.count(404) == 19, str(sorted(results)))

        # Two pastes were created already (one per instance, round robin);
        # each instance lets 127.0.0.1 have a burst of 2: two more get 201.
        codes = [create(lb, f"Zm9yZ2Vk{i}", headers={"X-Forwarded-For": f"203.0.113.{i}"})[0] for i in range(6)]
        t.check("the rate limit sees HAProxy's address: forged X-Forwarded-For entries get 429 past the burst",
                codes.count(201) == 2 and codes.count(429) == 4, str(codes))
finally:
    for p in procs:
        if p.poll() is None:
            p.terminate()
            p.wait(10)
    shutil.rmtree(work, ignore_errors=True)
t.done()
