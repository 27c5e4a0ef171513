#!/usr/bin/env python3
"""uweb-bench against tests/apps/benchtarget: exact counts, expectations,
dropped connections, JSON against the text report, coordinated omission
under --rate with a 1 s stall, percentiles of a known distribution,
arguments.  It measures latencies (uweb-test: alone): the runner starts
nothing beside it."""
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "lib"))
from uwtest import T, Server, BUILD, free_port  # noqa: E402

t = T()
BENCH = os.path.join(BUILD, "tools", "uweb-bench")
TARGET = os.path.join(BUILD, "tests", "apps", "benchtarget")


def bench(*args, timeout=120):
    p = subprocess.run([BENCH, *args], capture_output=True, text=True, timeout=timeout)
    return p.returncode, p.stdout, p.stderr


def bench_json(*args, **kw):
    rc, out, err = bench(*args, "--json", **kw)
    try:
        return rc, json.loads(out), err
    except ValueError:
        return rc, None, err + " / stdout: " + out[:300]


for exe in (BENCH, TARGET):
    if not os.access(exe, os.X_OK):
        t.check(f"{os.path.basename(exe)} built", False, f"{exe} missing")
        t.done()

# ------------------------------------------------------------ arguments
rc, out, err = bench("--help")
t.check("--help in man-page form", rc == 0 and all(s in out for s in ("NAME", "SYNOPSIS", "OPTIONS", "EXIT STATUS")),
        f"rc={rc}")
for args, why in ((["http://127.0.0.1:1/", "-c", "abc"], "-c abc"),
                  (["http://127.0.0.1:1/", "--rate", "-5"], "--rate -5"),
                  (["http://127.0.0.1:1/", "--bogus"], "unknown option"),
                  ([], "no URL"),
                  (["ftp://x/"], "not http"),
                  (["http://127.0.0.1:1/", "-n", "5", "-d", "1s"], "-n with -d"),
                  (["http://127.0.0.1:1/", "-d", "soon"], "bad duration"),
                  (["http://127.0.0.1:1/", "--rate", "10", "-P", "4"], "--rate with -P"),
                  (["http://127.0.0.1:1/", "-H", "NoColon"], "bad header"),
                  (["http://127.0.0.1:1/", "-m", "10"], "-m without --h2"),
                  (["http://127.0.0.1:1/", "--h2", "--rate", "10"], "--h2 with --rate"),
                  (["https://127.0.0.1:1/", "--cacert", "/nonexistent.pem"], "unreadable --cacert")):
    rc, out, err = bench(*args)
    lines = err.strip().splitlines()
    t.check(f"bad arguments ({why}): exit 2 with one line", rc == 2 and len(lines) == 1 and out == "",
            f"rc={rc} stderr={err!r}")

with Server("benchtarget", binary=TARGET, args=["--quiet"]) as s:
    # -------------------------------------------------------- exact counts
    rc, j, err = bench_json(s.url + "/", "-c", "10", "-n", "1000")
    t.check("-n 1000 gives 1,000 answers", rc == 0 and j and j["requests"] == 1000 and j["ok"] == 1000
            and j["status"] == {"200": 1000} and j["failed"] == 0, f"rc={rc} {j} {err}")
    rc, j, err = bench_json(s.url + "/", "-c", "5", "-t", "2", "-n", "1001")
    t.check("-t 2 -n 1001: two workers, 1,001 answers", rc == 0 and j and j["requests"] == 1001
            and j["status"] == {"200": 1001} and j["threads"] == 2, f"rc={rc} {j} {err}")
    rc, j, err = bench_json(s.url + "/", "-c", "8", "-P", "16", "-n", "5000")
    t.check("-P 16 -n 5000: pipelined, 5,000 answers on 8 connections", rc == 0 and j and j["requests"] == 5000
            and j["ok"] == 5000 and j["connects"] == 8, f"rc={rc} {j} {err}")
    rc, j, err = bench_json(s.url + "/", "-c", "4", "-d", "1s")
    t.check("-d 1s runs about a second", rc == 0 and j and 0.9 < j["seconds"] < 2.0 and j["ok"] > 100,
            f"rc={rc} {j and j['seconds']} {err}")

    rc, j, err = bench_json(s.url + "/", "-c", "2", "-n", "50", "-H", "Connection: close")
    t.check("-H is sent: with 'Connection: close' every answer ends its connection", rc == 0 and j
            and j["ok"] == 50 and j["connects"] == 50, f"rc={rc} {j and j['connects']} {err}")
    rc, j, err = bench_json(s.url + "/bytes/100000", "-c", "2", "-n", "50", "--method", "HEAD")
    t.check("--method HEAD reads no bodies", rc == 0 and j and j["ok"] == 50 and j["bytes"] < 50 * 300
            and j["connects"] == 2, f"rc={rc} {j and (j['bytes'], j['connects'])} {err}")

    # -------------------------------------------------------- expectations
    rc, j, err = bench_json(s.url + "/status/404", "-c", "4", "-n", "100", "--expect-status", "200")
    t.check("--expect-status 200 on a 404 route fails the run", rc == 1 and j and j["errors"]["status"] == 100
            and j["status"] == {"404": 100} and not j["success"], f"rc={rc} {j}")
    rc, j, err = bench_json(s.url + "/status/404", "-c", "4", "-n", "100", "--expect-status", "404")
    t.check("--expect-status 404 on the 404 route passes", rc == 0 and j and j["ok"] == 100, f"rc={rc} {j}")
    rc, j, err = bench_json(s.url + "/status/500", "-c", "2", "-n", "10")
    t.check("a 500 fails the run without --expect-status", rc == 1 and j and j["errors"]["status"] == 10, f"rc={rc}")
    import hashlib
    good = hashlib.sha256(b"Hello World!\n").hexdigest()
    rc, j, err = bench_json(s.url + "/", "-c", "2", "-n", "50", "--expect-body-sha256", good)
    t.check("--expect-body-sha256 with the right digest passes", rc == 0 and j and j["ok"] == 50, f"rc={rc} {err}")
    rc, j, err = bench_json(s.url + "/", "-c", "2", "-n", "50", "--expect-body-sha256", "0" * 64)
    t.check("--expect-body-sha256 with a wrong digest fails every request", rc == 1 and j
            and j["errors"]["body"] == 50, f"rc={rc} {j and j['errors']}")

    # -------------------------------------------------------- dropped connections
    rc, j, err = bench_json(s.url + "/drop/100", "-c", "10", "-n", "1000")
    t.check("a server dropping every 100th request: exit 1, 10 resets counted, 990 answered",
            rc == 1 and j and j["errors"]["reset"] == 10 and j["ok"] == 990 and j["requests"] == 1000,
            f"rc={rc} {j and (j['errors'], j['ok'])}")
    # 10 first connections, one more after each drop (unless the drop was the last request)
    t.check("dropped connections are reopened", j and 19 <= j["connects"] <= 20, f"connects={j and j['connects']}")

    # -------------------------------------------------------- JSON matches text
    rc, j, _ = bench_json(s.url + "/status/201", "-c", "3", "-n", "321")
    rc2, text, _ = bench(s.url + "/status/201", "-c", "3", "-n", "321")
    m = re.search(r"requests\s+(\d+) in", text)
    st = re.search(r"status\s+(.*)", text)
    er = re.search(r"errors\s+(\d+), (.*)", text)
    t.check("JSON parses and its counts match the text report",
            j and m and int(m.group(1)) == j["requests"] and st and st.group(1).strip() == "201: 321"
            and j["status"] == {"201": 321} and er and int(er.group(1)) == j["failed"]
            and all(f"{k} {v}" in er.group(2) for k, v in j["errors"].items()), f"{text!r} vs {j}")
    lat = re.search(r"latency ms\s+p50 ([\d.]+) p90 ([\d.]+) p99 ([\d.]+) p99.9 ([\d.]+) p99.99 ([\d.]+) max ([\d.]+)", text)
    t.check("the text report gives p50 p90 p99 p99.9 p99.99 max", lat is not None, text)
    rc, text, _ = bench(s.url + "/", "-c", "2", "-n", "200", "--histogram")
    t.check("--histogram draws an ASCII histogram", "histogram (ms, requests)" in text and "#" in text, text)

    # -------------------------------------------------------- progress line on a terminal
    if shutil.which("script"):
        p = subprocess.run(["script", "-qec", f"{BENCH} {s.url}/ -c 2 -d 2500ms", "/dev/null"],
                           capture_output=True, text=True, timeout=60)
        ticks = [x for x in re.split(r"[\r\n]", p.stdout) if "requests" in x and "errors" in x and " s " in x]
        t.check("on a terminal a progress line updates once per second", p.returncode == 0 and len(ticks) == 2,
                repr(p.stdout[:300]))
        rc, out, err = bench(s.url + "/", "-c", "2", "-n", "10")
        t.check("no progress line when stderr is not a terminal", rc == 0 and err == "", repr(err))
    else:
        t.skip("progress line", "util-linux script is not installed")

    # -------------------------------------------------------- timeouts, refused
    rc, j, err = bench_json(s.url + "/sleep/2000", "-c", "2", "-n", "2", "--timeout", "200ms", timeout=20)
    t.check("--timeout 200ms on a 2 s answer: 2 timeouts", rc == 1 and j and j["errors"]["timeout"] == 2,
            f"rc={rc} {j and j['errors']}")
rc, j, err = bench_json(f"http://127.0.0.1:{free_port()}/", "-c", "2", "-n", "10")
t.check("connection refused: exit 1, 10 connect errors", rc == 1 and j and j["errors"]["connect"] == 10,
        f"rc={rc} {j and j['errors']}")

# ------------------------------------------------------------ request bodies
ECHO = os.path.join(BUILD, "tests", "apps", "echo")
with Server("echo", binary=ECHO, args=["--quiet"]) as s, tempfile.NamedTemporaryFile("wb", suffix=".body") as f:
    payload = os.urandom(50000)
    f.write(payload)
    f.flush()
    import hashlib
    import zlib
    want = hashlib.sha256(b"%d %08x\n" % (len(payload), zlib.crc32(payload))).hexdigest()
    rc, j, err = bench_json(s.url + "/count", "--method", "POST", "--body", f.name, "-H", "X-Test: 1",
                            "-c", "4", "-n", "200", "--expect-body-sha256", want)
    t.check("--method POST --body FILE: the server counts every byte of every body", rc == 0 and j and j["ok"] == 200,
            f"rc={rc} {j and j['errors']} {err}")
    rc, j, err = bench_json(s.url + "/echo", "--method", "PUT", "--body", f.name, "-c", "2", "-P", "4", "-n", "40",
                            "--expect-body-sha256", hashlib.sha256(payload).hexdigest())
    t.check("pipelined PUTs with bodies echoed back intact", rc == 0 and j and j["ok"] == 40,
            f"rc={rc} {j and j['errors']} {err}")
    rc, out, err = bench(s.url + "/", "--body", "/nonexistent/file")
    t.check("an unreadable --body is a one-line error", rc == 2 and len(err.strip().splitlines()) == 1, err)

# ------------------------------------------------------------ known distribution
# 80 % of the answers take 10 ms, 20 % take 50 ms: p50 falls among the
# fast ones, p90 and p99 among the slow ones, away from the edges where
# one answer delayed by a loaded machine would move them.
with Server("benchtarget", binary=TARGET, args=["--quiet"]) as s, tempfile.NamedTemporaryFile("w", suffix=".paths") as f:
    f.write("/sleep/10\n" * 8 + "/sleep/50\n" * 2)
    f.flush()
    rc, j, err = bench_json(s.url + "/", "-c", "1", "-n", "200", "--paths", f.name)
    L = j and j["latency_ms"]
    t.check("known distribution (80% 10 ms, 20% 50 ms): p50 near 10 ms", rc == 0 and L and 10 <= L["p50"] < 14, f"{L}")
    t.check("known distribution: p90 and p99 near 50 ms, max above", L and 50 <= L["p90"] < 60 and 50 <= L["p99"] < 70
            and L["max"] >= L["p99"], f"{L}")
    t.check("known distribution: mean near 18 ms", L and 18 <= L["mean"] < 23, f"{L}")
    hist = j and j["histogram_us"]
    t.check("histogram buckets hold 160 and 40 answers around 10 and 50 ms",
            hist and sum(c for lo, hi, c in hist if 9000 <= lo < 45000) == 160
            and sum(c for lo, hi, c in hist if lo >= 49000) == 40, f"{hist}")

# ------------------------------------------------------------ coordinated omission
with Server("benchtarget", binary=TARGET, args=["--quiet"]) as s:
    rc, j, err = bench_json(s.url + "/stall-once/1000", "-c", "10", "--rate", "1000", "-d", "4s", timeout=60)
    L = j and j["latency_ms"]
    t.check("open loop at 1000/s over a 1 s stall: p99.9 >= 500 ms (coordinated omission corrected)",
            rc == 0 and L and L["p99.9"] >= 500 and L["max"] >= 900, f"rc={rc} {L} {err}")
    t.check("open loop: many requests were charged for the stall",
            j and sum(c for lo, hi, c in j["histogram_us"] if lo >= 100000) >= 200,
            f"{j and [h for h in j['histogram_us'] if h[0] >= 100000][:5]}")
with Server("benchtarget", binary=TARGET, args=["--quiet"]) as s:
    rc, j, err = bench_json(s.url + "/stall-once/1000", "-c", "1", "-d", "3s", timeout=60)
    L = j and j["latency_ms"]
    t.check("closed loop over the same stall: one slow request (max >= 1 s, p99.9 far below)",
            rc == 0 and L and L["max"] >= 1000 and L["p99.9"] < 500
            and sum(c for lo, hi, c in j["histogram_us"] if lo >= 900000) == 1, f"rc={rc} {L}")
t.done()
