#!/usr/bin/env python3
"""Pasteur's API with a plain HTTP client: create (JSON and multipart),
read, info, burn after reading, delete by token, expiry (a moved clock
across a restart), persistence, limits (413, 400 with a reason, 415),
rate limiting (429 with Retry-After, per X-Forwarded-For client with
--trust-proxy), a full store (507, stored pastes unharmed), and a paste
encrypted here as apps/pasteur/README.md says, decrypted back (with the
cryptography module when it is there): the store holds neither its
plaintext nor its key."""
import base64
import http.client
import json
import os
import sys
import uuid
import zlib

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "lib"))
from uwtest import T, Server, BUILD, app, free_port, read_all  # noqa: E402

t = T()
t.require_built(app("pasteur"))
STORE = os.path.join(BUILD, f"pasteur-api-{os.getpid()}.img")


def request(s, method, path, body=None, headers=None):
    c = http.client.HTTPConnection("127.0.0.1", s.port, timeout=20)
    try:
        c.request(method, path, body=body, headers=headers or {})
    except (BrokenPipeError, ConnectionResetError):
        pass   # the server answered early and closed: its answer is still to be read
    r = c.getresponse()
    data = r.read()
    c.close()
    try:
        j = json.loads(data)
    except ValueError:
        j = None
    return r.status, dict(r.getheaders()), j


def adata(**kw):
    meta = {"v": 1, "iv": "AAAAAAAAAAAAAAAA", "salt": "", "iter": 0, "password": False,
            "expire": "1week", "burn": False, "format": "plain", "lang": "", "comp": "deflate-raw"}
    meta.update(kw)
    return json.dumps(meta)


def create(s, ct="c2VjcmV0", headers=None, **kw):
    return request(s, "POST", "/api/paste", json.dumps({"adata": adata(**kw), "ct": ct}),
                   {"Content-Type": "application/json", **(headers or {})})


def multipart(fields):
    b = "----pasteur" + uuid.uuid4().hex
    body = "".join(f'--{b}\r\nContent-Disposition: form-data; name="{k}"\r\n\r\n{v}\r\n' for k, v in fields.items())
    return (body + f"--{b}--\r\n").encode(), {"Content-Type": f"multipart/form-data; boundary={b}"}


args = (f"--block:store={STORE}", "--store-size=4M", "--rate=100000", "--burst=100000")
try:
    with Server("pasteur", args=args) as s:
        st, h, j = create(s, ct="Y2lwaGVydGV4dA")
        t.check("POST /api/paste (JSON) answers 201 {id, url, delete_token}",
                st == 201 and len(j["id"]) == 16 and j["url"] == "/?" + j["id"] and len(j["delete_token"]) == 32, f"{st} {j}")
        pid, token = j["id"], j["delete_token"]
        st, h, j = request(s, "GET", f"/api/paste/{pid}")
        t.check("GET /api/paste/ID gives the ciphertext and metadata back", st == 200 and j["ct"] == "Y2lwaGVydGV4dA"
                and json.loads(j["adata"])["expire"] == "1week" and j["v"] == 1, f"{st} {j}")
        t.check("a paste is not cached (Cache-Control: no-store)", h.get("Cache-Control") == "no-store", h.get("Cache-Control"))
        t.check("answers carry the strict CSP", "default-src 'self'" in h.get("Content-Security-Policy", "")
                and "frame-ancestors 'none'" in h["Content-Security-Policy"], h.get("Content-Security-Policy"))
        st, h, j = request(s, "GET", f"/api/paste/{pid}/info")
        t.check("GET /api/paste/ID/info says burn false and when it expires", st == 200 and j["burn"] is False and j["expires"] > 0, f"{st} {j}")
        st, h, j = request(s, "GET", "/")
        t.check("GET / is the page with its headers", st == 200 and h.get("Referrer-Policy") == "no-referrer"
                and h.get("X-Content-Type-Options") == "nosniff", f"{st} {h}")

        body, hd = multipart({"adata": adata(format="code"), "ct": "bXVsdGlwYXJ0"})
        st, h, j = request(s, "POST", "/api/paste", body, hd)
        t.check("POST /api/paste as multipart/form-data answers 201", st == 201, f"{st} {j}")
        if st == 201:
            st, h, j2 = request(s, "GET", f"/api/paste/{j['id']}")
            t.check("and reads back", st == 200 and j2["ct"] == "bXVsdGlwYXJ0", f"{st} {j2}")

        # Burn after reading.
        st, h, j = create(s, burn=True)
        bid = j["id"]
        st, h, j = request(s, "GET", f"/api/paste/{bid}/info")
        t.check("info of a burn paste says burn, without burning it", st == 200 and j["burn"] is True, f"{st} {j}")
        st1 = request(s, "GET", f"/api/paste/{bid}")[0]
        st2, h, j = request(s, "GET", f"/api/paste/{bid}")
        t.check("a burn paste reads once, then 404 with a reason", st1 == 200 and st2 == 404 and "burned" in j["error"], f"{st1} {st2} {j}")

        # Delete.
        st, h, j = request(s, "DELETE", f"/api/paste/{pid}")
        t.check("DELETE without a token: 400", st == 400, f"{st} {j}")
        st, h, j = request(s, "DELETE", f"/api/paste/{pid}?token=" + "0" * 32)
        t.check("DELETE with a wrong token: 403, and the paste stays", st == 403 and request(s, "GET", f"/api/paste/{pid}")[0] == 200, f"{st} {j}")
        st, h, j = request(s, "DELETE", f"/api/paste/{pid}", headers={"X-Delete-Token": token})
        t.check("DELETE with its token: 200, then 404", st == 200 and request(s, "GET", f"/api/paste/{pid}")[0] == 404, f"{st} {j}")
        t.check("an id that is not one: 404", request(s, "GET", "/api/paste/nothex")[0] == 404)

        # Comments.
        cbody = lambda ct: json.dumps({"adata": json.dumps({"v": 1, "iv": "AAAAAAAAAAAAAAAA", "kind": "comment"}), "ct": ct})
        jh = {"Content-Type": "application/json"}
        st, h, j = create(s, ct="bm9jb21tZW50cw")
        nocomments = j["id"]
        st, h, j = request(s, "POST", f"/api/paste/{nocomments}/comments", cbody("Y29tbWVudA"), jh)
        t.check("a comment on a paste that takes none: 400", st == 400 and "no comments" in j["error"], f"{st} {j}")
        st, h, j = create(s, comments=True, burn=True)
        t.check("comments on a burn paste are refused at creation: 400", st == 400 and "comments" in j["error"], f"{st} {j}")
        st, h, j = create(s, ct="ZGlzY3Vzcw", comments=True)
        did, dtoken = j["id"], j["delete_token"]
        codes = [request(s, "POST", f"/api/paste/{did}/comments", cbody(f"Y29tbWVudA{i}"), jh)[0] for i in range(3)]
        st, h, j = request(s, "GET", f"/api/paste/{did}/comments")
        t.check("three comments are added (201) and listed in order", codes == [201] * 3 and st == 200
                and [c["ct"] for c in j["comments"]] == [f"Y29tbWVudA{i}" for i in range(3)], f"{codes} {st} {j}")
        st, h, j = request(s, "POST", f"/api/paste/{did}/comments", json.dumps({"adata": "{}", "ct": "x"}), jh)
        t.check("a malformed comment: 400", st == 400, f"{st} {j}")
        st, h, j = request(s, "POST", "/api/paste/0123456789abcdef/comments", cbody("eA"), jh)
        t.check("a comment on a paste that does not exist: 404", st == 404, f"{st} {j}")
        request(s, "DELETE", f"/api/paste/{did}", headers={"X-Delete-Token": dtoken})
        st, h, j = request(s, "GET", f"/api/paste/{did}/comments")
        t.check("deleting the paste takes its comments", st == 404, f"{st} {j}")

        # Expiry, and persistence across a restart.
        short = create(s, expire="5min")[2]["id"]
        hour = create(s, expire="1hour")[2]["id"]
        never = create(s, expire="never")[2]["id"]

        # Limits.
        # The server answers from the head, before the body: send only it.
        with s.connect() as c:
            c.sendall(b"POST /api/paste HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                      b"Content-Length: 11534336\r\n\r\n")
            answer = read_all(c, 5).decode(errors="replace")
        t.check("an oversized paste: 413 with a reason", answer.startswith("HTTP/1.1 413") and "too large" in answer, answer[:200])
        st, h, j = create(s, ct="A" * 1100000)
        t.check("an oversized ciphertext in a body that fits: 413", st == 413 and "too large" in j["error"], f"{st} {j}")
        st, h, j = request(s, "POST", "/api/paste", b"{not json", {"Content-Type": "application/json"})
        t.check("malformed JSON: 400 with where and why", st == 400 and "malformed JSON at line 1" in j["error"], f"{st} {j}")
        st, h, j = request(s, "POST", "/api/paste", b"[" * 100000, {"Content-Type": "application/json"})
        t.check("JSON nested 100000 deep: 400, and the server lives", st == 400 and "deeper" in j["error"], f"{st} {j}")
        st, h, j = request(s, "POST", "/api/paste", json.dumps({"adata": "[" * 3000, "ct": "abc"}), {"Content-Type": "application/json"})
        t.check("adata nested deep: 400", st == 400 and "deep" in j["error"], f"{st} {j}")
        st, h, j = create(s, expire="forever")
        t.check("an unknown expiry: 400 naming the choices", st == 400 and "adata.expire" in j["error"], f"{st} {j}")
        st, h, j = create(s, ct="not base64!")
        t.check("a ciphertext that is not base64url: 400", st == 400 and "base64url" in j["error"], f"{st} {j}")
        st, h, j = request(s, "POST", "/api/paste", json.dumps({"ct": "abc"}), {"Content-Type": "application/json"})
        t.check("a missing field: 400 naming it", st == 400 and "adata" in j["error"], f"{st} {j}")
        st, h, j = request(s, "POST", "/api/paste", b"x", {"Content-Type": "text/plain"})
        t.check("another content type: 415", st == 415, f"{st} {j}")
        body, hd = multipart({"adata": adata()})
        st, h, j = request(s, "POST", "/api/paste", body[:-10], hd)
        t.check("a malformed multipart body: 400 with a reason", st == 400 and "multipart" in j["error"], f"{st} {j}")

        # A paste encrypted here as the README describes it.
        try:
            from cryptography.hazmat.primitives.ciphers.aead import AESGCM
        except ImportError:
            AESGCM = None
        if AESGCM is None:
            t.skip("a paste encrypted outside the browser decrypts back", "no Python cryptography module")
        else:
            b64u = lambda b: base64.urlsafe_b64encode(b).rstrip(b"=").decode()
            unb64u = lambda s: base64.urlsafe_b64decode(s + "=" * (-len(s) % 4))
            key, iv = os.urandom(32), os.urandom(12)
            plain = "plaintext written outside the browser " + uuid.uuid4().hex
            meta = adata(iv=b64u(iv))
            z = zlib.compressobj(wbits=-15)
            packed = z.compress(json.dumps({"text": plain}).encode()) + z.flush()
            ct = b64u(AESGCM(key).encrypt(iv, packed, meta.encode()))
            st, h, j = request(s, "POST", "/api/paste", json.dumps({"adata": meta, "ct": ct}), {"Content-Type": "application/json"})
            st, h, j = request(s, "GET", f"/api/paste/{j['id']}")
            got = json.loads(zlib.decompress(AESGCM(key).decrypt(unb64u(j["adata"] and json.loads(j["adata"])["iv"]),
                                                                 unb64u(j["ct"]), j["adata"].encode()), wbits=-15))
            t.check("a paste encrypted as the README says decrypts back", got["text"] == plain)
            try:
                AESGCM(key).decrypt(iv, unb64u(j["ct"]), j["adata"].replace("1week", "1year").encode())
                tampered = False
            except Exception:
                tampered = True
            t.check("metadata changed after sealing fails to decrypt", tampered)
            data = open(STORE, "rb").read()
            t.check("the store holds neither the plaintext nor the key",
                    plain.encode() not in data and key not in data and b64u(key).encode() not in data)

    with Server("pasteur", args=args + ("--clock-offset=400",)) as s:
        t.check("after a restart 400 s later a 5-minute paste is gone", request(s, "GET", f"/api/paste/{short}")[0] == 404)
        t.check("a 1-hour paste is still there", request(s, "GET", f"/api/paste/{hour}")[0] == 200)
        t.check("a burned paste stays burned after a restart", request(s, "GET", f"/api/paste/{bid}")[0] == 404)
    with Server("pasteur", args=args + ("--clock-offset=4000",)) as s:
        t.check("4000 s later the 1-hour paste is gone", request(s, "GET", f"/api/paste/{hour}")[0] == 404)
        t.check("and a paste that never expires is there", request(s, "GET", f"/api/paste/{never}")[0] == 200)
finally:
    if os.path.exists(STORE):
        os.unlink(STORE)

# Rate limit.
try:
    with Server("pasteur", args=(f"--block:store={STORE}", "--store-size=1M", "--rate=6", "--burst=2", "--trust-proxy=127.0.0.1")) as s:
        codes = [create(s, headers={"X-Forwarded-For": "198.51.100.7"})[0] for _ in range(3)]
        st, h, j = create(s, headers={"X-Forwarded-For": "203.0.113.50, 198.51.100.7"})
        t.check("past the burst a client gets 429 with Retry-After (a forged first X-Forwarded-For entry does not help)",
                codes == [201, 201, 429] and st == 429
                and int(h.get("Retry-After", "0")) >= 1, f"{codes} {st} {h.get('Retry-After')}")
        st = create(s, headers={"X-Forwarded-For": "203.0.113.9"})[0]
        t.check("another client (X-Forwarded-For, --trust-proxy=127.0.0.1) is not limited by the first", st == 201, st)
    # IPv6: a proxy on ::1 is trusted (--trust-proxy=::1/128), one on 127.0.0.1 is not.
    p4, p6 = free_port(), free_port()
    with Server("pasteur", port=p4, args=(f"--block:store={STORE}", "--store-size=1M", "--rate=6", "--burst=2",
                                          "--trust-proxy=::1/128", f"--listen=127.0.0.1:{p4}", f"--listen=[::1]:{p6}")) as s:
        def create6(client):
            c = http.client.HTTPConnection("::1", p6, timeout=20)
            c.request("POST", "/api/paste", json.dumps({"adata": adata(), "ct": "c2VjcmV0"}),
                      {"Content-Type": "application/json", "X-Forwarded-For": client})
            st = c.getresponse().status
            c.close()
            return st
        codes = [create6("2001:db8::1") for _ in range(3)]
        t.check("IPv6: behind a trusted proxy on ::1 a client (X-Forwarded-For 2001:db8::1) gets 429 past its burst",
                codes == [201, 201, 429], codes)
        t.check("IPv6: another client (2001:db8::2) has its own bucket", create6("2001:db8::2") == 201)
        codes = [create(s, headers={"X-Forwarded-For": f"2001:db8::{i + 10}"})[0] for i in range(3)]
        t.check("IPv6: X-Forwarded-For from 127.0.0.1, not in --trust-proxy=::1/128, is ignored", codes == [201, 201, 429], codes)
    os.unlink(STORE)
    with Server("pasteur", args=(f"--block:store={STORE}", "--store-size=1M", "--rate=6", "--burst=2")) as s:
        codes = [create(s, headers={"X-Forwarded-For": f"198.51.100.{i}"})[0] for i in range(3)]
        t.check("without --trust-proxy a direct client is limited by its own address (X-Forwarded-For ignored)",
                codes == [201, 201, 429], codes)
finally:
    if os.path.exists(STORE):
        os.unlink(STORE)

# A full store refuses with 507 and keeps what it holds.
try:
    with Server("pasteur", args=(f"--block:store={STORE}", "--store-size=256K", "--store-full=refuse",
                                 "--rate=100000", "--burst=100000")) as s:
        kept, last = [], None
        for i in range(200):
            st, h, j = create(s, ct="Q" * 4000 + str(i % 10))
            if st != 201:
                last = (st, j)
                break
            kept.append(j["id"])
        t.check("a full store answers 507 with a reason", last and last[0] == 507 and "full" in last[1]["error"], f"{last}")
        ok = all(request(s, "GET", f"/api/paste/{k}")[0] == 200 for k in kept)
        t.check(f"all {len(kept)} stored pastes are unharmed", kept and ok)
finally:
    if os.path.exists(STORE):
        os.unlink(STORE)
t.done()
