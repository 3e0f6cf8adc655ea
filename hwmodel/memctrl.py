"""Memory controllers: compiling a `DRAM` description to the parameter vector of the core's DRAM
subsystem model (`core/dram.pxi`, twin `core/dram.py`, layout `_dram_layout.py`).

Three fidelity levels, chosen by `DRAM.model`:

- "detailed" (default): the memory controller as DRAMsim3 builds it (`core/dram_ctrl*.pxi`, twin
  `core/dram_ctrl.py`, whose docstring gives every rule): a read queue and a write buffer of
  `trans_queue_size` with a write drain, per-bank or per-rank command queues of `cmd_queue_size`,
  one transaction moved and one command issued per cycle, FR-FCFS over the queued commands in
  round-robin queue order, refresh per rank or per bank, open/closed/timeout page and DRAMsim3's
  timing table; simulated cycle by cycle only where something can happen. Cross-checked against
  DRAMsim3 on six traces and five controller variants (README).
- "fast": a one-pass approximation of it (`core/dram_fast.pxi`, twin `core/dram_fast.py`) that
  answers each request when it is presented, never revising an answer: bank, rank and data-bus
  timing rules, an FR-FCFS approximation, queue admission, posted writes drained as a batch,
  refresh. Several times faster; it misses what queueing does (README gives its agreement).
- "simple": per-bank open row; a request costs CL (hit), tRCD + CL (closed) or tRP + tRCD + CL
  (conflict), CWL instead of CL for writes, then waits for its channel's data bus, which it holds
  for its bursts; a bank takes its next column command once the burst train has been issued
  (closed page: tRP after the data; timeout policy: a row left idle for the timeout after that is
  closed, and the next access waits tRP after the timeout). No queues, posted writes, refresh,
  tRAS/tRC/tRRD/tFAW or bus turnarounds. Use it where DRAM detail does not matter and speed does.

All count ACT and PRE commands; with `activity` (the DRAM tool, hwmodel.dramsim) they also keep
each rank's time with a bank open, which energy needs. The detailed model knows it exactly (it
simulates in time order); the fast one folds out-of-order events (core.dram_fast); the
simple model keeps rows open across the refreshes it does not model, so that time is an upper
bound there.
"""
from __future__ import annotations

import numpy as np

from ._dram_layout import D, DRAM_NAMES, MODELS, REF_MODES
from .dram import DRAM
from .units import log2_exact

LINE_BYTES = 64   # cache line: the unit of a demand access
BUS_SLOTS = 16    # data-bus calendar entries per channel (bursts the scheduler can still fit around)
MAX_RANK_BG = 64  # ranks x bank groups per channel the fast model tabulates bus gaps for (core/dram_fast.pxi)
MAX_QUEUES = 256  # command queues per channel the detailed controller handles (core/dram_ctrl.pxi)
FE_SLOTS = 512    # requests a channel's front end holds ahead of their arrival (in-system, detailed)


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
    if d.model == "fast" and d.ranks * d.bankgroups > MAX_RANK_BG:
        raise ValueError(f"dram.ranks: {d.ranks} ranks x {d.bankgroups} bank groups exceed the "
                         f"{MAX_RANK_BG} (rank, bank group) pairs per channel the detailed model handles")
    if d.refresh_policy == "bank_level_staggered" and d.model == "fast":
        raise ValueError("dram.refresh_policy: 'bank_level_staggered' (per-bank refresh) is modelled by "
                         "dram.model 'detailed' only; use 'rank_level_staggered', 'rank_level_simultaneous' "
                         "or 'none' with 'fast'")
    mode = REF_MODES[d.refresh_policy] if d.model == "detailed" else \
        {"none": 0, "rank_level_staggered": 1, "rank_level_simultaneous": 2}.get(d.refresh_policy, 0)
    stagger = d.tREFI // d.ranks if mode == 1 else d.tREFI   # DRAMsim3: tREFI / ranks, integer cycles
    put("REF_MODE", mode)
    put("REF_STAGGER", stagger * tck)
    put("T_REFI", (stagger * d.ranks if mode == 1 else d.tREFI) * tck)
    put("FRFCFS", d.scheduler == "frfcfs")
    put("Q_SIZE", d.trans_queue_size)
    put("CQ_SIZE", d.cmd_queue_size)
    put("WB_HI", d.trans_queue_size)            # DRAMsim3: the write buffer is as deep as the read queue
    put("WB_LO", d.write_low_mark if d.model == "detailed" else max(1, min(d.write_buf_size, d.trans_queue_size)))
    put("BUS_SLOTS", BUS_SLOTS)
    put("LINE_SHIFT", log2_exact(LINE_BYTES, "line"))
    put("MODEL", MODELS[d.model])
    put("RA_SLOTS", ra_slots(d) if d.model != "detailed" else 1)
    put("ACTIVITY", bool(activity))
    if d.model == "detailed":
        _controller_params(d, put)
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


def _controller_params(d: DRAM, put):
    """The detailed controller's parameters: DRAMsim3's timing table (its timing.cc, with AL = 0),
    queue sizes and refresh, in whole tCK cycles.

    Each command at cycle x lets a later command issue at x + delta, with one delta for the same
    bank, the other banks of its bank group, the other bank groups of its rank and the other ranks.
    The controller keeps these as bank, bank-group and rank records and takes their maximum, which
    is exact when every same-bank-group delta is at least the other-bank-group one (tCCD_L >=
    tCCD_S, tWTR_L >= tWTR_S, tRRD_L >= tRRD_S, tRC >= tRRD_L); JEDEC parts are, and a DRAM that is
    not is refused. With one bank group, the _S timings apply throughout (as DRAMsim3 does)."""
    burst, cl, cwl = d.burst_cycles, d.CL, d.CWL
    rd_delay, wr_delay = cl + burst, cwl + burst
    one_bg = d.bankgroups == 1
    ccd_l = d.tCCD_S if one_bg else d.tCCD_L
    wtr_l = d.tWTR_S if one_bg else d.tWTR_L
    rrd_l = d.tRRD_S if one_bg else d.tRRD_L
    for name, small, big in (("tCCD_L", d.tCCD_S, ccd_l), ("tWTR_L", d.tWTR_S, wtr_l), ("tRRD_L", d.tRRD_S, rrd_l)):
        if big < small:
            raise ValueError(f"dram.{name}: {big} cycles is less than {name[:-1]}S = {small}; the detailed "
                             f"controller needs the same-bank-group timing at least the other-bank-group one")
    if d.tRC < rrd_l:
        raise ValueError(f"dram.tRC: {d.tRC} cycles is less than tRRD_L = {rrd_l}")
    table = {
        "K_RRL": max(burst, ccd_l), "K_RRS": max(burst, d.tCCD_S), "K_RRO": burst + d.tRTRS,
        "K_R2W": cl + burst - cwl + d.tRTRS, "K_R2WO": rd_delay + burst + d.tRTRS - wr_delay,
        "K_R2P": d.tRTP, "K_RDA2A": burst + d.tRTP + d.tRP, "K_RDA2F": d.tRTP + d.tRP,
        "K_W2RL": wr_delay + wtr_l, "K_W2RS": wr_delay + d.tWTR_S,
        "K_W2RO": wr_delay + burst + d.tRTRS - rd_delay,
        "K_WWL": max(burst, ccd_l), "K_WWS": max(burst, d.tCCD_S), "K_WWO": burst,
        "K_W2P": cwl + burst + d.tWR, "K_WRA2A": cwl + burst + d.tWR + d.tRP,
        "K_A2A": d.tRC, "K_A2AL": rrd_l, "K_A2AS": d.tRRD_S,
        "K_A2R": d.tRCD, "K_A2W": d.rcd_write, "K_A2P": d.tRAS,
        "K_P2A": d.tRP, "K_FAW": d.tFAW, "K_RFC": d.tRFC, "K_RFCB": d.tRFCb,
        "K_RD_DELAY": rd_delay, "K_WR_DELAY": wr_delay,
        "K_REF_EVERY": {"none": 0, "rank_level_staggered": d.tREFI // d.ranks,
                        "rank_level_simultaneous": d.tREFI, "bank_level_staggered": d.tREFIb}[d.refresh_policy],
        "K_TIMEOUT": d.row_timeout if d.row_policy == "timeout" else 0,
    }
    if table["K_REF_EVERY"] == 0 and d.refresh_policy != "none":
        raise ValueError(f"dram.tREFI: {d.tREFI} cycles over {d.ranks} ranks leaves no cycle between refreshes")
    for name, v in table.items():
        put(name, v)
    per_rank = d.queue_structure == "per_rank"
    nq = d.ranks if per_rank else d.banks
    if nq > MAX_QUEUES:
        raise ValueError(f"dram.ranks: {nq} command queues per channel exceed the {MAX_QUEUES} the detailed "
                         f"controller handles")
    q = d.trans_queue_size
    # slots: the read queue, the write buffer, the command queues, and as many reads again merged
    # into pending reads of the same address
    tx = 3 * q + nq * d.cmd_queue_size
    put("PER_RANK", per_rank)
    put("N_QUEUES", nq)
    put("TX_SLOTS", tx)
    put("HASH_BITS", (2 * tx - 1).bit_length())
    put("FE_SLOTS", FE_SLOTS)
