"""Several timestamped traces merged by time into one stream, trace i becoming VM i.

Streams in bounded memory: at most one pending chunk per input. Records with equal times keep the
inputs' order (trace 0 first). Each record remembers its file and line, so an error later in the
run (a timestamp going backwards, an address outside its VM) names the file and line it came from.
"""
from __future__ import annotations

import os
from dataclasses import dataclass

import numpy as np

from ._types import Chunk, TraceError
from .reader import open_trace


@dataclass
class MergedChunk(Chunk):
    """A Chunk whose records come from several files: record i came from `paths[vm[i]]` (trace k
    is VM k) and `line[i]` is its line (or record number) in that file."""
    line: np.ndarray = None
    paths: tuple = ()

    def where(self, i: int) -> str:
        return f"{self.paths[int(self.vm[i])]}:{int(self.line[i])}"


class MergedTrace:
    """Iterable of MergedChunk over `paths` merged by timestamp; trace i's records get VM id i.

    Every input must be timestamped in the same time unit and carry only VM 0 (a trace of several
    VMs cannot become one VM without losing who is who)."""

    def __init__(self, paths, format=None, chunk_records=1 << 20, skip_bad_lines=False):
        self.paths = tuple(os.fspath(p) for p in paths)
        if len(self.paths) < 2:
            raise TraceError("merging needs at least two traces")
        if len(self.paths) > 65535:
            raise TraceError(f"{len(self.paths)} traces: at most 65535 (VM ids are 16-bit)")
        self.chunk_records = int(chunk_records)
        # a reader re-reads its file each time it is iterated: these serve every pass
        self._readers = readers = [open_trace(p, format=format, chunk_records=self.chunk_records,
                                              skip_bad_lines=skip_bad_lines) for p in self.paths]
        for r in readers:
            if r.timing != "timestamp":
                raise TraceError(f"{r.path}: a {r.format} trace without timestamps (timing {r.timing!r}); "
                                 f"merging by time needs timestamped traces")
        units = {r.time_unit for r in readers}
        if len(units) > 1:
            raise TraceError(f"traces in different time units ({', '.join(f'{r.path}: {r.time_unit}' for r in readers)}); "
                             f"convert them to one first (hwmodel trace convert)")
        self.timing, self.time_unit = "timestamp", readers[0].time_unit
        kinds = {r.addresses for r in readers}
        if len(kinds) > 1:
            raise TraceError(f"traces with virtual and physical addresses "
                             f"({', '.join(f'{r.path}: {r.addresses}' for r in readers)}); a run takes them one "
                             f"way (core.addresses): convert or run them apart")
        self.addresses = kinds.pop()
        self.path = " + ".join(self.paths)
        self.format = "merged"
        self.skipped_lines = 0

    def __iter__(self):
        readers = self._readers
        its = [iter(r) for r in readers]
        k = len(its)
        pend = [None] * k        # per input: (time, addr, op, size, line) not yet emitted
        live = [True] * k
        last = [np.iinfo(np.int64).min] * k   # each input's latest time so far
        out = []                 # merged pieces waiting to fill a chunk
        out_n = 0
        try:
            while True:
                for i in range(k):
                    # hold at least two distinct times per live input (or all it has left): then
                    # the records before its last time are known to be all of that input's so far
                    while live[i] and (pend[i] is None or len(pend[i][0]) == 0 or pend[i][0][0] == pend[i][0][-1]):
                        ch = next(its[i], None)
                        if ch is None:
                            live[i] = False
                            break
                        bad = np.flatnonzero(ch.vm)
                        if len(bad):
                            raise TraceError(f"{self.paths[i]}:{ch.first_line + int(bad[0])}: VM id "
                                             f"{int(ch.vm[bad[0]])}; merging makes each trace one VM, so "
                                             f"each must carry VM 0 only")
                        t = ch.time
                        prev = np.concatenate([[last[i]], t[:-1]])
                        back = np.flatnonzero(t < prev)
                        if len(back):
                            j = int(back[0])
                            raise TraceError(f"{self.paths[i]}:{ch.first_line + j}: timestamp goes backwards "
                                             f"({int(t[j])} after {int(prev[j])}); merging needs sorted traces")
                        last[i] = int(t[-1]) if len(t) else last[i]
                        new = (t, ch.addr, ch.op, ch.size, ch.first_line + np.arange(len(ch), dtype=np.int64))
                        pend[i] = new if pend[i] is None else tuple(np.concatenate(x) for x in zip(pend[i], new))
                have = [i for i in range(k) if pend[i] is not None and len(pend[i][0])]
                if not have:
                    break
                # records before the earliest last-buffered time of the inputs that have more to come
                # are final: nothing later in any input can precede them (or tie and come first)
                open_ends = [int(pend[i][0][-1]) for i in have if live[i]]
                bound = min(open_ends) if open_ends else None
                parts = []
                for i in have:
                    t = pend[i][0]
                    n = len(t) if bound is None else int(np.searchsorted(t, bound, side="left"))
                    if n:
                        parts.append((i, [a[:n] for a in pend[i]]))
                        pend[i] = tuple(a[n:] for a in pend[i])
                cols = [np.concatenate([p[1][j] for p in parts]) for j in range(5)]
                src = np.concatenate([np.full(len(p[1][0]), p[0], np.uint16) for p in parts])
                order = np.argsort(cols[0], kind="stable")   # ties: trace order (parts are in it)
                out.append([c[order] for c in cols] + [src[order]])
                out_n += len(order)
                while out_n >= self.chunk_records:
                    yield self._take(out, self.chunk_records)
                    out_n -= self.chunk_records
            if out_n:
                yield self._take(out, out_n)
        finally:
            for it in its:       # an input left part-read (an error, or the caller stopped) closes its file
                it.close()
        self.skipped_lines = sum(getattr(r, "skipped_lines", 0) for r in readers)

    def _take(self, out, n):
        """The first n merged records of `out` (consumed from it) as one MergedChunk."""
        cols = [np.concatenate([o[j] for o in out]) for j in range(6)]
        rest = [c[n:] for c in cols]
        out.clear()
        if len(rest[0]):
            out.append(rest)
        t, a, op, size, line, src = (c[:n] for c in cols)
        return MergedChunk(t, a, op, size, src, int(line[0]) if n else 1, line=line, paths=self.paths)

    def close(self):
        pass

    def __repr__(self):
        return f"MergedTrace({list(self.paths)!r})"


def merge_traces(paths, format=None, chunk_records=1 << 20, skip_bad_lines=False) -> MergedTrace:
    """Timestamped traces merged by time, trace i as VM i (see MergedTrace)."""
    return MergedTrace(paths, format=format, chunk_records=chunk_records, skip_bad_lines=skip_bad_lines)
