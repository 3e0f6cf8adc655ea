"""The requests each DRAM of a system received, as traces a cycle-accurate peer can replay
(`hwmodel run --dram-trace OUT`, `System.run(dram_trace=OUT)`).

One file per DRAM that received requests: OUT.local.trace (OUT.local.<blade>.trace with several
compute blades), OUT.blade.trace (the memory blade), OUT.peer.trace (a checkpoint peer), in
- `dramsim3`: `0xADDR READ|WRITE cycle`, cycle = arrival in cycles of that DRAM's tCK (rounded
  up: the controller sees a request at the first clock edge after it arrives), for DRAMsim3's
  `-t` or `hwmodel dram`;
- `ramulator`: `0xADDR R|W` in arrival order (the format has no time);
- `text`: hwmodel's text format with arrival times in ps (exact).

The core logs a request when it reaches its DRAM: a line, or a swap unit as one block, which is
written as line requests at consecutive addresses, all at the block's arrival. The one-pass core
does not present requests in time order (a page fault's requests span microseconds; a victim's
write-back is held back until an access arrives after it is ready), so the writer holds what a
later request may still precede and writes the rest sorted by arrival: once the run has issued an
access at time H, every later request arrives at or after H, except a held-back write-back, which
arrives at or after its ready time (`Engine.log_horizon`).
"""
from __future__ import annotations

from pathlib import Path

import numpy as np

from .._layout import LOG_FIELDS
from ..memctrl import LINE_BYTES

FORMATS = ("dramsim3", "ramulator", "text")
_T, _ADDR, _BYTES, _DW = (LOG_FIELDS.index(f) for f in ("t_ps", "addr", "bytes", "dram_w"))


class DramTraceWriter:
    """Streams the request log of a run into one trace file per DRAM (see the module docstring)."""

    def __init__(self, prefix, system, fmt: str = "dramsim3"):
        if fmt not in FORMATS:
            raise ValueError(f"dram trace format {fmt!r} is not one of {', '.join(FORMATS)}")
        self.prefix, self.fmt = str(prefix), fmt
        blades = system.blades
        if len(blades) == 1:
            names = ["local"]
        else:
            names = [f"local.{n}" for n in system.blade_names]
        self.names = names + ["blade", "peer"]                  # by DRAM id (LOG_FIELDS)
        self.tck_ps = [b.dram.tck_ps for b in blades] + [system.memory_blade.dram.tck_ps,
                                                          system.service.peer_dram.tck_ps]
        self.files = {}
        self.requests = {}    # line requests written, by DRAM name
        self.pending = np.zeros((0, len(LOG_FIELDS)), np.int64)

    def path(self, name: str) -> Path:
        return Path(f"{self.prefix}.{name}.trace")

    def add(self, logs, horizon: int) -> None:
        """Take the chunk's logged requests; write those arriving before `horizon` (ps)."""
        rows = [self.pending] + [a for a in logs if len(a)]
        self.pending = np.concatenate(rows) if len(rows) > 1 else self.pending
        early = self.pending[:, _T] < horizon
        if early.any():
            self._write(self.pending[early])
            self.pending = self.pending[~early]

    def close(self) -> None:
        """Write what is left and close the files."""
        try:
            if len(self.pending):
                self._write(self.pending)
                self.pending = self.pending[:0]
        finally:
            for f in self.files.values():
                f.close()

    def _write(self, rows: np.ndarray) -> None:
        rows = rows[np.argsort(rows[:, _T], kind="stable")]   # equal times keep the core's order
        dram = rows[:, _DW] >> 1
        for d in np.unique(dram):
            mine = rows[dram == d]
            name = self.names[int(d)]
            text = self._lines(mine, self.tck_ps[int(d)])
            f = self.files.get(name)
            if f is None:
                f = self.files[name] = open(self.path(name), "w")
                if self.fmt == "text":
                    f.write("# hwmodel-trace text v1 timing=timestamp time_unit=ps fields=3\n")
            f.write(text)

    def _lines(self, rows: np.ndarray, tck_ps: int) -> str:
        """Text of the line requests of `rows` (blocks expanded into lines)."""
        lines = np.maximum(rows[:, _BYTES] // LINE_BYTES, 1)
        first = np.repeat(np.cumsum(lines) - lines, lines)
        k = np.arange(int(lines.sum())) - first                    # line index within its request
        t = np.repeat(rows[:, _T], lines)
        addr = np.repeat(rows[:, _ADDR], lines) + k * LINE_BYTES
        w = np.repeat(rows[:, _DW] & 1, lines)
        name = self.names[int(rows[0, _DW] >> 1)]
        self.requests[name] = self.requests.get(name, 0) + len(addr)
        a, o = addr.tolist(), w.tolist()
        if self.fmt == "dramsim3":
            cyc = (-(-t // tck_ps)).tolist()
            op = ("READ", "WRITE")
            return "".join(f"0x{x:X} {op[y]} {z}\n" for x, y, z in zip(a, o, cyc))
        if self.fmt == "ramulator":
            return "".join(f"0x{x:X} {'RW'[y]}\n" for x, y in zip(a, o))
        return "".join(f"0x{x:X} {'RW'[y]} {z}\n" for x, y, z in zip(a, o, t.tolist()))
