"""Plain-Python twin of `core/dram_ctrl.pxi`: the detailed DRAM controller (DRAM.model = "detailed").

This docstring is the semantics; the compiled controller matches it bit for bit (completions,
counters and state). The rules are DRAMsim3's (src/controller.cc, command_queue.cc,
channel_state.cc, bankstate.cc, timing.cc, refresh.cc), restated here; where we differ it says so.

Time
----
Each channel has its own controller and clock: whole cycles of tCK. A request arriving at t ps is
offered to the controller at the end of cycle ceil(t / tCK) or later, and taken into it at the
next cycle: its acceptance cycle (DRAMsim3's added_cycle; latency is measured from it). A read is
done when its last data beat is: the cycle of its READ + CL + burst; a posted write (and a read
served from the write buffer) one cycle after its acceptance (DRAMsim3's write callback). Done
times are reported in ps (cycle x tCK).

One cycle, in order (DRAMsim3's Controller::ClockTick, then the CPU's AddTransaction)
-------------------------------------------------------------------------------------
1. Refresh falls due every K_REF_EVERY cycles (cycle > 0): rank_level_staggered puts the next
   rank (0, 1, ...) in line every tREFI / ranks; rank_level_simultaneous puts every rank in line
   every tREFI; bank_level_staggered the next bank every tREFIb (bank groups fastest, then banks,
   then ranks, as DRAMsim3 iterates). A bank waiting for its refresh has its command queue
   skipped. (DRAMsim3's RANK_LEVEL_SIMULTANEOUS puts rank 0 alone in line, a `break` in
   Refresh::InsertRefresh; we refresh every rank.)
2. At most one command issues (one command bus per channel):
   a. refresh: for the first target in line whose next step is ready: a PRE for the first open
      bank (bank order) that may precharge, else the REF (REFb for a bank) once every bank of it
      is closed and may refresh. (DRAMsim3 looks at the first target only; with one target in
      line, as staggered refresh has, that is the same.)
   b. timeout page policy: a PRE for the first open bank (bank order) whose row saw no column
      command for K_TIMEOUT cycles, has no queued request to it and may precharge.
   c. the command queues, round robin from the one after the queue served last: in each queue
      the first command, oldest first, that is ready. A queued request needs an ACT if its bank
      is closed, its READ/WRITE (READ/WRITE with auto-precharge under closed page) if its row is
      open, else a PRE. A WRITE waits while an older READ of the same address is in its queue. A
      PRE may issue only for the oldest queued request of its bank, and only when no queued
      request hits the open row or the row has served 4 column commands (DRAMsim3's
      ArbitratePrecharge; Ramulator 2's FR-FCFS has no such cap). FCFS (scheduler = "fcfs")
      considers only the oldest request of each queue, and its PRE waits for no hit.
   Ready: the cycle is at or after every constraint that earlier commands set (timing below) and,
   for an ACT, the rank's four-ACT window allows it.
3. At most one transaction moves from the read queue or the write buffer to its command queue
   (queue per bank, or per rank; `cmd_queue_size` each): a write drain starts when the write
   buffer is full (trans_queue_size) or holds more than write_low_mark (8) writes while every
   command queue is empty, and then moves that many writes one per cycle; otherwise reads move. The first transaction (oldest
   first) whose command queue has room moves; a write with a pending read of its address ends the
   drain instead (R->W dependency). When that read is still in the read queue, the next cycle
   moves a read rather than start the drain again (DRAMsim3 starts it again, and deadlocks when
   the buffer is full; its issues #2, #27, #43).
4. The front end offers the next request that has arrived; the controller takes it (at the next
   cycle) if the read queue (a read) or the write buffer (a write) has room: a write to an
   address with a write pending merges (done, not issued again); a read of an address with a
   write pending is served from it; a read of an address with a read pending joins it (done with
   it); anything else enters its queue. Requests are taken in arrival order, one transaction per
   cycle: a request that cannot be taken holds back the ones after it.
   A request of n bursts (a line on a DRAM whose burst is shorter, or a block of a page swap) is
   n transactions at consecutive bursts, taken one per cycle; it is done when all are. Every
   write is posted, block writes included (DRAMsim3 has no other kind).

Timing (DRAMsim3's timing table, memctrl._controller_params): a command at cycle x makes a later
command of some kind wait until x + delta, for the same bank, the other banks of its bank group,
the other bank groups of its rank, and other ranks. Each bank, (rank, bank group) and rank keeps
its earliest ACT / READ / WRITE (bank: also PRE and REF); a command is ready when the cycle is at
or after the largest of its bank's, bank group's and rank's. Reads and writes complete the reads
pending on their address (done at READ + CL + burst).

Statistics as DRAMsim3 counts them: a column command is a row hit when its row had served a
column command since its ACT (row_hit_count != 0), else a row conflict when the row was opened
after a PRE for another queued row, else a row miss; PRE commands are the on-demand ones, the
timeout ones and those before a refresh (not closed page's auto-precharge); rank activity (energy)
is the time a rank has at least one bank open, counted per cycle after that cycle's command
(an ACT at cycle a and its PRE at p keep the rank active for p - a cycles).

Event-driven
------------
Nothing changes between cycles where no command is ready, no transaction can move, no request is
offered and no refresh falls due: each of those is a known cycle (readiness only depends on
constraints set by earlier commands, and those only grow), so the controller jumps from one cycle
where something may happen to the next (`_next_cycle`) and never ticks idle cycles. Tests compare
it with a tick-by-tick statement of the same rules (tests/dram_tick.py).

The caller's view
-----------------
- dram_run (the DRAM alone, requests in time order): every request's completion, exactly.
- dram_stream (hwmodel dram): the same, fed in pieces; the controller simulates up to a horizon
  no later request arrives before, and hands back what completed.
- in the whole-system core (dram_line / dram_block): the core presents requests out of time order
  and needs each one's completion when it presents it. The controller simulates (commits) every
  cycle before the core's horizon (no request presented later arrives before it: the last access's
  arrival, or a held-back write-back's ready time), holds the requests that arrive later in its
  front end, and answers a request by simulating ahead from there, with everything presented so
  far, until the request completes, then rolls that back (the twin copies the state; the compiled
  controller undoes a journal of its writes). An answer therefore sees the requests presented
  before it and none presented after it; the committed run later serves the requests as they all
  arrived, which may differ from the answers given. Counters count the committed run;
  `dram_finish` commits the rest at the end of a run.

Requests that arrive before the cycle the controller has simulated to (dram_run and dram_stream
given requests out of order, or an in-system caller breaking its horizon) are taken as arriving at
that cycle; in-system ones are counted (late_arrivals).

Left out (and why): power-down and self refresh (DRAMsim3's are off by default); tPPD and tRRD for
per-bank refresh, t32AW (GDDR); DRAMsim3's HBM dual command issue; a unified queue. Reads merged
with a pending read beyond `trans_queue_size` of them, and requests beyond FE_SLOTS held for the
future (in-system), wait for room (DRAMsim3's have no bound). Several channels each have their own
front end (DRAMsim3's trace reader is one for all: a request to a full channel holds back the
others).
"""
from .dram_fast import decode
from .._dram_layout import (KB, KB_FIELDS, KG, KG_FIELDS, KH, KH_FIELDS, KR, KR_FIELDS, D, DA, ACT_FIELDS, DC,
                           KF, KF_FIELDS, RA_MARKS, KQ, KQ_FIELDS, KT, KT_FIELDS)

_NB, _NG, _NR, _NH = len(KB_FIELDS), len(KG_FIELDS), len(KR_FIELDS), len(KH_FIELDS)
_NT, _NQR, _NF, _NA = len(KT_FIELDS), len(KQ_FIELDS), len(KF_FIELDS), len(ACT_FIELDS)
_FAR = 1 << 62         # a cycle (or ps) no run reaches
_M64 = (1 << 64) - 1
_HMUL = 0x9E3779B97F4A7C15

# command kinds (the compiled CMD_* enum)
ACT, RD, WR, PRE, REF, REFB, NONE = range(7)
# why a PRE issues (its conflict flag): for a queued request, for a refresh, by the timeout
WHY_QUEUE, WHY_REFRESH, WHY_TIMEOUT = range(3)

_STATE = ("banks", "bankgroups", "ranks", "channels", "refq", "cmdq_n", "cmdq", "rdq", "wrb", "tx", "req",
          "pend", "fe", "counters", "ract", "rmk")


class Ctl:
    """The detailed controllers of one DRAM subsystem (all its channels), state on lists.

    `Ctl(d, st, prefix, clock=None)`: d the parameter vector, st the state dict; `clock` = the
    whole-system core's (scalars, defer) lists, from which the horizon comes (None: the DRAM alone)."""

    def __init__(self, d, st, prefix, clock=None):
        self.d = p = [int(x) for x in d]
        self.st, self.prefix, self.clock = st, prefix, clock
        for name in _STATE:
            setattr(self, name, st[prefix + name].tolist())
        self.cnt = self.counters
        self.tck = p[D["T_CK"]]
        self.nch, self.nbc, self.nr = p[D["N_CH"]], p[D["N_BANKS"]], p[D["N_RANKS"]]
        self.babits, self.bgbits = p[D["BA_BITS"]], p[D["BG_BITS"]]
        self.bpr = self.nbc // self.nr                 # banks per rank
        self.nbg = self.nbc >> self.babits             # (rank, bank group) records per channel
        self.bgpr = self.nbg // self.nr                # bank groups per rank
        self.bpg = 1 << self.babits                    # banks per bank group
        self.Q, self.CQ, self.NQ = p[D["Q_SIZE"]], p[D["CQ_SIZE"]], p[D["N_QUEUES"]]
        self.WB_LO = p[D["WB_LO"]]
        self.TXS, self.HB, self.FES = p[D["TX_SLOTS"]], p[D["HASH_BITS"]], p[D["FE_SLOTS"]]
        self.per_rank, self.frfcfs, self.closed = p[D["PER_RANK"]], p[D["FRFCFS"]], p[D["CLOSED"]]
        self.ref_mode, self.ref_every = p[D["REF_MODE"]], p[D["K_REF_EVERY"]]
        self.timeout = p[D["K_TIMEOUT"]]
        self.activity = p[D["ACTIVITY"]]
        self.burst_bytes, self.line_bursts = p[D["BURST_BYTES"]], p[D["LINE_BURSTS"]]
        self.burst_shift = p[D["BURST_SHIFT"]]
        self.line_shift, self.seg_shift = p[D["LINE_SHIFT"]], p[D["SEG_SHIFT"]]
        for k in ("RRL", "RRS", "RRO", "R2W", "R2WO", "R2P", "RDA2A", "RDA2F", "W2RL", "W2RS", "W2RO",
                  "WWL", "WWS", "WWO", "W2P", "WRA2A", "A2A", "A2AL", "A2AS", "A2R", "A2W", "A2P", "P2A",
                  "FAW", "RFC", "RFCB", "RD_DELAY", "WR_DELAY"):
            setattr(self, k, p[D["K_" + k]])
        # what the running call wants (not state)
        self.src = None          # the front end's source of requests (a _Source)
        self.out = self.acc = None   # dram_run: per-request completion and acceptance (ps), by ticket
        self.sink = None         # dram_stream: list of (done ps, acc ps, w) completions
        self.target = -1         # in-system: the ticket being answered, and its completion
        self.target_done = -1

    def save(self):
        for name in _STATE:
            self.st[self.prefix + name][:] = getattr(self, name)

    # -- the whole-system core's interface (_reference.py) ------------------------------------
    def line(self, addr, t, is_write):
        return request(self, addr & ~((1 << self.line_shift) - 1), t, 1 << self.line_shift, is_write, True)

    def block(self, addr, nbytes, t, is_write):
        return request(self, addr, t, nbytes, is_write, False)


# -- indices ----------------------------------------------------------------------------------
def _bank(m, ch, b):
    return (ch * m.nbc + b) * _NB


def _bg(m, ch, b):
    return (ch * m.nbg + (b >> m.babits)) * _NG


def _rank(m, ch, r):
    return (ch * m.nr + r) * _NR


def _chan(m, ch):
    return ch * _NH


def _queue_of(m, b):
    """The command queue of bank b (within its channel): DRAMsim3's GetQueueIndex."""
    return b // m.bpr if m.per_rank else b


def _decode(m, addr):
    """(channel, bank within the channel, row) of a byte address."""
    return decode(m.d, addr)


def _ceil_cycle(m, t):
    return -(-t // m.tck)


# -- bank timing: DRAMsim3's timing table as bank / bank-group / rank records -------------------
def act_ready(m, ch, b):
    """Earliest cycle an ACT may issue to bank b: its bank, bank group and rank, and tFAW (the
    fourth-last ACT of the rank + tFAW)."""
    B, G, R = _bank(m, ch, b), _bg(m, ch, b), _rank(m, ch, b // m.bpr)
    rk = m.ranks
    return max(m.banks[B + KB["T_ACT"]], m.bankgroups[G + KG["T_ACT"]], rk[R + KR["T_ACT"]],
               rk[R + KR["FAW0"] + rk[R + KR["FAW_I"]]] + m.FAW)


def col_ready(m, ch, b, w):
    """Earliest cycle a READ (w = 0) or WRITE (w = 1) may issue to bank b."""
    f = KB["T_WR"] if w else KB["T_RD"]
    g = KG["T_WR"] if w else KG["T_RD"]
    r = KR["T_WR"] if w else KR["T_RD"]
    return max(m.banks[_bank(m, ch, b) + f], m.bankgroups[_bg(m, ch, b) + g], m.ranks[_rank(m, ch, b // m.bpr) + r])


def _later(a, i, v):
    if v > a[i]:
        a[i] = v


def timing_act(m, ch, b, x):
    B, G, R = _bank(m, ch, b), _bg(m, ch, b), _rank(m, ch, b // m.bpr)
    _later(m.banks, B + KB["T_ACT"], x + m.A2A)
    _later(m.banks, B + KB["T_RD"], x + m.A2R)
    _later(m.banks, B + KB["T_WR"], x + m.A2W)
    _later(m.banks, B + KB["T_PRE"], x + m.A2P)
    _later(m.bankgroups, G + KG["T_ACT"], x + m.A2AL)
    _later(m.ranks, R + KR["T_ACT"], x + m.A2AS)
    i = m.ranks[R + KR["FAW_I"]]
    m.ranks[R + KR["FAW0"] + i] = x
    m.ranks[R + KR["FAW_I"]] = (i + 1) & 3


def timing_col(m, ch, b, w, auto, x):
    """A READ / WRITE (auto: with auto-precharge) to bank b at cycle x."""
    B, G, r = _bank(m, ch, b), _bg(m, ch, b), b // m.bpr
    if w:
        same_bg, same_rank, other = (m.W2RL, m.WWL), (m.W2RS, m.WWS), (m.W2RO, m.WWO)
        if auto:
            _later(m.banks, B + KB["T_ACT"], x + m.WRA2A)
            _later(m.banks, B + KB["T_REF"], x + m.WRA2A)
        else:
            _later(m.banks, B + KB["T_PRE"], x + m.W2P)
    else:
        same_bg, same_rank, other = (m.RRL, m.R2W), (m.RRS, m.R2W), (m.RRO, m.R2WO)
        if auto:
            _later(m.banks, B + KB["T_ACT"], x + m.RDA2A)
            _later(m.banks, B + KB["T_REF"], x + m.RDA2F)
        else:
            _later(m.banks, B + KB["T_PRE"], x + m.R2P)
    _later(m.bankgroups, G + KG["T_RD"], x + same_bg[0])
    _later(m.bankgroups, G + KG["T_WR"], x + same_bg[1])
    for k in range(m.nr):
        R = _rank(m, ch, k)
        rd, wr = same_rank if k == r else other
        _later(m.ranks, R + KR["T_RD"], x + rd)
        _later(m.ranks, R + KR["T_WR"], x + wr)


def timing_pre(m, ch, b, x):
    B = _bank(m, ch, b)
    _later(m.banks, B + KB["T_ACT"], x + m.P2A)
    _later(m.banks, B + KB["T_REF"], x + m.P2A)


def timing_ref(m, ch, b0, n, dur, x):
    """A refresh of banks b0 .. b0 + n - 1 at cycle x, lasting dur cycles."""
    for b in range(b0, b0 + n):
        B = _bank(m, ch, b)
        _later(m.banks, B + KB["T_ACT"], x + dur)
        _later(m.banks, B + KB["T_REF"], x + dur)


# -- rank activity (energy) ---------------------------------------------------------------------
def ra_advance(m, ch, r, t):
    """Rank r's activity is known up to t ps: add its active time since its frontier, writing the
    marks crossed on the way (an epoch boundary, the end of a run)."""
    a, i = m.ract, (ch * m.nr + r) * _NA
    front, nopen, act = a[i + DA["FRONT"]], a[i + DA["NOPEN"]], a[i + DA["ACTIVE"]]
    if t <= front:
        return
    while a[i + DA["MARK"]] <= t:
        mk = a[i + DA["MARK"]]
        k = a[i + DA["MARK_N"]]
        if k < RA_MARKS:
            m.rmk[(ch * m.nr + r) * RA_MARKS + k] = act + (mk - front if nopen > 0 else 0)
        a[i + DA["MARK_N"]] = k + 1
        end = a[i + DA["MARK_END"]]
        a[i + DA["MARK"]] = _FAR if mk >= end else min(mk + a[i + DA["MARK_PS"]], end)
    a[i + DA["ACTIVE"]] = act + (t - front if nopen > 0 else 0)
    a[i + DA["FRONT"]] = t


def ra_change(m, ch, r, x, opens):
    """A bank of rank r opens (+1) or closes (-1) at cycle x."""
    if not m.activity:
        return
    ra_advance(m, ch, r, x * m.tck)
    m.ract[(ch * m.nr + r) * _NA + DA["NOPEN"]] += opens


# -- the pending-address table: address -> slot of the pending read (w = 0) or write (w = 1) ---
def _hslot(m, key):
    return ((key * _HMUL) & _M64) >> (64 - m.HB)


def pend_find(m, ch, addr, w):
    key, mask, base = addr * 2 + w, (1 << m.HB) - 1, (ch << m.HB) * 2
    h = _hslot(m, key)
    while True:
        k = m.pend[base + 2 * h]
        if k == key:
            return m.pend[base + 2 * h + 1]
        if k < 0:
            return -1
        h = (h + 1) & mask


def pend_put(m, ch, addr, w, slot):
    key, mask, base = addr * 2 + w, (1 << m.HB) - 1, (ch << m.HB) * 2
    h = _hslot(m, key)
    while m.pend[base + 2 * h] >= 0:
        h = (h + 1) & mask
    m.pend[base + 2 * h] = key
    m.pend[base + 2 * h + 1] = slot


def pend_del(m, ch, addr, w):
    """Remove the key (linear probing, backward-shift deletion: no tombstones)."""
    key, mask, base = addr * 2 + w, (1 << m.HB) - 1, (ch << m.HB) * 2
    pe = m.pend
    h = _hslot(m, key)
    while pe[base + 2 * h] != key:
        h = (h + 1) & mask
    j = h
    while True:
        j = (j + 1) & mask
        k = pe[base + 2 * j]
        if k < 0:
            break
        home = _hslot(m, k)
        # move j's key into the hole at h unless its home lies cyclically in (h, j]
        if (j > h and (home <= h or home > j)) or (j < h and home <= h and home > j):
            pe[base + 2 * h] = k
            pe[base + 2 * h + 1] = pe[base + 2 * j + 1]
            h = j
    pe[base + 2 * h] = -1
    pe[base + 2 * h + 1] = -1


# -- slots ----------------------------------------------------------------------------------------
def _tx(m, ch, s):
    return (ch * m.TXS + s) * _NT


def _rq(m, ch, s):
    return (ch * m.TXS + s) * _NQR


def tx_alloc(m, ch):
    c = _chan(m, ch)
    s = m.channels[c + KH["TX_FREE"]]
    m.channels[c + KH["TX_FREE"]] = m.tx[_tx(m, ch, s) + KT["NEXT"]]
    return s


def tx_free(m, ch, s):
    c = _chan(m, ch)
    m.tx[_tx(m, ch, s) + KT["NEXT"]] = m.channels[c + KH["TX_FREE"]]
    m.channels[c + KH["TX_FREE"]] = s


def req_alloc(m, ch):
    c = _chan(m, ch)
    s = m.channels[c + KH["REQ_FREE"]]
    m.channels[c + KH["REQ_FREE"]] = m.req[_rq(m, ch, s) + KQ["NEXT"]]
    return s


def req_done(m, ch, r, x):
    """One transaction of request slot r is done at cycle x; the request is when all are."""
    R = _rq(m, ch, r)
    rq = m.req
    if x > rq[R + KQ["DONE"]]:
        rq[R + KQ["DONE"]] = x
    rq[R + KQ["REMAIN"]] -= 1
    if rq[R + KQ["REMAIN"]]:
        return
    done, acc, t, w = rq[R + KQ["DONE"]] * m.tck, rq[R + KQ["ACC"]] * m.tck, rq[R + KQ["T"]], rq[R + KQ["W"]] & 1
    ticket = rq[R + KQ["TICKET"]]
    if w:
        m.cnt[DC["write_queue_wait_ps"]] += acc - t
    else:
        m.cnt[DC["read_queue_wait_ps"]] += acc - t
        m.cnt[DC["read_latency_sum_ps"]] += done - t
    if m.out is not None:
        m.out[ticket] = done
        if m.acc is not None:
            m.acc[ticket] = acc
    if m.sink is not None:
        m.sink.append((done, acc, w))
    if ticket == m.target:
        m.target_done = done
    c = _chan(m, ch)
    m.channels[c + KH["LIVE"]] -= 1
    rq[R + KQ["NEXT"]] = m.channels[c + KH["REQ_FREE"]]
    m.channels[c + KH["REQ_FREE"]] = r


# -- command queues -------------------------------------------------------------------------------
def _cq(m, ch, q):
    return (ch * m.NQ + q) * m.CQ


def entry(m, ch, q, k):
    """(kind, earliest cycle) of the command entry k of queue q needs next, or (NONE, _FAR) when
    a rule holds it back whatever the cycle (PRE arbitration, R->W dependency)."""
    base = _cq(m, ch, q)
    n = m.cmdq_n[ch * m.NQ + q]
    s = m.cmdq[base + k]
    T = _tx(m, ch, s)
    b, row, w = m.tx[T + KT["BANK"]], m.tx[T + KT["ROW"]], m.tx[T + KT["W"]] & 1
    B = _bank(m, ch, b)
    open_row = m.banks[B + KB["ROW"]]
    if open_row < 0:
        return ACT, act_ready(m, ch, b)
    if row == open_row:
        if w:
            burst = m.tx[T + KT["ADDR"]] >> m.burst_shift
            for j in range(k):     # an older READ of the same burst goes first (HasRWDependency)
                U = _tx(m, ch, m.cmdq[base + j])
                if not m.tx[U + KT["W"]] & 1 and m.tx[U + KT["ADDR"]] >> m.burst_shift == burst:
                    return NONE, _FAR
        return (WR if w else RD), col_ready(m, ch, b, w)
    # a PRE: only for the oldest request of the bank, and not while hits to the open row are
    # queued, unless the row has served 4 column commands (ArbitratePrecharge)
    for j in range(k):
        if m.tx[_tx(m, ch, m.cmdq[base + j]) + KT["BANK"]] == b:
            return NONE, _FAR
    if m.frfcfs and m.banks[B + KB["HITS"]] < 4:      # (FCFS serves no hit first: none holds it)
        for j in range(k, n):
            U = _tx(m, ch, m.cmdq[base + j])
            if m.tx[U + KT["BANK"]] == b and m.tx[U + KT["ROW"]] == open_row:
                return NONE, _FAR
    return PRE, m.banks[B + KB["T_PRE"]]


def queue_blocked(m, ch, q):
    """A queue is skipped while a refresh of its bank (or of any bank of its rank) waits."""
    if not m.per_rank:
        return m.banks[_bank(m, ch, q) + KB["INREF"]]
    for b in range(q * m.bpr, (q + 1) * m.bpr):
        if m.banks[_bank(m, ch, b) + KB["INREF"]]:
            return 1
    return 0


def queue_first(m, ch, q, x):
    """(entry, kind) of the first command of queue q ready at cycle x, or (-1, NONE)."""
    n = m.cmdq_n[ch * m.NQ + q]
    for k in range(n if m.frfcfs else min(n, 1)):
        kind, t = entry(m, ch, q, k)
        if kind != NONE and t <= x:
            return k, kind
    return -1, NONE


def queue_next(m, ch, q):
    """Earliest cycle any command of queue q may be ready (_FAR: none until something changes)."""
    n = m.cmdq_n[ch * m.NQ + q]
    best = _FAR
    for k in range(n if m.frfcfs else min(n, 1)):
        kind, t = entry(m, ch, q, k)
        if kind != NONE and t < best:
            best = t
    return best


def queue_remove(m, ch, q, k):
    base, i = _cq(m, ch, q), ch * m.NQ + q
    n = m.cmdq_n[i]
    for j in range(k, n - 1):
        m.cmdq[base + j] = m.cmdq[base + j + 1]
    m.cmdq_n[i] = n - 1


def has_hit(m, ch, b):
    """A request to bank b's open row is queued."""
    q = _queue_of(m, b)
    base, n = _cq(m, ch, q), m.cmdq_n[ch * m.NQ + q]
    row = m.banks[_bank(m, ch, b) + KB["ROW"]]
    for j in range(n):
        T = _tx(m, ch, m.cmdq[base + j])
        if m.tx[T + KT["BANK"]] == b and m.tx[T + KT["ROW"]] == row:
            return True
    return False


# -- refresh --------------------------------------------------------------------------------------
def _ref_banks(m, target):
    """(first bank, banks) a refresh target covers: a rank, or one bank (bank_level_staggered)."""
    if m.ref_mode == 3:
        return target, 1
    return target * m.bpr, m.bpr


def refresh_insert(m, ch, x):
    c = _chan(m, ch)
    chan = m.channels
    if m.ref_mode == 2:
        targets = list(range(m.nr))
    else:
        it = chan[c + KH["REF_ITER"]]
        targets = [it]
        if m.ref_mode == 1:
            chan[c + KH["REF_ITER"]] = (it + 1) % m.nr
        else:   # bank groups fastest, then banks of a group, then ranks (DRAMsim3's IterateNext)
            r, g, ba = it // m.bpr, (it % m.bpr) >> m.babits, it & (m.bpg - 1)
            g = (g + 1) % m.bgpr
            if g == 0:
                ba = (ba + 1) % m.bpg
                if ba == 0:
                    r = (r + 1) % m.nr
            chan[c + KH["REF_ITER"]] = (r * m.bgpr + g) * m.bpg + ba
    for tg in targets:
        n = chan[c + KH["REF_N"]]
        if n < m.nbc:
            m.refq[ch * m.nbc + (chan[c + KH["REF_HEAD"]] + n) % m.nbc] = tg
            chan[c + KH["REF_N"]] = n + 1
        b0, nb = _ref_banks(m, tg)
        for b in range(b0, b0 + nb):
            m.banks[_bank(m, ch, b) + KB["INREF"]] = 1
    chan[c + KH["REF_NEXT"]] = x + m.ref_every


def refresh_step(m, ch, target):
    """Earliest cycle target's next refresh command may issue: while any of its banks is open, the
    first PRE (the earliest an open bank may precharge); then the REF, once every bank may refresh."""
    b0, nb = _ref_banks(m, target)
    pre, ready, opened = _FAR, 0, False
    for b in range(b0, b0 + nb):
        B = _bank(m, ch, b)
        if m.banks[B + KB["ROW"]] >= 0:
            opened = True
            pre = min(pre, m.banks[B + KB["T_PRE"]])
        else:
            ready = max(ready, m.banks[B + KB["T_REF"]])
    return pre if opened else ready


def refresh_command(m, ch, x):
    """Issue the refresh command ready at x for the first target in line that has one."""
    c = _chan(m, ch)
    n, head = m.channels[c + KH["REF_N"]], m.channels[c + KH["REF_HEAD"]]
    for i in range(n):
        target = m.refq[ch * m.nbc + (head + i) % m.nbc]
        b0, nb = _ref_banks(m, target)
        # DRAMsim3: the first open bank (bank order) whose PRE is ready, else the REF when every
        # bank is closed and ready for it
        all_ready = True
        for b in range(b0, b0 + nb):
            B = _bank(m, ch, b)
            if m.banks[B + KB["ROW"]] >= 0:
                if m.banks[B + KB["T_PRE"]] <= x:
                    issue_pre(m, ch, b, x, WHY_REFRESH)
                    return True
                all_ready = False
            elif m.banks[B + KB["T_REF"]] > x:
                all_ready = False
        if all_ready:
            issue_ref(m, ch, i, target, x)
            return True
    return False


def refresh_next(m, ch):
    c = _chan(m, ch)
    n, head = m.channels[c + KH["REF_N"]], m.channels[c + KH["REF_HEAD"]]
    best = _FAR
    for i in range(n):
        best = min(best, refresh_step(m, ch, m.refq[ch * m.nbc + (head + i) % m.nbc]))
    return best


# -- timeout row policy -----------------------------------------------------------------------------
def timeout_due(m, ch, b):
    """When open bank b closes by the timeout policy if nothing else happens (_FAR: not while a
    request to its row is queued or its refresh waits)."""
    B = _bank(m, ch, b)
    if m.banks[B + KB["ROW"]] < 0 or m.banks[B + KB["INREF"]] or has_hit(m, ch, b):
        return _FAR
    return max(m.banks[B + KB["LAST_COL"]] + m.timeout, m.banks[B + KB["T_PRE"]])


def timeout_command(m, ch, x):
    for b in range(m.nbc):
        if timeout_due(m, ch, b) <= x:
            issue_pre(m, ch, b, x, WHY_TIMEOUT)
            return True
    return False


def timeout_next(m, ch):
    return min((timeout_due(m, ch, b) for b in range(m.nbc)), default=_FAR)


# -- issuing commands -------------------------------------------------------------------------------
def issue_act(m, ch, b, row, x):
    B = _bank(m, ch, b)
    m.banks[B + KB["ROW"]] = row
    m.banks[B + KB["HITS"]] = 0
    m.banks[B + KB["LAST_COL"]] = x
    timing_act(m, ch, b, x)
    m.cnt[DC["act_cmds"]] += 1
    ra_change(m, ch, b // m.bpr, x, 1)


def issue_pre(m, ch, b, x, why):
    B = _bank(m, ch, b)
    m.banks[B + KB["ROW"]] = -1
    m.banks[B + KB["HITS"]] = 0
    m.banks[B + KB["CONFLICT"]] = 1 if why == WHY_QUEUE else 0
    timing_pre(m, ch, b, x)
    m.cnt[DC["pre_cmds"]] += 1
    ra_change(m, ch, b // m.bpr, x, -1)


def issue_ref(m, ch, i, target, x):
    """The refresh of the i-th target in line issues: its banks refresh; it leaves the line."""
    c = _chan(m, ch)
    b0, nb = _ref_banks(m, target)
    timing_ref(m, ch, b0, nb, m.RFCB if m.ref_mode == 3 else m.RFC, x)
    for b in range(b0, b0 + nb):
        m.banks[_bank(m, ch, b) + KB["INREF"]] = 0
        m.banks[_bank(m, ch, b) + KB["CONFLICT"]] = 0
    n, head = m.channels[c + KH["REF_N"]], m.channels[c + KH["REF_HEAD"]]
    for j in range(i, n - 1):
        m.refq[ch * m.nbc + (head + j) % m.nbc] = m.refq[ch * m.nbc + (head + j + 1) % m.nbc]
    m.channels[c + KH["REF_N"]] = n - 1
    m.cnt[DC["refreshes"]] += 1


def issue_col(m, ch, q, k, x):
    """The READ / WRITE of entry k of queue q issues at cycle x."""
    s = m.cmdq[_cq(m, ch, q) + k]
    T = _tx(m, ch, s)
    b, w, addr = m.tx[T + KT["BANK"]], m.tx[T + KT["W"]], m.tx[T + KT["ADDR"]]
    B = _bank(m, ch, b)
    cnt = m.cnt
    wr = w & 1
    cnt[DC["write_cmds" if wr else "read_cmds"]] += 1
    if m.banks[B + KB["HITS"]]:
        cnt[DC["row_hits"]] += 1
        cnt[DC["write_row_hits" if wr else "read_row_hits"]] += 1
    elif m.banks[B + KB["CONFLICT"]]:
        cnt[DC["row_conflicts"]] += 1
    else:
        cnt[DC["row_misses"]] += 1
    cnt[DC["dram_bytes"]] += m.burst_bytes
    m.banks[B + KB["HITS"]] += 1
    m.banks[B + KB["LAST_COL"]] = x
    timing_col(m, ch, b, wr, m.closed, x)
    queue_remove(m, ch, q, k)
    pend_del(m, ch, addr, wr)
    if wr:
        tx_free(m, ch, s)
    else:                  # the read and every read merged into it
        while s >= 0:
            T = _tx(m, ch, s)
            nxt = m.tx[T + KT["NEXT"]]
            req_done(m, ch, m.tx[T + KT["REQ"]], x + m.RD_DELAY)
            tx_free(m, ch, s)
            s = nxt
    if m.closed:           # auto-precharge: the bank closes with the column command
        m.banks[B + KB["ROW"]] = -1
        m.banks[B + KB["HITS"]] = 0
        m.banks[B + KB["CONFLICT"]] = 0
        ra_change(m, ch, b // m.bpr, x, -1)
    m.channels[_chan(m, ch) + KH["SCHED"]] = 1


def queue_command(m, ch, x):
    """Round robin over the command queues from the one after the queue served last."""
    c = _chan(m, ch)
    rr = m.channels[c + KH["RR"]]
    for i in range(1, m.NQ + 1):
        q = (rr + i) % m.NQ
        if not m.cmdq_n[ch * m.NQ + q] or queue_blocked(m, ch, q):
            continue
        k, kind = queue_first(m, ch, q, x)
        if k < 0:
            continue
        m.channels[c + KH["RR"]] = q
        T = _tx(m, ch, m.cmdq[_cq(m, ch, q) + k])
        b = m.tx[T + KT["BANK"]]
        if kind == ACT:
            issue_act(m, ch, b, m.tx[T + KT["ROW"]], x)
        elif kind == PRE:
            issue_pre(m, ch, b, x, WHY_QUEUE)
        else:
            issue_col(m, ch, q, k, x)
        return True
    return False


def queues_next(m, ch):
    best = _FAR
    for q in range(m.NQ):
        if m.cmdq_n[ch * m.NQ + q] and not queue_blocked(m, ch, q):
            t = queue_next(m, ch, q)
            if t < best:
                best = t
    return best


# -- the transaction scheduler ---------------------------------------------------------------------
def schedule(m, ch, x):
    """Move at most one transaction to its command queue (DRAMsim3's ScheduleTransaction)."""
    c = _chan(m, ch)
    chan = m.channels
    changed = 0
    wb_n, rq_n = chan[c + KH["WB_N"]], chan[c + KH["RQ_N"]]
    if chan[c + KH["WDRAIN"]] < 0:     # a drain stopped for a read still queued: serve reads once
        chan[c + KH["WDRAIN"]] = 0
        changed = 1
    elif chan[c + KH["WDRAIN"]] == 0 and (wb_n >= m.Q or (wb_n > m.WB_LO and _cmdq_empty(m, ch))):
        chan[c + KH["WDRAIN"]] = wb_n
        changed = 1
    writes = chan[c + KH["WDRAIN"]] > 0
    queue, n = (m.wrb, wb_n) if writes else (m.rdq, rq_n)
    base = ch * m.Q
    for k in range(n):
        s = queue[base + k]
        T = _tx(m, ch, s)
        q = _queue_of(m, m.tx[T + KT["BANK"]])
        qi = ch * m.NQ + q
        if m.cmdq_n[qi] >= m.CQ:
            continue
        if writes:
            r = pend_find(m, ch, m.tx[T + KT["ADDR"]], 0)
            if r >= 0:     # R->W dependency: stop draining; -1: that read waits in the read queue
                chan[c + KH["WDRAIN"]] = -1 if _in_read_queue(m, ch, r) else 0
                changed = 1
                break
            chan[c + KH["WDRAIN"]] -= 1
        m.cmdq[_cq(m, ch, q) + m.cmdq_n[qi]] = s
        m.cmdq_n[qi] += 1
        for j in range(k, n - 1):
            queue[base + j] = queue[base + j + 1]
        chan[c + (KH["WB_N"] if writes else KH["RQ_N"])] = n - 1
        changed = 1
        break
    chan[c + KH["SCHED"]] = changed


def _cmdq_empty(m, ch):
    for q in range(m.NQ):
        if m.cmdq_n[ch * m.NQ + q]:
            return False
    return True


def _in_read_queue(m, ch, s):
    for k in range(m.channels[_chan(m, ch) + KH["RQ_N"]]):
        if m.rdq[ch * m.Q + k] == s:
            return True
    return False


# -- the front end -----------------------------------------------------------------------------------
class _Arrays:
    """Requests from arrays (dram_run, dram_stream): indices `idx` of (t, addr, w), in order; a
    request is a line (its bursts)."""

    def __init__(self, m, t, addr, w, idx, posted=True):
        self.m, self.t, self.addr, self.w, self.idx, self.pos = m, t, addr, w, idx, 0
        self.posted = posted

    def peek(self):
        """(t, first address, transactions, their spacing, W flags, ticket) or None."""
        if self.pos >= len(self.idx):
            return None
        i = self.idx[self.pos]
        m = self.m
        line = int(self.addr[i]) & ~((1 << m.line_shift) - 1)
        return int(self.t[i]), line, m.line_bursts, m.burst_bytes, int(self.w[i]) & 1, i

    def pop(self):
        self.pos += 1


class _Ring:
    """The channel's held requests (in-system), sorted by arrival then ticket, in state "fe"."""

    def __init__(self, m, ch):
        self.m, self.ch = m, ch

    def peek(self):
        m, c = self.m, _chan(self.m, self.ch)
        if not m.channels[c + KH["FE_N"]]:
            return None
        F = (self.ch * m.FES + m.channels[c + KH["FE_HEAD"]]) * _NF
        f = m.fe
        return f[F + KF["T"]], f[F + KF["ADDR"]], f[F + KF["NB"]], f[F + KF["STEP"]], f[F + KF["W"]], f[F + KF["TICKET"]]

    def pop(self):
        m, c = self.m, _chan(self.m, self.ch)
        m.channels[c + KH["FE_HEAD"]] = (m.channels[c + KH["FE_HEAD"]] + 1) % m.FES
        m.channels[c + KH["FE_N"]] -= 1


def fe_insert(m, ch, t, addr, nb, step, w, ticket):
    """Hold a request in the channel's front end, in order of arrival, then ticket."""
    c = _chan(m, ch)
    n, head = m.channels[c + KH["FE_N"]], m.channels[c + KH["FE_HEAD"]]
    f = m.fe
    k = n
    # never before the front request once its first transaction has been taken
    lo = 1 if m.channels[c + KH["FE_TAKEN"]] else 0
    while k > lo:
        P = (ch * m.FES + (head + k - 1) % m.FES) * _NF
        if f[P + KF["T"]] <= t:
            break
        Q = (ch * m.FES + (head + k) % m.FES) * _NF
        f[Q:Q + _NF] = f[P:P + _NF]
        k -= 1
    Q = (ch * m.FES + (head + k) % m.FES) * _NF
    f[Q:Q + _NF] = [t, addr, nb, step, w, ticket]
    m.channels[c + KH["FE_N"]] = n + 1


def fe_room(m, ch, w):
    """The next transaction (a write: w = 1) can be taken: room in its queue, and slots."""
    c = _chan(m, ch)
    chan = m.channels
    if chan[c + (KH["WB_N"] if w & 1 else KH["RQ_N"])] >= m.Q:
        return False
    if chan[c + KH["TX_FREE"]] < 0:
        return False
    return chan[c + KH["FE_TAKEN"]] > 0 or chan[c + KH["REQ_FREE"]] >= 0


def accept(m, ch, x):
    """The front end offers the next transaction that has arrived by cycle x; taken at x + 1."""
    r = m.src.peek()
    if r is None:
        return
    t, addr, nb, step, w, ticket = r
    if _ceil_cycle(m, t) > x or not fe_room(m, ch, w):
        return
    c = _chan(m, ch)
    chan = m.channels
    i = chan[c + KH["FE_TAKEN"]]
    wr = w & 1
    if i == 0:             # the request's first transaction: it enters the controller now
        rs = req_alloc(m, ch)
        R = _rq(m, ch, rs)
        m.req[R:R + _NQR] = [ticket, t, x + 1, 0, nb, w, -1]
        chan[c + KH["FE_REQ"]] = rs
        chan[c + KH["LIVE"]] += 1
        m.cnt[DC["writes" if wr else "reads"]] += 1
    rs = chan[c + KH["FE_REQ"]]
    taddr = addr + i * step
    if i + 1 == nb:
        chan[c + KH["FE_TAKEN"]] = 0
        m.src.pop()
    else:
        chan[c + KH["FE_TAKEN"]] = i + 1
    chan[c + KH["SCHED"]] = 1
    _, b, row = _decode(m, taddr)
    if wr:
        if pend_find(m, ch, taddr, 1) >= 0:      # merges with the write pending there
            m.cnt[DC["write_merges"]] += 1
        else:
            s = _new_tx(m, ch, taddr, b, row, 1, rs)
            pend_put(m, ch, taddr, 1, s)
            m.wrb[ch * m.Q + chan[c + KH["WB_N"]]] = s
            chan[c + KH["WB_N"]] += 1
        req_done(m, ch, rs, x + 2)               # posted: done when taken
        return
    if pend_find(m, ch, taddr, 1) >= 0:          # served from the pending write
        m.cnt[DC["read_forwards"]] += 1
        req_done(m, ch, rs, x + 2)
        return
    head = pend_find(m, ch, taddr, 0)
    s = _new_tx(m, ch, taddr, b, row, 0, rs)
    if head >= 0:          # joins the read pending there (after its last merged read)
        T = _tx(m, ch, head)
        while m.tx[T + KT["NEXT"]] >= 0:
            T = _tx(m, ch, m.tx[T + KT["NEXT"]])
        m.tx[T + KT["NEXT"]] = s
        return
    pend_put(m, ch, taddr, 0, s)
    m.rdq[ch * m.Q + chan[c + KH["RQ_N"]]] = s
    chan[c + KH["RQ_N"]] += 1


def _new_tx(m, ch, addr, b, row, w, rs):
    s = tx_alloc(m, ch)
    T = _tx(m, ch, s)
    m.tx[T:T + _NT] = [addr, b, row, w, rs, -1]
    return s


def fe_next(m, ch, x):
    """Earliest cycle >= x the front end may take something (_FAR: it waits for room)."""
    r = m.src.peek()
    if r is None or not fe_room(m, ch, r[4]):
        return _FAR
    return max(_ceil_cycle(m, r[0]), x)


# -- the loop ------------------------------------------------------------------------------------------
def cycle(m, ch, x):
    """Everything that happens in cycle x (the module docstring's steps 1-4)."""
    c = _chan(m, ch)
    if x == m.channels[c + KH["REF_NEXT"]]:
        refresh_insert(m, ch, x)
    issued = m.channels[c + KH["REF_N"]] and refresh_command(m, ch, x)
    if not issued and m.timeout:
        issued = timeout_command(m, ch, x)
    if not issued:
        queue_command(m, ch, x)
    if m.channels[c + KH["SCHED"]]:
        schedule(m, ch, x)
    accept(m, ch, x)


def next_cycle(m, ch, x):
    """The first cycle >= x at which anything may happen (every candidate is exact or early)."""
    c = _chan(m, ch)
    y = m.channels[c + KH["REF_NEXT"]]
    if m.channels[c + KH["SCHED"]]:
        y = x
    if m.channels[c + KH["REF_N"]]:
        y = min(y, refresh_next(m, ch))
    if m.timeout:
        y = min(y, timeout_next(m, ch))
    y = min(y, queues_next(m, ch), fe_next(m, ch, x))
    return max(y, x)


def advance(m, ch, src, stop, mode):
    """Simulate channel ch from its next cycle: mode 0 up to (not including) cycle `stop`; mode 1
    until the target request is done; mode 2 until every request is taken and done, and at least
    up to `stop`. Returns the cycle after the last one simulated."""
    c = _chan(m, ch)
    m.src = src
    x = m.channels[c + KH["CYC"]]
    while True:
        if mode == 2 and src.peek() is None and not m.channels[c + KH["LIVE"]]:
            mode, stop = 0, max(stop, x)
        y = next_cycle(m, ch, x)
        if mode == 0 and y >= stop:
            x = max(x, stop)
            break
        cycle(m, ch, y)
        x = y + 1
        if mode == 1 and m.target_done >= 0:
            break
    m.channels[c + KH["CYC"]] = x
    if m.activity and mode != 1:
        for r in range(m.nr):
            ra_advance(m, ch, r, x * m.tck)
    return x


# -- in-system requests --------------------------------------------------------------------------------
def horizon(m):
    """No request presented from now on arrives before this (ps): the core's last access arrival,
    or its earliest held-back write-back (engine.Engine.log_horizon)."""
    if m.clock is None:
        return 0
    from .._layout import S
    sc, defer = m.clock
    h = sc[S["last_arrival_ps"]] if sc[S["started"]] else 0
    if sc[S["defer_n"]]:
        h = min(h, defer[4 * sc[S["defer_head"]]])
    return h


def _snapshot(m):
    return {name: list(getattr(m, name)) for name in _STATE}


def _restore(m, snap):
    for name in _STATE:
        setattr(m, name, snap[name])
    m.cnt = m.counters


def request(m, addr, t, nbytes, is_write, posted):
    """Completion (ps) of a request of nbytes at addr presented at t: each (channel, bank, row)
    segment is a request of its bursts to its channel; the latest completion. (`posted`: every
    write is posted in this model.)"""
    seg = min(1 << m.seg_shift, nbytes)
    done = t
    a = addr
    while a < addr + nbytes:
        n = max(1, min(seg, addr + nbytes - a) // m.burst_bytes)
        done = max(done, _segment(m, a, t, n, 1 if is_write else 0))
        a += seg
    return done


def _segment(m, addr, t, nb, w):
    """One request to one channel, answered from the committed state: commit up to the horizon,
    take the request, simulate until it is done, undo. (The compiled core keeps that run-ahead
    while later requests to the channel cannot change it and undoes it when one can: the same
    results, checked by tests/test_differential.py.)"""
    ch, _, _ = _decode(m, addr)
    c = _chan(m, ch)
    ring = _Ring(m, ch)
    advance(m, ch, ring, _ceil_cycle(m, horizon(m)), 0)           # commit up to the horizon
    while m.channels[c + KH["FE_N"]] >= m.FES:                     # held requests full: commit on
        advance(m, ch, ring, m.channels[c + KH["CYC"]] + 1, 0)
    ticket = m.channels[c + KH["SEQ"]]
    m.channels[c + KH["SEQ"]] = ticket + 1
    if _ceil_cycle(m, t) < m.channels[c + KH["CYC"]]:      # the caller broke its horizon
        m.cnt[DC["late_arrivals"]] += 1
    fe_insert(m, ch, t, addr, nb, m.burst_bytes, w, ticket)
    snap = _snapshot(m)
    m.target, m.target_done = ticket, -1
    advance(m, ch, ring, _FAR, 1)                                  # until it is done
    done = m.target_done
    _restore(m, snap)
    m.target = -1
    return done


# -- module functions (the compiled module's) --------------------------------------------------------
def _by_channel(m, addr):
    out = [[] for _ in range(m.nch)]
    for i, a in enumerate(addr):
        out[_decode(m, int(a))[0]].append(i)
    return out


def _check_order(t):
    for i in range(1, len(t)):
        if t[i] < t[i - 1]:
            raise ValueError(f"dram_run: request {i} arrives at {int(t[i])} ps, before request {i - 1} "
                             f"({int(t[i - 1])} ps): requests must come in time order")


def run(d, st, prefix, t, addr, w, out, acc=None, until=0):
    """dram_run for the detailed model: every request through its channel's controller until all
    are done (and at least until `until` ps); completions (and acceptances) into out (acc)."""
    m = Ctl(d, st, prefix)
    _check_order(t)
    for ch in range(m.nch):
        if m.channels[_chan(m, ch) + KH["FE_N"]]:
            raise ValueError("dram_run: the controller holds in-system requests; finish them first (dram_finish)")
    m.out, m.acc = out, acc
    for ch, idx in enumerate(_by_channel(m, addr)):
        advance(m, ch, _Arrays(m, t, addr, w, idx), _ceil_cycle(m, until), 2)
    m.save()


def stream(d, st, prefix, ch, t, addr, w, upto, final, done, acc, wr):
    """dram_stream for the detailed model: requests (in time order) to channel ch, taken as its
    front end accepts them, simulating every cycle before ceil(upto / tCK) (final: until all are
    done, and at least that far); the caller guarantees no later request arrives before upto and
    passes the requests not taken again. Completions of any request (this call's or earlier
    ones') go to done, acc, wr (ps, ps, 1 = write) in the order they complete.
    Returns (requests taken, completions written)."""
    m = Ctl(d, st, prefix)
    _check_order(t)
    if not 0 <= ch < m.nch:
        raise ValueError(f"dram_stream: channel {ch} of {m.nch}")
    for i in range(len(t)):
        if _decode(m, int(addr[i]))[0] != ch:
            raise ValueError(f"dram_stream: request {i} is for channel {_decode(m, int(addr[i]))[0]}, not {ch}")
    live0 = m.channels[_chan(m, ch) + KH["LIVE"]]
    if len(done) < len(t) + live0:
        raise ValueError(f"dram_stream: done holds {len(done)} completions; up to {len(t) + live0} may come "
                         f"(the requests given and the {live0} in flight)")
    m.sink = []
    src = _Arrays(m, t, addr, w, list(range(len(t))))
    advance(m, ch, src, _ceil_cycle(m, upto), 2 if final else 0)
    taken = src.pos
    for k, (dn, ac, ww) in enumerate(m.sink):
        done[k], acc[k], wr[k] = dn, ac, ww
    m.save()
    return taken, len(m.sink)


def finish(d, st, prefix, until=0):
    """Commit every request held (in-system) to its completion, and at least up to `until` ps."""
    m = Ctl(d, st, prefix)
    for ch in range(m.nch):
        advance(m, ch, _Ring(m, ch), _ceil_cycle(m, until), 2)
    m.save()


def activity(d, st, prefix, h):
    """Per rank, ps with a bank open in [0, h): exact once the controller has simulated up to h
    (dram_stream / dram_finish); -1 for a rank whose activity is already known past h (marks)."""
    m = Ctl(d, st, prefix)
    out = []
    for r in range(m.nch * m.nr):
        i = r * _NA
        front, nopen, act = m.ract[i + DA["FRONT"]], m.ract[i + DA["NOPEN"]], m.ract[i + DA["ACTIVE"]]
        out.append(-1 if h < front else act + (h - front if nopen > 0 else 0))
    return out
