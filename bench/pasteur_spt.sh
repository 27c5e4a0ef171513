#!/usr/bin/env bash
# bench/pasteur_spt.sh — Pasteur as an spt unikernel (lwIP on a tap, its
# block store on a file through the tender) beside the same app on unix
# (host sockets, the store on a file), both on the block store, under the
# same uweb-bench load, in a network namespace this script creates and
# removes (root needed).
#
#     bench/pasteur_spt.sh [--runs=N] [--duration=SEC]
#
# Workloads, each --runs times (default 3) for --duration seconds (default
# 3), targets alternating, medians reported:
#   read-1k     GET of a 1 KiB paste, open loop at 1000 requests/s, 10 connections: p50, p99
#   create-1k   POST of a 1 KiB paste, closed loop, 4 connections: requests/s, p99
#               (each 201 after the store's flush: fdatasync on unix, the
#               tender's flush of the block device on spt)
# spt is reached at 10.88.0.2 through a tap (MTU 1500), unix at 127.0.0.1
# in the namespace.  Prints each figure and the spt/unix ratio.
# B=DIR: the build (default build).
set -euo pipefail
cd "$(dirname "$0")/.."
B=${B:-build}
RUNS=3 DUR=3
for a in "$@"; do
  case "$a" in
    --runs=*) RUNS=${a#*=} ;;
    --duration=*) DUR=${a#*=} ;;
    *) echo "usage: bench/pasteur_spt.sh [--runs=N] [--duration=SEC]" >&2; exit 2 ;;
  esac
done
[ "$(id -u)" = 0 ] || { echo "bench/pasteur_spt.sh: needs root (a network namespace and a tap)" >&2; exit 1; }
make -s B="$B" "$B/apps/pasteur" "$B/spt/apps/pasteur.spt" "$B/uweb-spt" "$B/tools/uweb-bench" >/dev/null
work=$(cd "$B" && pwd)/bench/pasteur-spt
mkdir -p "$work"
NS=uwpstb$$
cleanup() { ip netns del "$NS" 2>/dev/null || true; rm -f "$work"/*.img; }
trap cleanup EXIT
ip netns add "$NS"
ip -n "$NS" link set lo up
ip -n "$NS" tuntap add dev uwpb0 mode tap
ip -n "$NS" addr add 10.88.0.1/24 dev uwpb0
ip -n "$NS" link set uwpb0 up
ip netns exec "$NS" env RUNS="$RUNS" DUR="$DUR" B="$(cd "$B" && pwd)" WORK="$work" python3 - <<'PY'
import json, os, statistics, subprocess, time
B, W, RUNS, DUR = os.environ["B"], os.environ["WORK"], int(os.environ["RUNS"]), os.environ["DUR"]
adata = json.dumps({"v": 1, "iv": "AAAAAAAAAAAAAAAA", "salt": "", "iter": 0, "password": False, "expire": "1day",
                    "burn": False, "format": "plain", "lang": "", "comp": "deflate-raw"})
body = os.path.join(W, "paste-1k.json")
open(body, "w").write(json.dumps({"adata": adata, "ct": "A" * 1024}))
procs, url = {}, {}
for t in ("spt", "unix"):
    img = os.path.join(W, f"{t}.img")
    with open(img, "wb") as f:
        f.truncate(256 << 20)
    opts = ["--quiet", "--rate=100000000", "--burst=100000000"]
    if t == "spt":
        argv = [f"{B}/uweb-spt", "--mem=256", "--net:service=uwpb0", f"--block:store={img}", "--",
                f"{B}/spt/apps/pasteur.spt", "--ipv4=10.88.0.2/24", "--port=8080", *opts]
        url[t] = "http://10.88.0.2:8080"
    else:
        argv = [f"{B}/apps/pasteur", f"--block:store={img}", "--port=8081", *opts]
        url[t] = "http://127.0.0.1:8081"
    procs[t] = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
ids = {}
try:
    for t in procs:
        end = time.monotonic() + 20
        while time.monotonic() < end:
            r = subprocess.run(["curl", "-s", "-m", "2", "-H", "Content-Type: application/json",
                                "--data-binary", f"@{body}", f"{url[t]}/api/paste"], capture_output=True)
            try:
                ids[t] = json.loads(r.stdout)["id"]
                break
            except (ValueError, KeyError):
                time.sleep(0.2)
    rows = {}
    for w in ("read-1k", "create-1k"):
        for _ in range(RUNS):
            for t in ("spt", "unix"):
                if w == "read-1k":
                    a = [f"{url[t]}/api/paste/{ids[t]}", "--rate", "1000", "-c", "10"]
                else:
                    a = [f"{url[t]}/api/paste", "-c", "4", "--method", "POST", "--body", body,
                         "-H", "Content-Type: application/json", "--expect-status", "201"]
                r = subprocess.run([f"{B}/tools/uweb-bench", *a, "-d", f"{DUR}s", "--json"], capture_output=True, text=True)
                j = json.loads(r.stdout)
                rows.setdefault((t, w), []).append((j["requests_per_sec"], j["latency_ms"]["p50"],
                                                    j["latency_ms"]["p99"], j["failed"]))
    med = statistics.median
    print(f"{'workload':<11} {'target':<6} {'req/s':>9} {'p50 ms':>8} {'p99 ms':>8} failed")
    for w in ("read-1k", "create-1k"):
        for t in ("spt", "unix"):
            v = rows[(t, w)]
            print(f"{w:<11} {t:<6} {med([x[0] for x in v]):>9.0f} {med([x[1] for x in v]):>8.3f} "
                  f"{med([x[2] for x in v]):>8.3f} {sum(x[3] for x in v)}")
        s, u = rows[("spt", w)], rows[("unix", w)]
        print(f"{w:<11} spt/unix  req/s x{med([x[0] for x in s]) / med([x[0] for x in u]):.2f}  "
              f"p50 x{med([x[1] for x in s]) / med([x[1] for x in u]):.2f}  p99 x{med([x[2] for x in s]) / med([x[2] for x in u]):.2f}")
finally:
    for p in procs.values():
        p.terminate()
        p.wait(10)
PY
