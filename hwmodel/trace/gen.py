"""Synthetic traces: seeded, deterministic, vectorized (10 M records in about a second).

generate(kind, n, footprint_bytes, read_ratio=0.7, seed=0, line_bytes=64, **kw) -> Chunk

Addresses are multiples of line_bytes in [base, base + footprint_bytes); size = line_bytes;
op is a write with probability 1 - read_ratio; time = i * interval (kw `interval`, default 0:
untimed; the unit is the caller's, e.g. write_trace(..., timing="timestamp", time_unit="cycle")).
Kinds and their keywords:
  stream         sequential lines, wrapping at the footprint
  strided        stride=4096 bytes; after each wrap the start moves one line on, so every line is
                 visited even when the stride divides the footprint
  uniform        uniformly random lines
  zipf           alpha=0.99: rank r drawn with P ~ r^-alpha (continuous inverse-CDF
                 approximation, exact in the tail), ranks scattered over the footprint by a
                 seeded bijection so hot lines are not adjacent
  hotcold        hot_fraction=0.1 of the footprint receives hot_access=0.9 of the accesses,
                 uniformly within the hot and the cold part (hot part at the bottom)
  pointer_chase  a single pseudo-random cycle through every line (read_ratio default 1.0)
  mix            phases=[(kind, fraction, {kw}), ...]: consecutive phases, fractions of n
Common keywords: base=0 (address offset), vm=0, interval=0.
"""
from __future__ import annotations

import math
import os

import numpy as np

from ._types import Chunk

KINDS = ("stream", "strided", "uniform", "zipf", "hotcold", "pointer_chase", "mix")


def _bijection(x: np.ndarray, n: int, seed: int) -> np.ndarray:
    """A seeded permutation of [0, n) applied to x (uint64), in O(1) memory: an invertible
    mix on the next power of two, cycle-walking values that land outside [0, n)."""
    bits = max(int(n - 1).bit_length(), 1)
    mask = np.uint64((1 << bits) - 1)
    rng = np.random.default_rng([seed, 0x5eed])
    keys = rng.integers(0, 1 << 62, size=6, dtype=np.uint64)
    half = np.uint64(max(bits // 2, 1))

    def mix(v):
        for i in range(3):
            v = (v * (keys[i] | np.uint64(1))) & mask     # odd multiplier: a bijection mod 2^bits
            v ^= v >> half                                  # xor-shift: a bijection too
            v = (v + keys[3 + i]) & mask
        return v

    y = mix(x.astype(np.uint64))
    out_of_range = y >= np.uint64(n)
    while out_of_range.any():
        y[out_of_range] = mix(y[out_of_range])
        out_of_range = y >= np.uint64(n)
    return y


def _lines(kind, n, nlines, rng, seed, kw):
    i = np.arange(n, dtype=np.uint64)
    if kind == "stream":
        return i % np.uint64(nlines)
    if kind == "strided":
        stride_lines = max(int(kw.pop("stride", 4096)) // kw["_line"], 1)
        pos = i * np.uint64(stride_lines)
        return (pos + pos // np.uint64(nlines)) % np.uint64(nlines)
    if kind == "uniform":
        return rng.integers(0, nlines, n, dtype=np.uint64)
    if kind == "zipf":
        a = float(kw.pop("alpha", 0.99))
        u = rng.random(n)
        if abs(a - 1.0) < 1e-9:
            r = np.floor(np.exp(u * np.log(nlines + 1.0)))
        else:
            r = np.floor((u * ((nlines + 1.0) ** (1 - a) - 1) + 1) ** (1 / (1 - a)))
        rank = np.clip(r, 1, nlines).astype(np.uint64) - np.uint64(1)
        return _bijection(rank, nlines, seed)
    if kind == "hotcold":
        hf, ha = float(kw.pop("hot_fraction", 0.1)), float(kw.pop("hot_access", 0.9))
        if not (0 < hf < 1 and 0 <= ha <= 1):
            raise ValueError("hotcold needs 0 < hot_fraction < 1 and 0 <= hot_access <= 1")
        hot = max(int(nlines * hf), 1)
        is_hot = rng.random(n) < ha
        return np.where(is_hot, rng.integers(0, hot, n, dtype=np.uint64),
                        np.uint64(hot) + rng.integers(0, max(nlines - hot, 1), n, dtype=np.uint64)) % np.uint64(nlines)
    if kind == "pointer_chase":
        return _bijection(i % np.uint64(nlines), nlines, seed)
    raise ValueError(f"unknown generator kind {kind!r}; kinds: {', '.join(KINDS)}")


BYTES_PER_RECORD = 64     # peak memory of generating one record (columns and temporaries)


def _memory_budget() -> int:
    """Bytes a generated trace may take: half of physical memory (a trace is made in memory)."""
    try:
        return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") // 2
    except (ValueError, OSError, AttributeError):
        return 8 << 30


def _check_args(kind, n, footprint_bytes, line_bytes, base, vm, interval, kw):
    if kind not in KINDS:
        raise ValueError(f"unknown generator kind {kind!r}; kinds: {', '.join(KINDS)}")
    if n < 0 or line_bytes <= 0 or footprint_bytes < line_bytes:
        raise ValueError(f"need n >= 0 and footprint_bytes >= line_bytes > 0; got n={n}, "
                         f"footprint_bytes={footprint_bytes}, line_bytes={line_bytes}")
    if n * BYTES_PER_RECORD > _memory_budget():
        raise ValueError(f"n: {n:,} records need about {n * BYTES_PER_RECORD / 1e9:.3g} GB to generate in memory, "
                         f"more than half of this machine's; generate fewer (several seeds, or bases, merged)")
    if base < 0 or base + footprint_bytes > 1 << 64:
        raise ValueError(f"base {base:#x} + footprint {footprint_bytes:#x} do not fit 64-bit addresses")
    if not 0 <= vm <= 65535:
        raise ValueError(f"vm {vm} is not a VM id (0..65535)")
    if interval < 0 or interval * max(n, 1) >= 1 << 63:
        raise ValueError(f"interval {interval} x {n:,} records does not fit the 64-bit time column")
    for name in ("alpha", "hot_fraction", "hot_access"):
        if name in kw and not (isinstance(kw[name], (int, float)) and math.isfinite(kw[name])
                               and abs(kw[name]) <= 100):
            raise ValueError(f"{name}: {kw[name]!r} must be a finite number (|{name}| <= 100)")
    if "stride" in kw and not (isinstance(kw["stride"], int) and 0 < kw["stride"] <= footprint_bytes):
        raise ValueError(f"stride: {kw['stride']!r} must be a whole number of bytes from 1 to the footprint")


def generate(kind, n, footprint_bytes, read_ratio=None, seed=0, line_bytes=64, **kw) -> Chunk:
    """A synthetic trace of n records over footprint_bytes (see the module docstring)."""
    n, footprint_bytes, line_bytes = int(n), int(footprint_bytes), int(line_bytes)
    base, vm, interval = int(kw.pop("base", 0)), int(kw.pop("vm", 0)), int(kw.pop("interval", 0))
    _check_args(kind, n, footprint_bytes, line_bytes, base, vm, interval, kw)
    if kind == "mix":
        phases = kw.pop("phases", None)
        if not phases or kw:
            raise ValueError("mix needs phases=[(kind, fraction, {kw}), ...] and no other keywords")
        for p in phases:
            if not isinstance(p, (list, tuple)) or not 2 <= len(p) <= 3 or p[0] == "mix" or \
                    not isinstance(p[1], (int, float)) or not (math.isfinite(p[1]) and p[1] > 0) or \
                    (len(p) == 3 and not isinstance(p[2], dict)):
                raise ValueError(f"mix phase {p!r}: expected (kind, fraction > 0[, {{keywords}}]), kind not mix")
        fr = np.array([float(p[1]) for p in phases])
        counts = np.floor(fr / fr.sum() * n).astype(int)
        counts[-1] += n - counts.sum()
        parts, t0 = [], 0
        for j, (p, m) in enumerate(zip(phases, counts)):
            pkw = dict(p[2]) if len(p) > 2 else {}
            pkw.setdefault("base", base)
            pkw.setdefault("vm", vm)
            pkw.setdefault("interval", interval)
            pkw.setdefault("read_ratio", read_ratio)
            ch = generate(p[0], m, pkw.pop("footprint_bytes", footprint_bytes), seed=[seed, j] if np.isscalar(seed) else [*seed, j],
                          line_bytes=line_bytes, **pkw)
            ch.time += t0
            t0 = int(ch.time[-1]) + interval if len(ch) else t0
            parts.append(ch)
        from ._types import concat
        out = concat(parts)
        out.first_line = 1
        return out
    if read_ratio is None:
        read_ratio = 1.0 if kind == "pointer_chase" else 0.7
    if not 0.0 <= read_ratio <= 1.0:
        raise ValueError(f"read_ratio must be in [0, 1], got {read_ratio}")
    rng = np.random.default_rng(seed)
    nlines = footprint_bytes // line_bytes
    kw["_line"] = line_bytes
    lines = _lines(kind, n, nlines, rng, seed if np.isscalar(seed) else int(np.sum(seed)), kw)
    kw.pop("_line")
    if kw:
        raise ValueError(f"unknown keyword(s) for {kind!r}: {', '.join(kw)}")
    addr = lines * np.uint64(line_bytes) + np.uint64(base)
    op = (rng.random(n) >= read_ratio).astype(np.uint8) if read_ratio < 1.0 else np.zeros(n, np.uint8)
    time = np.arange(n, dtype=np.int64) * interval
    return Chunk(time, addr, op, np.full(n, line_bytes, np.uint32), np.full(n, vm, np.uint16), 1)
