#!/usr/bin/env python3
"""Writes the seed corpus of tests/fuzz/fuzz_store.c: logs of a few records
(pastes, burn pastes, tombstones, one wrapping the end) whose CRCs the
target fixes (flags 3), and one with the CRCs left wrong (flags 0)."""
import os, struct, sys

BS = 512
out = sys.argv[1] if len(sys.argv) > 1 else os.path.join(os.path.dirname(__file__), "corpus", "store")
os.makedirs(out, exist_ok=True)

def record(kind, seq, rid, data=b"", flags=0, expires=0):
    blocks = (64 + len(data) + BS - 1) // BS
    h = struct.pack("<IBBHQQqIII12xI", 0x52505755, kind, flags, 0, seq, rid, expires, len(data), 0, blocks, 0)
    return (h + data).ljust(blocks * BS, b"\0")

key = b"0123456789abcdef"
seeds = {
    "three": record(1, 1, 11, b"hello") + record(1, 2, 12, b"x" * 700) + record(2, 3, 11),
    "burn_expired": record(1, 5, 21, b"burn", flags=1) + record(1, 6, 22, b"old", expires=10) + record(1, 7, 23, b"new", expires=99999),
    "copies": record(1, 1, 31, b"a" * 100) + record(1, 4, 31, b"a" * 100) + record(2, 5, 31) + record(1, 6, 32, b"b"),
}
wrap = bytearray(8 * BS)
big = record(1, 9, 41, b"w" * 1000)         # 3 blocks at position 6: wraps to 0
wrap[6 * BS:8 * BS] = big[:2 * BS]
wrap[0:BS] = big[2 * BS:]
wrap[BS:2 * BS] = record(1, 8, 42, b"v")
seeds["wrap"] = bytes(wrap)
for name, log in seeds.items():
    with open(os.path.join(out, name), "wb") as f:
        f.write(key + bytes([3]) + log)
with open(os.path.join(out, "unchecked"), "wb") as f:
    f.write(key + bytes([0]) + seeds["three"])
