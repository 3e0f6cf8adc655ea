"""Synthetic stand-ins for the memory-blade paper's workloads, shared by the examples.

They are not the paper's traces (SPEC, nutch, indexer, TPC-H ... are not redistributable); they
span the axis that decides page swapping vs fine-grained access: how many of a page's 64 B lines
a workload touches while the page is resident (page-level spatial locality).

Every workload is an untimed trace (a dict of numpy arrays), so it runs closed loop: each access
issues `core.gap` after the previous one with at most `core.window` outstanding. Slowdown is then
completion time over the all-local run's, i.e. time to do the same work. All are seeded and
deterministic. Addresses span exactly `footprint` bytes, so VM memory = footprint.
"""
from __future__ import annotations

import sys
from pathlib import Path

import numpy as np

try:
    import hwmodel  # noqa: F401
except ImportError:     # run from a checkout without `pip install -e .`
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from hwmodel.trace import generate  # noqa: E402

LINE = 64

#: name -> what it stands for (printed under the tables)
DESCRIPTIONS = {
    "kv-objects": "zipf(0.99) over 1 KiB objects, each access reads/writes its 16 lines in order "
                  "(key-value store / DB rows: page-level locality)",
    "zipf-lines": "zipf(0.99) over single 64 B lines scattered over the footprint (no page locality)",
    "hotcold": "90% of accesses to a hot 10% of the footprint, uniform lines within each part",
    "stream": "sequential 64 B lines, wrapping at the footprint (scans; LRU's worst case)",
    "strided": "4 KiB stride: one line per page, then the next line (column walks)",
    "cpu-mix": "CPU-like: interleaved 50% kv-objects, 30% stream, 20% pointer chase, behind a "
               "256 KiB LLC, 2 ns of compute between accesses",
}

#: per-workload system settings a workload needs (applied to every configuration it runs on,
#: the all-local baseline included, so they do not bias the slowdown)
SYSTEM = {
    "cpu-mix": {"cache": {"size": "256KiB"}, "core": {"gap": "2ns"}},
}


def _objects(n, footprint, obj_bytes, read_ratio, seed):
    """zipf over objects of obj_bytes; each object access becomes its lines, in order."""
    k = obj_bytes // LINE
    objs = generate("zipf", -(-n // k), footprint, read_ratio=read_ratio, seed=seed, line_bytes=obj_bytes)
    addr = (objs.addr[:, None] + np.arange(k, dtype=np.uint64) * np.uint64(LINE)).ravel()[:n]
    op = np.repeat(objs.op, k)[:n]
    return addr, op


def make(name: str, n: int, footprint: int, seed: int = 1) -> dict:
    """The trace of workload `name`: n accesses over `footprint` bytes (a multiple of 4 KiB)."""
    if name == "kv-objects":
        addr, op = _objects(n, footprint, 1024, 0.8, seed)
    elif name in ("zipf-lines", "hotcold", "stream", "strided"):
        kind = {"zipf-lines": "zipf"}.get(name, name)
        ch = generate(kind, n, footprint, read_ratio=0.7, seed=seed)
        addr, op = ch.addr, ch.op
    elif name == "cpu-mix":
        rng = np.random.default_rng([seed, 7])
        parts = [_objects(n, footprint, 1024, 0.8, seed + 1),
                 (lambda c: (c.addr, c.op))(generate("stream", n, footprint, read_ratio=0.7, seed=seed + 2)),
                 (lambda c: (c.addr, c.op))(generate("pointer_chase", n, footprint, seed=seed + 3))]
        pick = rng.choice(3, size=n, p=[0.5, 0.3, 0.2])
        # each part advances only when picked: a phase-interleaved program, not a shuffled one
        idx = np.zeros(n, np.int64)
        for j in range(3):
            m = pick == j
            idx[m] = np.arange(int(m.sum()))
        addr = np.choose(pick, [p[0][idx % len(p[0])] for p in parts]).astype(np.uint64)
        op = np.choose(pick, [p[1][idx % len(p[1])] for p in parts]).astype(np.uint8)
    else:
        raise ValueError(f"unknown workload {name!r}; known: {', '.join(DESCRIPTIONS)}")
    return {"addr": np.ascontiguousarray(addr, np.uint64), "op": np.ascontiguousarray(op, np.uint8),
            "time": np.zeros(len(addr), np.int64)}


def merge(a: dict, b: dict) -> dict:
    """Nested dict merge (b wins), for configuration sections."""
    out = dict(a)
    for k, v in b.items():
        out[k] = merge(out[k], v) if isinstance(v, dict) and isinstance(out.get(k), dict) else v
    return out


def size_str(nbytes: int) -> str:
    """Bytes as a size string hwmodel parses (whole KiB)."""
    assert nbytes % 1024 == 0, nbytes
    return f"{nbytes // 1024}KiB"


def local_bytes(footprint: int, fraction: float, page: int = 4096) -> int:
    """fraction x footprint, rounded down to whole pages."""
    return int(footprint * fraction) // page * page
