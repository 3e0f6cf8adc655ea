"""Memory controllers: compiling a `DRAM` description to the parameter vector of the core's DRAM
subsystem model (`_dram.pxi`, twin `_dram_reference.py`, layout `_dram_layout.py`).

Two fidelity levels, chosen by `DRAM.model`:

- "detailed" (default): the one-pass controller model described in `_dram_reference.py` (bank,
  rank and data-bus timing rules, FR-FCFS approximation, queues, posted writes with a drain
  buffer, refresh), cross-checked against DRAMsim3.
- "simple": per-bank open row; a request costs CL (hit), tRCD + CL (closed) or tRP + tRCD + CL
  (conflict), CWL instead of CL for writes, then waits for its channel's data bus, which it holds
  for its bursts; a bank takes its next column command once the burst train has been issued
  (closed page: tRP after the data; timeout policy: a row left idle for the timeout after that is
  closed, and the next access waits tRP after the timeout). No queues, posted writes, refresh,
  tRAS/tRC/tRRD/tFAW or bus turnarounds. Use it where DRAM detail does not matter and speed does.

Both count ACT and PRE commands; with `activity` (the DRAM tool, hwmodel.dramsim) they also keep
each rank's time with a bank open, which energy needs (see _dram_reference's docstring). The
simple model keeps rows open across the refreshes it does not model, so that time is an upper
bound there.
"""
from __future__ import annotations

import numpy as np

from ._dram_layout import D, DRAM_NAMES, MODELS
from .dram import DRAM
from .units import log2_exact

LINE_BYTES = 64   # cache line: the unit of a demand access
BUS_SLOTS = 16    # data-bus calendar entries per channel (bursts the scheduler can still fit around)
MAX_RANK_BG = 64  # ranks x bank groups per channel the detailed model tabulates bus gaps for (_dram.pxi)


def dram_params(d: DRAM, activity: bool = False) -> np.ndarray:
    """The DRAM vector the core reads (see _dram_layout.DRAM_NAMES). `activity` turns on the
    accounting of rank activity (time with a bank open) that energy needs: it costs 10-20% of
    the detailed model's speed, so only the DRAM tool (hwmodel.dramsim) asks for it."""
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
    put("ROW_TIMEOUT", d.row_timeout * d.tck_ps if d.row_policy == "timeout" else 0)

    tck, burst = d.tck_ps, d.burst_cycles
    for name, cycles in (("T_CK", 1), ("T_RCDWR", d.rcd_write), ("T_RAS", d.tRAS), ("T_RC", d.tRC),
                         ("T_RTP", d.tRTP), ("T_WR", d.tWR), ("T_RRD_S", d.tRRD_S),
                         ("T_RRD_L", d.tRRD_L), ("T_FAW", d.tFAW), ("T_RFC", d.tRFC),
                         ("T_TRAIN", max(burst, d.tCCD_L)),
                         # data-bus gaps: DRAMsim3's command-to-command timings (timing.cc) less
                         # the burst, with column-to-data offsets CL / CWL folded in
                         ("G_CCDL", max(burst, d.tCCD_L) - burst), ("G_CCDS", max(burst, d.tCCD_S) - burst),
                         ("G_RW", d.tRPRE + d.tRTRS), ("G_WTRL", d.tWTR_L + d.CL),
                         ("G_WTRS", d.tWTR_S + d.CL), ("G_RTRS", d.tRTRS), ("G_WWO", d.tWPRE)):
        put(name, cycles * tck)
    put("N_RANKS", d.ranks)
    if d.model == "detailed" and d.ranks * d.bankgroups > MAX_RANK_BG:
        raise ValueError(f"dram.ranks: {d.ranks} ranks x {d.bankgroups} bank groups exceed the "
                         f"{MAX_RANK_BG} (rank, bank group) pairs per channel the detailed model handles")
    if d.refresh_policy == "bank_level_staggered" and d.model == "detailed":
        raise ValueError("dram.refresh_policy: 'bank_level_staggered' (per-bank refresh) is not modelled; "
                         "use 'rank_level_staggered', 'rank_level_simultaneous' or 'none'")
    mode = {"none": 0, "rank_level_staggered": 1, "rank_level_simultaneous": 2}.get(d.refresh_policy, 0)
    stagger = d.tREFI // d.ranks if mode == 1 else d.tREFI   # DRAMsim3: tREFI / ranks, integer cycles
    put("REF_MODE", mode)
    put("REF_STAGGER", stagger * tck)
    put("T_REFI", (stagger * d.ranks if mode == 1 else d.tREFI) * tck)
    put("FRFCFS", d.scheduler == "frfcfs")
    put("Q_SIZE", d.trans_queue_size)
    put("CQ_SIZE", d.cmd_queue_size)
    put("WB_HI", d.trans_queue_size)            # DRAMsim3: the write buffer is as deep as the read queue
    put("WB_LO", max(1, min(d.write_buf_size, d.trans_queue_size)))
    put("BUS_SLOTS", BUS_SLOTS)
    put("LINE_SHIFT", log2_exact(LINE_BYTES, "line"))
    put("MODEL", MODELS[d.model])
    put("RA_SLOTS", ra_slots(d))
    put("ACTIVITY", bool(activity))
    if v[D["RO_MASK"]] >= 1 << 32:   # the detailed model's write buffer keys are bank << 32 | row
        raise ValueError(f"dram.address_mapping: {v[D['RO_MASK']] + 1} rows per bank exceed the 2^32 modelled")
    return v


def ra_slots(d: DRAM) -> int:
    """Bank open/close events a rank holds ahead of its activity frontier (see _dram_layout).

    Events later than the frontier belong to requests the controller has accepted and not yet
    served: at most the read queue, the command queues of the rank's banks and a write drain,
    each with up to two events (a row switch's PRE and ACT; FR-FCFS moving a switch adds four).
    Four per request, rounded up to a power of two: the slots then never have to fold early."""
    per_rank = d.trans_queue_size + d.cmd_queue_size * d.bankgroups * d.banks_per_group + d.trans_queue_size
    return 1 << max(6, (4 * per_rank - 1).bit_length())
