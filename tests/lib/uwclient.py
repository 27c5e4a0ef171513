"""Helpers of the client's tests (tests/client/): tests/client/fetch run
and its output parsed, and nginx started on its own configuration."""
import os
import shutil
import subprocess

from uwtest import BUILD, wait_port

FETCH = os.path.join(BUILD, "tests", "client", "fetch")


def fetch(*args, timeout=60):
    """Runs fetch with args: (answers, stats, output).  Each answer is a dict
    of the line's key=value fields with "status" an int, or {"error": why};
    stats the last line's connections/reused/retried."""
    p = subprocess.run([FETCH, *args], capture_output=True, text=True, timeout=timeout)
    lines = p.stdout.strip().splitlines()
    stats = dict(kv.split("=") for kv in lines[-1].split()) if lines and lines[-1].startswith("connections=") else {}
    answers = []
    for line in lines[:-1]:
        if line.startswith("error"):
            answers.append({"error": line[6:]})
            continue
        status, *kvs = line.split()
        a = dict(kv.split("=", 1) for kv in kvs)
        a["status"] = int(status)
        answers.append(a)
    return answers, {k: int(v) for k, v in stats.items()}, (p.stdout + p.stderr)[-3000:]


def nginx_binary():
    """nginx's path, or None when it is not installed."""
    n = shutil.which("nginx") or "/usr/sbin/nginx"
    return n if os.access(n, os.X_OK) else None


class Nginx:
    """nginx with one worker, no daemon, everything under work/, the http
    block's inside given as text; waits for ports.  A context manager."""

    def __init__(self, work, http_block, ports):
        self.work, self.ports = work, ports
        self.conf = os.path.join(work, "nginx.conf")
        with open(self.conf, "w") as f:
            f.write(f"""
daemon off;
master_process off;
worker_processes 1;
pid {work}/nginx.pid;
error_log {work}/error.log warn;
events {{ worker_connections 256; }}
http {{
    access_log off;
    client_body_temp_path {work}/body;
    proxy_temp_path {work}/proxy;
    fastcgi_temp_path {work}/fcgi;
    uwsgi_temp_path {work}/uwsgi;
    scgi_temp_path {work}/scgi;
{http_block}
}}
""")

    def __enter__(self):
        self.proc = subprocess.Popen([nginx_binary(), "-c", self.conf, "-p", self.work], stdout=subprocess.DEVNULL,
                                     stderr=subprocess.PIPE)
        if not all(wait_port(p) for p in self.ports):
            err = self.proc.stderr.read().decode(errors="replace") if self.proc.poll() is not None else "no port"
            self.__exit__()
            raise RuntimeError(f"nginx did not start: {err}")
        return self

    def __exit__(self, *exc):
        self.proc.terminate()
        try:
            self.proc.wait(10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
