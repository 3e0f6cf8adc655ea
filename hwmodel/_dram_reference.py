"""Plain-Python twin of `_dram.pxi`: the DRAM subsystem timing that defines the semantics.

A request to a bank finds its row open (hit: CAS latency), the bank precharged (miss: tRCD more)
or another row open (conflict: tRP more again); its data then waits for the channel's data bus,
which each burst holds for BL/transfers cycles. Open page keeps the row; closed page precharges
after the access.
"""
from ._dram_layout import D, DC


class Dram:
    """Bank / row-buffer / data-bus timing of one DRAM subsystem, on lists; `save()` writes back."""

    def __init__(self, d, st, prefix):
        self.d = [int(x) for x in d]
        self.st, self.prefix = st, prefix
        self.open_row = st[prefix + "open_row"].tolist()
        self.bank_free = st[prefix + "bank_free"].tolist()
        self.bus_free = st[prefix + "bus_free"].tolist()
        self.cnt = st[prefix + "counters"].tolist()

    def save(self):
        for name in ("open_row", "bank_free", "bus_free"):
            self.st[self.prefix + name][:] = getattr(self, name)
        self.st[self.prefix + "counters"][:] = self.cnt

    def access(self, addr, t, nbursts, is_write):
        d = self.d
        ch = (addr >> d[D["CH_SHIFT"]]) & d[D["CH_MASK"]]
        bg = ((addr >> d[D["BG_SHIFT"]]) & d[D["BG_MASK"]]) ^ ((addr >> d[D["BG_XSHIFT"]]) & d[D["BG_XMASK"]])
        ba = ((addr >> d[D["BA_SHIFT"]]) & d[D["BA_MASK"]]) ^ ((addr >> d[D["BA_XSHIFT"]]) & d[D["BA_XMASK"]])
        bank = ((((addr >> d[D["RA_SHIFT"]]) & d[D["RA_MASK"]]) << d[D["BG_BITS"]] | bg) << d[D["BA_BITS"]]) | ba
        b = ch * d[D["N_BANKS"]] + bank
        row = (addr >> d[D["RO_SHIFT"]]) & d[D["RO_MASK"]]
        start = max(t, self.bank_free[b])
        cas = d[D["T_CWL"]] if is_write else d[D["T_CL"]]
        if self.open_row[b] == row:
            lat = cas
            self.cnt[DC["row_hits"]] += 1
        elif self.open_row[b] < 0:
            lat = d[D["T_RCD"]] + cas
            self.cnt[DC["row_misses"]] += 1
        else:
            lat = d[D["T_RP"]] + d[D["T_RCD"]] + cas
            self.cnt[DC["row_conflicts"]] += 1
        data = max(start + lat, self.bus_free[ch])
        busy = nbursts * d[D["T_BURST"]]
        done = data + busy
        self.bus_free[ch] = done
        if d[D["CLOSED"]]:
            self.open_row[b] = -1
            self.bank_free[b] = done + d[D["T_RP"]]
        else:
            self.open_row[b] = row
            # the next column command may follow once this burst train has been issued
            self.bank_free[b] = data - cas + busy
        self.cnt[DC["dram_bytes"]] += nbursts * d[D["BURST_BYTES"]]
        return done

    def line(self, addr, t, is_write):
        return self.access(addr, t, self.d[D["LINE_BURSTS"]], is_write)

    def block(self, addr, nbytes, t, is_write):
        """A page-sized transfer: one multi-burst access per (channel, bank, row) segment, all issued at t."""
        seg = min(1 << self.d[D["SEG_SHIFT"]], nbytes)
        nb = max(1, seg >> self.d[D["BURST_SHIFT"]])
        done = t
        for a in range(addr, addr + nbytes, seg):
            done = max(done, self.access(a, t, nb, is_write))
        return done
