#!/usr/bin/env python3
"""tests/lib/uwtest.py under UWEB_ASAN=1: programs of build/ map to their
ASan builds in build/asan/, and a server that prints a sanitizer report
fails the test that started it (checked with fake servers in a child
Python whose UWEB_BUILD is a temporary directory)."""
import os
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "lib"))
from uwtest import T  # noqa: E402

t = T()
CHILD = r'''
import os, sys
sys.path.insert(0, sys.argv[1])
import uwtest
from uwtest import T, Server, BUILD, program
t = T()
print("# map", program(os.path.join(BUILD, "apps", "hello")), program(os.path.join(BUILD, "tools", "uweb-crunch")),
      program(os.path.join(BUILD, "tests", "apps", "echo")), program(os.path.join(BUILD, "tests", "zip", "zipgen")))
serve = """
import os, socket, sys
s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("127.0.0.1", int(sys.argv[1]))); s.listen(1)
sys.stderr.write(sys.argv[2] + "\\n"); sys.stderr.flush()
print("env", os.environ.get("ASAN_OPTIONS"), flush=True)
c, _ = s.accept()
"""
for i, report in enumerate(sys.argv[2:]):
    port = uwtest.free_port()
    with Server("fake%d" % i, argv=[sys.executable, "-c", serve, str(port), report], port=port) as s:
        pass
    print("# output", s.output().strip().replace("\n", " | "))
t.done()
'''
with tempfile.TemporaryDirectory() as build:
    env = {**os.environ, "UWEB_ASAN": "1", "UWEB_BUILD": build}
    env.pop("ASAN_OPTIONS", None)
    p = subprocess.run([sys.executable, "-c", CHILD, os.path.join(HERE, "..", "lib"),
                        "all is well",
                        "==1==ERROR: AddressSanitizer: heap-buffer-overflow on address 0x602000000011",
                        "src/http/server.c:10:5: runtime error: signed integer overflow"],
                       capture_output=True, env=env, timeout=60)
    out = p.stdout.decode(errors="replace")
    lines = out.splitlines()
    maps = next((ln.split()[2:] for ln in lines if ln.startswith("# map")), [])
    t.check("uwtest: UWEB_ASAN=1 starts build/apps/, build/tools/, build/tests/apps/ from build/asan/",
            maps == [os.path.join(build, "asan", "apps", "hello"), os.path.join(build, "asan", "tools", "uweb-crunch"),
                     os.path.join(build, "asan", "tests", "apps", "echo"), os.path.join(build, "tests", "zip", "zipgen")],
            str(maps))
    t.check("uwtest: a server without a sanitizer report passes its check",
            "ok - asan: no sanitizer report from fake0" in out, out[-500:])
    t.check("uwtest: an ASan report in a server's output fails the test",
            "not ok - asan: no sanitizer report from fake1" in out and "heap-buffer-overflow" in out, out[-500:])
    t.check("uwtest: a UBSan report in a server's output fails the test",
            "not ok - asan: no sanitizer report from fake2" in out and p.returncode == 1, out[-500:])
    t.check("uwtest: servers get halt_on_error=1, leak detection off",
            "env detect_leaks=0:halt_on_error=1:abort_on_error=1" in out, out[-500:])
t.done()
