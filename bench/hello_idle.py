#!/usr/bin/env python3
"""Idle keep-alive connections for bench/hello.sh.

    hello_idle.py PORT N DONE_FILE [MAX_HOLD_SECONDS]

Opens N connections to 127.0.0.1:PORT, sends one GET / on each and reads
the whole answer (it must be 200 with the body "Hello World!\\n"), then
keeps them all open and idle.  Prints

    READY opened=N answered=A failed=F seconds=S

then waits until DONE_FILE exists (at most MAX_HOLD_SECONDS, default 60),
checks which connections the server still holds open (a non-blocking peek
that would block), prints

    STILL_OPEN n

and exits, closing them all.  The caller raises `ulimit -n`.
"""
import os
import socket
import sys
import time

REQ = b"GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nUser-Agent: hello_idle\r\n\r\n"


def read_answer(s):
    buf = b""
    while b"\r\n\r\n" not in buf:
        chunk = s.recv(4096)
        if not chunk:
            return None
        buf += chunk
    head, _, body = buf.partition(b"\r\n\r\n")
    length = None
    for line in head.split(b"\r\n")[1:]:
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            length = int(value.strip())
    if length is None:
        return None
    while len(body) < length:
        chunk = s.recv(4096)
        if not chunk:
            return None
        body += chunk
    return head.split(b"\r\n")[0], body


def main():
    port, n, done_file = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3]
    max_hold = float(sys.argv[4]) if len(sys.argv) > 4 else 60.0
    t0 = time.monotonic()
    deadline = t0 + 120.0          # opening must not take longer than this
    socks, answered, failed = [], 0, 0
    for _ in range(n):
        if time.monotonic() > deadline:
            break
        s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        s.settimeout(10.0)
        try:
            s.connect(("127.0.0.1", port))
            s.sendall(REQ)
            ans = read_answer(s)
            if ans and ans[0].startswith(b"HTTP/1.1 200") and ans[1] == b"Hello World!\n":
                answered += 1
            else:
                failed += 1
            socks.append(s)
        except OSError as e:
            failed += 1
            if failed <= 3:
                print(f"error: connection {len(socks)}: {e}", file=sys.stderr)
            s.close()
    print(f"READY opened={len(socks)} answered={answered} failed={failed} "
          f"seconds={time.monotonic() - t0:.1f}", flush=True)

    end = time.monotonic() + max_hold
    while not os.path.exists(done_file) and time.monotonic() < end:
        time.sleep(0.1)

    still = 0
    for s in socks:
        try:
            s.setblocking(False)   # a socket with a timeout would wait
            data = s.recv(1, socket.MSG_PEEK)
            # b"": the server closed it; bytes: an unexpected answer
        except BlockingIOError:
            still += 1
        except OSError:
            pass
    print(f"STILL_OPEN {still}", flush=True)
    for s in socks:
        s.close()


if __name__ == "__main__":
    main()
