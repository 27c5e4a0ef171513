"""Helpers for uweb's integration tests (Python 3, standard library only).

    import sys, os; sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "lib"))
    from uwtest import T, Server
    t = T()
    with Server("hello") as s:            # build/apps/hello --port=N on 127.0.0.1
        t.check("GET / answers 200", s.get("/")[0] == 200)
    t.done()                               # exit status for the runner

Output follows tests/run.sh's protocol: "ok - NAME", "not ok - NAME: why",
"skipped - NAME: why".

With UWEB_ASAN=1 (tests/run.sh's second run of tests/integration/) the
programs under build/apps/, build/tools/ and build/tests/apps/ are started
from their ASan+UBSan builds in build/asan/ (`make asan`) instead, with
halt_on_error=1 and leak detection off; a server whose output holds a
sanitizer report fails the test ("not ok - NAME: no sanitizer report ...").
"""
import os
import signal
import socket
import subprocess
import sys
import time

ROOT = os.environ.get("UWEB_ROOT") or os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
BUILD = os.environ.get("UWEB_BUILD") or os.path.join(ROOT, "build")
ASAN = os.environ.get("UWEB_ASAN") == "1"
# Sanitizer options of the servers started under UWEB_ASAN=1 (the caller's win).
ASAN_ENV = {"ASAN_OPTIONS": os.environ.get("ASAN_OPTIONS", "detect_leaks=0:halt_on_error=1:abort_on_error=1"),
            "UBSAN_OPTIONS": os.environ.get("UBSAN_OPTIONS", "print_stacktrace=1:halt_on_error=1")}
SANITIZER_REPORTS = ("ERROR: AddressSanitizer", "ERROR: LeakSanitizer", "runtime error:",
                     "SUMMARY: UndefinedBehaviorSanitizer")
_current = None     # the T of this test program, for checks made by Server


def program(path):
    """The program to run for build/apps/NAME, build/tools/uweb-NAME or
    build/tests/apps/NAME: that path, or under UWEB_ASAN=1 its twin in
    build/asan/.  Other paths are returned as they are."""
    if not ASAN:
        return path
    rel = os.path.relpath(os.path.abspath(path), os.path.abspath(BUILD))
    parts = rel.split(os.sep)
    if parts[0] in ("apps", "tools") or parts[:2] == ["tests", "apps"]:
        return os.path.join(BUILD, "asan", rel)
    return path


def app(name):
    """The path of app NAME (build/apps/NAME, or its ASan build)."""
    return program(os.path.join(BUILD, "apps", name))


class T:
    def __init__(self):
        global _current
        self.failed = 0
        _current = self

    def check(self, name, cond, why=""):
        if cond:
            print(f"ok - {name}", flush=True)
        else:
            self.failed += 1
            print(f"not ok - {name}" + (f": {why}" if why else ""), flush=True)
        return cond

    def skip(self, name, why):
        print(f"skipped - {name}: {why}", flush=True)

    def require_built(self, *paths):
        """A missing part of uweb (an app, a tool, a tender) fails the test:
        one "not ok" per missing path, then the test ends."""
        missing = [p for p in paths if not os.path.isfile(p)]
        for p in missing:
            self.check(f"{os.path.relpath(p, BUILD)} is built", False, f"{p} is missing (make)")
        if missing:
            self.done()

    def done(self):
        sys.exit(1 if self.failed else 0)


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_port(port, timeout=10.0, host="127.0.0.1"):
    end = time.time() + timeout
    while time.time() < end:
        try:
            with socket.create_connection((host, port), timeout=0.5):
                return True
        except OSError:
            time.sleep(0.02)
    return False


class Server:
    """Starts build/apps/NAME (or an explicit argv) on a free port."""

    def __init__(self, app, args=(), port=None, argv=None, env=None, binary=None):
        """app: NAME of build/apps/NAME, or binary: a path; the server gets
        --port=N and args.  argv replaces the whole command line."""
        self.port = port or free_port()
        exe = binary or os.path.join(BUILD, "apps", app)
        self.argv = list(argv or [exe, f"--port={self.port}", *args])
        self.argv[0] = program(self.argv[0])
        self.name = app or os.path.basename(self.argv[0])
        self.env = {**(ASAN_ENV if ASAN else {}), **(env or {})}
        self.proc = None

    def __enter__(self):
        self.log = open(os.path.join(BUILD, f"test-server-{self.port}.log"), "w+b")
        # its own process group: a wrapper (strace -f) and what it runs stop together
        self.proc = subprocess.Popen(self.argv, stdout=self.log, stderr=subprocess.STDOUT,
                                     env={**os.environ, **(self.env or {})}, start_new_session=True)
        if not wait_port(self.port):
            self.stop()
            raise RuntimeError(f"{self.argv[0]} did not listen on {self.port}: {self.output()}")
        return self

    def __exit__(self, *exc):
        self.stop()
        if ASAN:
            self.check_sanitizers()

    def check_sanitizers(self):
        """Under UWEB_ASAN=1: a check that the server printed no sanitizer report."""
        out = self.output()
        at = min((i for i in (out.find(r) for r in SANITIZER_REPORTS) if i >= 0), default=-1)
        why = out[max(0, at - 200):at + 1500].replace("\n", " | ") if at >= 0 else ""
        name = f"asan: no sanitizer report from {self.name} (port {self.port})"
        if _current:
            _current.check(name, at < 0, why)
        elif at >= 0:
            raise RuntimeError(f"{name}: {why}")

    def alive(self):
        return self.proc is not None and self.proc.poll() is None

    def _signal_group(self, sig):
        try:
            os.killpg(self.proc.pid, sig)
        except (ProcessLookupError, PermissionError):
            pass

    def stop(self, sig=None):
        if self.proc and self.proc.poll() is None:
            self._signal_group(sig or signal.SIGTERM)
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self._signal_group(signal.SIGKILL)
                self.proc.wait()
        if self.proc:
            self._signal_group(signal.SIGKILL)   # whatever the group left behind
        return self.proc.returncode if self.proc else None

    def output(self):
        self.log.flush()
        self.log.seek(0)
        return self.log.read().decode(errors="replace")

    def connect(self, timeout=5.0):
        return socket.create_connection(("127.0.0.1", self.port), timeout=timeout)

    def raw(self, data, timeout=5.0, shut=False):
        """Sends bytes, returns every byte the server sends until it closes or goes quiet."""
        with self.connect(timeout) as c:
            c.sendall(data)
            if shut:
                c.shutdown(socket.SHUT_WR)
            return read_all(c, timeout)

    def get(self, path, headers=None):
        import http.client
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=10)
        conn.request("GET", path, headers=headers or {})
        r = conn.getresponse()
        body = r.read()
        conn.close()
        return r.status, dict(r.getheaders()), body

    @property
    def url(self):
        return f"http://127.0.0.1:{self.port}"


def read_all(sock, timeout=5.0):
    sock.settimeout(timeout)
    out = b""
    while True:
        try:
            d = sock.recv(65536)
        except (socket.timeout, ConnectionResetError):
            break
        if not d:
            break
        out += d
    return out


def curl(*args, timeout=60):
    """Runs curl, returns (exit code, stdout bytes, stderr text)."""
    p = subprocess.run(["curl", "-sS", *args], capture_output=True, timeout=timeout)
    return p.returncode, p.stdout, p.stderr.decode(errors="replace")


def zip_entries(path):
    """The entries of the zip at path, {name: bytes}, and a reason for a
    check's line: ({}, why) when it is missing, not a zip or fails its CRCs."""
    import zipfile
    if not os.path.exists(path):
        return {}, "no archive downloaded"
    try:
        with zipfile.ZipFile(path) as z:
            bad = z.testzip()
            got = {i.filename: z.read(i.filename) for i in z.infolist()}
            return ({}, f"CRC error in {bad}") if bad else (got, f"entries {sorted(got)}")
    except zipfile.BadZipFile as e:
        return {}, f"not a zip: {e}"
