"""Requests to a DRAM and the DRAM request log, the twin of core/dram_log.pxi: every line or block a
DRAM receives goes through mem_line / mem_block, which log it (a row of _layout.LOG_FIELDS) when the
run keeps a DRAM trace. DRAM ids: each compute blade's local DRAM 0..N_CB-1, the memory blade, a
checkpoint peer."""
from __future__ import annotations

from .._layout import P


class DramLog:
    """Methods of the twin's `Core` (state in its attributes: core/state.py)."""

    def log_request(self, m, addr, t, nbytes, w):
        dram_id = self.nb if m is self.blade else self.nb + 1 if m is self.peer else self.locals.index(m)
        self.log.append((t, addr, nbytes, dram_id << 1 | w))

    def mem_line(self, m, addr, t, w):
        """A line request to DRAM m (logged when the run keeps a DRAM trace)."""
        if self.log is not None:
            self.log_request(m, addr, t, 1 << self.p[P["LINE_SHIFT"]], w)
        return m.line(addr, t, w)

    def mem_block(self, m, addr, nbytes, t, w):
        """A block (swap unit) request to DRAM m (logged when the run keeps a DRAM trace)."""
        if self.log is not None:
            self.log_request(m, addr, t, nbytes, w)
        return m.block(addr, nbytes, t, w)
