"""Storage, the twin of core/storage.pxi: the I/O driver's page buffers and the storage device
(queue slots, internal units, a shared data path). Times in integer ps."""
from __future__ import annotations

from .._layout import C, P, S


class StorageIO:
    """Methods of the twin's `Core` (state in its attributes: core/state.py)."""

    def storage_io(self, t, write):
        """One swap unit to or from the storage device; returns when it is done. A request waits for
        a queue slot (the request ST_QD earlier must be done) and a free internal unit, then takes
        the device access time and its transfer on the shared data path."""
        p, sc, cnt = self.p, self.sc, self.cnt
        ri = sc[S["dev_ring_idx"]]
        s = max(t, self.dev_ring[ri])
        u = min(range(p[P["ST_UNITS"]]), key=lambda k: self.dev_unit_free[k])
        s = max(s, self.dev_unit_free[u])
        cnt[C["storage_wait_ps"]] += s - t
        x = max(s + (p[P["ST_WRITE_PS"]] if write else p[P["ST_READ_PS"]]), sc[S["dev_bus_free"]])
        done = x + p[P["ST_XFER_PS"]]
        sc[S["dev_bus_free"]] = done
        self.dev_unit_free[u] = done
        self.dev_ring[ri] = done
        sc[S["dev_ring_idx"]] = (ri + 1) % p[P["ST_QD"]]
        cnt[C["storage_writes"] if write else C["storage_reads"]] += 1
        return done

    def driver_take(self, t):
        """The I/O driver's earliest-free page buffer for a command issued at t: (buffer, the time
        the command can begin: after the driver's overhead and the buffer being free)."""
        b = min(range(self.p[P["DRV_BUFS"]]), key=lambda k: self.buf_free[k])
        ready = t + self.p[P["DRV_OVERHEAD_PS"]]
        if self.buf_free[b] > ready:
            self.cnt[C["driver_wait_ps"]] += self.buf_free[b] - ready
            ready = self.buf_free[b]
        return b, ready
