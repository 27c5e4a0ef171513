"""pebble (Debian's ACME test server) for uweb's ACME tests.

    with Pebble(http_port=P, tls_port=Q) as pb:     # pebble + its DNS (pebble-challtestsrv)
        pb.directory                                   # https://127.0.0.1:N/dir
        pb.api_ca                                      # PEM file: the CA of pebble's own HTTPS
        pb.roots()                                     # PEM: the root that signs issued certificates

Every name resolves to 127.0.0.1 through pebble-challtestsrv's DNS
server, so pebble validates HTTP-01 on 127.0.0.1:http_port and
TLS-ALPN-01 on 127.0.0.1:tls_port.  pebble runs with -strict and with its
default nonce rejection (5 %) unless nonce_reject says otherwise.

For a guest in a network namespace (tests/net/acme_spt.py): api_host is
the address of pebble's ACME API in the directory URL and its certificate
(it then listens on every address), target the address every name
resolves to (the guest's).
"""
import json
import os
import shutil
import ssl
import subprocess
import sys
import tempfile
import time
import urllib.request

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "lib"))
from uwtest import free_port, wait_port  # noqa: E402


def available():
    return shutil.which("pebble") and shutil.which("pebble-challtestsrv") and shutil.which("openssl")


class Pebble:
    def __init__(self, http_port, tls_port, nonce_reject=None, validity=None, env=None, api_host="127.0.0.1",
                 target="127.0.0.1"):
        self.http_port, self.tls_port = http_port, tls_port
        self.api_host, self.target = api_host, target
        self.nonce_reject, self.validity = nonce_reject, validity
        self.extra_env = env or {}
        self.procs = []

    def __enter__(self):
        self.dir = tempfile.mkdtemp(prefix="uweb-pebble-")
        d = self.dir
        # pebble's own HTTPS certificate, signed by a CA of the test's
        self.api_ca = os.path.join(d, "api-ca.pem")
        run = lambda *a: subprocess.run(a, check=True, capture_output=True, cwd=d)  # noqa: E731
        run("openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
            "-keyout", "api-ca.key", "-out", "api-ca.pem", "-days", "2", "-subj", "/CN=uweb test ACME API CA")
        run("openssl", "req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
            "-keyout", "api.key", "-out", "api.csr", "-subj", "/CN=localhost")
        with open(os.path.join(d, "ext"), "w") as f:
            extra = f",IP:{self.api_host}" if self.api_host != "127.0.0.1" else ""
            f.write(f"subjectAltName=DNS:localhost,IP:127.0.0.1{extra}\n")
        run("openssl", "x509", "-req", "-in", "api.csr", "-CA", "api-ca.pem", "-CAkey", "api-ca.key",
            "-CAcreateserial", "-out", "api.pem", "-days", "2", "-extfile", "ext")
        self.port, self.mgmt_port, self.dns_port, self.chall_mgmt = (free_port() for _ in range(4))
        conf = {"pebble": {
            "listenAddress": f"{'127.0.0.1' if self.api_host == '127.0.0.1' else '0.0.0.0'}:{self.port}",
            "managementListenAddress": f"127.0.0.1:{self.mgmt_port}",
            "certificate": os.path.join(d, "api.pem"),
            "privateKey": os.path.join(d, "api.key"),
            "httpPort": self.http_port,
            "tlsPort": self.tls_port,
            "ocspResponderURL": "",
            "externalAccountBindingRequired": False,
        }}
        if self.validity:
            conf["pebble"]["certificateValidityPeriod"] = self.validity
        with open(os.path.join(d, "pebble.json"), "w") as f:
            json.dump(conf, f)
        self.log = open(os.path.join(d, "pebble.log"), "w+b")
        self.procs.append(subprocess.Popen(
            ["pebble-challtestsrv", "-defaultIPv4", self.target, "-defaultIPv6", "",
             "-dns01", f"127.0.0.1:{self.dns_port}", "-http01", "", "-https01", "", "-tlsalpn01", "",
             "-management", f"127.0.0.1:{self.chall_mgmt}"],
            stdout=self.log, stderr=subprocess.STDOUT))
        env = {**os.environ, "PEBBLE_VA_NOSLEEP": "1", **self.extra_env}
        if self.nonce_reject is not None:
            env["PEBBLE_WFE_NONCEREJECT"] = str(self.nonce_reject)
        self.start_pebble(env)
        return self

    def start_pebble(self, env=None):
        env = env or self.env
        self.env = env
        self.pebble = subprocess.Popen(
            ["pebble", "-strict", "-config", os.path.join(self.dir, "pebble.json"),
             "-dnsserver", f"127.0.0.1:{self.dns_port}"],
            stdout=self.log, stderr=subprocess.STDOUT, env=env, cwd=self.dir)
        self.procs.append(self.pebble)
        if not wait_port(self.port, 15) or not wait_port(self.mgmt_port, 15):
            raise RuntimeError("pebble did not start: " + self.output())

    def stop_pebble(self):
        self.pebble.terminate()
        self.pebble.wait(10)

    def __exit__(self, *exc):
        for p in self.procs:
            if p.poll() is None:
                p.terminate()
                try:
                    p.wait(5)
                except subprocess.TimeoutExpired:
                    p.kill()
                    p.wait()
        shutil.rmtree(self.dir, ignore_errors=True)

    def output(self):
        self.log.flush()
        self.log.seek(0)
        return self.log.read().decode(errors="replace")

    @property
    def directory(self):
        return f"https://{self.api_host}:{self.port}/dir"

    def roots(self):
        """The PEM root that signs the certificates pebble issues (its
        management API, /roots/0)."""
        ctx = ssl.create_default_context(cafile=self.api_ca)
        with urllib.request.urlopen(f"https://127.0.0.1:{self.mgmt_port}/roots/0", context=ctx, timeout=10) as r:
            return r.read()
