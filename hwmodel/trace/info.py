"""trace_info(): summary statistics of a trace, computed chunk by chunk.

Memory: bounded by the number of distinct 64 B lines touched (8 bytes each), which the
footprint needs; everything else is running totals.
"""
from __future__ import annotations

import numpy as np

PAGE = 4096
LINE = 64


class _Distinct:
    """Distinct uint64 values over a stream: sorted-unique runs merged when they pile up."""

    def __init__(self):
        self.done = np.empty(0, np.uint64)
        self.pending, self.pending_n = [], 0

    def add(self, v):
        u = np.unique(v)
        self.pending.append(u)
        self.pending_n += len(u)
        if self.pending_n > max(len(self.done), 1 << 20):
            self._compact()

    def _compact(self):
        if self.pending:
            self.done = np.unique(np.concatenate([self.done, *self.pending]))
            self.pending, self.pending_n = [], 0

    def __len__(self):
        self._compact()
        return len(self.done)


def trace_info(path_or_reader, format=None) -> dict:
    """records, reads, writes, distinct_pages (4 KiB), footprint_bytes (distinct 64 B lines x 64),
    addr_min, addr_max (bytes), first_time, last_time, duration (in time_unit: last - first
    timestamp, or the sum of gaps; 0 when untimed), plus format, timing, time_unit, compression,
    skipped_lines, ignored_records, instruction_fetches."""
    from .reader import TraceReader, open_trace
    reader = path_or_reader if isinstance(path_or_reader, TraceReader) else open_trace(path_or_reader, format)
    n = reads = 0
    amin, amax = None, None
    tfirst = tlast = None
    gap_sum = 0
    pages, lines = _Distinct(), _Distinct()
    for ch in reader:
        if not len(ch):
            continue
        n += len(ch)
        reads += int(np.count_nonzero(ch.op == 0))
        lo, hi = int(ch.addr.min()), int(ch.addr.max())
        amin = lo if amin is None else min(amin, lo)
        amax = hi if amax is None else max(amax, hi)
        if tfirst is None:
            tfirst = int(ch.time[0])
        tlast = int(ch.time[-1])
        # numpy's int64 sum wraps silently: exact Python ints when the chunk's sum could pass 2**62
        t_max = int(ch.time.max())
        gap_sum += int(ch.time.sum()) if t_max * len(ch) < 1 << 62 else sum(ch.time.tolist())
        lines.add(ch.addr // np.uint64(LINE))
        pages.add(ch.addr // np.uint64(PAGE))
    if reader.timing == "timestamp":
        duration = (tlast - tfirst) if n else 0
    elif reader.timing == "gap":
        duration = gap_sum
    else:
        duration = 0
    return {
        "path": reader.path, "format": reader.format, "timing": reader.timing, "time_unit": reader.time_unit,
        "compression": reader.compression,
        "records": n, "reads": reads, "writes": n - reads,
        "distinct_pages": len(pages), "footprint_bytes": len(lines) * LINE,
        "addr_min": amin, "addr_max": amax,
        "first_time": tfirst, "last_time": tlast, "duration": duration,
        "skipped_lines": reader.skipped_lines, "ignored_records": reader.ignored_records,
        "instruction_fetches": reader.instruction_fetches,
    }
