#!/usr/bin/env python3
"""Access log (--access-log, common / combined / JSON lines), request ids
(X-Request-Id made or kept), redirects (uw_res_redirect) and the app's
error pages (uw_mw_error_pages) and log levels (--log-level, --quiet),
with curl and python."""
import http.client, json, os, re, sys, tempfile, time
sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "lib"))
from uwtest import T, Server, BUILD, curl

t = T()
exe = os.path.join(BUILD, "tests", "apps", "webfeat")
t.require_built(exe)


def req(s, method, path, headers=None, body=None):
    c = http.client.HTTPConnection("127.0.0.1", s.port, timeout=10)
    c.request(method, path, body=body, headers=headers or {})
    r = c.getresponse()
    data = r.read()
    c.close()
    return r, data


def lines_of(path, n, timeout=5):
    end = time.time() + timeout
    while time.time() < end:
        lines = open(path).read().splitlines() if os.path.exists(path) else []
        if len(lines) >= n:
            return lines
        time.sleep(0.05)
    return lines


with tempfile.TemporaryDirectory() as d:
    log = os.path.join(d, "access.log")
    with Server(None, binary=exe, args=["--quiet", f"--access-log={log}"]) as s:
        r1, _ = req(s, "GET", "/cookie/get?x=1")
        r2, _ = req(s, "GET", "/cookie/get")
        ids = [r1.getheader("X-Request-Id"), r2.getheader("X-Request-Id")]
        t.check("logs: every answer has an X-Request-Id, each its own", all(ids) and ids[0] != ids[1], ids)
        r3, _ = req(s, "GET", "/cookie/get", {"X-Request-Id": "trace-abc.123"})
        t.check("logs: a sane X-Request-Id from the client is kept", r3.getheader("X-Request-Id") == "trace-abc.123", r3.getheader("X-Request-Id"))
        r4, _ = req(s, "GET", "/cookie/get", {"X-Request-Id": "bad id\"x"})
        t.check("logs: an unsafe X-Request-Id is replaced", r4.getheader("X-Request-Id") not in (None, 'bad id"x'), r4.getheader("X-Request-Id"))
        req(s, "POST", "/form", {"Content-Type": "application/x-www-form-urlencoded"}, b"name=a&age=x")
        lines = lines_of(log, 5)
        clf = re.compile(r'^127\.0\.0\.1 - - \[\d\d/[A-Z][a-z]{2}/\d{4}:\d\d:\d\d:\d\d \+0000\] "(\S+) (\S+) HTTP/1\.1" (\d{3}) (\d+)$')
        m = [clf.match(l) for l in lines]
        t.check("logs: common log format lines, one per request", len(lines) == 5 and all(m), lines)
        if all(m) and len(m) == 5:
            t.check("logs: method, target, status and bytes", m[0].group(1, 2, 3) == ("GET", "/cookie/get?x=1", "200") and m[4].group(1, 3) == ("POST", "400") and int(m[0].group(4)) > 0, lines)
    jl = os.path.join(d, "access.jsonl")
    with Server(None, binary=exe, args=["--quiet", f"--access-log={jl}", "--access-log-format=json"]) as s:
        r, _ = req(s, "GET", "/text?n=5000", {"User-Agent": "tester \"1\"", "Referer": "http://x/"})
        rid = r.getheader("X-Request-Id")
        req(s, "GET", "/nowhere")
        lines = lines_of(jl, 2)
        try:
            recs = [json.loads(l) for l in lines]
        except ValueError as e:
            recs = []
        t.check("logs: JSON lines parse", len(recs) == 2, lines)
        if len(recs) == 2:
            a, b = recs
            t.check("logs: JSON fields", a["id"] == rid and a["method"] == "GET" and a["target"] == "/text?n=5000" and a["status"] == 200
                    and a["bytes"] == 5000 and a["agent"] == 'tester "1"' and a["referer"] == "http://x/" and a["ms"] >= 0
                    and a["client"] == "127.0.0.1", a)
            t.check("logs: a 404 is logged with its status", b["status"] == 404, b)
    cl = os.path.join(d, "combined.log")
    with Server(None, binary=exe, args=["--quiet", f"--access-log={cl}", "--access-log-format=combined"]) as s:
        r, _ = req(s, "GET", "/go", {"User-Agent": "curl/8"})
        lines = lines_of(cl, 1)
        t.check("logs: combined format has referer, agent, id and time", len(lines) == 1 and lines[0].endswith("ms") and '"-" "curl/8" ' + r.getheader("X-Request-Id") in lines[0], lines)
        t.check("redirect: 303 with Location", r.status == 303 and r.getheader("Location") == "/cookie/get", r.getheaders())
        rc, out, err = curl("-s", "-L", s.url + "/go")
        t.check("redirect: curl -L follows it", out.startswith(b"theme="), out)
        r, body = req(s, "GET", "/nowhere")
        t.check("error pages: the app's 404 page", r.status == 404 and r.getheader("Content-Type") == "text/html; charset=utf-8" and b"Nothing at this address" in body, body)
        r, body = req(s, "GET", "/nowhere", {"Accept-Encoding": "gzip"})
        t.check("error pages: Content-Length is the page's", int(r.getheader("Content-Length")) == len(body), r.getheaders())
        r, body = req(s, "POST", "/json", {"Content-Type": "application/json"}, b"{bad")
        t.check("error pages: statuses without a page keep their answer", r.status == 400 and b"invalid JSON" in body, body)
        r, body = req(s, "HEAD", "/nowhere")
        t.check("error pages: HEAD gets the page's headers and no body", r.status == 404 and body == b"" and r.getheader("Content-Type").startswith("text/html"), r.getheaders())
    import socket, subprocess

    def log_of(*args):
        """The server's log lines after a good request and a bad one."""
        with Server(None, binary=exe, args=list(args)) as s:
            req(s, "GET", "/cookie/get")
            with socket.create_connection(("127.0.0.1", s.port), timeout=5) as c:
                c.sendall(b"NOT HTTP\r\n\r\n")
                c.recv(4096)
            time.sleep(0.3)
            return s.output()
    debug, info, error, quiet = log_of("--log-level=debug"), log_of(), log_of("--log-level=error"), log_of("--quiet")
    conn = re.compile(r"^uweb: connection from 127\.0\.0\.1:\d+ ", re.M)
    bad = re.compile(r"^uweb: 400 ", re.M)
    t.check("log levels: debug has a line per connection, info (the default) has not",
            conn.search(debug) and bad.search(debug) and not conn.search(info), f"debug {debug[-400:]!r} info {info[-400:]!r}")
    t.check("log levels: info has the bad request's line, error and --quiet hide it",
            bad.search(info) and not bad.search(error) and not bad.search(quiet), f"info {info[-300:]!r} error {error[-300:]!r}")
    p = subprocess.run([exe, "--port=0", "--log-level=loud"], capture_output=True, timeout=10)
    t.check("log levels: a bad --log-level is a bad command line", p.returncode == 2 and b"--log-level" in p.stderr, p.stderr)
    p = subprocess.run([exe, "--port=0", "--access-log-format=xml"], capture_output=True, timeout=10)
    t.check("logs: a bad --access-log-format is a bad command line", p.returncode == 2, p.stderr)
    p = subprocess.run([exe, "--help"], capture_output=True, timeout=10)
    t.check("logs: --help names the new options", all(o in p.stdout for o in (b"--access-log=", b"--access-log-format", b"--cookie-key-file", b"--log-level=")), p.stdout[-500:])
t.done()
