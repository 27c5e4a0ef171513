#!/usr/bin/env python3
"""Pasteur's delete tokens: HMAC-SHA256 of the paste's id under a server
key.  The key made at the first start is kept in the block store (with a
warning) and the same after a restart, so a token still deletes; a wrong
token and the token of another paste get 403; --paste-key-file=FILE
(made when missing, owner-only) keeps the key apart, and another key
refuses the tokens of the first; on Redis two instances share the key
(created through one, deleted through the other), and a record of the
former layout (its random token stored in it) is deleted by that token."""
import json
import os
import shutil
import socket
import stat
import subprocess
import sys

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "lib"))
from uwtest import T, Server, BUILD, app, free_port  # noqa: E402
from uwpasteur import call, create as pasteur_create, start_redis  # noqa: E402

t = T()
t.require_built(app("pasteur"))
STORE = os.path.join(BUILD, f"pasteur-token-{os.getpid()}.img")
KEYFILE = os.path.join(BUILD, f"pasteur-token-{os.getpid()}.key")


def create(port):
    st, j = pasteur_create(port)
    return j["id"], j["delete_token"]


def delete(port, pid, token):
    return call(port, "DELETE", f"/api/paste/{pid}", headers={"X-Delete-Token": token})[0]


def there(port, pid):
    return call(port, "GET", f"/api/paste/{pid}")[0] == 200


args = (f"--block:store={STORE}", "--store-size=1M", "--rate=100000", "--burst=100000")
try:
    with Server("pasteur", args=args) as s:
        a, ta = create(s.port)
        b, tb = create(s.port)
        c, tc = create(s.port)
        t.check("a delete token is 32 hex digits, one per paste", len(ta) == 32 and int(ta, 16) >= 0 and ta != tb)
        t.check("the first start warns that it made a key, kept in the store",
                "made a new delete-token key, kept in the store" in s.output())
        t.check("a wrong token: 403, the paste stays", delete(s.port, a, "0" * 32) == 403 and there(s.port, a))
        t.check("the token of another paste: 403, the paste stays", delete(s.port, a, tb) == 403 and there(s.port, a))
        t.check("a token cut short: 403", delete(s.port, a, ta[:31]) == 403 and there(s.port, a))
        t.check("the paste's id is not the key's record",
                call(s.port, "GET", "/api/paste/ffffffffffffffff")[0] == 404)
    with Server("pasteur", args=args) as s:
        t.check("after a restart no new key is made", "made a new delete-token key" not in s.output(), s.output()[-300:])
        t.check("after a restart the token of a paste deletes it",
                delete(s.port, a, ta) == 200 and not there(s.port, a))
        t.check("and the other pastes stay", there(s.port, b) and there(s.port, c))
    os.unlink(STORE)

    # --paste-key-file
    kargs = args + (f"--paste-key-file={KEYFILE}",)
    with Server("pasteur", args=kargs) as s:
        a, ta = create(s.port)
        mode = stat.S_IMODE(os.stat(KEYFILE).st_mode) if os.path.exists(KEYFILE) else None
        t.check("--paste-key-file: a missing file is made, readable by its owner only, with a warning",
                mode == 0o600 and "made a new delete-token key in" in s.output(), f"mode {mode} {s.output()[-300:]}")
    with Server("pasteur", args=kargs) as s:
        t.check("--paste-key-file: the same key after a restart", delete(s.port, a, ta) == 200)
        b, tb = create(s.port)
    with open(KEYFILE, "w") as f:
        f.write("another key of at least thirty-two bytes\n")
    with Server("pasteur", args=kargs) as s:
        t.check("another key refuses the tokens made with the first", delete(s.port, b, tb) == 403 and there(s.port, b))
    with open(KEYFILE, "w") as f:
        f.write("short\n")
    p = subprocess.run([app("pasteur"), f"--port={free_port()}", *kargs], capture_output=True, timeout=20)
    t.check("a key file of fewer than 32 bytes: refused at start",
            p.returncode != 0 and b"--paste-key-file" in p.stderr, p.stderr.decode(errors="replace")[-200:])
finally:
    for f in (STORE, KEYFILE):
        if os.path.exists(f):
            os.unlink(f)

# Redis: the key is shared; a record of the former layout keeps its token.
def redis_cmd(port, *args):
    with socket.create_connection(("127.0.0.1", port), timeout=5) as c:
        c.sendall(b"*%d\r\n" % len(args) + b"".join(b"$%d\r\n%s\r\n" % (len(a), a) for a in args))
        return c.recv(65536)


rdir = os.path.join(BUILD, f"pasteur-token-redis-{os.getpid()}")
os.makedirs(rdir, exist_ok=True)
rp, rport = start_redis(t, rdir)
try:
    rargs = (f"--store=redis://127.0.0.1:{rport}", "--rate=100000", "--burst=100000")
    with Server("pasteur", args=rargs) as s1, Server("pasteur", args=rargs) as s2:
        a, ta = create(s1.port)
        b, tb = create(s2.port)
        t.check("Redis: the token of a paste made through one instance deletes it through the other",
                delete(s2.port, a, ta) == 200 and not there(s1.port, a))
        t.check("Redis: the token of another paste is refused", delete(s1.port, b, ta) == 403 and there(s1.port, b))
        made = s1.output().count("made a new delete-token key") + s2.output().count("made a new delete-token key")
        t.check("Redis: one key made for both instances", made == 1, f"{made} warnings")
        # A record as Pasteur wrote them before HMAC tokens: flags, a random token, the JSON.
        old = os.urandom(16)
        body = json.dumps({"v": 1, "adata": json.dumps({"v": 1, "iv": "AAAA", "expire": "1day", "burn": False,
                                                          "format": "plain"}), "ct": "b2xk"}).encode()
        redis_cmd(rport, b"SET", b"pasteur:00000000000000aa", b"\0" + old + body)
        t.check("a record of the former layout is read as before", there(s1.port, "00000000000000aa"))
        t.check("a record of the former layout: another paste's token does not delete it",
                delete(s1.port, "00000000000000aa", ta) == 403 and there(s1.port, "00000000000000aa"))
        t.check("a record of the former layout is deleted by its stored token",
                delete(s2.port, "00000000000000aa", old.hex()) == 200 and not there(s1.port, "00000000000000aa"))
finally:
    rp.terminate()
    rp.wait(timeout=10)
    shutil.rmtree(rdir, ignore_errors=True)
t.done()
