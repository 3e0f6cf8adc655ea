"""Record container and error type shared by every reader and writer.

A trace is a sequence of memory accesses held column-wise (one numpy array per field), so
that readers, the simulator core and the writers move whole blocks without per-record Python.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

#: dtype of each column, in the order of the native format
COLUMNS = {
    "time": np.int64,    # unit and meaning: the reader's `timing` and `time_unit`
    "addr": np.uint64,   # byte address
    "op": np.uint8,      # 0 = read, 1 = write
    "size": np.uint32,   # bytes accessed
    "vm": np.uint16,     # VM / core id
}
READ, WRITE = 0, 1
DEFAULT_SIZE = 64        # bytes, for formats that do not state the access size
TIMINGS = ("timestamp", "gap", "none")
TIME_UNITS = ("ps", "ns", "cycle", "instruction")


class TraceError(ValueError):
    """Bad trace input; the message names the file, the line or record, and the offending text."""


_LIMITS = {"time": (0, (1 << 63) - 1), "addr": (0, (1 << 64) - 1), "op": (0, 1), "size": (0, (1 << 32) - 1),
           "vm": (0, (1 << 16) - 1)}
_WHAT = {"time": "time", "addr": "address", "op": "operation", "size": "size", "vm": "VM id"}


def checked_column(values, name: str, where=None) -> np.ndarray:
    """`values` as column `name`'s dtype (COLUMNS), refusing what that cast would change: a value
    out of the column's range (op is 0 or 1 only), or a fraction. `where(i)` names row i
    (default 'record i+1'); TraceError otherwise. numpy's astype wraps and truncates silently."""
    where = where or (lambda i: f"record {i + 1}")
    a = np.asarray(values)
    dt = np.dtype(COLUMNS[name])
    if a.ndim != 1:
        raise TraceError(f"{where(0)}: column {name} has shape {a.shape}, expected one value per record")
    if a.dtype == dt or len(a) == 0:
        out = a.astype(dt, copy=False)
        if name == "op" and len(out) and out.max() > 1:
            i = int(np.argmax(out > 1))
            raise TraceError(f"{where(i)}: {_WHAT[name]} {int(out[i])} is neither 0 (read) nor 1 (write)")
        return out
    lo, hi = _LIMITS[name]
    if a.dtype.kind == "b":
        return a.astype(dt)
    if a.dtype.kind == "f":
        bad = ~np.isfinite(a) | (a != np.floor(a)) | (a < lo) | (a >= float(hi) + 1)
        if bad.any():
            i = int(np.argmax(bad))
            raise TraceError(f"{where(i)}: {_WHAT[name]} {float(a[i])!r} is not a whole number from {lo} to {hi}")
        return a.astype(dt)
    if a.dtype.kind not in "iu":
        raise TraceError(f"{where(0)}: column {name} holds {a.dtype}, not numbers")
    if a.dtype.kind == "i":
        bad = (a < lo) | ((a > hi) if np.iinfo(a.dtype).max > hi else False)
    else:
        bad = (a > np.uint64(hi)) if np.iinfo(a.dtype).max > hi else np.zeros(len(a), bool)
    if np.any(bad):
        i = int(np.argmax(bad))
        raise TraceError(f"{where(i)}: {_WHAT[name]} {int(a[i])} is out of range ({lo} to {hi}"
                         + (": 0 read, 1 write)" if name == "op" else ")"))
    return a.astype(dt)


@dataclass
class Chunk:
    """A block of consecutive trace records, one numpy array per field (all the same length).

    time: int64, arrival timestamp, gap before this record, or 0 (see TraceReader.timing/time_unit)
    addr: uint64 byte address; op: uint8 0 = read, 1 = write; size: uint32 bytes; vm: uint16 VM id
    first_line: 1-based line (text) or record (binary) number in the file of row 0.
    """
    time: np.ndarray
    addr: np.ndarray
    op: np.ndarray
    size: np.ndarray
    vm: np.ndarray
    first_line: int = 1

    def __len__(self) -> int:
        return len(self.addr)

    def __getitem__(self, key: slice) -> "Chunk":
        """A slice; its first_line assumes one record per line (exact for most formats)."""
        if not isinstance(key, slice):
            raise TypeError("Chunk supports slicing only")
        start = key.indices(len(self))[0]
        return Chunk(self.time[key], self.addr[key], self.op[key], self.size[key], self.vm[key],
                     self.first_line + start)

    @classmethod
    def from_arrays(cls, time=None, addr=None, op=None, size=None, vm=None, first_line: int = 1,
                    where=None) -> "Chunk":
        """Build a chunk, each column cast to its dtype only when no value changes (checked_column:
        TraceError naming `where(i)`, default 'record first_line + i', otherwise); missing columns
        get their defaults."""
        if addr is None:
            raise ValueError("Chunk needs at least an addr column")
        where = where or (lambda i: f"record {first_line + i}")
        addr = checked_column(addr, "addr", where)
        n = len(addr)

        def col(v, name, default):
            if v is None:
                return np.full(n, default, dtype=COLUMNS[name])
            a = np.asarray(v)
            if a.shape != (n,):
                raise TraceError(f"column {name} has shape {a.shape}, expected ({n},)")
            return checked_column(a, name, where)

        return cls(col(time, "time", 0), addr, col(op, "op", READ), col(size, "size", DEFAULT_SIZE),
                   col(vm, "vm", 0), first_line)

    @classmethod
    def empty(cls) -> "Chunk":
        return cls(*(np.empty(0, dtype=d) for d in COLUMNS.values()), first_line=1)

    def columns(self) -> dict:
        return {name: getattr(self, name) for name in COLUMNS}

    def equals(self, other: "Chunk") -> bool:
        """Same records (first_line is not compared)."""
        return all(np.array_equal(getattr(self, c), getattr(other, c)) for c in COLUMNS)


def concat(chunks) -> Chunk:
    """Concatenate chunks into one; first_line is that of the first chunk."""
    chunks = list(chunks)
    if not chunks:
        return Chunk.empty()
    if len(chunks) == 1:
        return chunks[0]
    return Chunk(*(np.concatenate([getattr(c, name) for c in chunks]) for name in COLUMNS),
                 first_line=chunks[0].first_line)
