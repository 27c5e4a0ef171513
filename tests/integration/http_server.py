#!/usr/bin/env python3
"""The HTTP/1.1 server and the framework against real clients: curl for
the ordinary paths, raw sockets for malformed, smuggling and slow clients.
Every hostile case also checks that the server still serves the next client.
"""
import os
import re
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import zlib

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "lib"))
from uwtest import T, Server, curl, read_all, BUILD  # noqa: E402

t = T()
ECHO = os.path.join(BUILD, "tests", "apps", "echo")


def status_of(raw):
    m = re.match(rb"HTTP/1\.[01] (\d{3}) ", raw)
    return int(m.group(1)) if m else None


def statuses(raw):
    return [int(x) for x in re.findall(rb"HTTP/1\.[01] (\d{3}) ", raw)]


def still_serves(s):
    try:
        st, _, body = s.get("/")
        return st == 200 and body == b"Hello World!\n"
    except OSError:
        return False


def closed_after(sock, timeout=3.0):
    """True when the server closed the connection (EOF or reset)."""
    sock.settimeout(timeout)
    try:
        while True:
            d = sock.recv(65536)
            if not d:
                return True
    except ConnectionResetError:
        return True
    except socket.timeout:
        return False


def head_and_rest(raw):
    i = raw.find(b"\r\n\r\n")
    return raw[:i].decode(errors="replace"), raw[i + 4:]



def echo(*args):
    return Server(None, binary=ECHO, args=("--quiet",) + args)


# ---------------------------------------------------------------- basics
with echo() as s:
    st, h, body = s.get("/?anything=1")
    t.check("GET / with a query answers 200 Hello World", st == 200 and body == b"Hello World!\n", f"{st} {body!r}")
    t.check("Date header in IMF-fixdate form",
            re.match(r"^[A-Z][a-z]{2}, \d{2} [A-Z][a-z]{2} \d{4} \d{2}:\d{2}:\d{2} GMT$", h.get("Date", "")) is not None, h.get("Date"))
    t.check("Content-Length on a known body", h.get("Content-Length") == "13")

    rc, out, err = curl("-v", s.url + "/", s.url + "/users/7")
    t.check("curl keep-alive: two requests on one connection",
            rc == 0 and "Re-using existing connection" in err and out == b"Hello World!\nuser 7\n", err[-300:])

    # Upgrade asked for and not taken: an ordinary request, the connection goes on
    rc, out, err = curl("-s", "--http2", "-o", "/dev/null", "-o", "/dev/null", "-w", "%{http_code} %{http_version}\n",
                        s.url + "/", s.url + "/users/7")
    t.check("curl --http2 on plain HTTP (Upgrade: h2c): both requests 200 over HTTP/1.1",
            rc == 0 and out == b"200 1.1\n200 1.1\n", f"rc={rc} {out!r} {err[-200:]}")
    raw = s.raw(b"GET / HTTP/1.1\r\nHost: x\r\nConnection: Upgrade\r\nUpgrade: websocket\r\nSec-WebSocket-Version: 13\r\n"
                b"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\nGET /users/8 HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
    t.check("Upgrade: websocket to a route that does not upgrade: answered, then the next request",
            statuses(raw) == [200, 200] and raw.endswith(b"user 8\n") and b"101" not in raw, raw[-200:])

    rc, out, err = curl("-sI", s.url + "/")
    t.check("HEAD: headers with Content-Length, no body",
            rc == 0 and b"Content-Length: 13" in out and not out.rstrip().endswith(b"Hello World!"), out[-200:])
    raw = s.raw(b"HEAD / HTTP/1.1\r\nHost: x\r\n\r\nGET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
    t.check("HEAD leaves no body on the wire (next response follows at once)",
            statuses(raw) == [200, 200] and raw.count(b"Hello World!") == 1, raw[:300])

    # routes, captures, 404/405
    t.check("int capture", s.get("/users/42")[2] == b"user 42\n")
    t.check("int capture rejects a word (404)", s.get("/users/abc")[0] == 404)
    t.check("rest capture", s.get("/files/a/b%20c.txt")[2] == b"path=a/b c.txt\n")
    t.check("segment capture percent-decoded", s.get("/items/caf%C3%A9")[2] == "name=café\n".encode())
    t.check("unknown path: 404", s.get("/nowhere")[0] == 404)
    rc, out, err = curl("-si", "-X", "POST", s.url + "/users/3")
    t.check("other method: 405 with Allow", b" 405 " in out and re.search(rb"Allow: GET, HEAD, DELETE", out) is not None, out[:300])
    rc, out, err = curl("-si", s.url + "/dir")
    t.check("trailing slash: 308 to the canonical path", b" 308 " in out and b"Location: /dir/" in out, out[:300])
    t.check("query none: a query string is refused (400)", s.get("/users/1?x=1")[0] == 400)
    st, _, body = s.get("/search?q=hello+world&page=2")
    t.check("named query parameters decoded", st == 200 and body == b"q=hello world page=2\n", body)
    t.check("unknown query parameter refused (400)", s.get("/search?q=1&evil=2")[0] == 400)

    # middlewares
    st, h, _ = s.get("/secret/x")
    t.check("basic auth: 401 with WWW-Authenticate", st == 401 and "Basic realm=\"echo\"" in h.get("WWW-Authenticate", ""))
    rc, out, _ = curl("-s", "-u", "alice:s3cret", s.url + "/secret/x")
    t.check("basic auth: right password passes the user to the handler", out == b"welcome alice\n", out)
    rc, out, _ = curl("-s", "-o", "/dev/null", "-w", "%{http_code}", "-u", "alice:wrong", s.url + "/secret/x")
    t.check("basic auth: wrong password 401", out == b"401", out)
    t.check("middleware passes a value to the handler",
            s.get("/whoami", {"X-Request-Id": "abc-1"})[2] == b"id=abc-1\n")

    # bodies
    with tempfile.NamedTemporaryFile(dir=BUILD) as f:
        data = os.urandom(3 * 1024 * 1024 + 17)
        f.write(data)
        f.flush()
        rc, out, err = curl("-s", "--data-binary", "@" + f.name, "-H", "Content-Type: application/octet-stream", s.url + "/echo")
        t.check("Content-Length upload streamed back (3 MiB)", rc == 0 and out == data, f"rc={rc} len={len(out)}")
        rc, out, err = curl("-s", "-H", "Transfer-Encoding: chunked", "--data-binary", "@" + f.name, s.url + "/count")
        t.check("chunked upload read as a stream",
                out == f"{len(data)} {zlib.crc32(data):08x}\n".encode(), out)
        rc, out, err = curl("-sv", "-H", "Expect: 100-continue", "--data-binary", "@" + f.name, s.url + "/count")
        t.check("Expect: 100-continue answered, then the body",
                "HTTP/1.1 100 Continue" in err and out == f"{len(data)} {zlib.crc32(data):08x}\n".encode(), err[-400:])
        # the head outlives the body: a handler that reads 3 MiB first, then the head
        rc, out, err = curl("-s", "--data-binary", "@" + f.name, "-H", "X-Tag: tag-value", "-H", "X-Request-Id: rid-7",
                            s.url + "/late/caf%C3%A9?q=a+b&r=1")
        t.check("head accessors after the handler read a 3 MiB body (curl)",
                out == f"{len(data)} bytes; path=/late/caf%C3%A9 query=q=a+b&r=1 q=a b name=café tag=tag-value "
                       f"tag_before=tag-value id=rid-7 last=".encode() + out[out.find(b" last=") + 6:]
                and len(data) > 1 << 20, out[:300])
        with s.connect() as c:
            c.sendall(b"POST /late/x?q=%7E HTTP/1.1\r\nHost: x\r\nX-Tag: t2\r\nTransfer-Encoding: chunked\r\n"
                      b"Connection: close\r\nX-Last: the-last\r\n\r\n")
            for i in range(0, len(data), 10000):
                piece = data[i:i + 10000]
                c.sendall(b"%x\r\n%s\r\n" % (len(piece), piece))
            c.sendall(b"0\r\n\r\n")
            raw = read_all(c, 10)
        t.check("head accessors after the handler read a 3 MiB chunked body (raw socket)",
                raw.endswith(f"{len(data)} bytes; path=/late/x query=q=%7E q=~ name=x tag=t2 tag_before=t2 id=(none) "
                              f"last=X-Last:the-last\n".encode()), raw[-300:])
    rc, out, err = curl("-si", "--data-binary", "x" * 100, s.url + "/small")
    t.check("body over the route limit (Content-Length): 413", b" 413 " in out, out[:200])
    rc, out, err = curl("-si", "-H", "Transfer-Encoding: chunked", "--data-binary", "x" * 100, s.url + "/small")
    t.check("body over the route limit (chunked): 413", b" 413 " in out, out[:200])
    with s.connect() as c:
        c.sendall(b"POST /small HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\nExpect: 100-continue\r\n\r\n")
        c.settimeout(3)
        first = c.recv(4096)
        t.check("Expect with a body too large: 413 without 100 Continue", status_of(first) == 413, first[:100])

    # responses
    rc, out, err = curl("-s", "-D", "-", s.url + "/stream?n=1000")
    head, body = out.split(b"\r\n\r\n", 1)
    t.check("response from a producer task through a pipe, chunked",
            b"Transfer-Encoding: chunked" in head and body == b"".join(b"line %d\n" % i for i in range(1000)), head)
    t.check("response from slices", s.get("/slices")[2] == b"slices without copies\n")
    st, h, body = s.get("/large")
    t.check("3 MiB body from memory", st == 200 and len(body) == 3 * 1024 * 1024 and body[:3] == b"abc")

    # pipelining
    reqs = b"".join(b"GET /users/%d HTTP/1.1\r\nHost: x\r\n\r\n" % i for i in range(16))
    raw = s.raw(reqs + b"GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
    got = re.findall(rb"user (\d+)\n", raw)
    t.check("16 pipelined requests answered in order", got == [b"%d" % i for i in range(16)] and raw.endswith(b"Hello World!\n"), raw[-200:])
    raw = s.raw(b"GET http://x:80/users/4 HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
    t.check("absolute-form target: routed by its path", status_of(raw) == 200 and raw.endswith(b"user 4\n"), raw[-100:])
    raw = s.raw(b"POST /count HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n\r\nhelloGET /users/9 HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
    t.check("pipelined request after a body", statuses(raw) == [200, 200] and b"user 9" in raw, raw[-200:])
    with s.connect() as c:
        c.sendall(b"GET / HTTP/1.0\r\n\r\n")
        start = time.time()
        c.settimeout(2)
        raw, eof = b"", False
        try:
            while True:
                d = c.recv(65536)
                if not d:
                    eof = True
                    break
                raw += d
        except (socket.timeout, ConnectionResetError):
            pass
        elapsed = time.time() - start
    t.check("HTTP/1.0 without keep-alive: answered and closed (EOF right after the answer)",
            status_of(raw) == 200 and b"Connection: close" in raw and raw.endswith(b"Hello World!\n") and eof and elapsed < 1,
            f"eof={eof} after {elapsed:.2f}s {raw[-80:]!r}")

    # ---------------------------------------------------------- hostile input
    bad = {
        "Content-Length with Transfer-Encoding": b"POST /count HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n",
        "differing duplicate Content-Length": b"POST /count HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\nhello!",
        "obs-fold header line": b"GET / HTTP/1.1\r\nHost: x\r\nX-A: a\r\n  folded\r\n\r\n",
        "invalid chunk size": b"POST /count HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\nhello\r\n0\r\n\r\n",
        "bare CR in a header": b"GET / HTTP/1.1\r\nHost: x\r\nX-A: a\rb\r\n\r\n",
        "Transfer-Encoding not ending in chunked": b"POST /count HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: gzip\r\n\r\nabc",
        "space before the header colon": b"GET / HTTP/1.1\r\nHost: x\r\nContent-Length : 0\r\n\r\n",
        "HTTP/1.1 without Host": b"GET / HTTP/1.1\r\n\r\n",
        "two Host headers": b"GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n",
        "a space in a header field name": b"GET / HTTP/1.1\r\nHost: x\r\nX Y: a\r\n\r\n",
        "whitespace before the colon": b"GET / HTTP/1.1\r\nHost: x\r\nX-A : b\r\n\r\n",
        "an empty header field name": b"GET / HTTP/1.1\r\nHost: x\r\n: a\r\n\r\n",
        "two spaces before the target": b"GET  / HTTP/1.1\r\nHost: x\r\n\r\n",
        "two spaces after the target": b"GET /  HTTP/1.1\r\nHost: x\r\n\r\n",
        "a Host with a space": b"GET / HTTP/1.1\r\nHost: x y\r\n\r\n",
        "a Host with @": b"GET / HTTP/1.1\r\nHost: u@x\r\n\r\n",
        "absolute-form target of exactly http://": b"GET http:// HTTP/1.1\r\nHost: x\r\n\r\n",
        "absolute-form target with a userinfo": b"GET http://u@x/ HTTP/1.1\r\nHost: x\r\n\r\n",
        "asterisk-form target for GET": b"GET * HTTP/1.1\r\nHost: x\r\n\r\n",
        "garbage request line": b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03\r\n\r\n",
    }
    for name, req in bad.items():
        with s.connect() as c:
            c.sendall(req + b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
            c.settimeout(3)
            first = b""
            try:
                first = c.recv(65536)
            except OSError:
                pass
            closed = closed_after(c)
        t.check(f"{name}: 400 and the connection closed", status_of(first) == 400 and closed and len(statuses(first)) == 1,
                first[:120])
    # chunked framing past its bounds (the shape of CVE-2024-22019): answered 400 at once, not read to the end
    for name, line in (("a 1 MiB chunk extension", b"3;" + b"e" * (1 << 20) + b"\r\n"),
                       ("1 MiB of leading zeros in a chunk size", b"0" * (1 << 20) + b"3\r\n")):
        with s.connect() as c:
            c.sendall(b"POST /count HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n")
            start = time.time()
            try:
                c.sendall(line + b"abc\r\n0\r\n\r\nGET / HTTP/1.1\r\nHost: x\r\n\r\n")
            except OSError:
                pass
            got = read_all(c, 5)
        t.check(f"{name}: 400 and closed", status_of(got) == 400 and len(statuses(got)) == 1 and time.time() - start < 4,
                got[:120])
    raw = s.raw(b"POST /small HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n"
                b"1;" + b"e" * 30 + b"\r\nx\r\n0\r\n\r\n")
    t.check("chunk extension bytes count against the body limit (413)", status_of(raw) == 413, raw[:100])
    raw = s.raw(b"POST /count HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n"
                b"003;e=\"v\"\r\nabc\r\n0\r\n\r\n")
    t.check("small chunk extensions and leading zeros are accepted", status_of(raw) == 200 and raw.endswith(b"3 352441c2\n"),
            raw[-60:])
    t.check("after the hostile requests the server still serves", still_serves(s))

    # limits on the head
    raw = s.raw(b"GET / HTTP/1.1\r\nHost: x\r\nX-Big: " + b"a" * 9000 + b"\r\n\r\n")
    t.check("request head over 8 KiB: 431", status_of(raw) == 431, raw[:100])
    raw = s.raw(b"GET / HTTP/1.1\r\nHost: x\r\n" + b"".join(b"X-%d: v\r\n" % i for i in range(100)) + b"\r\n")
    t.check("more than 64 header fields: 431", status_of(raw) == 431, raw[:100])
    raw = s.raw(b"GET /" + b"a" * 10000 + b" HTTP/1.1\r\nHost: x\r\n\r\n")
    t.check("request line over the head limit: 431", status_of(raw) == 431, raw[:100])
    trailers = b"".join(b"X-T%d: %s\r\n" % (i, b"v" * 100) for i in range(200))
    raw = s.raw(b"POST /count HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n" + trailers + b"\r\n")
    t.check("chunked trailers over the head limit: 400", status_of(raw) == 400, raw[:100])
    raw = s.raw(b"POST /count HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n3\r\nabc\r\n0\r\nX-T: v\r\n\r\n")
    t.check("small chunked trailers are accepted and ignored", status_of(raw) == 200 and b"3 " in raw, raw[-60:])
    t.check("after the oversized heads the server still serves", still_serves(s))

    # a client that resets in the middle of an upload
    c = s.connect()
    c.sendall(b"POST /count HTTP/1.1\r\nHost: x\r\nContent-Length: 100000000\r\n\r\n" + b"x" * 100000)
    c.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\x00\x00\x00\x00\x00\x00\x00")
    c.close()
    time.sleep(0.2)
    t.check("a client reset mid-upload does not harm the server", still_serves(s))

# ---------------------------------------------------------------- slow clients
with echo("--header-timeout=1", "--idle-timeout=1") as s:
    c = s.connect()
    start = time.time()
    c.sendall(b"GET / HTTP/1.1\r\n")
    got = b""
    c.settimeout(0.2)
    for _ in range(40):           # one byte every 100 ms: a slowloris
        try:
            c.sendall(b"X")
        except OSError:
            break
        try:
            d = c.recv(4096)
            if not d:
                break
            got += d
        except socket.timeout:
            pass
        except ConnectionResetError:
            break
    elapsed = time.time() - start
    c.close()
    t.check("slowloris head: 408 after the header timeout", status_of(got) == 408 and elapsed < 3.5, f"{got[:80]!r} after {elapsed:.1f}s")
    with s.connect() as c:
        c.sendall(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
        c.settimeout(5)
        first = c.recv(4096)
        start = time.time()
        closed = closed_after(c, 5)
        idle = time.time() - start
    t.check("idle keep-alive connection closed after the idle timeout",
            status_of(first) == 200 and closed and 0.5 < idle < 3.5, f"closed={closed} after {idle:.1f}s")
    t.check("after the slow clients the server still serves", still_serves(s))

# ---------------------------------------------------------------- connection limit
with echo("--max-connections=4") as s:
    time.sleep(0.2)   # the readiness probe's connection is closed by now
    held = [s.connect() for _ in range(4)]
    for c in held:
        c.sendall(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
        c.recv(4096)
    extra = s.connect()
    extra.sendall(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
    got = read_all(extra, 3)
    extra.close()
    t.check("connection over the maximum: 503", status_of(got) == 503, got[:100])
    held[0].sendall(b"GET /users/5 HTTP/1.1\r\nHost: x\r\n\r\n")
    held[0].settimeout(3)
    t.check("existing connections still served at the maximum", b"user 5" in held[0].recv(4096))
    for c in held:
        c.close()
    time.sleep(0.3)
    t.check("new connections served once others closed", still_serves(s))

# ---------------------------------------------------------------- memory budget
# --memory-budget=450000: 4 workers.  Slow request heads hold them; new
# requests take them over (the slow heads are kept, and finish later with
# their headers intact); with every worker busy otherwise: 503.
with echo("--memory-budget=450000", "--header-timeout=20") as s:
    def slow_head(i):
        c = s.connect()
        c.sendall(b"GET /whoami HTTP/1.1\r\nHost: x\r\nX-Request-Id: slow-%d\r\nX-Pad: " % i)
        time.sleep(0.05)
        return c
    slow = [slow_head(i) for i in range(4)]
    got = []
    for i in range(4):
        time.sleep(0.3)
        got.append(s.get("/users/%d" % i))     # takes the worker of the oldest slow head
        slow.append(slow_head(4 + i))          # and a new slow head takes it back
    t.check("budget: with every worker held by a slow head, new requests are answered (4 times)",
            [g[2] for g in got] == [b"user %d\n" % i for i in range(4)], repr(got)[:300])
    for c in slow:
        c.sendall(b"p\r\nConnection: close\r\n\r\n")
    answers = [read_all(c, 5) for c in slow]
    for c in slow:
        c.close()
    t.check("budget: 8 slow heads, 4 of them set aside for others, finish with their headers intact",
            all(a.endswith(b"id=slow-%d\n" % i) and status_of(a) == 200 for i, a in enumerate(answers)),
            repr([a[-30:] for a in answers]))
    result = {}

    def slow_get(i):
        result[i] = s.get("/slow?s=4")[0]
    ths = [threading.Thread(target=slow_get, args=(i,)) for i in range(4)]
    for th in ths:
        th.start()
    time.sleep(0.3)
    start = time.time()
    raw = s.raw(b"GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n", timeout=5)
    waited = time.time() - start
    for th in ths:
        th.join(10)
    t.check("budget: every worker busy with a request: a new one is answered 503 after about a second",
            status_of(raw) == 503 and b"Retry-After: 1" in raw and 0.5 < waited < 2.5 and
            result == {i: 200 for i in range(4)}, f"{raw[:60]!r} after {waited:.1f}s; {result}")
    t.check("budget: served again once the workers are free", still_serves(s))

# ---------------------------------------------------------------- graceful shutdown
with echo() as s:
    result = {}

    def slow_client():
        try:
            result["slow"] = s.get("/slow")
        except Exception as e:  # noqa: BLE001
            result["slow"] = e

    th = threading.Thread(target=slow_client)
    th.start()
    time.sleep(0.5)
    s.proc.send_signal(signal.SIGTERM)
    time.sleep(0.3)
    refused = False
    try:
        socket.create_connection(("127.0.0.1", s.port), timeout=1).close()
    except OSError:
        refused = True
    th.join(10)
    code = s.proc.wait(10)
    slow = result.get("slow")
    t.check("SIGTERM: the in-flight request finishes", isinstance(slow, tuple) and slow[0] == 200 and slow[2] == b"slow done\n", repr(slow))
    t.check("SIGTERM: no new connections accepted", refused)
    t.check("SIGTERM: exit status 0", code == 0, f"exit {code}")

# ---------------------------------------------------------------- the app
with Server("hello", args=("--quiet",)) as s:
    st, h, body = s.get("/")
    t.check("apps/hello: GET / is Hello World, text/plain",
            st == 200 and body == b"Hello World!\n" and h.get("Content-Type", "").startswith("text/plain"))
    t.check("apps/hello: any query accepted", s.get("/?a=b&c")[0] == 200)
p = subprocess.run([os.path.join(BUILD, "apps", "hello"), "--bogus"], capture_output=True, text=True)
t.check("bad option: exit 2 with a one-line reason", p.returncode == 2 and p.stderr.count("\n") == 1, p.stderr)
p = subprocess.run([os.path.join(BUILD, "apps", "hello"), "--help"], capture_output=True, text=True)
t.check("--help in man-page form", p.returncode == 0 and "SYNOPSIS" in p.stdout and "OPTIONS" in p.stdout)
t.check("--help on unix: port 8080 and HTTPS port 8443 by default",
        "(default 8080;" in p.stdout and "(default 8443;" in p.stdout, p.stdout[-300:])

t.done()
