#!/usr/bin/env bash
# ACME figures against pebble (Debian's ACME test server, validation sleep
# off): the time from hello's start to its first HTTPS answer with a
# certificate pebble issued, by HTTP-01 and by TLS-ALPN-01 (median of
# RUNS), and the requests that fail while the certificate is renewed under
# load: uweb-bench over HTTPS, with a new TLS handshake per request
# (Connection: close) and over keep-alive connections, while hello renews
# every 2 s (--acme-renew-after=2).  As root with uweb-spt built: the same
# start-to-served time for hello.spt (state on a fresh block device acme
# each run) and the same renewal under load, against pebble in a network
# namespace of its own (SPT=0 leaves it out, UNIX=0 the unix part).
#
#   bench/acme.sh                 B=build RUNS=5 SECONDS_LOAD=8 SPT=1 UNIX=1
set -euo pipefail
cd "$(dirname "$0")/.."
B=${B:-build}
RUNS=${RUNS:-5}
SECONDS_LOAD=${SECONDS_LOAD:-8}
if [ "${UNIX:-1}" = 1 ]; then
make -s B="$B" "$B/apps/hello" "$B/tools/uweb-bench" >/dev/null
UWEB_BUILD=$PWD/$B RUNS=$RUNS SECONDS_LOAD=$SECONDS_LOAD python3 - <<'EOF'
import os, re, socket, ssl, statistics, subprocess, sys, tempfile, time
sys.path.insert(0, "tests/lib")
from uwtest import BUILD, Server, free_port
import pebble

runs, load_s = int(os.environ["RUNS"]), int(os.environ["SECONDS_LOAD"])
work = tempfile.mkdtemp(prefix="uweb-acme-bench-")

def args(pb, *extra):
    return [f"--tls-port={pb.tls_port}", f"--acme-directory={pb.directory}", "--acme-domain=localhost",
            f"--acme-ca={pb.api_ca}", "--acme-agree-tos", "--acme-retry=1", "--quiet", *extra]

def served(port, roots):
    ctx = ssl.create_default_context(cafile=roots)
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=1) as raw:
            with ctx.wrap_socket(raw, server_hostname="localhost") as c:
                c.sendall(b"GET / HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n")
                return c.recv(64).startswith(b"HTTP/1.1 200")
    except (OSError, ssl.SSLError):
        return False

hp, tp = free_port(), free_port()
with pebble.Pebble(hp, tp) as pb:
    roots = os.path.join(work, "roots.pem")
    open(roots, "wb").write(pb.roots())
    for challenge in ("http-01", "tls-alpn-01"):
        times = []
        for _ in range(runs):
            t0 = time.time()
            with Server("hello", port=hp, args=args(pb, f"--acme-challenge={challenge}")):
                while not served(tp, roots) and time.time() - t0 < 30:
                    time.sleep(0.01)
                times.append(time.time() - t0)
        print(f"acme {challenge}: start to a served certificate, median of {runs}: "
              f"{statistics.median(times):.2f} s (min {min(times):.2f}, max {max(times):.2f})")
    with Server("hello", port=hp, args=[a for a in args(pb, "--acme-renew-after=2") if a != "--quiet"]) as s:
        t0 = time.time()
        while not served(tp, roots) and time.time() - t0 < 30:
            time.sleep(0.01)
        for label, extra in (("a handshake per request", ["-H", "Connection: close"]), ("keep-alive", [])):
            before = len(re.findall(r"acme: certificate for \S+ issued", s.output()))
            p = subprocess.run([os.path.join(BUILD, "tools", "uweb-bench"), f"https://localhost:{tp}/", "-c", "8",
                                "-d", f"{load_s}s", *extra, "--cacert", roots], capture_output=True, text=True)
            renewals = len(re.findall(r"acme: certificate for \S+ issued", s.output())) - before
            req = re.search(r"requests\s+(\d+)", p.stdout)
            conns = re.search(r"connections\s+(\d+) opened", p.stdout)
            errs = re.search(r"errors\s+(\d+)", p.stdout)
            print(f"acme renewal under load ({label}): {renewals} renewals in {load_s} s; uweb-bench -c 8: "
                  f"{req.group(1) if req else '?'} requests on {conns.group(1) if conns else '?'} connections, "
                  f"{errs.group(1) if errs else '?'} failed (exit {p.returncode})")
EOF
fi

# ---------------------------------------------------------------- spt
[ "${SPT:-1}" = 1 ] || exit 0
if [ "$(id -u)" != 0 ] || [ ! -x "$B/uweb-spt" ]; then
    echo "acme spt: skipped (needs root and $B/uweb-spt)"
    exit 0
fi
make -s B="$B" TARGET=spt "$B/spt/apps/hello.spt" "$B/tools/uweb-bench" >/dev/null
NS=uwacb$$
ip netns add "$NS"
trap 'ip netns del "$NS" 2>/dev/null' EXIT
ip -n "$NS" link set lo up
ip -n "$NS" tuntap add dev uwacmeb mode tap
ip -n "$NS" addr add 10.89.2.1/24 dev uwacmeb
ip -n "$NS" link set uwacmeb up
UWEB_BUILD=$PWD/$B RUNS=$RUNS SECONDS_LOAD=$SECONDS_LOAD ip netns exec "$NS" python3 - <<'EOF'
import os, re, socket, ssl, statistics, subprocess, sys, tempfile, time
sys.path.insert(0, "tests/lib")
from uwtest import BUILD
import pebble

runs, load_s = int(os.environ["RUNS"]), int(os.environ["SECONDS_LOAD"])
work = tempfile.mkdtemp(prefix="uweb-acme-bench-spt-")

def block(path, data=b"", size=65536):
    with open(path, "wb") as f:
        f.write(data)
        f.truncate(max(size, (len(data) + 511) // 512 * 512))
    return path

def served(roots):
    ctx = ssl.create_default_context(cafile=roots)
    try:
        # a short connect timeout: before the guest answers ARP a connect
        # hangs until it expires
        with socket.create_connection(("10.89.2.2", 443), timeout=0.1) as raw:
            raw.settimeout(2)
            with ctx.wrap_socket(raw, server_hostname="hello.test") as c:
                c.sendall(b"GET / HTTP/1.1\r\nHost: hello.test\r\nConnection: close\r\n\r\n")
                return c.recv(64).startswith(b"HTTP/1.1 200")
    except (OSError, ssl.SSLError):
        return False

with pebble.Pebble(80, 443, api_host="10.89.2.1", target="10.89.2.2") as pb:
    roots = os.path.join(work, "roots.pem")
    open(roots, "wb").write(pb.roots())
    ca = block(os.path.join(work, "ca.img"), open(pb.api_ca, "rb").read(), 0)
    for challenge in ("http-01", "tls-alpn-01"):
        times = []
        for i in range(runs):
            state = block(os.path.join(work, f"acme{challenge}{i}.img"))
            t0 = time.time()
            p = subprocess.Popen([os.path.join(BUILD, "uweb-spt"), "--mem=64", "--net:service=uwacmeb",
                                  f"--block:acme={state}", f"--block:acmeca={ca}", "--",
                                  os.path.join(BUILD, "spt", "apps", "hello.spt"), "--ipv4=10.89.2.2/24",
                                  "--port=80", "--tls-port=443", f"--acme-directory={pb.directory}",
                                  "--acme-domain=hello.test", "--acme-ca=acmeca", "--acme-agree-tos",
                                  "--acme-retry=1", f"--acme-challenge={challenge}", "--quiet"],
                                 stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            while not served(roots) and time.time() - t0 < 60:
                time.sleep(0.01)
            times.append(time.time() - t0)
            p.kill()
            p.wait()
        print(f"acme spt {challenge}: start to a served certificate, median of {runs}: "
              f"{statistics.median(times):.2f} s (min {min(times):.2f}, max {max(times):.2f})")
    # renewal every 2 s under load (uweb-bench --insecure: the name is
    # hello.test, the bench dials the address; the handshakes are real)
    state = block(os.path.join(work, "acme-renew.img"))
    log = open(os.path.join(work, "renew.log"), "w+b")
    p = subprocess.Popen([os.path.join(BUILD, "uweb-spt"), "--mem=64", "--net:service=uwacmeb",
                          f"--block:acme={state}", f"--block:acmeca={ca}", "--",
                          os.path.join(BUILD, "spt", "apps", "hello.spt"), "--ipv4=10.89.2.2/24",
                          "--port=80", "--tls-port=443", f"--acme-directory={pb.directory}",
                          "--acme-domain=hello.test", "--acme-ca=acmeca", "--acme-agree-tos",
                          "--acme-retry=1", "--acme-renew-after=2"], stdout=log, stderr=subprocess.STDOUT)
    t0 = time.time()
    while not served(roots) and time.time() - t0 < 60:
        time.sleep(0.05)
    count = lambda: len(re.findall(rb"acme: certificate for \S+ issued", os.pread(log.fileno(), 1 << 24, 0)))  # noqa: E731
    for label, extra in (("a handshake per request", ["-H", "Connection: close"]), ("keep-alive", [])):
        before = count()
        r = subprocess.run([os.path.join(BUILD, "tools", "uweb-bench"), "https://10.89.2.2/", "-c", "8",
                            "-d", f"{load_s}s", *extra, "--insecure"], capture_output=True, text=True)
        renewals = count() - before
        req = re.search(r"requests\s+(\d+)", r.stdout)
        conns = re.search(r"connections\s+(\d+) opened", r.stdout)
        errs = re.search(r"errors\s+(\d+)", r.stdout)
        print(f"acme spt renewal under load ({label}): {renewals} renewals in {load_s} s; uweb-bench -c 8: "
              f"{req.group(1) if req else '?'} requests on {conns.group(1) if conns else '?'} connections, "
              f"{errs.group(1) if errs else '?'} failed (exit {r.returncode})")
    p.kill()
    p.wait()
EOF
