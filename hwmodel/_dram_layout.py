"""Flat layout of one DRAM subsystem (a memory controller and its channels) as the core sees it:
parameter indices, counter names and state arrays. Shared by `core/dram.pxi` (compiled) and
`core/dram.py` (Python twin); setup.py generates the Cython enums from this file
(`D_<NAME>` for parameters, `DC_<NAME>` for counters, `DB_`/`DR_`/`DH_` for the fields of the
per-bank, per-rank and per-channel state records).
"""
import numpy as np

DRAM_NAMES = (
    "CH_SHIFT", "CH_MASK", "RA_SHIFT", "RA_MASK", "BG_SHIFT", "BG_MASK", "BA_SHIFT", "BA_MASK",
    "RO_SHIFT", "RO_MASK",
    "BG_XSHIFT", "BG_XMASK", "BA_XSHIFT", "BA_XMASK",   # XOR bank hashing: field ^= (addr >> xshift) & xmask
    "BG_BITS", "BA_BITS",    # to flatten (rank, bank group, bank) into one bank index
    "N_CH", "N_BANKS",       # channels; banks per channel (all ranks)
    "N_RANKS",               # ranks per channel
    "T_CL", "T_CWL", "T_RCD", "T_RP", "T_BURST",   # ps
    "BURST_BYTES", "BURST_SHIFT",
    "LINE_BURSTS",           # bursts to move one cache line
    "SEG_SHIFT",             # log2 of the largest aligned run of bytes in one (channel, bank, row)
    "CLOSED",                # 1 = closed-page policy (auto-precharge after every access)
    "ROW_TIMEOUT",           # timeout policy: ps a row stays open after its bank's last column command (0 = off)
    # -- timing beyond the row-buffer formula (ps) --
    "T_CK", "T_RCDWR", "T_RAS", "T_RC", "T_RTP", "T_WR", "T_RRD_S", "T_RRD_L", "T_FAW",
    "T_TRAIN",               # column-to-column spacing within one bank: max(burst, tCCD_L)
    # data-bus gaps between consecutive bursts (end of one to start of the next), ps
    "G_CCDL",                # same rank and bank group, same direction: max(burst, tCCD_L) - burst
    "G_CCDS",                # same rank, other bank group, same direction: max(burst, tCCD_S) - burst
    "G_RW",                  # read then write, same rank: tRPRE + tRTRS
    "G_WTRL", "G_WTRS",      # write then read, same rank, same / other bank group: tWTR_L/S + CL
    "G_RTRS",                # other rank (read-read, read-write, write-read): tRTRS
    "G_WWO",                 # write then write, other rank: tWPRE
    "T_RFC", "T_REFI",       # refresh: rank busy time; interval between refreshes of one rank
    "REF_MODE",              # 0 none, 1 rank-level staggered, 2 rank-level simultaneous
    "REF_STAGGER",           # staggered: rank r's first refresh is due at (r + 1) * REF_STAGGER
    "FRFCFS",                # 1 = FR-FCFS (row-hit bypass), 0 = FCFS (column commands in arrival order)
    "Q_SIZE",                # read transaction queue entries per channel (trans_queue_size)
    "CQ_SIZE",               # command queue entries per bank (cmd_queue_size)
    "WB_HI", "WB_LO",        # write buffer: capacity (drain when full) / drain when reads are idle (fast);
                             # detailed: WB_LO = write_low_mark (drain above it while no command is queued)
    "BUS_SLOTS",             # data-bus calendar entries per channel (power of two)
    "LINE_SHIFT",            # log2 of the line size used to match reads with buffered writes
    "MODEL",                 # fidelity: MODELS below (detailed controller, fast one-pass, simple formula)
    "RA_SLOTS",              # rank activity: bank open/close events a rank holds ahead of its frontier (power of two)
    "ACTIVITY",              # 1 = account rank activity (energy); 0 = skip it (the whole-system core)
    # -- the detailed controller (core/dram_ctrl*): DRAMsim3's timing table, in whole tCK cycles --
    # a command at cycle x lets the next command of a kind issue at x + delta, for the same bank,
    # the other banks of its bank group, the other bank groups of its rank, and other ranks
    "K_RRL", "K_RRS", "K_RRO",      # READ to READ: same bank group; other bank group; other rank
    "K_R2W", "K_R2WO",              # READ to WRITE: same rank; other rank
    "K_R2P", "K_RDA2A", "K_RDA2F",  # READ to PRE; READ with auto-precharge to ACT; to REF
    "K_W2RL", "K_W2RS", "K_W2RO",   # WRITE to READ: same bank group; other bank group; other rank
    "K_WWL", "K_WWS", "K_WWO",      # WRITE to WRITE: same bank group; other bank group; other rank
    "K_W2P", "K_WRA2A",             # WRITE to PRE; WRITE with auto-precharge to ACT and REF
    "K_A2A", "K_A2AL", "K_A2AS",    # ACT to ACT: same bank (tRC); same bank group (tRRD_L); rank (tRRD_S)
    "K_A2R", "K_A2W", "K_A2P",      # ACT to READ (tRCD), WRITE (tRCDWR), PRE (tRAS)
    "K_P2A", "K_FAW",               # PRE to ACT and REF (tRP); four-ACT window
    "K_RFC", "K_RFCB",              # REF (rank) and REFb (bank) to ACT and REF
    "K_RD_DELAY", "K_WR_DELAY",     # READ to its last data beat (CL + burst); WRITE to its last beat (CWL + burst)
    "K_REF_EVERY",                  # cycles between refresh insertions (0 = no refresh)
    "K_TIMEOUT",                    # timeout row policy: cycles a row stays open after its last column command (0 = off)
    "PER_RANK",                     # 1 = one command queue per rank, 0 = one per bank (queue_structure)
    "N_QUEUES",                     # command queues per channel
    "TX_SLOTS",                     # transaction slots per channel (queues, write buffer, merged reads)
    "HASH_BITS",                    # log2 of the pending-address table's entries per channel
    "FE_SLOTS",                     # requests a channel's front end holds that have not arrived yet (in-system)
)
D = {name: i for i, name in enumerate(DRAM_NAMES)}
MODELS = {"detailed": 0, "simple": 1, "fast": 2}   # DRAM.model -> D["MODEL"]
MODEL_DETAILED, MODEL_SIMPLE, MODEL_FAST = MODELS["detailed"], MODELS["simple"], MODELS["fast"]
REF_MODES = {"none": 0, "rank_level_staggered": 1, "rank_level_simultaneous": 2, "bank_level_staggered": 3}

DRAM_COUNTER_NAMES = (
    "row_hits", "row_misses", "row_conflicts", "dram_bytes",   # column commands by row state; data-bus bytes
    "reads", "writes",                   # requests accepted (lines and blocks)
    "read_cmds", "write_cmds",           # column commands issued (forwarded reads and buffered writes excluded)
    "read_row_hits", "write_row_hits",   # column commands that found their row open
    "read_forwards",                     # reads served from the write buffer
    "write_merges",                      # writes to a line already in the write buffer
    "write_drains",                      # write-buffer drains
    "bypass_hits",                       # FR-FCFS: row hits served ahead of an older row switch
    "refreshes",                         # REF commands (all ranks)
    "read_latency_sum_ps",               # sum over reads of completion - arrival
    "read_queue_wait_ps",                # part of it spent waiting for a transaction-queue entry
    "write_queue_wait_ps",
    "act_cmds",                          # ACT commands (= row_misses + row_conflicts)
    "pre_cmds",                          # PRE commands, as DRAMsim3 counts them: row switches, timeouts and
                                         # the PREs before a refresh; closed page's auto-precharge is not one
    "late_arrivals",                     # detailed: requests presented after the controller had run past their
                                         # arrival (taken as arriving then); 0 when the caller keeps its horizon
)
DC = {name: i for i, name in enumerate(DRAM_COUNTER_NAMES)}

# fields of one bank's record in "bank" (n_ch * n_banks records)
BANK_FIELDS = ("ACT_T", "COL_FREE", "PRE_OK", "ACT_OK", "PREV_ROW", "PREV_PRE", "PREV_COL", "CQ_IDX")
DB = {name: i for i, name in enumerate(BANK_FIELDS)}
# fields of one rank's record in "rank" (n_ch * n_ranks records)
# READY: the latest time any of the rank's banks may begin a refresh (PRE_OK + tRP if open, else
# ACT_OK). Each bank's value only grows, so READY is their running maximum.
RANK_FIELDS = ("LAST_ACT", "FAW_IDX", "FAW0", "FAW1", "FAW2", "FAW3", "REF_DUE", "READY")
DR = {name: i for i, name in enumerate(RANK_FIELDS)}
# fields of one channel's record in "chan"
CHAN_FIELDS = ("BUS_HEAD", "BUS_N", "BUS_FLOOR", "TQ_IDX", "BLOCKED", "WB_N", "WB_BLOOM",
               "LAST_RD_LEAVE", "LAST_COL", "PAD")
DH = {name: i for i, name in enumerate(CHAN_FIELDS)}

# Rank activity (energy: time with at least one bank of a rank open, DRAMsim3's rank_active_cycles).
# One pass answers requests out of time order, so a rank keeps its banks' open (+1) and close (-1)
# events ("rev", RA_SLOTS per rank, appended as made: nearly in time order) and folds them, sorted,
# into its record up to a frontier before which no event can come any more (see core.dram's
# docstring). As the fold crosses a mark (an epoch boundary or the end of a run a caller asks
# for), it writes the rank's active time up to the mark to "rmk" (RA_MARKS per rank).
ACT_FIELDS = ("FRONT", "NOPEN", "ACTIVE", "N", "MARK", "MARK_PS", "MARK_END", "MARK_N")
DA = {name: i for i, name in enumerate(ACT_FIELDS)}
#  FRONT: ps up to which the rank's activity is final; NOPEN: banks open at FRONT; ACTIVE: ps with
#  a bank open before FRONT; N: events held (rev[0:N], each (time << 1) | opens);
#  MARK: the next mark (NO_MARK: none); MARK_PS: marks' period; MARK_END: the last mark;
#  MARK_N: marks written to rmk since the caller last read them
RA_MARKS = 256       # marks a rank holds until its caller reads them

# -- the detailed controller's state (core/dram_ctrl*, twin core.dram_ctrl) ----------------------
# Times are whole tCK cycles. Per bank (channel-major; a bank's index within its channel is
# (rank * bankgroups + bankgroup) * banks_per_group + bank, DRAMsim3's queue order):
KB_FIELDS = ("ROW",       # open row, -1 = precharged
             "HITS",      # column commands since the row's ACT (DRAMsim3's row_hit_count)
             "T_ACT", "T_RD", "T_WR", "T_PRE", "T_REF",   # earliest ACT / READ / WRITE / PRE / REF by this bank's own commands
             "LAST_COL",  # cycle of the row's ACT or its last column command (timeout policy)
             "CONFLICT",  # 1 when the open row was opened after a PRE for another row (a row conflict)
             "INREF")     # 1 while a refresh of this bank (or its rank) waits: its queue is skipped
KB = {n: i for i, n in enumerate(KB_FIELDS)}
KG_FIELDS = ("T_ACT", "T_RD", "T_WR")     # per (rank, bank group): tRRD_L and the _L column timings
KG = {n: i for i, n in enumerate(KG_FIELDS)}
KR_FIELDS = ("T_ACT", "T_RD", "T_WR",     # per rank: tRRD_S, the _S column timings and other ranks' turnarounds
             "FAW0", "FAW1", "FAW2", "FAW3", "FAW_I")   # the last four ACTs (ring) and the oldest's index
KR = {n: i for i, n in enumerate(KR_FIELDS)}
KH_FIELDS = ("CYC",       # every cycle before this one has been simulated (committed)
             "RR",        # round-robin: the command queue served last (DRAMsim3's queue_idx_)
             "REF_NEXT",  # cycle of the next refresh insertion
             "REF_ITER",  # the next rank / bank to refresh (staggered)
             "REF_N", "REF_HEAD",   # refresh targets waiting (a ring in "refq", in order of insertion)
             "WDRAIN",    # writes still to move in the current write drain (DRAMsim3's write_draining_)
             "RQ_N", "WB_N",        # transactions in the read queue / write buffer
             "SCHED",     # 1 = the transaction scheduler may move something next cycle
             "FE_N", "FE_HEAD",     # requests held by the front end ("fe", sorted by arrival, then ticket)
             "TX_FREE", "REQ_FREE",  # heads of the free lists of transaction and request slots
             "LIVE",      # requests accepted and not complete
             "SEQ",       # tickets handed out (in-system requests)
             "FE_TAKEN",  # transactions of the front end's first request already accepted
             "FE_REQ")    # that request's slot
KH = {n: i for i, n in enumerate(KH_FIELDS)}
KT_FIELDS = ("ADDR",      # byte address (the unit matched for merges and forwarding)
             "BANK", "ROW",
             "W",         # 1 write, 0 read
             "REQ",       # its request's slot
             "NEXT")      # next read merged into this one; next free slot
KT = {n: i for i, n in enumerate(KT_FIELDS)}
KQ_FIELDS = ("TICKET",   # the caller's number for it (dram_run: its index)
              "T",        # arrival, ps
              "ACC",      # cycle its first transaction entered the controller
              "DONE",     # latest completion cycle of its transactions so far
              "REMAIN",   # transactions not yet complete
              "W",        # 1 write, 0 read
              "NEXT")     # next free slot
KQ = {n: i for i, n in enumerate(KQ_FIELDS)}
KF_FIELDS = ("T", "ADDR", "NB", "STEP", "W", "TICKET")   # a request not yet taken: arrival ps, first
KF = {n: i for i, n in enumerate(KF_FIELDS)}              # address, transactions, their spacing, W, ticket

NEVER = -(1 << 50)   # "long ago" for last-ACT times, so that no constraint binds at t = 0
NO_REFRESH = 1 << 62  # REF_DUE of every rank without refresh: never due (one comparison per request)
NO_MARK = 1 << 62     # a mark no run reaches


def new_dram_state(d: np.ndarray) -> dict:
    """Fresh state arrays of one DRAM subsystem from its parameter vector (names without prefix).

    Only what the chosen model uses is allocated; the simple model keeps its per-bank next-column
    time in "bank" (one value per bank) and its per-channel data-bus free time in "chan" (one value
    per channel), and gets one-element placeholders for the arrays it does not use (the core binds
    every array)."""
    n_ch, n_banks, n_ranks = int(d[D["N_CH"]]), int(d[D["N_BANKS"]]), int(d[D["N_RANKS"]])
    n_b = n_ch * n_banks
    if int(d[D["MODEL"]]) == MODEL_SIMPLE:
        one = lambda: np.zeros(1, np.int64)
        return {
            "open_row": np.full(n_b, -1, np.int64),      # per bank, channel-major; -1 = precharged
            "bank": np.zeros(n_b, np.int64),             # per bank: earliest next column command, ps
            "cq": one(), "bg_act": one(), "rank": one(),
            "chan": np.zeros(n_ch, np.int64),            # per channel: data bus free, ps
            "bus": one(), "tq": one(), "wb": one(),
            "counters": np.zeros(len(DRAM_COUNTER_NAMES), np.int64),
            **_activity_state(d),
        }
    if int(d[D["MODEL"]]) == MODEL_DETAILED:
        return _controller_state(d)
    n_bg = n_banks >> int(d[D["BA_BITS"]])          # rank x bank-group records per channel
    bank = np.zeros((n_b, len(BANK_FIELDS)), np.int64)
    bank[:, DB["PREV_ROW"]] = -1
    rank = np.zeros((n_ch * n_ranks, len(RANK_FIELDS)), np.int64)
    rank[:, [DR["LAST_ACT"], DR["FAW0"], DR["FAW1"], DR["FAW2"], DR["FAW3"]]] = NEVER
    r = np.arange(n_ch * n_ranks) % n_ranks
    mode = int(d[D["REF_MODE"]])
    rank[:, DR["REF_DUE"]] = ((r + 1) * int(d[D["REF_STAGGER"]]) if mode == 1 else
                              int(d[D["T_REFI"]]) if mode == 2 else NO_REFRESH)
    q, k = int(d[D["Q_SIZE"]]), int(d[D["BUS_SLOTS"]])
    return {
        "open_row": np.full(n_b, -1, np.int64),             # per bank, channel-major; -1 = precharged
        "bank": bank.reshape(-1),                            # BANK_FIELDS per bank
        "cq": np.zeros(n_b * int(d[D["CQ_SIZE"]]), np.int64),   # per bank: ring of column-command times
        "bg_act": np.full(n_ch * n_bg, NEVER, np.int64),    # per (rank, bank group): last ACT
        "rank": rank.reshape(-1),                            # RANK_FIELDS per rank
        "chan": np.zeros(n_ch * len(CHAN_FIELDS), np.int64),    # CHAN_FIELDS per channel
        "bus": np.zeros(n_ch * k * 3, np.int64),             # per channel: calendar ring of (start, end, tag)
        "tq": np.zeros(n_ch * q, np.int64),                  # per channel: ring of read queue-leave times
        "wb": np.zeros(n_ch * int(d[D["WB_HI"]]) * 2, np.int64),   # per channel: buffered writes (line, bank/row key)
        "counters": np.zeros(len(DRAM_COUNTER_NAMES), np.int64),
        **_activity_state(d),
    }


def _controller_state(d: np.ndarray) -> dict:
    """State of the detailed controller (DRAM.model = "detailed"): see KB_FIELDS ... KF_FIELDS."""
    n_ch, n_banks, n_ranks = int(d[D["N_CH"]]), int(d[D["N_BANKS"]]), int(d[D["N_RANKS"]])
    n_bg = n_banks >> int(d[D["BA_BITS"]])
    q, nq, cq = int(d[D["Q_SIZE"]]), int(d[D["N_QUEUES"]]), int(d[D["CQ_SIZE"]])
    txs, fes = int(d[D["TX_SLOTS"]]), int(d[D["FE_SLOTS"]])
    banks = np.zeros((n_ch * n_banks, len(KB_FIELDS)), np.int64)
    banks[:, KB["ROW"]] = -1
    banks[:, KB["LAST_COL"]] = NEVER
    ranks = np.zeros((n_ch * n_ranks, len(KR_FIELDS)), np.int64)
    ranks[:, [KR["FAW0"], KR["FAW1"], KR["FAW2"], KR["FAW3"]]] = NEVER
    chans = np.zeros((n_ch, len(KH_FIELDS)), np.int64)
    every = int(d[D["K_REF_EVERY"]])
    chans[:, KH["REF_NEXT"]] = every if every else NO_REFRESH
    chans[:, KH["SCHED"]] = 1
    chans[:, KH["REQ_FREE"]] = 0
    tx = np.zeros((n_ch, txs, len(KT_FIELDS)), np.int64)
    tx[:, :, KT["NEXT"]] = np.arange(1, txs + 1)
    tx[:, -1, KT["NEXT"]] = -1
    req = np.zeros((n_ch, txs, len(KQ_FIELDS)), np.int64)
    req[:, :, KQ["NEXT"]] = np.arange(1, txs + 1)
    req[:, -1, KQ["NEXT"]] = -1
    pend = np.full((n_ch << int(d[D["HASH_BITS"]]), 2), -1, np.int64)
    return {
        "banks": banks.reshape(-1),                                # KB_FIELDS per bank
        "bankgroups": np.zeros(n_ch * n_bg * len(KG_FIELDS), np.int64),   # KG_FIELDS per (rank, bank group)
        "ranks": ranks.reshape(-1),                                # KR_FIELDS per rank
        "channels": chans.reshape(-1),                             # KH_FIELDS per channel
        "refq": np.zeros(n_ch * n_banks, np.int64),                # per channel: refresh targets waiting (ring)
        "cmdq_n": np.zeros(n_ch * nq, np.int64),                   # per command queue: commands held
        "cmdq": np.zeros(n_ch * nq * cq, np.int64),                # per command queue: transaction slots, oldest first
        "rdq": np.zeros(n_ch * q, np.int64),                       # per channel: read queue (slots, oldest first)
        "wrb": np.zeros(n_ch * q, np.int64),                       # per channel: write buffer (slots, oldest first)
        "tx": tx.reshape(-1),                                      # per channel: KT_FIELDS per transaction slot
        "req": req.reshape(-1),                                    # per channel: KQ_FIELDS per request slot
        "pend": pend.reshape(-1),                                  # per channel: address -> slot of a pending read/write
        "fe": np.zeros(n_ch * fes * len(KF_FIELDS), np.int64),     # per channel: KF_FIELDS per request not taken
        "counters": np.zeros(len(DRAM_COUNTER_NAMES), np.int64),
        **_activity_state(d),
    }


def dram_state_bytes(d: np.ndarray) -> int:
    """Bytes of the state `new_dram_state(d)` allocates, computed without allocating it (a
    configuration asking for absurd queues or channels is refused before; tests hold the two
    equal)."""
    n_ch, n_banks, n_ranks = int(d[D["N_CH"]]), int(d[D["N_BANKS"]]), int(d[D["N_RANKS"]])
    n_b = n_ch * n_banks
    activity = n_ch * n_ranks * (len(ACT_FIELDS) + int(d[D["RA_SLOTS"]]) + RA_MARKS)
    if int(d[D["MODEL"]]) == MODEL_SIMPLE:
        n = 2 * n_b + n_ch + 6
    elif int(d[D["MODEL"]]) == MODEL_DETAILED:      # _controller_state's arrays
        n_bg = n_banks >> int(d[D["BA_BITS"]])
        q, nq, cq = int(d[D["Q_SIZE"]]), int(d[D["N_QUEUES"]]), int(d[D["CQ_SIZE"]])
        txs, fes = int(d[D["TX_SLOTS"]]), int(d[D["FE_SLOTS"]])
        n = (n_b * len(KB_FIELDS) + n_ch * n_bg * len(KG_FIELDS) + n_ch * n_ranks * len(KR_FIELDS)
             + n_ch * len(KH_FIELDS) + n_b + n_ch * nq + n_ch * nq * cq + 2 * n_ch * q
             + n_ch * txs * (len(KT_FIELDS) + len(KQ_FIELDS)) + (n_ch << int(d[D["HASH_BITS"]])) * 2
             + n_ch * fes * len(KF_FIELDS))
    else:
        n_bg = n_banks >> int(d[D["BA_BITS"]])
        n = (n_b + n_b * len(BANK_FIELDS) + n_b * int(d[D["CQ_SIZE"]]) + n_ch * n_bg
             + n_ch * n_ranks * len(RANK_FIELDS) + n_ch * len(CHAN_FIELDS) + n_ch * int(d[D["BUS_SLOTS"]]) * 3
             + n_ch * int(d[D["Q_SIZE"]]) + n_ch * int(d[D["WB_HI"]]) * 2)
    return 8 * (n + len(DRAM_COUNTER_NAMES) + activity)


def _activity_state(d: np.ndarray) -> dict:
    n = int(d[D["N_CH"]]) * int(d[D["N_RANKS"]])
    ract = np.zeros((n, len(ACT_FIELDS)), np.int64)
    ract[:, [DA["MARK"], DA["MARK_PS"], DA["MARK_END"]]] = NO_MARK
    return {
        "ract": ract.reshape(-1),                                   # ACT_FIELDS per rank
        "rev": np.zeros(n * int(d[D["RA_SLOTS"]]), np.int64),      # per rank: bank open/close events held
        "rmk": np.zeros(n * RA_MARKS, np.int64),                    # per rank: active ps up to each mark crossed
    }


def set_marks(st: dict, first: int, period: int, last: int, prefix: str = ""):
    """Ask every rank of a DRAM state to record its active time at first, first + period, ...
    up to `last` (ps; NO_MARK = none) as its activity frontier crosses them."""
    ract = st[prefix + "ract"].reshape(-1, len(ACT_FIELDS))
    if (ract[:, DA["FRONT"]] >= first).any():
        raise ValueError(f"a mark at {first} ps is not after every rank's activity frontier")
    ract[:, DA["MARK"]], ract[:, DA["MARK_PS"]], ract[:, DA["MARK_END"]] = first, period, last
    ract[:, DA["MARK_N"]] = 0


def take_marks(st: dict, prefix: str = "") -> list:
    """Per rank, the active ps up to each mark crossed since the last call (in order); clears them."""
    ract = st[prefix + "ract"].reshape(-1, len(ACT_FIELDS))
    rmk = st[prefix + "rmk"].reshape(len(ract), -1)
    out = []
    for r in range(len(ract)):
        k = int(ract[r, DA["MARK_N"]])
        if k > rmk.shape[1]:
            raise ValueError(f"rank {r} crossed {k} marks before they were read; it holds {rmk.shape[1]}")
        out.append(rmk[r, :k].tolist())
        ract[r, DA["MARK_N"]] = 0
    return out
