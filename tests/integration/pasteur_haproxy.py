#!/usr/bin/env python3
"""Many Pasteur instances behind a load balancer: Debian's HAProxy in
front of Pasteur processes sharing one redis-server, all started here on
loopback ports.  Through HAProxy (round robin, option forwardfor) a paste
created is read through both instances, and a burn paste opened by 20
clients at once is read exactly once.  The rate limit sees the real
client (clients are told apart by their loopback source address,
127.0.0.2, 127.0.0.3, ...): behind `option forwardfor` (the instances
trust 127.0.0.1, HAProxy's address, with --trust-proxy=127.0.0.1), and
behind `send-proxy-v2` and `send-proxy` (PROXY protocol v2 and v1, an
instance with --proxy-protocol): two clients get two buckets, a client
forging X-Forwarded-For gets no more than its share, and so does an
untrusted peer sending X-Forwarded-For to an instance directly.  On the
PROXY listener a connection without a PROXY header, or with one from an
untrusted peer, is closed; the access log names the real client."""
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "lib"))
from uwtest import T, Server, app, free_port, wait_port  # noqa: E402
from uwpasteur import call, create, start_redis  # noqa: E402

t = T()
t.require_built(app("pasteur"))
haproxy = shutil.which("haproxy") or "/usr/sbin/haproxy"
if not os.access(haproxy, os.X_OK):
    t.check("haproxy is installed", False, "Debian package haproxy is declared in DEB_PACKAGES (make)")
    t.done()


def closed_without_answer(port, data, source):
    """True when the server closes the connection without a byte of answer."""
    with socket.socket() as c:
        c.bind((source, 0))
        c.settimeout(10)
        try:
            c.connect(("127.0.0.1", port))
            c.sendall(data)
            return c.recv(100) == b""
        except (ConnectionResetError, BrokenPipeError):     # closed with a reset, maybe before we wrote
            return True


work = tempfile.mkdtemp(prefix="uweb-pasteur-haproxy-")
procs = []
try:
    rp, rport = start_redis(t, work)
    procs.append(rp)
    args = (f"--store=redis://127.0.0.1:{rport}", "--trust-proxy=127.0.0.1", "--rate=1", "--burst=2")
    with Server("pasteur", args=args) as a, Server("pasteur", args=args) as b, \
            Server("pasteur", args=args + ("--proxy-protocol", "--access-log=-")) as c:
        lb, one, pp2, pp1 = free_port(), free_port(), free_port(), free_port()
        cfg = os.path.join(work, "haproxy.cfg")
        with open(cfg, "w") as f:
            f.write(f"""global
    maxconn 256
defaults
    mode http
    timeout connect 5s
    timeout client 30s
    timeout server 30s
frontend balanced
    bind 127.0.0.1:{lb}
    option forwardfor
    default_backend instances
frontend one
    bind 127.0.0.1:{one}
    option forwardfor
    default_backend first
frontend proxy2
    mode tcp
    bind 127.0.0.1:{pp2}
    default_backend proxied2
frontend proxy1
    mode tcp
    bind 127.0.0.1:{pp1}
    default_backend proxied1
backend instances
    balance roundrobin
    http-reuse never
    server a 127.0.0.1:{a.port}
    server b 127.0.0.1:{b.port}
backend first
    http-reuse never
    server a 127.0.0.1:{a.port}
backend proxied2
    mode tcp
    server c 127.0.0.1:{c.port} send-proxy-v2
backend proxied1
    mode tcp
    server c 127.0.0.1:{c.port} send-proxy
""")
        hp = subprocess.Popen([haproxy, "-f", cfg, "-db"], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        procs.append(hp)
        if not t.check("haproxy starts", all(wait_port(p) for p in (lb, one, pp2, pp1)), ""):
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

        # option forwardfor, one instance (the buckets are per instance); burst 2.
        codes = [create(one, source="127.0.0.2")[0] for _ in range(3)]
        t.check("forwardfor: past the burst a client behind HAProxy gets 429", codes == [201, 201, 429], codes)
        st = create(one, source="127.0.0.3")[0]
        t.check("forwardfor: another client behind HAProxy has its own bucket", st == 201, st)
        st = create(one, source="127.0.0.2", headers={"X-Forwarded-For": "203.0.113.9"})[0]
        t.check("forwardfor: a client forging X-Forwarded-For is still limited (HAProxy's entry is the last)", st == 429, st)
        codes = [create(a.port, source="127.0.0.4", headers={"X-Forwarded-For": f"203.0.113.{i}"})[0] for i in range(3)]
        t.check("an untrusted peer sending X-Forwarded-For to an instance directly gets 429 past its burst",
                codes == [201, 201, 429], codes)

        # PROXY protocol v2 and v1 to the instance with --proxy-protocol.
        codes = [create(pp2, source="127.0.0.2")[0] for _ in range(3)]
        t.check("send-proxy-v2: past the burst a client gets 429", codes == [201, 201, 429], codes)
        st = create(pp2, source="127.0.0.3")[0]
        t.check("send-proxy-v2: another client has its own bucket", st == 201, st)
        st = create(pp2, source="127.0.0.3", headers={"X-Forwarded-For": "203.0.113.7"})[0]
        st2 = create(pp2, source="127.0.0.3", headers={"X-Forwarded-For": "203.0.113.8"})[0]
        t.check("send-proxy-v2: X-Forwarded-For from the (untrusted) client is ignored", (st, st2) == (201, 429), (st, st2))
        codes = [create(pp1, source="127.0.0.5")[0] for _ in range(3)]
        t.check("send-proxy (v1): past the burst a client gets 429, in a bucket of its own", codes == [201, 201, 429], codes)
        st, j = call(pp2, "GET", f"/api/paste/{pid}", source="127.0.0.6")
        t.check("send-proxy-v2: a paste is read through the PROXY listener", st == 200, st)
        logged = lambda *who: all(f"{w} - " in c.output() for w in who)
        for _ in range(50):                  # the line is written after the answer
            if logged("127.0.0.2", "127.0.0.5", "127.0.0.6"):
                break
            time.sleep(0.1)
        t.check("the access log names the clients behind the PROXY protocol",
                logged("127.0.0.2", "127.0.0.5", "127.0.0.6"), c.output()[-400:])
        t.check("a connection to the PROXY listener without a PROXY header is closed",
                closed_without_answer(c.port, b"GET / HTTP/1.1\r\nHost: x\r\n\r\n", "127.0.0.1"))
        t.check("a PROXY header from a peer not in --trust-proxy is closed",
                closed_without_answer(c.port, b"PROXY TCP4 198.51.100.1 127.0.0.1 1234 80\r\nGET / HTTP/1.1\r\nHost: x\r\n\r\n",
                                      "127.0.0.7"))
        with socket.socket() as s:
            s.settimeout(10)
            s.connect(("127.0.0.1", c.port))
            s.sendall(b"PROXY TCP4 198.51.100.1 127.0.0.1 1234 80\r\nGET /api/paste/" + pid.encode() +
                      b" HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
            got = b""
            while True:
                k = s.recv(65536)
                if not k:
                    break
                got += k
        for _ in range(50):
            if logged("198.51.100.1"):
                break
            time.sleep(0.1)
        t.check("a trusted peer's PROXY v1 header: answered, and logged as the client it names",
                got.startswith(b"HTTP/1.1 200") and logged("198.51.100.1"), got[:100])
        t.check("the server logs why it closed them", "not in --trust-proxy" in c.output(), c.output()[-400:])
finally:
    for p in procs:
        if p.poll() is None:
            p.terminate()
            p.wait(10)
    shutil.rmtree(work, ignore_errors=True)
t.done()
