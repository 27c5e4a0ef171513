# Writes the input files of the multipart test vectors into data/
# (deterministic; run from tests/multipart/: python3 gen_data.py).
import os
os.makedirs("data", exist_ok=True)
with open("data/hello.txt", "wb") as f:
    f.write(b"Hello, uweb!\r\nSecond line\nthird line without CR\n")
# Bytes that look like delimiters but are not, CRs and LFs at odd places,
# NULs, and every byte value.
tricky = bytearray()
tricky += b"--boundary\r\n\r\n--boundarX\r\n-- \r\n\r\r\n\n\r--"
tricky += bytes(range(256))
tricky += b"\r\n--" + b"-" * 30 + b"\r\n"
x = 12345
for _ in range(1500):
    x = (x * 1103515245 + 12345) & 0x7FFFFFFF
    tricky.append((x >> 16) & 0xFF)
tricky += b"\r"
with open("data/tricky.bin", "wb") as f:
    f.write(tricky)
with open("data/empty.txt", "wb") as f:
    pass
with open("data/utf8.txt", "wb") as f:
    f.write("Grüße, €100 — ok\r\n".encode())
