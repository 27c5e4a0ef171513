# Reference side of bench/multipart.sh: Debian's python3-multipart (the
# `multipart` module) parsing the same body from memory, fed in the same
# chunks, several runs; prints the median.
#   python3 multipart_python.py BODY CONTENT-TYPE [CHUNK_BYTES [RUNS]]
import sys, time
from multipart.multipart import MultipartParser, parse_options_header

body = open(sys.argv[1], "rb").read()
ct = sys.argv[2]
chunk = int(sys.argv[3]) if len(sys.argv) > 3 else 65536
runs = int(sys.argv[4]) if len(sys.argv) > 4 else 3
_, params = parse_options_header(ct)
boundary = params[b"boundary"]
mbps = []
for _ in range(runs):
    st = {"bytes": 0, "parts": 0}
    def on_part_begin():
        st["parts"] += 1
    def on_part_data(data, start, end):
        st["bytes"] += end - start
    p = MultipartParser(boundary, {"on_part_begin": on_part_begin, "on_part_data": on_part_data})
    view = memoryview(body)
    t0 = time.perf_counter()
    for at in range(0, len(body), chunk):
        p.write(view[at:at + chunk])
    p.finalize()
    mbps.append(len(body) / (time.perf_counter() - t0) / 1e6)
mbps.sort()
print(f"python-multipart MBps={mbps[len(mbps) // 2]:.1f} parts={st['parts']} bytes={st['bytes']}")
