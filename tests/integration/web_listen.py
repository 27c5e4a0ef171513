#!/usr/bin/env python3
"""Listeners and workers (uw_main): --listen=unix:PATH with curl
--unix-socket, --listen repeated with IPv4 and IPv6, --workers=2 serving
from both processes and stopping cleanly on SIGTERM."""
import os, signal, socket, subprocess, sys, tempfile, time
sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "lib"))
from uwtest import T, BUILD, curl, free_port, program, wait_port, ASAN_ENV, ASAN

t = T()
exe = os.path.join(BUILD, "tests", "apps", "webfeat")
t.require_built(exe)


def start(*args):
    log = tempfile.TemporaryFile()
    p = subprocess.Popen([program(exe), "--quiet", *args], stdout=log, stderr=subprocess.STDOUT,
                         env={**os.environ, **(ASAN_ENV if ASAN else {})})
    return p, log


def stop(p, log):
    p.send_signal(signal.SIGTERM)
    try:
        rc = p.wait(15)
    except subprocess.TimeoutExpired:
        p.kill()
        rc = p.wait()
    log.seek(0)
    return rc, log.read().decode(errors="replace")


def wait_unix(path, timeout=10):
    end = time.time() + timeout
    while time.time() < end:
        if os.path.exists(path):
            try:
                with socket.socket(socket.AF_UNIX) as s:
                    s.connect(path)
                    return True
            except OSError:
                pass
        time.sleep(0.02)
    return False


def children(pid):
    try:
        return [int(x) for x in open(f"/proc/{pid}/task/{pid}/children").read().split()]
    except OSError:
        return []


def has_ipv6():
    try:
        with socket.socket(socket.AF_INET6) as s:
            s.bind(("::1", 0))
        return True
    except OSError:
        return False


with tempfile.TemporaryDirectory() as d:
    sock = os.path.join(d, "web.sock")
    port = free_port()
    v6 = has_ipv6()
    port6 = free_port()
    args = [f"--listen=unix:{sock}", f"--listen=127.0.0.1:{port}"] + ([f"--listen=[::1]:{port6}"] if v6 else [])
    p, log = start(*args)
    ok = wait_unix(sock) and wait_port(port)
    t.check("listen: unix socket and TCP listeners up", ok)
    rc, out, err = curl("-s", "--unix-socket", sock, "http://localhost/cookie/get")
    t.check("listen: curl --unix-socket", rc == 0 and out.startswith(b"theme="), err)
    rc, out, err = curl("-s", f"http://127.0.0.1:{port}/cookie/get")
    t.check("listen: the second listener (IPv4)", rc == 0 and out.startswith(b"theme="), err)
    if v6:
        rc, out, err = curl("-s", "-g", f"http://[::1]:{port6}/cookie/get")
        t.check("listen: the third listener (IPv6)", rc == 0 and out.startswith(b"theme="), err)
    else:
        t.skip("listen: IPv6 listener", "no IPv6 loopback here")
    rc, text = stop(p, log)
    t.check("listen: stops with 0 on SIGTERM", rc == 0, text[-300:])
    t.check("listen: the unix socket file is removed at exit", not os.path.exists(sock))

    port = free_port()
    sock2 = os.path.join(d, "w.sock")
    p, log = start("--workers=2", f"--listen=127.0.0.1:{port}", f"--listen=unix:{sock2}")
    t.check("workers: two workers listening", wait_port(port) and wait_unix(sock2))
    time.sleep(0.3)
    kids = children(p.pid)
    t.check("workers: two worker processes", len(kids) == 2, kids)
    pids = set()
    for i in range(60):
        rc, out, err = curl("-s", f"http://127.0.0.1:{port}/pid")
        if rc == 0:
            pids.add(out.strip())
    t.check("workers: requests served by both workers", len(pids) == 2 and {int(x) for x in pids} == set(kids), f"pids {pids} kids {kids}")
    def cpus(pid):
        for line in open(f"/proc/{pid}/status"):
            if line.startswith("Cpus_allowed_list:"):
                return line.split(":", 1)[1].strip()
    allowed = os.sched_getaffinity(0)
    masks = [cpus(k) for k in kids]
    if len(allowed) >= 2:
        t.check("workers: each worker pinned to its own CPU (Cpus_allowed_list)",
                len(masks) == 2 and masks[0] != masks[1] and all(m and m.isdigit() and int(m) in allowed for m in masks), masks)
    else:
        t.skip("workers: each worker pinned to its own CPU", f"this process may use {len(allowed)} CPU")
    import http.client
    from http.cookies import SimpleCookie
    c = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    c.request("GET", "/cookie/set?who=zed")
    r = c.getresponse()
    r.read()
    jar = {k: v.value for sc in r.headers.get_all("Set-Cookie") for k, v in SimpleCookie(sc).items()}
    c.close()
    cookie = "; ".join(f"{k}={v}" for k, v in jar.items())
    reads = set()
    for i in range(20):
        rc, out, err = curl("-s", "-H", f"Cookie: {cookie}", f"http://127.0.0.1:{port}/cookie/get")
        reads.add(out.strip())
    t.check("workers: a sealed cookie one worker set is read by every worker (one key)", reads == {b"theme=dark user=zed session=zed"}, reads)
    rc, out, err = curl("-s", "--unix-socket", sock2, "http://localhost/pid")
    t.check("workers: the unix socket is served too", rc == 0 and int(out.strip() or 0) in kids, out)
    rc, text = stop(p, log)
    t.check("workers: SIGTERM stops all with 0", rc == 0 and all(not os.path.exists(f"/proc/{k}") or open(f"/proc/{k}/stat").read().split()[2] == "Z" for k in kids), text[-300:])
    t.check("workers: the unix socket file is removed at exit", not os.path.exists(sock2))

    port = free_port()
    p, log = start("--workers=auto", f"--port={port}")
    wait_port(port)
    time.sleep(0.3)
    kids = children(p.pid)
    masks = sorted(cpus(k) for k in kids)
    if len(allowed) >= 2:
        t.check("workers: --workers=auto starts one worker per CPU this process may use, each on its own",
                len(kids) == len(allowed) and masks == sorted(str(c) for c in allowed), f"{kids} {masks} allowed {allowed}")
    else:
        t.skip("workers: --workers=auto starts one worker per CPU", f"this process may use {len(allowed)} CPU")
    rc, text = stop(p, log)

    port = free_port()
    p, log = start("--workers=2", f"--port={port}")
    wait_port(port)
    time.sleep(0.3)
    kids = children(p.pid)
    if kids:
        os.kill(kids[0], signal.SIGKILL)
    try:
        rc = p.wait(15)
    except subprocess.TimeoutExpired:
        p.kill()
        rc = None
    t.check("workers: a worker that dies takes the service down (exit 1)", rc == 1, rc)
    for bad in (["--listen=nope"], ["--listen=1.2.3.4:99999"], ["--workers=0"], ["--listen=::1:80"]):
        r = subprocess.run([exe, *bad], capture_output=True, timeout=10)
        t.check(f"listen: {' '.join(bad)} is a bad command line", r.returncode == 2, r.stderr)
t.done()
