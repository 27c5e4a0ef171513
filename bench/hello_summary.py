#!/usr/bin/env python3
"""Summary of bench/hello.sh: medians, ratios, memory, goals (reported,
not asserted), as Markdown.   hello_summary.py build/bench/hello"""
import os
import statistics
import sys

out = sys.argv[1]
SERVERS = ["uweb", "nginx", "floor"]
WORKLOADS = [("single", "one request at a time"), ("pipeline", "16 pipelined")]


def kv(fields):
    d = {}
    for f in fields:
        if "=" in f:
            k, v = f.split("=", 1)
            d[k] = v
    return d


def fmt_int(x):
    return f"{x:,.0f}"


def fmt_us(x):
    return f"{x / 1000:.2f} ms" if x >= 1000 else f"{x:.0f} µs"


def ratio(a, b):
    return f"{a / b:.2f}x" if a and b else "n/a"


runs = {}
path = os.path.join(out, "results.tsv")
if os.path.exists(path):
    for line in open(path):
        f = line.rstrip("\n").split("\t")
        if len(f) < 5:
            continue
        server, wl = f[0], f[1]
        d = kv(f[4:])
        req, dus, cpu = int(d["requests"]), int(d["duration_us"]), int(d["cpu_ns"])
        errors = sum(int(v) for k, v in d.items() if k.startswith("errors_"))
        runs.setdefault((server, wl), []).append({
            "run": int(f[2]),
            "rps": req * 1e6 / dus,
            "p50": int(d["p50_us"]),
            "p99": int(d["p99_us"]),
            "rpc": req * 1e9 / cpu if cpu else 0.0,
            "cpu": cpu / (dus * 1e3),
            "errors": errors,
        })

# A run in which wrk saw errors (non-2xx answers, connect/read/write
# errors, timeouts) measured something else: it is dropped from every
# median and ratio, and the tables say how many were.
dropped = {key: sum(1 for r in rs if r["errors"]) for key, rs in runs.items()}
errors = {key: sum(r["errors"] for r in rs) for key, rs in runs.items()}
runs = {key: [r for r in rs if not r["errors"]] for key, rs in runs.items()}
runs = {key: rs for key, rs in runs.items() if rs}

med = {}
for key, rs in runs.items():
    # wrk now and then prints a percentile of 0 (its histogram after the
    # coordinated-omission correction): such a run has no latency figure.
    m = {k: statistics.median([r[k] for r in rs if r[k] > 0] or [0]) for k in ("rps", "p50", "p99", "rpc", "cpu")}
    m["n"] = len(rs)
    m["rpc_min"] = min(r["rpc"] for r in rs)
    m["rpc_max"] = max(r["rpc"] for r in rs)
    med[key] = m

print("### Machine\n")
mpath = os.path.join(out, "machine.txt")
if os.path.exists(mpath):
    for line in open(mpath):
        print(f"- {line.strip()}")
print()

lost = [f"{s} {wl}: {n} of {n + len(runs.get((s, wl), []))} runs ({errors[(s, wl)]} errors)"
        for (s, wl), n in sorted(dropped.items()) if n]
if lost:
    print("Runs in which wrk reported errors are left out of the medians: " + "; ".join(lost) + ".\n")
if med:
    print("### Throughput and latency (medians)\n")
    print("| workload | server | req/s | p50 | p99 | req per server CPU-s (min–max) | server CPU | runs "
          "| runs dropped (wrk errors) |")
    print("|---|---|---:|---:|---:|---:|---:|---:|---:|")
    for wl, wname in WORKLOADS:
        for s in SERVERS:
            m = med.get((s, wl))
            if not m:
                continue
            print(f"| {wname} | {s} | {fmt_int(m['rps'])} | {fmt_us(m['p50'])} | {fmt_us(m['p99'])} | "
                  f"{fmt_int(m['rpc'])} ({fmt_int(m['rpc_min'])}–{fmt_int(m['rpc_max'])}) | "
                  f"{m['cpu'] * 100:.0f}% | {m['n']} | {dropped[(s, wl)]} ({errors[(s, wl)]}) |")
    print()
    print("### Ratios (of medians)\n")
    print("| workload | req/s uweb/nginx | p50 uweb/nginx | p99 uweb/nginx | req/CPU-s uweb/nginx | "
          "req/CPU-s uweb/floor | req/CPU-s nginx/floor |")
    print("|---|---:|---:|---:|---:|---:|---:|")
    for wl, wname in WORKLOADS:
        u, n, fl = med.get(("uweb", wl)), med.get(("nginx", wl)), med.get(("floor", wl))
        if not (u and n):
            continue
        print(f"| {wname} | {ratio(u['rps'], n['rps'])} | {ratio(u['p50'], n['p50'])} | "
              f"{ratio(u['p99'], n['p99'])} | {ratio(u['rpc'], n['rpc'])} | "
              f"{ratio(u['rpc'], fl['rpc']) if fl else 'n/a'} | {ratio(n['rpc'], fl['rpc']) if fl else 'n/a'} |")
    print()
    print("Paired: median over runs of (uweb in run i) / (nginx or floor in run i); the runs of one round are")
    print("adjacent in time, so slow changes in the machine's load cancel out.\n")
    print("| workload | req/s uweb/nginx | p50 uweb/nginx | p99 uweb/nginx | req/CPU-s uweb/nginx | req/CPU-s uweb/floor |")
    print("|---|---:|---:|---:|---:|---:|")

    def paired(wl, a, b, k):
        ra = {r["run"]: r[k] for r in runs.get((a, wl), [])}
        rb = {r["run"]: r[k] for r in runs.get((b, wl), [])}
        rs = [ra[i] / rb[i] for i in ra if i in rb and ra[i] and rb[i]]
        return f"{statistics.median(rs):.2f}x" if rs else "n/a"
    for wl, wname in WORKLOADS:
        print(f"| {wname} | {paired(wl, 'uweb', 'nginx', 'rps')} | {paired(wl, 'uweb', 'nginx', 'p50')} | "
              f"{paired(wl, 'uweb', 'nginx', 'p99')} | {paired(wl, 'uweb', 'nginx', 'rpc')} | "
              f"{paired(wl, 'uweb', 'floor', 'rpc')} |")
    print()

mem = {}
mpath = os.path.join(out, "memory.txt")
if os.path.exists(mpath):
    for line in open(mpath):
        f = line.split()
        if f:
            mem.setdefault(f[0], {}).update(kv(f[1:]))


def mib(kb):
    return f"{int(kb) / 1024:.1f} MiB" if kb not in (None, "") else "n/a"


if mem:
    print("### Memory\n")
    print("| server | idle VmRSS | idle VmHWM | idle conns open (answered) | VmRSS with them | VmHWM with them "
          "| per conn | other client served (curl) | req/s meanwhile (64 conns, 3 s) | VmHWM after that | still open at end |")
    print("|---|---:|---:|---:|---:|---:|---:|---|---:|---:|---:|")
    for s in ("uweb", "nginx"):
        d = mem.get(s)
        if not d:
            continue
        per = "n/a"
        if d.get("idle_conns_rss_kb") and d.get("opened") and int(d["opened"]):
            per = f"{(int(d['idle_conns_rss_kb']) - int(d['idle_rss_kb'])) * 1024 / int(d['opened']):.0f} B"
        print(f"| {s} | {mib(d.get('idle_rss_kb'))} | {mib(d.get('idle_hwm_kb'))} | "
              f"{d.get('opened', '?')} ({d.get('answered', '?')}) | {mib(d.get('idle_conns_rss_kb'))} | "
              f"{mib(d.get('idle_conns_hwm_kb'))} | {per} | {d.get('curl_served', '?')} ({d.get('curl_ms', '?')} ms) | "
              f"{fmt_int(int(d.get('wrk_rps_with_idle', 0)))} | {mib(d.get('after_wrk_hwm_kb'))} | {d.get('still_open', '?')} |")
    print()

print("### Goals (reported, not asserted)\n")


def goal(text, ok):
    print(f"- {text}: {'met' if ok else 'NOT met' if ok is not None else 'not measured'}")


u1, n1 = med.get(("uweb", "single")), med.get(("nginx", "single"))
u2, n2 = med.get(("uweb", "pipeline")), med.get(("nginx", "pipeline"))
goal(f"one-at-a-time req/CPU-s >= 1.2x nginx ({ratio(u1['rpc'], n1['rpc']) if u1 and n1 else 'n/a'})",
     u1["rpc"] >= 1.2 * n1["rpc"] if u1 and n1 else None)
goal(f"pipelined req/CPU-s >= 5x nginx ({ratio(u2['rpc'], n2['rpc']) if u2 and n2 else 'n/a'})",
     u2["rpc"] >= 5 * n2["rpc"] if u2 and n2 else None)
goal(f"p99 no worse than nginx's (one at a time {ratio(u1['p99'], n1['p99']) if u1 and n1 else 'n/a'}, "
     f"pipelined {ratio(u2['p99'], n2['p99']) if u2 and n2 else 'n/a'})",
     (u1["p99"] <= n1["p99"] and u2["p99"] <= n2["p99"]) if u1 and n1 and u2 and n2 else None)
um = mem.get("uweb", {})
goal(f"idle RSS < 4 MiB ({mib(um.get('idle_rss_kb'))}, VmHWM {mib(um.get('idle_hwm_kb'))})",
     int(um["idle_rss_kb"]) < 4096 if um.get("idle_rss_kb") else None)
goal(f"{um.get('opened', '?')} idle connections under 64 MiB while others are served "
     f"(VmHWM {mib(um.get('idle_conns_hwm_kb'))}, curl served: {um.get('curl_served', '?')})",
     (int(um["idle_conns_hwm_kb"]) < 65536 and um.get("curl_served") == "yes")
     if um.get("idle_conns_hwm_kb") and int(um.get("opened", 0)) >= 10000 else None)
