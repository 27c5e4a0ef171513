#!/usr/bin/env bash
# ACME figures against pebble (Debian's ACME test server, validation sleep
# off): the time from hello's start to its first HTTPS answer with a
# certificate pebble issued, by HTTP-01 and by TLS-ALPN-01 (median of
# RUNS), and the requests that fail while the certificate is renewed under
# load: uweb-bench over HTTPS, with a new TLS handshake per request
# (Connection: close) and over keep-alive connections, while hello renews
# every 2 s (--acme-renew-after=2).
#
#   bench/acme.sh                 B=build RUNS=5 SECONDS_LOAD=8
set -euo pipefail
cd "$(dirname "$0")/.."
B=${B:-build}
RUNS=${RUNS:-5}
SECONDS_LOAD=${SECONDS_LOAD:-8}
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
