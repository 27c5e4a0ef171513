#!/usr/bin/python3
"""apps/pasteur as an spt unikernel in a network namespace of its own
(tests/lib/uwnetns.py), its store on a file given to the tender as the
block device "store" (--block:store=FILE): a paste created through the
JSON API is read back, then the guest is stopped and started again on
the same file and the paste is read again (the log-structured store
rebuilds its index on the unikernel too); a JSON number with a fraction
is a 400 (the guests' jansson has integers only); the guest is killed
(SIGKILL) while a client creates pastes, and every paste it acknowledged
is there, intact, when it starts again; with the optional block device
"tls" (scripts/mkcert.sh's chain and key) it serves the API over HTTPS
on 443 and the pastes are still there.  hvt smoke (a usable /dev/kvm):
pasteur.hvt on a block file of its own, a paste created and read back.  No root or no tap device is a
skip; the tender or the image not built is a failure.
"""
import http.client
import json
import os
import shutil
import threading
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
from uwtest import T, BUILD, curl  # noqa: E402
from uwnetns import run_inside  # noqa: E402

t = T()
NAME = "unikernel pasteur"
SPT, IMG = os.path.join(BUILD, "uweb-spt"), os.path.join(BUILD, "spt", "apps", "pasteur.spt")
HVT, HVT_IMG = os.path.join(BUILD, "uweb-hvt"), os.path.join(BUILD, "hvt", "apps", "pasteur.hvt")
if "--inside" not in sys.argv:
    t.require_built(SPT, IMG, HVT, HVT_IMG)
    run_inside(t, NAME, "uwpst", [("uwpst0", "10.87.0.1/24"), ("uwpst1", "10.87.1.1/24")])

HOST = "10.87.0.2"
CERTS = tempfile.mkdtemp(prefix="uweb-net-pasteur-")
subprocess.run([os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "scripts", "mkcert.sh"), CERTS],
               check=True, capture_output=True, env={**os.environ, "MKCERT_SAN": f"IP:{HOST}"})
CA, TLS_BLOCK = os.path.join(CERTS, "ca.pem"), os.path.join(CERTS, "localhost-block.img")
URL = f"http://{HOST}:8080"
STORE = os.path.join(BUILD, f"pasteur-spt-{os.getpid()}.img")
with open(STORE, "wb") as f:
    f.truncate(4 << 20)
out = tempfile.TemporaryFile()


def guest_output():
    return os.pread(out.fileno(), os.fstat(out.fileno()).st_size, 0).decode(errors="replace")


def start(tender=SPT, img=IMG, tap="uwpst0", store=None, host=HOST, wait=20, tls=None):
    g = subprocess.Popen([tender, "--mem=64", f"--net:service={tap}", f"--block:store={store or STORE}",
                          *([f"--block:tls={tls}"] if tls else []), "--", img,
                          f"--ipv4={host}/24", "--port=8080", "--rate=100000", "--burst=100000"],
                         stdout=out, stderr=subprocess.STDOUT)
    end = time.monotonic() + wait
    while time.monotonic() < end and g.poll() is None:
        probe = ["--cacert", CA, f"https://{host}/"] if tls else [f"http://{host}:8080/"]
        rc, body, _ = curl("-m", "2", "-s", "-o", "/dev/null", "-w", "%{http_code}", *probe)
        if rc == 0 and body == b"200":
            return g, True
        time.sleep(0.2)
    return g, False


def stop(g):
    g.terminate()
    try:
        g.wait(10)
    except subprocess.TimeoutExpired:
        g.kill()
        g.wait()


def get_json(path, url=URL):
    rc, body, _ = curl("-m", "10", "-s", f"{url}{path}")
    try:
        return json.loads(body)
    except ValueError:
        return {"raw": body[:200]}


ADATA = json.dumps({"v": 1, "iv": "AAAAAAAAAAAAAAAA", "salt": "", "iter": 0, "password": False,
                    "expire": "1week", "burn": False, "format": "plain", "lang": "", "comp": "deflate-raw"})
CT = "dW5pa2VybmVsIGNpcGhlcnRleHQ"
guest = None
try:
    guest, up = start()
    if not t.check(f"{NAME}: the page from pasteur.spt with its store on a block file", up, guest_output()[-400:]):
        t.done()
    rc, body, _ = curl("-m", "10", "-s", "-w", "\n%{http_code}", "-H", "Content-Type: application/json",
                       "--data-binary", json.dumps({"adata": ADATA, "ct": CT}), f"{URL}/api/paste")
    text, _, code = body.decode(errors="replace").rpartition("\n")
    try:
        made = json.loads(text)
    except ValueError:
        made = {}
    if not t.check(f"{NAME}: POST /api/paste (JSON) through the guest answers 201 {{id, url, delete_token}}",
                   code == "201" and len(made.get("id", "")) == 16 and len(made.get("delete_token", "")) == 32,
                   f"{code} {text[:200]} {guest_output()[-300:]}"):
        t.done()
    pid = made["id"]
    j = get_json(f"/api/paste/{pid}")
    t.check(f"{NAME}: GET /api/paste/ID gives the ciphertext and metadata back",
            j.get("ct") == CT and j.get("adata") == ADATA, str(j)[:200])
    stop(guest)
    guest, up = start()
    t.check(f"{NAME}: a second guest starts on the same block file", up, guest_output()[-400:])
    j = get_json(f"/api/paste/{pid}")
    t.check(f"{NAME}: after the restart the paste is read back intact",
            j.get("ct") == CT and j.get("adata") == ADATA, f"{str(j)[:200]} {guest_output()[-300:]}")
    t.check(f"{NAME}: the restarted store says it holds the paste", "store: 1 pastes" in guest_output(),
            guest_output()[-400:])
    rc, body, _ = curl("-m", "10", "-s", "-o", "/dev/null", "-w", "%{http_code}", "-H", "Content-Type: application/json",
                       "--data-binary", json.dumps({"adata": ADATA, "ct": CT})[:-1] + ', "n": 1.5}', f"{URL}/api/paste")
    t.check(f"{NAME}: a JSON number with a fraction is refused with 400 (integers only on the guests)",
            body == b"400", body.decode(errors="replace"))

    # Creates until the guest dies; acked holds (id, ct) of every 201.
    acked, stop_flag = [], threading.Event()

    def creator():
        i = 0
        while not stop_flag.is_set():
            ct = f"a2lsbGVk{i:08d}"
            try:
                c = http.client.HTTPConnection(HOST, 8080, timeout=5)
                c.request("POST", "/api/paste", json.dumps({"adata": ADATA, "ct": ct}),
                          {"Content-Type": "application/json"})
                r = c.getresponse()
                data = r.read()
                c.close()
            except (OSError, http.client.HTTPException):
                return
            if r.status == 201:
                acked.append((json.loads(data)["id"], ct))
            i += 1
    th = threading.Thread(target=creator)
    th.start()
    end = time.monotonic() + 10
    while len(acked) < 30 and time.monotonic() < end:
        time.sleep(0.01)
    guest.kill()
    guest.wait()
    stop_flag.set()
    th.join(10)
    guest, up = start()
    t.check(f"{NAME}: the guest killed while creating pastes starts again on its file", up and len(acked) >= 30,
            f"{len(acked)} acknowledged {guest_output()[-300:]}")
    missing = [(i, ct) for i, ct in acked if get_json(f"/api/paste/{i}").get("ct") != ct]
    t.check(f"{NAME}: all {len(acked)} pastes acknowledged before the SIGKILL are there, intact",
            up and not missing, f"{len(missing)} missing or damaged: {missing[:3]}")

    stop(guest)
    guest, up = start(tls=TLS_BLOCK)
    t.check(f"{NAME}: with --block:tls the guest answers HTTPS on 443", up, guest_output()[-400:])
    rc, body, _ = curl("-m", "20", "-s", "--cacert", CA, "-H", "Content-Type: application/json",
                       "--data-binary", json.dumps({"adata": ADATA, "ct": CT}), f"https://{HOST}/api/paste")
    try:
        tid = json.loads(body)["id"]
    except (ValueError, KeyError):
        tid = None
    rc, body, _ = curl("-m", "20", "-s", "--cacert", CA, f"https://{HOST}/api/paste/{pid}")
    try:
        old = json.loads(body).get("ct")
    except ValueError:
        old = None
    t.check(f"{NAME}: over HTTPS a paste is created and the first one is still there", tid and old == CT,
            f"{tid} {body[:200]}")
finally:
    if guest:
        stop(guest)
    os.unlink(STORE)
    shutil.rmtree(CERTS, ignore_errors=True)

if not os.access("/dev/kvm", os.R_OK | os.W_OK):
    t.skip(f"{NAME}: hvt smoke", "/dev/kvm is not usable")
    t.done()
HVT_HOST, HVT_STORE = "10.87.1.2", os.path.join(BUILD, f"pasteur-hvt-{os.getpid()}.img")
HVT_URL = f"http://{HVT_HOST}:8080"
with open(HVT_STORE, "wb") as f:
    f.truncate(4 << 20)
guest = None
try:
    guest, up = start(HVT, HVT_IMG, "uwpst1", HVT_STORE, HVT_HOST, wait=30)
    if t.check(f"{NAME}: hvt: the page from pasteur.hvt", up, guest_output()[-400:]):
        rc, body, _ = curl("-m", "20", "-s", "-H", "Content-Type: application/json",
                           "--data-binary", json.dumps({"adata": ADATA, "ct": CT}), f"{HVT_URL}/api/paste")
        try:
            pid = json.loads(body)["id"]
        except (ValueError, KeyError):
            pid = None
        j = get_json(f"/api/paste/{pid}", HVT_URL) if pid else {}
        t.check(f"{NAME}: hvt: a paste created and read back", j.get("ct") == CT and j.get("adata") == ADATA,
                f"{body[:200]} {str(j)[:200]}")
finally:
    if guest:
        stop(guest)
    os.unlink(HVT_STORE)
t.done()
