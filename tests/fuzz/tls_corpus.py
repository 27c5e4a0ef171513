#!/usr/bin/env python3
"""Makes the seed corpus of fuzz_tls: ClientHellos of `openssl s_client`
with various versions, ciphers, ALPN and SNI, captured on a local socket.
Each file is one byte (the piece size fuzz_tls feeds the input in; 0: all
at once) followed by the client's first flight.

    tests/fuzz/tls_corpus.py [DIR]      (default tests/fuzz/corpus/tls)
"""
import os
import socket
import subprocess
import sys

CASES = {
    "tls13": ["-tls1_3"],
    "tls12": ["-tls1_2"],
    "alpn_sni": ["-alpn", "h2,http/1.1", "-servername", "fuzz.test"],
    "acme": ["-alpn", "acme-tls/1", "-servername", "fuzz.test"],
    "p256_only": ["-groups", "P-256"],
    "cbc_only": ["-tls1_2", "-cipher", "ECDHE-ECDSA-AES128-SHA:ECDHE-RSA-AES128-SHA"],
    "tls11": ["-tls1_1", "-cipher", "DEFAULT@SECLEVEL=0"],
    "chacha": ["-tls1_2", "-cipher", "ECDHE-ECDSA-CHACHA20-POLY1305"],
    "ticket": ["-tls1_2", "-no_ticket"],
}
PIECES = {"tls13": [0, 1, 7], "alpn_sni": [0, 13]}


def capture(args):
    srv = socket.socket()
    srv.bind(("127.0.0.1", 0))
    srv.listen(1)
    port = srv.getsockname()[1]
    p = subprocess.Popen(["openssl", "s_client", "-connect", f"127.0.0.1:{port}"] + args,
                         stdin=subprocess.PIPE, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    conn, _ = srv.accept()
    conn.settimeout(1.0)
    data = b""
    try:
        while True:
            chunk = conn.recv(65536)
            if not chunk:
                break
            data += chunk
    except socket.timeout:
        pass
    conn.close()
    srv.close()
    p.kill()
    p.wait()
    return data


def main():
    out = sys.argv[1] if len(sys.argv) > 1 else os.path.join(os.path.dirname(__file__), "corpus", "tls")
    os.makedirs(out, exist_ok=True)
    for name, args in CASES.items():
        hello = capture(args)
        if not hello.startswith(b"\x16\x03"):
            sys.exit(f"tls_corpus: {name}: no ClientHello captured")
        for piece in PIECES.get(name, [0]):
            fname = name if piece == 0 else f"{name}_by{piece}"
            with open(os.path.join(out, fname), "wb") as f:
                f.write(bytes([piece]) + hello)
        print(f"{name}: {len(hello)} bytes")
    with open(os.path.join(out, "http_request"), "wb") as f:
        f.write(b"\x00GET / HTTP/1.1\r\nHost: fuzz.test\r\n\r\n")


if __name__ == "__main__":
    main()
