#!/usr/bin/env python3
"""HTTPS to unikernels: hello and crunchzip as spt guests in a network
namespace (tests/lib/uwnetns.py), their certificate and key from the block
device "tls" (--block:tls=FILE, the one PEM file scripts/mkcert.sh makes:
certificate then key), HTTPS on port 443.

Checks: curl --cacert over TLS 1.3 and 1.2 to hello.spt (the certificate
verified for the guest's address); a 256 MiB upload over HTTPS to
crunchzip.spt with --mem=32, the zip checked; hvt: one HTTPS request to
hello.hvt (smoke; /dev/kvm needed; on an emulated /dev/kvm, no vmx/svm,
a handshake takes tens of seconds, so it runs only with UWEB_HVT_HTTPS=1).  An app whose manifest declares no
block device "tls" (build/gen/manifest/APP.c) has no TLS listener: the
checks say skipped with that reason.  No root, no tap device or no
usable /dev/kvm is a skip; a tender or image not built is a failure.
"""
import os
import subprocess
import sys
import tempfile
import time
import zipfile

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
from uwtest import T, BUILD, ROOT, curl  # noqa: E402
from uwnetns import run_inside  # noqa: E402

t = T()
NAME = "unikernel https"
SPT, HVT = os.path.join(BUILD, "uweb-spt"), os.path.join(BUILD, "uweb-hvt")


def image(target, a):
    return os.path.join(BUILD, target, "apps", f"{a}.{target}")


def declares_tls(a):
    try:
        text = open(os.path.join(BUILD, "gen", "manifest", f"{a}.c")).read()
        return 'UW_PLAT_BLOCK("tls")' in text or 'UW_PLAT_BLOCK_OPTIONAL("tls")' in text
    except OSError:
        return False


missing = [a for a in ("hello", "crunchzip") if not declares_tls(a)]
if missing:
    t.skip(NAME, f"{' and '.join(missing)} declare no block device \"tls\" in their manifest "
           f"(UK_MANIFEST_NAME): no TLS listener on the unikernels in this build")
    t.done()
if "--inside" not in sys.argv:
    t.require_built(SPT, HVT, image("spt", "hello"), image("spt", "crunchzip"), image("hvt", "hello"))
    run_inside(t, NAME, "uwtls", [(f"uwtls{n}", f"10.83.{n}.1/24") for n in (1, 2, 3)])

ca = tempfile.mkdtemp(prefix="uweb-net-https-")
subprocess.run([os.path.join(ROOT, "scripts", "mkcert.sh"), ca], check=True,
               env={**os.environ, "MKCERT_SAN": "IP:10.83.1.2,IP:10.83.2.2,IP:10.83.3.2"})
CA, BLOCK = os.path.join(ca, "ca.pem"), os.path.join(ca, "localhost-block.img")


def start(target, a, n, mem, probe="https", wait=20, extra=()):
    """The guest on uwtlsN at 10.83.N.2; (process, its output so far as a callable, ready:
    it answered PROBE, https on 443 or http on 8080, within WAIT seconds)."""
    out = tempfile.TemporaryFile()
    argv = [SPT if target == "spt" else HVT, f"--mem={mem}", f"--net:service=uwtls{n}", f"--block:tls={BLOCK}",
            "--", image(target, a), f"--ipv4=10.83.{n}.2/24", "--port=8080", *extra]
    p = subprocess.Popen(argv, stdout=out, stderr=subprocess.STDOUT)

    def text():
        return os.pread(out.fileno(), os.fstat(out.fileno()).st_size, 0).decode(errors="replace")
    end = time.monotonic() + wait
    url = f"https://10.83.{n}.2/" if probe == "https" else f"http://10.83.{n}.2:8080/"
    while time.monotonic() < end and p.poll() is None:
        rc, body, _ = curl("--cacert", CA, "-m", "2" if probe == "https" else "10", url)
        if rc == 0:
            return p, text, True
        time.sleep(0.2)
    return p, text, False


def stop(p):
    if p.poll() is None:
        p.kill()
    p.wait()


p, text, ready = start("spt", "hello", 1, 16)
try:
    if t.check("spt: hello answers HTTPS on 443 with the certificate from --block:tls", ready, text()[-300:]):
        for flags, want in ((["--tlsv1.3"], "TLSv1.3"), (["--tlsv1.2", "--tls-max", "1.2"], "TLSv1.2")):
            rc, body, err = curl("-v", "--cacert", CA, *flags, "https://10.83.1.2/")
            t.check(f"spt: curl {' '.join(flags)} gets Hello World! over {want}, the certificate verified",
                    rc == 0 and body == b"Hello World!\n" and f"SSL connection using {want}" in err,
                    f"exit {rc}: {err.strip()[-200:]}")
finally:
    stop(p)

p, text, ready = start("spt", "crunchzip", 2, 32)
try:
    if t.check("spt: crunchzip (--mem=32) answers HTTPS", ready, text()[-300:]):
        tmp = tempfile.mkdtemp(dir=ca)
        src, out = os.path.join(tmp, "big.bin"), os.path.join(tmp, "big.zip")
        with open(src, "wb") as f:
            for _ in range(256):
                f.write(os.urandom(1 << 20))
        start_t = time.monotonic()
        rc, _, err = curl("-f", "--cacert", CA, "-o", out, "-F", f"f=@{src};filename=big.bin",
                          "https://10.83.2.2/upload", timeout=600)
        secs = time.monotonic() - start_t
        ok, why = rc == 0, err
        if ok:
            try:
                with zipfile.ZipFile(out) as z:
                    ok = z.testzip() is None and z.getinfo("big.bin").file_size == 256 << 20
                    why = "CRC or size mismatch"
            except Exception as x:
                ok, why = False, repr(x)
        print(f"# 256 MiB upload over HTTPS through spt (--mem=32) in {secs:.1f} s", flush=True)
        t.check(f"spt: a 256 MiB upload over HTTPS through a --mem=32 crunchzip comes back whole ({secs:.0f} s)",
                ok and p.poll() is None, why or text()[-300:])
finally:
    stop(p)

def emulated_kvm():
    """True when the CPU has no vmx/svm: /dev/kvm is emulated, ~1000x slow."""
    try:
        flags = open("/proc/cpuinfo").read().split()
    except OSError:
        return False
    return "vmx" not in flags and "svm" not in flags


if not os.access("/dev/kvm", os.R_OK | os.W_OK):
    t.skip("hvt: one HTTPS request", "/dev/kvm is not usable")
elif emulated_kvm() and not os.environ.get("UWEB_HVT_HTTPS"):
    t.skip("hvt: one HTTPS request", "this host's /dev/kvm is emulated (no vmx/svm): one TLS handshake of the "
           "SSE-less hvt guest takes tens of seconds here (past this test's budget and the default 10 s "
           "handshake timeout); UWEB_HVT_HTTPS=1 tests/net/https.py runs it")
else:
    # An emulated /dev/kvm is slow: the guest gets minutes for the handshake.
    p, text, ready = start("hvt", "hello", 3, 32, probe="http", wait=120, extra=("--handshake-timeout=300",))
    try:
        start_t = time.monotonic()
        rc, body, err = curl("--cacert", CA, "-m", "280", "https://10.83.3.2/", timeout=300)
        secs = time.monotonic() - start_t
        t.check(f"hvt: hello answers one HTTPS request (smoke, {secs:.0f} s)",
                ready and rc == 0 and body == b"Hello World!\n",
                f"exit {rc}: {err.strip()[-200:]} {text()[-200:]}")
    finally:
        stop(p)
t.done()
