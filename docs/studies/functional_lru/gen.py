"""The study's trace: bench_sampling's 10 M-access zipf workload over a 4 GiB VM, as binary files
in this folder (addr.bin uint64 and op.bin uint8 for real/; pages.bin int32 4 KiB pages and
writes.bin uint8 for simplified/). About 120 MB: not kept in git."""
import numpy as np

from hwmodel.trace import generate

w = generate("zipf", 10_000_000, 4 << 30, read_ratio=0.7, seed=1)
w.addr.astype(np.uint64).tofile("addr.bin")
w.op.astype(np.uint8).tofile("op.bin")
(w.addr >> 12).astype(np.int32).tofile("pages.bin")
w.op.astype(np.uint8).tofile("writes.bin")
