#!/usr/bin/env python3
"""Cookies (cookie.h) with curl's cookie jar and python's http.cookies:
attributes as sent, signed and sealed values read back, tampered or
moved cookies refused, a key from --cookie-key-file surviving a restart
and a generated key not."""
import http.client, os, sys, tempfile
from http.cookies import SimpleCookie
sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "lib"))
from uwtest import T, Server, BUILD, curl

t = T()
exe = os.path.join(BUILD, "tests", "apps", "webfeat")
t.require_built(exe)


def get(s, path, cookie=None):
    c = http.client.HTTPConnection("127.0.0.1", s.port, timeout=10)
    c.request("GET", path, headers={"Cookie": cookie} if cookie else {})
    r = c.getresponse()
    body = r.read().decode()
    c.close()
    return r.status, r.headers.get_all("Set-Cookie") or [], body


def jar(set_cookies):
    return {k: v.value for sc in set_cookies for k, v in SimpleCookie(sc).items()}


with tempfile.TemporaryDirectory() as d:
    keyfile = os.path.join(d, "cookie.key")
    open(keyfile, "w").write(os.urandom(32).hex() + "\n")
    with Server(None, binary=exe, args=["--quiet", f"--cookie-key-file={keyfile}"]) as s:
        st, sc, body = get(s, "/cookie/set?who=ann")
        by_name = {c.split("=", 1)[0]: c for c in sc}
        theme = by_name.get("theme", "")
        t.check("cookies: Max-Age, Expires, Path, SameSite sent", "Max-Age=3600" in theme and "Expires=" in theme and "GMT" in theme and "Path=/" in theme and "SameSite=Lax" in theme, theme)
        sess = by_name.get("__Host-session", "")
        t.check("cookies: the __Host- cookie has Secure, HttpOnly, Path=/, no Domain", all(a in sess for a in ("Secure", "HttpOnly", "Path=/", "SameSite=Strict")) and "Domain" not in sess, sess)
        t.check("cookies: a __Host- cookie without Secure is refused by the server", "refused" in body and "__Host-bad" not in by_name, body)
        values = jar(sc)
        t.check("cookies: the sealed value does not show the plain text", "ann" not in values.get("__Host-session", "ann"), values.get("__Host-session"))
        t.check("cookies: the signed value shows it", values.get("user", "").startswith("ann."), values.get("user"))
        cookie = "; ".join(f"{k}={v}" for k, v in values.items())
        st, _, body = get(s, "/cookie/get", cookie)
        t.check("cookies: all three read back", body.strip() == "theme=dark user=ann session=ann", body)
        # curl's jar: it keeps Secure cookies for https only, so the plain and signed ones
        jarfile = os.path.join(d, "jar")
        curl("-s", "-c", jarfile, s.url + "/cookie/set?who=bo")
        rc, out, err = curl("-s", "-b", jarfile, s.url + "/cookie/get")
        t.check("cookies: curl's cookie jar round trip", out.decode().startswith("theme=dark user=bo"), out)
        rc, out, err = curl("-s", "-i", s.url + "/cookie/clear")
        t.check("cookies: deleting sends Max-Age=0 and a past Expires", b"theme=; Max-Age=0; Expires=Thu, 01 Jan 1970" in out, out[:300])
        # tampering
        sealed, signed = values["__Host-session"], values["user"]
        flip = lambda v, i: v[:i] + ("A" if v[i] != "A" else "B") + v[i + 1:]
        bad = [get(s, "/cookie/get", f"__Host-session={flip(sealed, i)}")[2].strip() for i in (0, len(sealed) // 2, len(sealed) - 1)]
        t.check("cookies: a tampered sealed cookie is refused", all(b.endswith("session=-") for b in bad), bad)
        st, _, body = get(s, "/cookie/get", "user=bob." + signed.split(".", 1)[1])
        t.check("cookies: a signed cookie with another value is refused", "user=-" in body, body)
        st, _, body = get(s, "/cookie/get", f"user={sealed}")
        t.check("cookies: a sealed value moved to another cookie name is refused", "user=-" in body, body)
    with Server(None, binary=exe, args=["--quiet", f"--cookie-key-file={keyfile}"]) as s:
        st, _, body = get(s, "/cookie/get", cookie)
        t.check("cookies: the key file's key reads them after a restart", body.strip() == "theme=dark user=ann session=ann", body)
    with Server(None, binary=exe, args=[]) as s:
        st, _, body = get(s, "/cookie/get", cookie)
        t.check("cookies: a generated key refuses the old ones", body.strip() == "theme=dark user=- session=-", body)
        t.check("cookies: a generated key is warned about", "no --cookie-key-file" in s.output(), s.output()[-300:])
    bad = os.path.join(d, "bad.key")
    open(bad, "w").write("too short\n")
    import subprocess
    p = subprocess.run([exe, "--port=0", f"--cookie-key-file={bad}"], capture_output=True, timeout=10)
    t.check("cookies: a bad key file is a bad command line (exit 2)", p.returncode == 2 and b"cookie-key-file" in p.stderr, p.stderr)
t.done()
