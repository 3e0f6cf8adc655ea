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
    def from_arrays(cls, time=None, addr=None, op=None, size=None, vm=None, first_line: int = 1) -> "Chunk":
        """Build a chunk, casting each column to its dtype; missing columns get their defaults."""
        if addr is None:
            raise ValueError("Chunk needs at least an addr column")
        addr = np.asarray(addr, dtype=np.uint64)
        n = len(addr)

        def col(v, name, default):
            if v is None:
                return np.full(n, default, dtype=COLUMNS[name])
            a = np.asarray(v)
            if a.shape != (n,):
                raise ValueError(f"column {name} has shape {a.shape}, expected ({n},)")
            return a.astype(COLUMNS[name], copy=False)

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
