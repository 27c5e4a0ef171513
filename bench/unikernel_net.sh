#!/usr/bin/env bash
# bench/unikernel_net.sh — Hello World as an spt unikernel (its own TCP/IP
# stack, lwIP, on a tap device) beside the same app on the unix target
# (host sockets), under the same wrk load, in a network namespace this
# script creates and removes.
#
#     bench/unikernel_net.sh [--runs=N] [--duration=SEC] [--quick] [--bulk]
#
# Workloads (wrk, one thread, keep-alive):
#   c1        1 connection, one request at a time
#   c16       16 connections, one request at a time each
#   pipe16    16 connections, 16 pipelined requests per write
#   close16   16 connections, Connection: close (a new connection per request)
# The server (the tender uweb-spt, or build/apps/hello) is pinned to CPU 0,
# wrk to CPU 1.  Server CPU time: the first field of
# /proc/PID/task/*/schedstat (ns), summed over threads, before and after
# each run; "req/CPU-s" is requests divided by that.  spt is reached at
# 10.83.0.2 through a tap device of the usual MTU (1500) with the tap's
# offloads (the default), spt-off at 10.83.1.2 through another one of MTU
# 1500 with --net-offloads=off (one frame per MSS, as before offloads),
# unix at 127.0.0.1 in the namespace (loopback, MTU 65536).
# Each (target, workload) runs --runs times (default 3) for --duration
# seconds (default 5), targets alternating; medians are printed.
#
# Also: time from starting the tender to the first HTTP answer (median of
# 21 starts; from the moment of the start a client opens a new connection
# every 1 ms, keeping the older ones, and the first to answer a GET
# counts), the same for the unix process; on each target a 256 MiB upload
# through Crunch & Zip (the ZIP streamed back at the same time: 256 MiB
# each way) and a 64 MiB download from apps/site's image (random bytes,
# not compressed), median of --runs (at least 3; the targets take turns,
# a transfer each, so a slow spell of a shared machine falls on all of
# them), MB/s and server CPU per MB; the sizes of the app images.
# Goals (reported, not asserted): spt >= 0.8x unix in req/CPU-s and in
# MB/s both ways; first answer within 10 ms of start; crunchzip image
# under 1 MiB.  --bulk: the bulk transfers only.  UWEB_BUILD=DIR: use the
# programs built there (not rebuilt) instead of build/.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
RUNS=3
DURATION=5
BULK_ONLY=0
for a in "$@"; do
    case "$a" in
    --runs=*) RUNS=${a#*=} ;;
    --duration=*) DURATION=${a#*=} ;;
    --quick) RUNS=1; DURATION=2 ;;
    --bulk) BULK_ONLY=1 ;;
    -h|--help) sed -n '2,38p' "$0"; exit 0 ;;
    *) echo "unikernel_net.sh: unknown option $a" >&2; exit 2 ;;
    esac
done

[ "$(id -u)" = 0 ] || { echo "unikernel_net.sh: needs root (network namespace, tap device)" >&2; exit 1; }
command -v wrk >/dev/null || { echo "unikernel_net.sh: needs wrk" >&2; exit 1; }
if [ -z "${UWEB_BUILD:-}" ]; then
    UWEB_BUILD=$ROOT/build
    make -s build/uweb-spt build/apps/hello build/apps/crunchzip build/apps/site build/tools/uweb-image \
        build/spt/apps/hello.spt build/spt/apps/crunchzip.spt build/spt/apps/site.spt \
        build/hvt/apps/hello.hvt build/hvt/apps/crunchzip.hvt >&2
fi
echo "load average before: $(cut -d' ' -f1-3 /proc/loadavg)"

NS=uwbench$$
cleanup() { ip netns del "$NS" 2>/dev/null || true; }
trap cleanup EXIT
ip netns add "$NS"
ip -n "$NS" link set lo up
ip -n "$NS" tuntap add dev uwb0 mode tap
ip -n "$NS" addr add 10.83.0.1/24 dev uwb0
ip -n "$NS" link set uwb0 up
ip -n "$NS" tuntap add dev uwb1 mode tap
ip -n "$NS" addr add 10.83.1.1/24 dev uwb1
ip -n "$NS" link set uwb1 up

ip netns exec "$NS" env RUNS="$RUNS" DURATION="$DURATION" BULK_ONLY="$BULK_ONLY" ROOT="$ROOT" B="$UWEB_BUILD" python3 - <<'EOF'
import os, re, select, socket, statistics, subprocess, time

ROOT, RUNS, DURATION = os.environ["ROOT"], int(os.environ["RUNS"]), int(os.environ["DURATION"])
B = os.environ["B"]
os.sched_setaffinity(0, {1})   # this client beside wrk, away from the server's CPU
LUA = os.path.join(ROOT, "bench")
TARGETS = {
    "spt": ("10.83.0.2", [f"{B}/uweb-spt", "--net:service=uwb0", "--", f"{B}/spt/apps/hello.spt",
                          "--ipv4=10.83.0.2/24", "--port=8080", "--quiet"]),
    "spt-off": ("10.83.1.2", [f"{B}/uweb-spt", "--net-offloads=off", "--net:service=uwb1", "--",
                              f"{B}/spt/apps/hello.spt", "--ipv4=10.83.1.2/24", "--port=8080", "--quiet"]),
    "unix": ("127.0.0.1", [f"{B}/apps/hello", "--addr=127.0.0.1", "--port=8080", "--quiet"]),
}
WORKLOADS = {"c1": (1, "hello_single.lua", []), "c16": (16, "hello_single.lua", []),
             "pipe16": (16, "hello_pipeline.lua", ["--", "16"]),
             "close16": (16, "hello_single.lua", ["-H", "Connection: close"])}


def cpu_ns(pid):
    total = 0
    for t in os.listdir(f"/proc/{pid}/task"):
        with open(f"/proc/{pid}/task/{t}/schedstat") as f:
            total += int(f.read().split()[0])
    return total


def first_answer(addr, t0, limit=10.0):
    """Seconds from t0 to the first HTTP answer: a new non-blocking
    connection attempt every 1 ms, older ones kept, the first to answer
    wins (a SYN sent before the guest listens is not waited for)."""
    pending, sent = [], set()
    next_try = 0.0
    try:
        while True:
            now = time.monotonic()
            if now - t0 > limit:
                return None
            if now >= next_try:
                old = [x for x in pending if x not in sent]
                if len(old) >= 256:        # a slow start: keep the newest attempts only
                    pending.remove(old[0])
                    old[0].close()
                s = socket.socket()
                s.setblocking(False)
                s.connect_ex((addr, 8080))
                pending.append(s)
                next_try = now + 0.001
            _, w, _ = select.select([], [x for x in pending if x not in sent], [], 0.0002)
            for x in w:
                if x.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR) == 0:
                    x.send(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
                    sent.add(x)
                else:
                    pending.remove(x)
                    x.close()
            if sent:
                r, _, _ = select.select(list(sent), [], [], 0)
                for x in r:
                    try:
                        if x.recv(4096).startswith(b"HTTP/1.1 200"):
                            return time.monotonic() - t0
                    except OSError:
                        pass
                    sent.discard(x)
                    pending.remove(x)
                    x.close()
    finally:
        for x in pending:
            x.close()


def start(target):
    addr, argv = TARGETS[target]
    t0 = time.monotonic()
    p = subprocess.Popen(["taskset", "-c", "0"] + argv, stdout=subprocess.DEVNULL)
    dt = first_answer(addr, t0)
    if dt is None:
        status = p.poll()
        stop(p)
        raise SystemExit(f"{target} does not answer ({' '.join(argv)}: exit status {status})")
    return p, dt


def stop(p):
    p.kill()
    p.wait()


res = {}
for r in range(0 if os.environ["BULK_ONLY"] == "1" else RUNS):
    for w, (conns, lua, extra) in WORKLOADS.items():
        for target in TARGETS:
            addr = TARGETS[target][0]
            p, _ = start(target)
            subprocess.run(["taskset", "-c", "1", "wrk", "-t1", f"-c{conns}", "-d1s",
                            "-s", f"{LUA}/{lua}", f"http://{addr}:8080/"] + extra, capture_output=True)
            c0 = cpu_ns(p.pid)
            out = subprocess.run(["taskset", "-c", "1", "wrk", "-t1", f"-c{conns}", f"-d{DURATION}s",
                                  "-s", f"{LUA}/{lua}", f"http://{addr}:8080/"] + extra,
                                 capture_output=True, text=True).stdout
            c1 = cpu_ns(p.pid)
            stop(p)
            m = re.search(r"RESULT requests=(\d+) duration_us=(\d+) p50_us=(\d+) p99_us=(\d+) "
                          r"errors_connect=(\d+) errors_read=(\d+) errors_write=(\d+) errors_timeout=(\d+) errors_status=(\d+)", out)
            if not m:
                raise SystemExit(f"wrk gave no result for {target} {w}: {out}")
            n, us, p50, p99 = (int(m.group(i)) for i in range(1, 5))
            errs = sum(int(m.group(i)) for i in range(5, 10))
            res.setdefault((target, w), []).append((n / (us / 1e6), n / ((c1 - c0) / 1e9), p50, p99, errs))

if res:
    print(f"## Hello World: spt vs unix ({RUNS} runs x {DURATION} s, medians)\n")
    print("| workload | target | req/s | req/CPU-s | p50 | p99 | errors |")
    print("|---|---|---|---|---|---|---|")
    for w in WORKLOADS:
        for target in TARGETS:
            rows = res[(target, w)]
            med = lambda i: statistics.median(r[i] for r in rows)
            print(f"| {w} | {target} | {med(0):,.0f} | {med(1):,.0f} | {med(2):.0f} us | {med(3):.0f} us | {sum(r[4] for r in rows)} |")
    print()
    print("| workload | target | req/s vs unix | req/CPU-s vs unix |")
    print("|---|---|---|---|")
    for w in WORKLOADS:
        u = res[("unix", w)]
        for target in ("spt", "spt-off"):
            s = res[(target, w)]
            rs = statistics.median(r[0] for r in s) / statistics.median(r[0] for r in u)
            rc = statistics.median(r[1] for r in s) / statistics.median(r[1] for r in u)
            print(f"| {w} | {target} | {rs:.2f}x | {rc:.2f}x |")

    print("\n## Start to first HTTP answer (median of 21 starts)\n")
    print("| target | median | min | max |")
    print("|---|---|---|---|")
    for target in ("spt", "unix"):
        ts = []
        for _ in range(21):
            p, dt = start(target)
            stop(p)
            ts.append(dt * 1000)
        print(f"| {target} | {statistics.median(ts):.2f} ms | {min(ts):.2f} ms | {max(ts):.2f} ms |")


def transfer(name, addr, argv, curl_args, size):
    """(seconds, server CPU-s) of one curl against a server started for it."""
    TARGETS["bulk"] = (addr, argv)
    p, _ = start("bulk")
    c0 = cpu_ns(p.pid)
    t0 = time.monotonic()
    r = subprocess.run(["taskset", "-c", "1", "curl", "-sS", "-f", "-o", "/dev/null", "-w", "%{size_download}"]
                       + curl_args, capture_output=True, text=True)
    dt = time.monotonic() - t0
    c1 = cpu_ns(p.pid)
    stop(p)
    del TARGETS["bulk"]
    if r.returncode != 0 or int(r.stdout or 0) < size:
        raise SystemExit(f"{name} failed: {r.stderr} ({r.stdout} bytes)")
    return dt, (c1 - c0) / 1e9


def transfers(kind, specs, curl_args, size):
    """max(RUNS, 3) rounds, each one transfer per target in turn (so a
    slow spell of the machine falls on every target alike); the median
    seconds and server CPU-s of each target go to bulk[(target, kind)]."""
    runs = {target: [] for target in specs}
    for _ in range(max(RUNS, 3)):
        for target, (addr, argv) in specs.items():
            runs[target].append(transfer(f"{kind} with {target}", addr, argv, curl_args(addr), size))
    for target, rs in runs.items():
        bulk[(target, kind)] = (statistics.median(x[0] for x in rs), statistics.median(x[1] for x in rs))


big = os.path.join(B, "bench", "unikernel_net_upload.bin")
os.makedirs(os.path.dirname(big), exist_ok=True)
with open(big, "wb") as f:
    f.write(os.urandom(256 << 20))


def spt(app, n, off):
    return (f"10.83.{n}.2", [f"{B}/uweb-spt"] + (["--net-offloads=off"] if off else [])
            + [f"--net:service=uwb{n}", "--", f"{B}/spt/apps/{app}.spt", f"--ipv4=10.83.{n}.2/24",
               "--port=8080", "--quiet"])


BULK = {
    "spt": spt("crunchzip", 0, False),
    "spt-off": spt("crunchzip", 1, True),
    "unix": ("127.0.0.1", [f"{B}/apps/crunchzip", "--addr=127.0.0.1", "--port=8080", "--quiet"]),
}
bulk = {}
transfers("cz", BULK, lambda addr: ["-F", f"f=@{big};filename=big.bin", f"http://{addr}:8080/upload"], 256 << 20)
os.unlink(big)

# A 64 MiB file (random bytes: served as they are, no compression) from
# apps/site's image: a download alone, beside the upload above.
site_dir = os.path.join(B, "bench", "unikernel_net_site")
os.makedirs(site_dir, exist_ok=True)
with open(os.path.join(site_dir, "index.html"), "w") as f:
    f.write("<!doctype html><title>bench</title>\n")
with open(os.path.join(site_dir, "big.bin"), "wb") as f:
    f.write(os.urandom(64 << 20))
img = os.path.join(B, "bench", "unikernel_net_site.img")
subprocess.run([f"{B}/tools/uweb-image", "build", site_dir, "-o", img, "-q"], check=True)


def spt_site(n, off):
    return (f"10.83.{n}.2", [f"{B}/uweb-spt"] + (["--net-offloads=off"] if off else [])
            + [f"--net:service=uwb{n}", f"--block:site={img}", "--", f"{B}/spt/apps/site.spt",
               f"--ipv4=10.83.{n}.2/24", "--port=8080", "--quiet"])


SITE = {
    "spt": spt_site(0, False),
    "spt-off": spt_site(1, True),
    "unix": ("127.0.0.1", [f"{B}/apps/site", f"--image={img}", "--addr=127.0.0.1", "--port=8080", "--quiet"]),
}
transfers("dl", SITE, lambda addr: [f"http://{addr}:8080/big.bin"], 64 << 20)
os.unlink(img)

print(f"\n## Bulk data, MTU 1500 (medians of {max(RUNS, 3)})\n")
print("| transfer | target | seconds | MB/s | vs unix | server CPU-s | server CPU-ms per MB |")
print("|---|---|---|---|---|---|---|")
for kind, what, mb in (("cz", "Crunch & Zip: 256 MiB up, its ZIP down (MB/s each way)", 256 * 1.048576),
                       ("dl", "apps/site: a 64 MiB file from an image, download", 64 * 1.048576)):
    for target in BULK:
        dt, cpu = bulk[(target, kind)]
        ratio = bulk[("unix", kind)][0] / dt
        print(f"| {what if target == 'spt' else ''} | {target} | {dt:.2f} | {mb / dt:,.0f} | {ratio:.2f}x | "
              f"{cpu:.2f} | {cpu * 1000 / mb:.2f} |")

print(f"\nload average after: {open('/proc/loadavg').read().split()[:3]}")
print("\n## Image sizes\n")
print("| image | bytes |")
print("|---|---|")
for t in ("spt", "hvt"):
    for a in ("hello", "crunchzip"):
        path = f"{B}/{t}/apps/{a}.{t}"
        if os.path.exists(path):
            print(f"| {a}.{t} | {os.path.getsize(path):,} |")
EOF
