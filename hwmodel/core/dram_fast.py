"""Plain-Python twin of `core/dram_fast.pxi`: the one-pass DRAM models, whose rules this docstring defines.

This docstring describes the fast model (DRAM.model = "fast": a one-pass approximation of the
controller that the detailed model, `core.dram_ctrl`, simulates); `SimpleDram` at the end is
the simple one (DRAM.model = "simple", see `hwmodel.memctrl`).

One memory controller with its channels, modelled in ONE PASS: each request is answered (its
completion time returned) when it is presented, in the order the simulator presents them, and no
earlier answer is ever revised. All times are integer ps. What follows is the whole model; the
compiled core must match it bit for bit.

Modelled
--------
- Organisation: channels x ranks x bank groups x banks, rows; address fields by shift/mask (XOR
  bank hashing optional). Each bank keeps its open row and the earliest time of its next column
  command (COL_FREE), precharge (PRE_OK) and activate (ACT_OK).
- Row-buffer states: hit (column command only), closed (ACT, tRCD, column), conflict (PRE, tRP,
  ACT, tRCD, column). PRE waits for tRAS after ACT, tRTP after a read, CWL + burst + tWR after a
  write; ACT waits for tRC after the previous ACT of the bank, tRRD_S / tRRD_L after the last ACT
  of the rank / bank group, and tFAW after the fourth-last ACT of the rank. Reads complete at
  column + CL + burst (DRAMsim3's read_delay); a multi-burst access (page transfer in one row)
  holds the bus for burst + (n - 1) x max(burst, tCCD_L).
- Data bus per channel as a calendar: up to BUS_SLOTS reserved bursts (start, end, rank/bank
  group/direction tag) sorted by start. A burst takes the earliest slot at or after its earliest
  data time that keeps the gap rules with its neighbours: tCCD_L / tCCD_S between bursts of one
  rank, tRTRS across ranks, tRPRE + tRTRS read-to-write, tWTR_L/S + CL write-to-read (same rank),
  tWPRE write-to-write across ranks (DRAMsim3's timing table, expressed as data-bus gaps). So a
  row hit that arrives after a slow row conflict to another bank can use the bus before it, as in
  a real controller. Reservations that end before the current request arrived are dropped; when
  the calendar is full the oldest is dropped and the bus is treated as busy until its end.
- Open, closed (auto-precharge after every access) or timeout page policy (Ramulator's Timeout:
  a bank whose row saw no column command for ROW_TIMEOUT, and may precharge, closes it; applied
  when the bank's next request enters its command queue, so that request finds the row closed).
- Scheduler. FR-FCFS is approximated per bank: when a request switches a bank's row, the old row,
  the time of the PRE that closes it, and the next column slot on it are remembered. A later
  request to that old row that entered the command queue before that PRE is served as a row hit
  on the old row (as FR-FCFS would serve a queued hit before a queued row switch), and the row
  switch with everything scheduled behind it moves later by the time the hit needs (tRTP / tWR
  before the PRE). Requests already answered keep their answers (they were optimistic by that
  much); later requests to the bank see the moved schedule. As in DRAMsim3, where tRTP > tCCD_L
  keeps a queued row hit ahead of a pending PRE, there is no cap on such hits. FCFS: no bypass,
  and column commands of a channel issue in arrival order.
- Queues (DRAMsim3's structure): a read takes a transaction-queue entry (Q_SIZE per channel) that
  it leaves when it enters its bank's command queue (CQ_SIZE per bank), which it leaves at its
  column command. Both are rings of times: a read waits for the entry of the read Q_SIZE reads
  earlier on its channel, and for the command slot of the request CQ_SIZE requests earlier on its
  bank. A request that must wait for an entry also holds back later requests of its channel
  (an in-order front end, as DRAMsim3's trace reader), so `read_queue_wait_ps` is back-pressure
  and latency minus that wait is DRAMsim3's read latency (measured from acceptance).
- Writes are posted: a line write is accepted into the channel's write buffer and completes then.
  The buffer drains (its writes are issued through the bank model, grouped by bank and row as
  FR-FCFS would issue them, at the drain time) when it holds WB_HI writes (full), or WB_LO writes
  while no read waits for the command queues (DRAMsim3: write_buf_size with an empty read queue).
  A read of a line in the buffer is served from it (one tCK); a write to a line already in it
  merges. Block transfers (dram_block: page swaps) are not posted: they are issued directly and
  complete when their data has been written. Buffered writes count as DRAM commands, bytes and
  row hits only when drained; a run that ends with writes in the buffer leaves them uncounted
  (DRAMsim3 does the same).
- Refresh, per rank: staggered (rank r due at (r + 1) x tREFI / ranks, then every tREFI, as
  DRAMsim3's RANK_LEVEL_STAGGERED) or simultaneous. A refresh is applied when a request to its
  rank would issue its first command at or after the due time: REF at max(due, every bank of the
  rank precharged, which waits for PRE_OK + tRP of open banks), then the rank's banks are closed
  and may not ACT before REF + tRFC. Refreshes that fell in idle time are counted without effect.

- Commands, for energy: act_cmds counts ACTs (row misses and conflicts); pre_cmds counts PRE
  commands as DRAMsim3 does: one per row switch, one per timeout, one per open bank before a
  refresh; a closed-page access's auto-precharge is part of its column command, not a PRE.
- Rank activity (when dram_params(..., activity=True)): the time each rank has at least one bank
  open (DRAMsim3's rank_active_cycles). A bank is open from its ACT to its PRE: the row switch's
  PRE, the timeout, the auto-precharge (closed page: when the bank may precharge, PRE_OK), or the
  PRE before a refresh (when the refresh falls due, or the bank may precharge if later; at the
  bank's timeout if that comes first). Events come out of time order (one pass), and an FR-FCFS
  bypass moves a switch's PRE and ACT later after both were made, so each rank keeps its events
  as made (nearly in time order) and, when they fill their slots, sorts them and folds them into
  its active time only up to a frontier before which no event can come any more: the later of the
  current request's arrival and its channel's admission front (later requests are admitted no
  earlier), capped by the rank's due refresh and its open banks' timeouts (simple model: the
  earliest of its banks' next-column times, or arrival if later). `activity(h)` reads the active time up to any h at or after the
  frontier without changing the state (open banks close at their timeout or the PRE before a
  due refresh); crossing a mark set by `_dram_layout.set_marks` writes the active time up to it,
  for boundaries the frontier has passed. Exact for requests in time order (the DRAM tool); the
  slots hold four events per request the controller can hold (memctrl.ra_slots).
- The simple model counts ACTs (misses and conflicts) and PREs (conflicts, timeouts) and keeps
  rank activity from its open rows the same way; it models no refresh, so its rows stay open
  across refreshes (the tool counts the refresh schedule's REF commands for its energy).

Approximated or left out (and why)
----------------------------------
- No per-cycle command bus (one command per tCK in DRAMsim3): it costs little below saturation
  and would need a second calendar. No power-down, self refresh or per-bank refresh
  (bank_level_staggered is refused by `memctrl.dram_params`).
- A queued request cannot delay an earlier-answered one (one pass): FR-FCFS reorder benefits
  later requests only; PER_RANK command queues are modelled as per-bank rings of CQ_SIZE.
- Constraints between non-adjacent bursts on the bus (tWTR across an intervening burst of another
  rank) are not checked; ACT constraints use the latest ACT times (max), which is exact for ACTs
  issued in time order and conservative otherwise.
- Requests arriving out of time order (page-swap traffic interleaved) are handled, but cannot use
  bus time before reservations that were already dropped; likewise a bank event earlier than its
  rank's activity frontier is moved onto the frontier. If a rank's event slots fill with events
  none of which is final (more in flight than ra_slots allows for), its earliest is folded anyway,
  with the same approximation for later events before it.
- Refreshes that fell in idle time close the banks open at the first of them (their PREs are
  counted then), and then count without effect. The whole-system core leaves rank activity off
  (it reports no energy).
"""
from .._dram_layout import (D, DA, DB, DC, DH, DR, ACT_FIELDS, BANK_FIELDS, CHAN_FIELDS, RANK_FIELDS,
                           MODEL_SIMPLE, NO_MARK, RA_MARKS)

_NB, _NR, _NH = len(BANK_FIELDS), len(RANK_FIELDS), len(CHAN_FIELDS)
_ACT_T, _COL_FREE, _PRE_OK, _ACT_OK = DB["ACT_T"], DB["COL_FREE"], DB["PRE_OK"], DB["ACT_OK"]
_PREV_ROW, _PREV_PRE, _PREV_COL, _CQ_IDX = DB["PREV_ROW"], DB["PREV_PRE"], DB["PREV_COL"], DB["CQ_IDX"]
_LAST_ACT, _FAW_IDX, _FAW0, _REF_DUE = DR["LAST_ACT"], DR["FAW_IDX"], DR["FAW0"], DR["REF_DUE"]
_READY = DR["READY"]
_BUS_HEAD, _BUS_N, _BUS_FLOOR, _TQ_IDX = DH["BUS_HEAD"], DH["BUS_N"], DH["BUS_FLOOR"], DH["TQ_IDX"]
_BLOCKED, _WB_N, _WB_BLOOM = DH["BLOCKED"], DH["WB_N"], DH["WB_BLOOM"]
_LAST_RD_LEAVE, _LAST_COL = DH["LAST_RD_LEAVE"], DH["LAST_COL"]
_NA = len(ACT_FIELDS)
_FRONT, _NOPEN, _ACTIVE, _AN = DA["FRONT"], DA["NOPEN"], DA["ACTIVE"], DA["N"]
_MARK, _MARK_PS, _MARK_END, _MARK_N = DA["MARK"], DA["MARK_PS"], DA["MARK_END"], DA["MARK_N"]
_STATE = ("open_row", "bank", "cq", "bg_act", "rank", "chan", "bus", "tq", "wb", "counters", "ract", "rev", "rmk")
_FAR = NO_MARK   # a time no run reaches



def decode(d, addr):
    """(channel, bank within the channel, row) of a byte address under parameter vector d (the
    address map: dram_decode's twin, for both DRAM models)."""
    ch = (addr >> d[D["CH_SHIFT"]]) & d[D["CH_MASK"]]
    bg = ((addr >> d[D["BG_SHIFT"]]) & d[D["BG_MASK"]]) ^ ((addr >> d[D["BG_XSHIFT"]]) & d[D["BG_XMASK"]])
    ba = ((addr >> d[D["BA_SHIFT"]]) & d[D["BA_MASK"]]) ^ ((addr >> d[D["BA_XSHIFT"]]) & d[D["BA_XMASK"]])
    bank = (((((addr >> d[D["RA_SHIFT"]]) & d[D["RA_MASK"]]) << d[D["BG_BITS"]]) | bg) << d[D["BA_BITS"]]) | ba
    row = (addr >> d[D["RO_SHIFT"]]) & d[D["RO_MASK"]]
    return ch, bank, row

class Dram:
    """Timing of one DRAM subsystem (see the module docstring), on lists; `save()` writes back.

    `Dram(d, st, prefix)` gives a `SimpleDram` when the parameters select the simple model."""

    def __new__(cls, d, st, prefix, clock=None):
        if cls is Dram and int(d[D["MODEL"]]) == MODEL_SIMPLE:
            cls = SimpleDram
        return super().__new__(cls)

    def __init__(self, d, st, prefix, clock=None):
        self.d = [int(x) for x in d]
        self.st, self.prefix = st, prefix
        for name in _STATE:
            setattr(self, name, st[prefix + name].tolist())
        self.cnt = self.counters
        p = self.d
        (self.CL, self.CWL, self.RCD, self.RCDWR, self.RP, self.RAS, self.RC, self.RTP, self.WR,
         self.BURST, self.TRAIN, self.TCK) = (p[D[k]] for k in (
            "T_CL", "T_CWL", "T_RCD", "T_RCDWR", "T_RP", "T_RAS", "T_RC", "T_RTP", "T_WR",
            "T_BURST", "T_TRAIN", "T_CK"))
        (self.G_CCDL, self.G_CCDS, self.G_RW, self.G_WTRL, self.G_WTRS, self.G_RTRS,
         self.G_WWO) = (p[D[k]] for k in ("G_CCDL", "G_CCDS", "G_RW", "G_WTRL", "G_WTRS", "G_RTRS", "G_WWO"))
        self.ranks, self.nbanks = p[D["N_RANKS"]], p[D["N_BANKS"]]
        self.bgbits, self.babits = p[D["BG_BITS"]], p[D["BA_BITS"]]
        self.Q, self.C, self.K = p[D["Q_SIZE"]], p[D["CQ_SIZE"]], p[D["BUS_SLOTS"]]
        self.WB_HI, self.WB_LO = p[D["WB_HI"]], p[D["WB_LO"]]
        self.TIMEOUT = p[D["ROW_TIMEOUT"]]
        self.KA, self.ACTIVITY = p[D["RA_SLOTS"]], p[D["ACTIVITY"]]
        self.bpr = self.nbanks // self.ranks     # banks per rank; rank r's banks are r * bpr ...
        self.now = self.adm = 0

    def save(self):
        for name in _STATE:
            self.st[self.prefix + name][:] = getattr(self, name)

    # -- decode ----------------------------------------------------------------------------
    def _decode(self, addr):
        """(channel, global bank, row) of a byte address."""
        ch, bank, row = decode(self.d, addr)
        return ch, ch * self.nbanks + bank, row

    # -- rank activity (energy) -------------------------------------------------------------
    def _timeout_close(self, b):
        """When open bank b closes by the timeout policy if no request comes first."""
        j = b * _NB
        pre = self.bank[j + _COL_FREE] - self.TRAIN + self.TIMEOUT
        return pre if pre > self.bank[j + _PRE_OK] else self.bank[j + _PRE_OK]

    def _close_by(self, b, h):
        """When open bank b of rank r closes if no request arrives before h (>= h: not before h):
        its timeout, or the PRE before the rank's due refresh."""
        c = self._timeout_close(b) if self.TIMEOUT else _FAR
        due = self.rank[(b // self.bpr) * _NR + _REF_DUE]
        if due < h:
            pre = self.bank[b * _NB + _PRE_OK]
            v = due if due > pre else pre
            if v < c:
                c = v
        return c

    def _ra_bound(self, r):
        """No event of rank r still to come can be earlier than this: a later request is admitted
        no earlier than the current one's arrival (requests come in time order) or its channel's
        admission front (BLOCKED); nor the rank's due refresh or an open bank's timeout."""
        v = self.now
        blocked = self.chan[(r // self.ranks) * _NH + _BLOCKED]
        if blocked > v:
            v = blocked
        due = self.rank[r * _NR + _REF_DUE]
        if due < v:
            v = due
        if self.TIMEOUT:
            for b in range(r * self.bpr, (r + 1) * self.bpr):
                if self.open_row[b] >= 0:
                    c = self._timeout_close(b)
                    if c < v:
                        v = c
        return v

    def _ra_span(self, r, front, t, nopen, act):
        """Active ps up to t, from `act` at `front` with `nopen` banks open; writes the marks in
        (front, t] crossed on the way."""
        a, i = self.ract, r * _NA
        while a[i + _MARK] <= t:
            m = a[i + _MARK]
            k = a[i + _MARK_N]
            if k < RA_MARKS:
                self.rmk[r * RA_MARKS + k] = act + (m - front if nopen > 0 else 0)
            a[i + _MARK_N] = k + 1
            end = a[i + _MARK_END]
            a[i + _MARK] = _FAR if m >= end else min(m + a[i + _MARK_PS], end)
        return act + (t - front if nopen > 0 else 0)

    def _ra_fold(self, r, upto, limit):
        """Sort rank r's events, fold those earlier than `upto` (at most `limit` of them) into its
        record, keep the rest (sorted, from slot 0), then move its frontier to `upto` if later."""
        a, ev, K = self.ract, self.rev, self.KA
        i = r * _NA
        front, nopen, act, n = a[i + _FRONT], a[i + _NOPEN], a[i + _ACTIVE], a[i + _AN]
        base = r * K
        ev[base:base + n] = sorted(ev[base:base + n])
        popped = 0
        while popped < min(limit, n):
            v = ev[base + popped]
            t = v >> 1
            if t >= upto:
                break
            act = self._ra_span(r, front, t, nopen, act)
            front = t
            nopen += 1 if v & 1 else -1
            popped += 1
        ev[base:base + n - popped] = ev[base + popped:base + n]
        if popped < limit and upto > front:     # (a forced fold stops at its one event)
            act = self._ra_span(r, front, upto, nopen, act)
            front = upto
        a[i + _FRONT], a[i + _NOPEN], a[i + _ACTIVE], a[i + _AN] = front, nopen, act, n - popped

    def _ra_event(self, r, t, opens):
        """A bank of rank r opens (ACT) or closes (PRE) at t: append the event (an event before
        the frontier is moved onto it)."""
        if not self.ACTIVITY:
            return
        a, ev, K = self.ract, self.rev, self.KA
        i = r * _NA
        if a[i + _AN] == K:
            self._ra_fold(r, self._ra_bound(r), K + 1)
            if a[i + _AN] == K:
                # every event held is later than the bound: fold the earliest anyway (a later
                # event before it would be moved to the frontier; see the module docstring)
                self._ra_fold(r, (ev[r * K] >> 1) + 1, 1)
        if t < a[i + _FRONT]:
            t = a[i + _FRONT]
        ev[r * K + a[i + _AN]] = (t << 1) | opens
        a[i + _AN] += 1

    def activity(self, h):
        """Per rank (channel-major), ps with at least one bank open in [0, h), reading the state
        without changing it (-1 for a rank whose activity is already folded past h: see marks).
        Exact once every request arriving before h has been presented (in time order): the banks
        still open then close at their timeout or at the PRE before a due refresh, whichever comes
        first, and a later request cannot open or close one before h."""
        if not self.ACTIVITY:
            raise ValueError("rank activity is not accounted: compile the DRAM with dram_params(d, activity=True)")
        a, ev, K = self.ract, self.rev, self.KA
        out = []
        for r in range(len(a) // _NA):
            i = r * _NA
            front, nopen, act = a[i + _FRONT], a[i + _NOPEN], a[i + _ACTIVE]
            if h < front:        # folded past h: the caller has the rank's mark at h, if it set one
                out.append(-1)
                continue
            held = ev[r * K:r * K + a[i + _AN]]
            closes = []
            for b in range(r * self.bpr, (r + 1) * self.bpr):
                if self.open_row[b] >= 0:
                    c = self._close_by(b, h)
                    if c < h:
                        closes.append((c if c > front else front) << 1)
            for v in sorted([v for v in held if (v >> 1) < h] + closes):
                t = v >> 1
                act += t - front if nopen > 0 else 0
                front = t
                nopen += 1 if v & 1 else -1
            out.append(act + (h - front if nopen > 0 else 0))
        return out

    # -- data bus calendar -----------------------------------------------------------------
    def _gap(self, p, q):
        """Data-bus gap (ps) between a burst tagged p and a following burst tagged q.

        tag = (rank * bankgroups + bank group) * 2 + direction (1 = write)."""
        if (p >> 1) == (q >> 1):          # same rank and bank group
            if (p & 1) == (q & 1):
                return self.G_CCDL
            return self.G_RW if (q & 1) else self.G_WTRL
        if (p >> (1 + self.bgbits)) == (q >> (1 + self.bgbits)):   # same rank
            if (p & 1) == (q & 1):
                return self.G_CCDS
            return self.G_RW if (q & 1) else self.G_WTRS
        return self.G_WWO if (p & q & 1) else self.G_RTRS

    def _bus(self, ch, s, dur, tag, now):
        """Reserve `dur` ps of channel ch's data bus at the earliest start >= s; return the start."""
        K = self.K
        mask = K - 1
        bus, h = self.bus, ch * _NH
        base = ch * K * 3
        chan = self.chan
        head, n = chan[h + _BUS_HEAD], chan[h + _BUS_N]
        # drop reservations over before `now` (no later request can use that time), and the
        # oldest one if the calendar is full
        while n > 0 and (bus[base + 3 * head + 1] <= now or n == K):
            e = bus[base + 3 * head + 1]
            if e > chan[h + _BUS_FLOOR]:
                chan[h + _BUS_FLOOR] = e
            head = (head + 1) & mask
            n -= 1
        x = s if s > chan[h + _BUS_FLOOR] else chan[h + _BUS_FLOOR]
        pos = n
        for k in range(n):
            j = base + 3 * ((head + k) & mask)
            after = bus[j + 1] + self._gap(bus[j + 2], tag)
            if x >= after:
                continue
            if x + dur + self._gap(tag, bus[j + 2]) <= bus[j]:
                pos = k
                break
            x = after
        # insert at pos, moving the later ones one place on
        k = n
        while k > pos:
            dst = base + 3 * ((head + k) & mask)
            src = base + 3 * ((head + k - 1) & mask)
            bus[dst] = bus[src]
            bus[dst + 1] = bus[src + 1]
            bus[dst + 2] = bus[src + 2]
            k -= 1
        j = base + 3 * ((head + pos) & mask)
        bus[j] = x
        bus[j + 1] = x + dur
        bus[j + 2] = tag
        chan[h + _BUS_HEAD] = head
        chan[h + _BUS_N] = n + 1
        return x

    # -- refresh ---------------------------------------------------------------------------
    def _refresh(self, r, b0, s):
        """Apply rank r's due refresh(es) up to time s; b0 = its first global bank."""
        rk, bank, d = self.rank, self.bank, self.d
        i = r * _NR + _REF_DUE
        refi = d[D["T_REFI"]]
        due = rk[i]
        # each open bank closes (a PRE) when the refresh falls due and it may precharge, or at its
        # timeout if that is earlier; the REF then waits for all of them (READY)
        for b in range(b0, b0 + self.nbanks // self.ranks):
            if self.open_row[b] >= 0:
                pre = bank[b * _NB + _PRE_OK]
                c = due if due > pre else pre
                if self.TIMEOUT:
                    v = self._timeout_close(b)
                    if v < c:
                        c = v
                self._ra_event(r, c, 0)
                self.cnt[DC["pre_cmds"]] += 1
        if s >= due + refi:      # refreshes that fell in idle time
            k = (s - due) // refi
            self.cnt[DC["refreshes"]] += k
            due += k * refi
        # every bank is free for the REF once precharged (PRE_OK + tRP if open, else ACT_OK); READY
        # is the latest of those, kept as their running maximum (each one only grows)
        ready = r * _NR + _READY
        at = due if due > rk[ready] else rk[ready]
        end = at + d[D["T_RFC"]]
        rk[ready] = end
        for b in range(b0, b0 + self.nbanks // self.ranks):
            j = b * _NB
            self.open_row[b] = -1
            bank[j + _PREV_ROW] = -1
            bank[j + _ACT_OK] = end
        rk[i] = due + refi
        self.cnt[DC["refreshes"]] += 1

    def _act_window(self, r, rb, act):
        """Earliest ACT >= act that keeps tRRD_S / tRRD_L / tFAW with the rank's earlier ACTs.

        Only ACTs at or before `act` constrain it (one pass: an ACT already scheduled later for a
        backlogged bank must not hold back an idle bank); exact when ACTs come in time order."""
        rk, d = self.rank, self.d
        i = r * _NR
        last = rk[i + _LAST_ACT]
        if last <= act and last + d[D["T_RRD_S"]] > act:
            act = last + d[D["T_RRD_S"]]
        last = self.bg_act[rb]
        if last <= act and last + d[D["T_RRD_L"]] > act:
            act = last + d[D["T_RRD_L"]]
        # tFAW: if the four most recent ACTs all lie in (act - tFAW, act], wait for the oldest
        faw = d[D["T_FAW"]]
        lo = act
        for k in range(4):
            v = rk[i + _FAW0 + k]
            if v > act or v <= act - faw:
                return act
            if v < lo:
                lo = v
        return lo + faw

    # -- one column access through the bank model ------------------------------------------
    def _issue(self, ch, b, row, e, nb, w, now):
        """Issue one access (nb bursts) to bank b, row, entering the command queue at e; return
        the end of its data on the bus. `now` (admission time) bounds what the bus may forget."""
        d, bank, cnt = self.d, self.bank, self.cnt
        j = b * _NB
        bl = b - ch * self.nbanks                       # bank within the channel
        rbl = bl >> self.babits                         # (rank, bank group) within the channel
        rl = rbl >> self.bgbits                         # rank within the channel
        r = ch * self.ranks + rl                        # global rank
        rb = ch * (self.nbanks >> self.babits) + rbl    # global (rank, bank group)
        tag = (rbl << 1) | w
        cas = self.CWL if w else self.CL
        rcd = self.RCDWR if w else self.RCD
        train = self.BURST + (nb - 1) * self.TRAIN
        rk = self.rank
        # FR-FCFS: a hit on the row this bank is switching away from, queued before that PRE
        if (d[D["FRFCFS"]] and row == bank[j + _PREV_ROW] and row != self.open_row[b]
                and e <= bank[j + _PREV_PRE]):
            col0 = e if e > bank[j + _PREV_COL] else bank[j + _PREV_COL]
            if rk[r * _NR + _REF_DUE] > col0:     # no refresh due (NO_REFRESH without refresh)
                x = self._bus(ch, col0 + cas, train, tag, now)
                col = x - cas
                last = col + (nb - 1) * self.TRAIN
                need = last + cas + self.BURST + self.WR if w else last + self.RTP
                shift = need - bank[j + _PREV_PRE]
                if shift > 0:
                    # the old row closes later and the new one opens later by `shift`
                    self._ra_event(r, bank[j + _PREV_PRE], 1)
                    self._ra_event(r, bank[j + _PREV_PRE] + shift, 0)
                    self._ra_event(r, bank[j + _ACT_T], 0)
                    self._ra_event(r, bank[j + _ACT_T] + shift, 1)
                    bank[j + _PREV_PRE] += shift
                    bank[j + _ACT_T] += shift
                    bank[j + _COL_FREE] += shift
                    bank[j + _PRE_OK] += shift
                    self._ready(r, bank[j + _PRE_OK] + self.RP)
                bank[j + _PREV_COL] = last + self.TRAIN
                cnt[DC["row_hits"]] += 1
                cnt[DC["bypass_hits"]] += 1
                cnt[DC["write_row_hits" if w else "read_row_hits"]] += 1
                return self._finish(ch, b, j, col, x + train, nb, w)
        while True:
            orow = self.open_row[b]
            if orow >= 0 and self.TIMEOUT:
                # timeout policy: idle for TIMEOUT after its last column command (and free to
                # precharge), the bank was closed before this request came
                pre = bank[j + _COL_FREE] - self.TRAIN + self.TIMEOUT
                if pre < bank[j + _PRE_OK]:
                    pre = bank[j + _PRE_OK]
                if pre < e:
                    self._precharge(b, j, r, pre)
                    cnt[DC["pre_cmds"]] += 1
                    orow = -1
            act = pre = 0
            if orow == row:
                kind = 0
                col0 = e if e > bank[j + _COL_FREE] else bank[j + _COL_FREE]
                s = col0
            else:
                if orow < 0:
                    kind = 1
                    act = e if e > bank[j + _ACT_OK] else bank[j + _ACT_OK]
                    s = act
                else:
                    kind = 2
                    pre = e if e > bank[j + _PRE_OK] else bank[j + _PRE_OK]
                    s = pre
                    act = pre + self.RP
                    v = bank[j + _ACT_T] + self.RC
                    if v > act:
                        act = v
                act = self._act_window(r, rb, act)
                col0 = act + rcd
            if rk[r * _NR + _REF_DUE] <= s:
                self._refresh(r, ch * self.nbanks + rl * (self.nbanks // self.ranks), s)
                continue
            break
        if not d[D["FRFCFS"]]:
            v = self.chan[ch * _NH + _LAST_COL]
            if v > col0:
                col0 = v
        x = self._bus(ch, col0 + cas, train, tag, now)
        col = x - cas
        last = col + (nb - 1) * self.TRAIN
        if kind == 0:
            cnt[DC["row_hits"]] += 1
            cnt[DC["write_row_hits" if w else "read_row_hits"]] += 1
        else:
            if kind == 2:
                cnt[DC["row_conflicts"]] += 1
                bank[j + _PREV_ROW] = orow
                bank[j + _PREV_PRE] = pre
                bank[j + _PREV_COL] = bank[j + _COL_FREE]
                self._ra_event(r, pre, 0)
                cnt[DC["pre_cmds"]] += 1
            else:
                cnt[DC["row_misses"]] += 1
                bank[j + _PREV_ROW] = -1
            self._ra_event(r, act, 1)
            cnt[DC["act_cmds"]] += 1
            self.open_row[b] = row
            bank[j + _ACT_T] = act
            bank[j + _PRE_OK] = act + self.RAS
            i = r * _NR
            if act > rk[i + _LAST_ACT]:
                rk[i + _LAST_ACT] = act
            if act > self.bg_act[rb]:
                self.bg_act[rb] = act
            rk[i + _FAW0 + rk[i + _FAW_IDX]] = act
            rk[i + _FAW_IDX] = (rk[i + _FAW_IDX] + 1) & 3
        bank[j + _COL_FREE] = last + self.TRAIN
        v = last + cas + self.BURST + self.WR if w else last + self.RTP
        if v > bank[j + _PRE_OK]:
            bank[j + _PRE_OK] = v
        if d[D["CLOSED"]]:
            self._precharge(b, j, r, bank[j + _PRE_OK])
        else:
            self._ready(r, bank[j + _PRE_OK] + self.RP)
        return self._finish(ch, b, j, col, x + train, nb, w)

    def _precharge(self, b, j, r, pre):
        """Bank b (of rank r) closes its row with a PRE at `pre` (closed page, timeout): next ACT
        after tRP and tRC."""
        self._ra_event(r, pre, 0)
        bank = self.bank
        v = bank[j + _ACT_T] + self.RC
        if pre + self.RP > v:
            v = pre + self.RP
        bank[j + _ACT_OK] = v
        self.open_row[b] = -1
        bank[j + _PREV_ROW] = -1
        self._ready(r, v)

    def _ready(self, r, v):
        """A bank of rank r is next free for a refresh at v (the rank's READY is their maximum)."""
        if v > self.rank[r * _NR + _READY]:
            self.rank[r * _NR + _READY] = v

    def _finish(self, ch, b, j, col, done, nb, w):
        bank, cnt = self.bank, self.cnt
        k = bank[j + _CQ_IDX]                 # ring indices are kept wrapped (no division)
        self.cq[b * self.C + k] = col
        bank[j + _CQ_IDX] = k + 1 if k + 1 < self.C else 0
        h = ch * _NH + _LAST_COL
        if col > self.chan[h]:
            self.chan[h] = col
        cnt[DC["write_cmds" if w else "read_cmds"]] += 1
        cnt[DC["dram_bytes"]] += nb * self.d[D["BURST_BYTES"]]
        return done

    def _cmdq(self, b, adm):
        """Time a request admitted at adm enters bank b's command queue."""
        v = self.cq[b * self.C + self.bank[b * _NB + _CQ_IDX]]
        return adm if adm > v else v

    # -- write buffer ----------------------------------------------------------------------
    def _bloom(self, line):
        return 1 << ((line ^ (line >> 6) ^ (line >> 12)) & 31)

    def _wb_find(self, ch, line):
        base = ch * self.WB_HI * 2
        for i in range(self.chan[ch * _NH + _WB_N]):
            if self.wb[base + 2 * i] == line:
                return True
        return False

    def _drain(self, ch, td):
        """Issue every buffered write of channel ch at time td, same (bank, row) together."""
        h = ch * _NH
        n = self.chan[h + _WB_N]
        base = ch * self.WB_HI * 2
        wb = self.wb
        nb = self.d[D["LINE_BURSTS"]]
        self.chan[h + _WB_N] = 0
        self.chan[h + _WB_BLOOM] = 0
        for i in range(n):
            key = wb[base + 2 * i + 1]
            if key < 0:
                continue
            for k in range(i, n):
                if wb[base + 2 * k + 1] == key:
                    wb[base + 2 * k + 1] = -1
                    b, row = key >> 32, key & 0xFFFFFFFF   # key = bank << 32 | row (memctrl: rows < 2^32)
                    self._issue(ch, b, row, self._cmdq(b, td), nb, 1, td)
        self.cnt[DC["write_drains"]] += 1

    # -- requests --------------------------------------------------------------------------
    def access(self, addr, t, nbursts, is_write, posted=True):
        """Completion time (ps) of a request of `nbursts` bursts at `addr` arriving at t."""
        d, cnt, chan = self.d, self.cnt, self.chan
        w = 1 if is_write else 0
        ch, b, row = self._decode(addr)
        h = ch * _NH
        self.now = t
        adm = t if t > chan[h + _BLOCKED] else chan[h + _BLOCKED]
        self.adm = adm
        line = addr >> d[D["LINE_SHIFT"]]
        if w:
            cnt[DC["writes"]] += 1
            cnt[DC["write_queue_wait_ps"]] += adm - t
            if posted and nbursts <= d[D["LINE_BURSTS"]]:
                bit = self._bloom(line)
                if (chan[h + _WB_BLOOM] & bit) and self._wb_find(ch, line):
                    cnt[DC["write_merges"]] += 1
                    return adm
                n = chan[h + _WB_N]
                base = ch * self.WB_HI * 2
                self.wb[base + 2 * n] = line
                self.wb[base + 2 * n + 1] = (b << 32) | row
                chan[h + _WB_N] = n + 1
                chan[h + _WB_BLOOM] |= bit
                if n + 1 >= self.WB_HI or (n + 1 >= self.WB_LO and chan[h + _LAST_RD_LEAVE] <= adm):
                    self._drain(ch, adm)
                return adm
            return self._issue(ch, b, row, self._cmdq(b, adm), nbursts, 1, adm)
        cnt[DC["reads"]] += 1
        if chan[h + _WB_N]:
            if nbursts <= d[D["LINE_BURSTS"]] and (chan[h + _WB_BLOOM] & self._bloom(line)) \
                    and self._wb_find(ch, line):
                cnt[DC["read_forwards"]] += 1
                done = adm + self.TCK
                cnt[DC["read_queue_wait_ps"]] += adm - t
                cnt[DC["read_latency_sum_ps"]] += done - t
                return done
            if chan[h + _WB_N] >= self.WB_LO and chan[h + _LAST_RD_LEAVE] <= adm:
                self._drain(ch, adm)
        # a transaction-queue entry: the one the read Q_SIZE reads earlier left
        tq = ch * self.Q + chan[h + _TQ_IDX]
        if self.tq[tq] > adm:
            adm = self.tq[tq]
            chan[h + _BLOCKED] = adm
            self.adm = adm
        e = self._cmdq(b, adm)
        self.tq[tq] = e
        chan[h + _TQ_IDX] = chan[h + _TQ_IDX] + 1 if chan[h + _TQ_IDX] + 1 < self.Q else 0
        if e > chan[h + _LAST_RD_LEAVE]:
            chan[h + _LAST_RD_LEAVE] = e
        done = self._issue(ch, b, row, e, nbursts, 0, adm)
        cnt[DC["read_queue_wait_ps"]] += adm - t
        cnt[DC["read_latency_sum_ps"]] += done - t
        return done

    def line(self, addr, t, is_write):
        return self.access(addr, t, self.d[D["LINE_BURSTS"]], is_write)

    def block(self, addr, nbytes, t, is_write):
        """A page-sized transfer: one multi-burst access per (channel, bank, row) segment, all
        presented at t, never posted."""
        seg = min(1 << self.d[D["SEG_SHIFT"]], nbytes)
        nb = max(1, seg >> self.d[D["BURST_SHIFT"]])
        done = t
        for a in range(addr, addr + nbytes, seg):
            done = max(done, self.access(a, t, nb, is_write, posted=False))
        return done


class SimpleDram(Dram):
    """The simple model (DRAM.model = "simple"; memctrl's docstring): per-bank open row, the
    row-buffer formula, a per-bank next-column time and a per-channel data bus. State: "open_row",
    "bank" (one next-column time per bank), "chan" (one data-bus free time per channel)."""

    def __init__(self, d, st, prefix, clock=None):
        self.d = [int(x) for x in d]
        self.st, self.prefix = st, prefix
        self.open_row = st[prefix + "open_row"].tolist()
        self.bank_free = st[prefix + "bank"].tolist()
        self.bus_free = st[prefix + "chan"].tolist()
        self.cnt = st[prefix + "counters"].tolist()
        self.ract, self.rev, self.rmk = (st[prefix + k].tolist() for k in ("ract", "rev", "rmk"))
        p = self.d
        self.nbanks, self.bgbits, self.babits = p[D["N_BANKS"]], p[D["BG_BITS"]], p[D["BA_BITS"]]
        self.ranks, self.KA, self.TIMEOUT = p[D["N_RANKS"]], p[D["RA_SLOTS"]], p[D["ROW_TIMEOUT"]]
        self.ACTIVITY = p[D["ACTIVITY"]]
        self.bpr = self.nbanks // self.ranks
        self.now = self.adm = 0

    def save(self):
        st, p = self.st, self.prefix
        st[p + "open_row"][:] = self.open_row
        st[p + "bank"][:] = self.bank_free
        st[p + "chan"][:] = self.bus_free
        st[p + "counters"][:] = self.cnt
        for k in ("ract", "rev", "rmk"):
            st[p + k][:] = getattr(self, k)

    # rank activity: no refresh in this model, so only a timeout closes an idle open bank
    def _timeout_close(self, b):
        return self.bank_free[b] + self.TIMEOUT

    def _close_by(self, b, h):
        return self._timeout_close(b) if self.TIMEOUT else _FAR

    def _ra_bound(self, r):
        # a later request to bank b opens or closes a row no earlier than its arrival or the
        # bank's next column time, whichever is later; an idle open bank may still time out
        v = _FAR
        for b in range(r * self.bpr, (r + 1) * self.bpr):
            f = self.bank_free[b]
            c = f if f > self.now else self.now
            if self.TIMEOUT and self.open_row[b] >= 0 and f + self.TIMEOUT < c:
                c = f + self.TIMEOUT
            if c < v:
                v = c
        return v

    def access(self, addr, t, nbursts, is_write, posted=True):
        d, cnt = self.d, self.cnt
        w = 1 if is_write else 0
        ch, b, row = self._decode(addr)
        r = b // self.bpr
        self.now = self.adm = t
        start = t if t > self.bank_free[b] else self.bank_free[b]
        cas = d[D["T_CWL"]] if w else d[D["T_CL"]]
        orow = self.open_row[b]
        if orow >= 0 and d[D["ROW_TIMEOUT"]] and self.bank_free[b] + d[D["ROW_TIMEOUT"]] < t:
            # timeout policy: the row closed TIMEOUT after the bank's last access, then precharged
            orow = -1
            self._ra_event(r, self.bank_free[b] + d[D["ROW_TIMEOUT"]], 0)
            cnt[DC["pre_cmds"]] += 1
            v = self.bank_free[b] + d[D["ROW_TIMEOUT"]] + d[D["T_RP"]]
            if v > start:
                start = v
        if orow == row:
            lat = cas
            cnt[DC["row_hits"]] += 1
            cnt[DC["read_row_hits"] + w] += 1
        elif orow < 0:
            lat = d[D["T_RCD"]] + cas
            cnt[DC["row_misses"]] += 1
            self._ra_event(r, start, 1)
            cnt[DC["act_cmds"]] += 1
        else:
            lat = d[D["T_RP"]] + d[D["T_RCD"]] + cas
            cnt[DC["row_conflicts"]] += 1
            self._ra_event(r, start, 0)
            cnt[DC["pre_cmds"]] += 1
            self._ra_event(r, start + d[D["T_RP"]], 1)
            cnt[DC["act_cmds"]] += 1
        data = start + lat
        if self.bus_free[ch] > data:
            data = self.bus_free[ch]
        busy = nbursts * d[D["T_BURST"]]
        done = data + busy
        self.bus_free[ch] = done
        if d[D["CLOSED"]]:
            self.open_row[b] = -1
            self.bank_free[b] = done + d[D["T_RP"]]
            self._ra_event(r, done, 0)      # auto-precharge: not a PRE command
        else:
            self.open_row[b] = row
            # the next column command may follow once this burst train has been issued
            self.bank_free[b] = data - cas + busy
        cnt[DC["reads"] + w] += 1
        cnt[DC["read_cmds"] + w] += 1
        cnt[DC["dram_bytes"]] += nbursts * d[D["BURST_BYTES"]]
        if not w:
            cnt[DC["read_latency_sum_ps"]] += done - t
        return done


def run(d, st, prefix, t, addr, w, out, acc=None):
    """Run line requests (arrays t, addr, w) through one DRAM; completion times into `out`, and
    if given, the times the controller accepted them (left the front end's wait) into `acc`."""
    m = Dram(d, st, prefix)
    for i in range(len(t)):
        out[i] = m.line(int(addr[i]), int(t[i]), int(w[i]))
        if acc is not None:
            acc[i] = m.adm
    m.save()


def activity(d, st, prefix, h):
    """Per rank (channel-major), ps with at least one bank open in [0, h); the state is not
    changed (see Dram.activity)."""
    return Dram(d, st, prefix).activity(int(h))
