"""Helpers for uweb's integration tests (Python 3, standard library only).

    import sys, os; sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "lib"))
    from uwtest import T, Server
    t = T()
    with Server("hello") as s:            # build/apps/hello --port=N on 127.0.0.1
        t.check("GET / answers 200", s.get("/")[0] == 200)
    t.done()                               # exit status for the runner

Output follows tests/run.sh's protocol: "ok - NAME", "not ok - NAME: why",
"skipped - NAME: why".
"""
import os
import socket
import subprocess
import sys
import time

ROOT = os.environ.get("UWEB_ROOT") or os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
BUILD = os.environ.get("UWEB_BUILD") or os.path.join(ROOT, "build")


class T:
    def __init__(self):
        self.failed = 0

    def check(self, name, cond, why=""):
        if cond:
            print(f"ok - {name}", flush=True)
        else:
            self.failed += 1
            print(f"not ok - {name}" + (f": {why}" if why else ""), flush=True)
        return cond

    def skip(self, name, why):
        print(f"skipped - {name}: {why}", flush=True)

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
        self.argv = argv or [exe, f"--port={self.port}", *args]
        self.env = env
        self.proc = None

    def __enter__(self):
        self.log = open(os.path.join(BUILD, f"test-server-{self.port}.log"), "w+b")
        self.proc = subprocess.Popen(self.argv, stdout=self.log, stderr=subprocess.STDOUT,
                                     env={**os.environ, **(self.env or {})})
        if not wait_port(self.port):
            self.stop()
            raise RuntimeError(f"{self.argv[0]} did not listen on {self.port}: {self.output()}")
        return self

    def __exit__(self, *exc):
        self.stop()

    def alive(self):
        return self.proc is not None and self.proc.poll() is None

    def stop(self, sig=None):
        if self.proc and self.proc.poll() is None:
            if sig:
                self.proc.send_signal(sig)
            else:
                self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
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
