#!/usr/bin/env python3
"""Cuts the embedded sample from Debian's dataset-fashion-mnist package: the first TRAIN images of
the training set and the first TEST images of the test set, header counts rewritten, gzip at level 9
with no name or time stamp in the gzip header (so a re-run gives the same bytes)."""
import gzip, struct, sys

SOURCE = "/usr/share/datasets/fashion-mnist"
TRAIN, TEST = 5000, 1000

def cut(name, out, count):
    data = gzip.open(f"{SOURCE}/{name}", "rb").read()
    magic, total = struct.unpack(">II", data[:8])
    dims = magic & 0xFF
    header = 4 + 4 * dims
    item = 1
    for d in range(1, dims):
        item *= struct.unpack(">I", data[4 + 4 * d: 8 + 4 * d])[0]
    assert count <= total
    body = data[:4] + struct.pack(">I", count) + data[8:header] + data[header: header + count * item]
    with open(out, "wb") as f:
        with gzip.GzipFile(filename="", mode="wb", fileobj=f, compresslevel=9, mtime=0) as g:
            g.write(body)

for prefix, count in (("train", TRAIN), ("t10k", TEST)):
    cut(f"{prefix}-images-idx3-ubyte.gz", f"{prefix}-images-idx3-ubyte.gz", count)
    cut(f"{prefix}-labels-idx1-ubyte.gz", f"{prefix}-labels-idx1-ubyte.gz", count)
