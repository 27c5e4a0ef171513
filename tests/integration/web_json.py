#!/usr/bin/env python3
"""JSON bodies (json.h) through curl and python: echoed, typed, refused
with the parser's line and column, too deep, too large, wrong type."""
import json, os, sys, urllib.request
sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "lib"))
from uwtest import T, Server, BUILD, curl

t = T()
exe = os.path.join(BUILD, "tests", "apps", "webfeat")
t.require_built(exe)


def post(s, body, ct="application/json"):
    req = urllib.request.Request(s.url + "/json", data=body, headers={"Content-Type": ct} if ct else {})
    try:
        with urllib.request.urlopen(req, timeout=10) as r:
            return r.status, r.headers.get("Content-Type"), r.read()
    except urllib.error.HTTPError as e:
        return e.code, e.headers.get("Content-Type"), e.read()


with Server(None, binary=exe, args=["--quiet"]) as s:
    doc = {"name": "Zoë", "tags": ["a", "b"], "n": 3.5, "ok": True, "none": None}
    st, ct, body = post(s, json.dumps(doc).encode())
    t.check("json: a JSON object is echoed (python)", st == 200 and ct == "application/json" and json.loads(body) == {"got": doc, "type": "object"}, f"{st} {ct} {body[:200]!r}")
    rc, out, err = curl("-s", "-H", "Content-Type: application/json", "--data-binary", "[1,2,3]", s.url + "/json")
    t.check("json: curl --data-binary an array", rc == 0 and json.loads(out) == {"got": [1, 2, 3], "type": "array"}, out[:200])
    st, ct, body = post(s, b'{"a": 1,\n  "b": [1, 2,,]}')
    t.check("json: bad JSON is 400 with line and column", st == 400 and b"line 2, column" in body, body[:200])
    st, ct, body = post(s, b"[" * 17 + b"]" * 17)
    t.check("json: nesting past the limit is 400", st == 400 and b"nested deeper than 16" in body, body[:200])
    st, ct, body = post(s, b'"' + b"x" * 70000 + b'"')
    t.check("json: a body past the limit is 413", st == 413, f"{st} {body[:100]!r}")
    st, ct, body = post(s, b"{}", ct="text/plain")
    t.check("json: a non-JSON Content-Type is 415", st == 415, f"{st}")
    st, ct, body = post(s, b'{"a":1,"a":2}')
    t.check("json: duplicate keys are 400", st == 400 and b"duplicate" in body, body[:200])
    st, ct, body = post(s, "\"caf\u00e9 \\ud83d\\ude00\"".encode())
    t.check("json: UTF-8 and surrogate pairs", st == 200 and json.loads(body)["got"] == "caf\u00e9 \U0001F600", body[:200])
t.done()
