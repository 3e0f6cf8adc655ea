"""Memory controllers: compiling a `DRAM` description to the parameter vector of the core's DRAM
subsystem model (`_dram.pxi`, twin `_dram_reference.py`, layout `_dram_layout.py`)."""
from __future__ import annotations

import numpy as np

from ._dram_layout import D, DRAM_NAMES
from .dram import DRAM
from .units import log2_exact

LINE_BYTES = 64   # cache line: the unit of a demand access


def dram_params(d: DRAM) -> np.ndarray:
    """The DRAM vector the core reads (see _dram_layout.DRAM_NAMES)."""
    fields = d.address_map().fields()   # name -> (shift, mask, xor_shift, xor_mask)
    v = np.zeros(len(DRAM_NAMES), np.int64)

    def put(name, value):
        v[D[name]] = int(value)

    for f in ("ch", "ra", "bg", "ba", "ro"):
        shift, mask, xshift, xmask = fields[f]
        if xmask and f not in ("bg", "ba"):
            raise ValueError(f"dram.address_mapping: XOR hashing of the {f} field is not modelled")
        put(f"{f.upper()}_SHIFT", shift)
        put(f"{f.upper()}_MASK", mask)
    for f in ("bg", "ba"):
        put(f"{f.upper()}_XSHIFT", fields[f][2])
        put(f"{f.upper()}_XMASK", fields[f][3])
    put("BG_BITS", fields["bg"][1].bit_length())
    put("BA_BITS", fields["ba"][1].bit_length())
    put("N_CH", d.channels)
    put("N_BANKS", d.banks)
    put("T_CL", d.CL * d.tck_ps)
    put("T_CWL", d.CWL * d.tck_ps)
    put("T_RCD", d.tRCD * d.tck_ps)
    put("T_RP", d.tRP * d.tck_ps)
    put("T_BURST", d.burst_ps())
    put("BURST_BYTES", d.burst_bytes)
    put("BURST_SHIFT", log2_exact(d.burst_bytes, "dram.burst_bytes"))
    put("LINE_BURSTS", max(1, LINE_BYTES // d.burst_bytes))
    # the largest aligned run of bytes that stays in one (channel, bank, row): below the lowest
    # non-column field that has any bits
    seg = min((shift for f, (shift, mask, _, _) in fields.items() if f != "co" and mask), default=62)
    put("SEG_SHIFT", seg)
    put("CLOSED", d.row_policy == "closed")
    return v
