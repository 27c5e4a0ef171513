# Captures real request bodies sent by `curl -F` into test vectors:
# NAME.body (the body bytes), NAME.ct (the Content-Type value) and
# NAME.expect (what the parser must report; see test_multipart.c).
# Run from tests/multipart/: python3 capture_curl.py  (needs curl).
import socket, subprocess, threading

def capture(args):
    srv = socket.socket()
    srv.bind(("127.0.0.1", 0))
    srv.listen(1)
    port = srv.getsockname()[1]
    got = {}

    def serve():
        c, _ = srv.accept()
        data = b""
        while b"\r\n\r\n" not in data:
            data += c.recv(65536)
        head, body = data.split(b"\r\n\r\n", 1)
        hdrs = {}
        for line in head.split(b"\r\n")[1:]:
            k, v = line.split(b":", 1)
            hdrs[k.strip().lower()] = v.strip()
        n = int(hdrs[b"content-length"])
        while len(body) < n:
            body += c.recv(65536)
        got["ct"], got["body"] = hdrs[b"content-type"], body
        c.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")
        c.close()

    t = threading.Thread(target=serve)
    t.start()
    subprocess.run(["curl", "-s", "-H", "Expect:", f"http://127.0.0.1:{port}/upload"] + args, check=True)
    t.join()
    srv.close()
    return got["ct"], got["body"]

def save(name, args, expect):
    ct, body = capture(args)
    open(f"{name}.body", "wb").write(body)
    open(f"{name}.ct", "wb").write(ct + b"\n")
    open(f"{name}.expect", "w").write(expect)

# expect: one line per part in document order:
#   depth <TAB> name <TAB> filename <TAB> content-type <TAB> data
# "-" for an absent name/filename; data is "=text", "@file" (under this
# directory) or "*" for a multipart part (children follow).
save("curl_form", [
    "-F", "field=value",
    "-F", "file=@data/hello.txt",
    "-F", "bin=@data/tricky.bin;type=application/octet-stream",
    "-F", "empty=@data/empty.txt",
    "-F", "utf=@data/utf8.txt;filename=Grüße €.txt",
], "0\tfield\t-\ttext/plain\t=value\n"
   "0\tfile\thello.txt\ttext/plain\t@data/hello.txt\n"
   "0\tbin\ttricky.bin\tapplication/octet-stream\t@data/tricky.bin\n"
   "0\tempty\tempty.txt\ttext/plain\t@data/empty.txt\n"
   "0\tutf\tGrüße €.txt\ttext/plain\t@data/utf8.txt\n")

save("curl_nested", [
    "-F", "a=1",
    "-F", "b=<data/hello.txt",
    "-F", "multi=@data/hello.txt,data/utf8.txt",
], "0\ta\t-\ttext/plain\t=1\n"
   "0\tb\t-\ttext/plain\t@data/hello.txt\n"
   "0\tmulti\t-\tmultipart/mixed\t*\n"
   "1\t-\thello.txt\ttext/plain\t@data/hello.txt\n"
   "1\t-\tutf8.txt\ttext/plain\t@data/utf8.txt\n")
