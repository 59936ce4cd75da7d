#!/usr/bin/env python3
"""Writes the seed corpus of fuzz_c_api (corpus/): the problems that once crashed or exhausted
memory (issue 12) and one ordinary problem per operation and direction. Each seed spells the
target's input format: operation byte, direction byte, then each descriptor field; a size is
0xF8 and 8 little-endian bytes. The bytes after the descriptor are left out: the target reads
zeros there, which means threads 0, ISA auto, every buffer exactly as long as needed, present
once, and filled with -8."""
import os
import struct

HERE = os.path.dirname(os.path.abspath(__file__))
CONV, POOL, DENSE, ELTWISE, SOFTMAX = 0, 1, 2, 3, 4
FWD_I, FWD_D, BWD_D, BWD_W = 0, 1, 2, 3


def size(value):
    return b"\xf8" + struct.pack("<q", value)


def conv(direction, mb, ic, ih, iw, oc, kh, kw, sh=1, sw=1, pt=0, pb=0, pl=0, pr=0, dh=1, dw=1, g=1, act=0):
    fields = [mb, ic, ih, iw, oc, kh, kw, sh, sw, pt, pb, pl, pr, dh, dw, g]
    return bytes([CONV, direction]) + b"".join(size(f) for f in fields) + bytes([act, 0])


def pool(direction, alg, mb, c, ih, iw, kh, kw, sh, sw, pt=0, pb=0, pl=0, pr=0):
    fields = [mb, c, ih, iw, kh, kw, sh, sw, pt, pb, pl, pr]
    return bytes([POOL, direction, alg]) + b"".join(size(f) for f in fields)


def dense(direction, mb, i, o, act=0):
    return bytes([DENSE, direction]) + size(mb) + size(i) + size(o) + bytes([act, 0])


def softmax(direction, mb, classes):
    return bytes([SOFTMAX, direction]) + size(mb) + size(classes)


def eltwise(direction, act, length):
    return bytes([ELTWISE, direction, act, 0]) + size(length)


seeds = {
    # issue 12: depthwise workspace size wrapped (SIGSEGV)
    "depthwise_huge_strides": conv(FWD_I, 1, 1, 16, 16, 1, 2, 1, 1048576, 2147483647, 2147483647, 2147483647, 1, 1, g=1),
    "depthwise_huge_strides_g": conv(FWD_I, 1, 1, 16, 16, 1, 2, 1, 1048576, 2147483647, 2147483647, 2147483647, 1, 1),
    # issue 12: separable pooling scratch grew with the stride (8 GiB for one output)
    "pool_max_huge_stride": pool(FWD_I, 0, 1, 1, 3, 3, 3, 3, 2147483647, 2147483647, 1, 1, 1, 1),
    # issue 12: the GEMM window grew with the width stride
    "conv_stride_1e8": conv(FWD_I, 1, 1, 3, 3, 1, 3, 3, 1, 100000000, 1, 1, 1, 1),
    "conv_stride_max": conv(FWD_I, 1, 1, 3, 3, 1, 3, 3, 1, 2147483647, 1, 1, 1, 1),
    "conv_padded_height_wraps_int32": conv(FWD_I, 1, 1, 8, 16, 1, 1, 1, 536870912, 1, 2147483646, 2147483646),
    # the whole-row average pooling gradient's window weights, once a table per output row, were
    # sized by a 1.9e9-row plane's height at plan creation
    "pool_avg_rows_tall_plane": pool(BWD_D, 2, 2, 3, 1929379848, 8, 3, 3, 2, 2, 1, 1, 1, 1),
    # the flat kernel's scratch size, saturated for a 4-million-row padding, overflowed in bytes (UBSan)
    "conv_flat_scratch_saturates": bytes([CONV, FWD_D]) + b"".join(size(f) for f in [2, 0x3b0006, 14, 14, 16, 5, 5, 1, 1, 0x400000, 0, 0x100000, 0, 1, 1, 1]) + bytes([1, 0]),
    # the same saturated sizes in the rows-window GEMM's and the blocked direct kernel's acceptance
    "conv_rows_window_scratch_saturates": conv(FWD_D, 2, 0x3b0006, 14, 14, 14, 16, 5, 5, 1, 1, 0x400004, 0, 0x100000, 0x30000, 1, act=1),
    # the blocked direct kernel's window size itself overflowed before it was compared (UBSan)
    "conv_blocked_window_overflows": conv(FWD_D, 2, 0x3b0006, 14, 14, 0xF90D, 16, 5, 5, 1, 1, 0x400004, 0, 0x100000, 0x30000, 1, act=1),
    "lenet_c2_fwd": conv(FWD_D, 2, 6, 14, 14, 16, 5, 5, act=1),
    "lenet_c2_bwd_d": conv(BWD_D, 2, 6, 14, 14, 16, 5, 5),
    "lenet_c2_bwd_w": conv(BWD_W, 2, 6, 14, 14, 16, 5, 5),
    "conv_s2_padded_bwd_d": conv(BWD_D, 1, 8, 9, 9, 16, 3, 3, 2, 2, 1, 1, 1, 1),
    # 16 images or more: the images-in-lanes kernels (backward data through the forward one)
    "lanes_bwd_d": conv(BWD_D, 17, 6, 10, 10, 8, 5, 5, act=1),
    "lanes_bwd_w": conv(BWD_W, 17, 1, 12, 12, 6, 5, 5, 1, 1, 2, 2, 2, 2, act=1),
    "lanes_fwd": conv(FWD_D, 17, 2, 12, 12, 6, 5, 5, 1, 1, 2, 2, 2, 2, act=1),
    "depthwise_bwd_w": conv(BWD_W, 2, 8, 9, 9, 8, 3, 3, 1, 1, 1, 1, 1, 1, g=8),
    "pool_max_fwd_d": pool(FWD_D, 0, 2, 3, 8, 8, 2, 2, 2, 2),
    "pool_max_bwd_d": pool(BWD_D, 0, 2, 3, 8, 8, 3, 3, 2, 2, 1, 1, 1, 1),
    "pool_avg_bwd_d": pool(BWD_D, 2, 2, 3, 8, 8, 3, 3, 2, 2, 1, 1, 1, 1),
    "dense_fwd": dense(FWD_I, 4, 100, 10, act=2),
    "dense_bwd_w": dense(BWD_W, 4, 100, 10),
    "softmax_fwd_d": softmax(FWD_D, 4, 10),
    "softmax_bwd_d": softmax(BWD_D, 4, 10),
    "eltwise_tanh_bwd": eltwise(BWD_D, 3, 100),
}

os.makedirs(os.path.join(HERE, "corpus"), exist_ok=True)
for name, data in seeds.items():
    with open(os.path.join(HERE, "corpus", name), "wb") as f:
        f.write(data)
print(f"{len(seeds)} seeds in {os.path.join(HERE, 'corpus')}")
