"""Helpers of Pasteur's tests: a JSON call, a paste created, a
redis-server (Debian's) started on a free loopback port."""
import http.client
import json
import os
import shutil
import subprocess

from uwtest import free_port, wait_port


def call(port, method, path, body=None, headers=None, source=None):
    """(status, the JSON answer or None); source: the local address to
    connect from (127.0.0.2, ...: other clients on the loopback)."""
    c = http.client.HTTPConnection("127.0.0.1", port, timeout=20, source_address=(source, 0) if source else None)
    try:
        c.request(method, path, body=body, headers=headers or {})
        r = c.getresponse()
        data = r.read()
        try:
            return r.status, (json.loads(data) if data else None)
        except ValueError:
            return r.status, None
    finally:
        c.close()


def create(port, ct="c2VjcmV0", burn=False, headers=None, source=None):
    adata = json.dumps({"v": 1, "iv": "AAAAAAAAAAAAAAAA", "expire": "1day", "burn": burn, "format": "plain"})
    return call(port, "POST", "/api/paste", json.dumps({"adata": adata, "ct": ct}),
                {"Content-Type": "application/json", **(headers or {})}, source)


def start_redis(t, work):
    """(process, port) of a redis-server keeping nothing on disk; ends the
    test with a failure when it is missing or does not start."""
    redis = shutil.which("redis-server") or "/usr/bin/redis-server"
    if not os.access(redis, os.X_OK):
        t.check("redis-server is installed", False, "Debian package redis-server is declared in DEB_PACKAGES (make)")
        t.done()
    port = free_port()
    p = subprocess.Popen([redis, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
                          "--dir", work], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    if not t.check("redis-server starts", wait_port(port)):
        p.terminate()
        t.done()
    return p, port
