#!/usr/bin/python3
"""Durable block writes on spt: pasteur.spt under strace, its store on a
file (--block:store=FILE) in a network namespace of its own
(tests/lib/uwnetns.py).  The tender opens the block file with O_DSYNC
(so each guest pwrite64 is durable when it returns, and uw_block_flush
rightly does nothing: the platform ABI has no flush call and the seccomp
filter no fdatasync); a paste is created, and once the 201 is in, the
guest's pwrite64 of its record to that file has returned and the
ciphertext is on the file.  No root, no tap or no strace is a skip; the
tender or the image not built is a failure.
"""
import json
import os
import signal
import re
import shutil
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
from uwtest import T, BUILD, curl  # noqa: E402
from uwnetns import run_inside  # noqa: E402

t = T()
NAME = "spt durable block writes"
SPT, IMG = os.path.join(BUILD, "uweb-spt"), os.path.join(BUILD, "spt", "apps", "pasteur.spt")
if "--inside" not in sys.argv:
    t.require_built(SPT, IMG)
    if not shutil.which("strace"):
        t.skip(NAME, "no strace")
        t.done()
    run_inside(t, NAME, "uwpdu", [("uwpdu0", "10.86.0.1/24")])

tmp = tempfile.mkdtemp(prefix="uweb-pasteur-durable-")
store, trace = os.path.join(tmp, "store.img"), os.path.join(tmp, "strace.txt")
with open(store, "wb") as f:
    f.truncate(8 << 20)
g = subprocess.Popen(["strace", "-f", "-e", "trace=openat,pwrite64,fdatasync,fsync", "-o", trace, SPT, "--mem=64",
                      "--net:service=uwpdu0", f"--block:store={store}", "--", IMG, "--ipv4=10.86.0.2/24",
                      "--port=8080"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                     start_new_session=True)   # strace and the tender it runs: one group to stop
try:
    ct = "RFVSQUJMRQ" * 100
    adata = json.dumps({"v": 1, "iv": "AAAAAAAAAAAAAAAA", "salt": "", "iter": 0, "password": False, "expire": "1day",
                        "burn": False, "format": "plain", "lang": "", "comp": "deflate-raw"})
    body = json.dumps({"adata": adata, "ct": ct})
    paste, end = None, time.monotonic() + 30
    while paste is None and time.monotonic() < end and g.poll() is None:
        r = curl("-s", "-m", "3", "-H", "Content-Type: application/json", "--data-binary", body,
                 "http://10.86.0.2:8080/api/paste")
        try:
            paste = json.loads(r[1])["id"]
        except (ValueError, KeyError, TypeError):
            time.sleep(0.3)
    t.check("a paste is created through the guest", paste is not None, "no answer from pasteur.spt")
    with open(store, "rb") as f:
        t.check("the acknowledged paste's ciphertext is on the block file", ct.encode() in f.read())
    time.sleep(0.2)                         # strace writes its lines as the calls return
    log = open(trace).read()
    m = re.search(r'openat\([^"]*"' + re.escape(store) + r'", ([A-Z_|]+)\) = (\d+)', log)
    t.check("the tender opens the block file with O_DSYNC", m is not None and "O_DSYNC" in m.group(1),
            m.group(0) if m else "no openat of the file")
    fd = m.group(2) if m else "?"
    t.check("the guest wrote records with pwrite64 on that file",
            re.search(rf"pwrite64\({fd}, \"UWPR", log) is not None)
    t.check("no fdatasync or fsync was needed", "fdatasync" not in log and "fsync(" not in log)
finally:
    os.killpg(g.pid, signal.SIGKILL)   # killing strace alone would leave the tender running
    g.wait()
    shutil.rmtree(tmp, ignore_errors=True)
t.done()
