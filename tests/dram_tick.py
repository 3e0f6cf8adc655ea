"""The detailed controller's rules ticked cycle by cycle: the oracle for its event-driven run.

A second statement of core.dram_ctrl's rules, written the way DRAMsim3 writes them: every
cycle runs every step; each command updates every bank's earliest-issue time per command kind
from DRAMsim3's timing table (same bank / same bank group / same rank / other ranks) instead of
bank, bank-group and rank records; tFAW keeps DRAMsim3's list of window ends; queues are lists of
dicts. Slow and plain. tests/test_dram_ctrl.py requires the controller to give identical
completions, counters and rank activity on random traces and configurations.
"""
from hwmodel._dram_layout import D, DRAM_COUNTER_NAMES

ACT, RD, WR, PRE, REF = "ACT", "RD", "WR", "PRE", "REF"


class Tick:
    def __init__(self, p):
        self.p = p = [int(x) for x in p]
        g = lambda k: p[D[k]]
        self.tck = g("T_CK")
        self.ranks, self.nbc = g("N_RANKS"), g("N_BANKS")
        self.bpr = self.nbc // self.ranks
        self.babits = g("BA_BITS")
        self.k = {k[2:]: g(k) for k in ("K_RRL", "K_RRS", "K_RRO", "K_R2W", "K_R2WO", "K_R2P", "K_RDA2A", "K_RDA2F",
                                        "K_W2RL", "K_W2RS", "K_W2RO", "K_WWL", "K_WWS", "K_WWO", "K_W2P", "K_WRA2A",
                                        "K_A2A", "K_A2AL", "K_A2AS", "K_A2R", "K_A2W", "K_A2P", "K_P2A", "K_FAW",
                                        "K_RFC", "K_RFCB", "K_RD_DELAY", "K_WR_DELAY")}
        self.Q, self.CQ, self.low = g("Q_SIZE"), g("CQ_SIZE"), g("WB_LO")
        self.per_rank, self.frfcfs, self.closed = g("PER_RANK"), g("FRFCFS"), g("CLOSED")
        self.ref_mode, self.every, self.timeout = g("REF_MODE"), g("K_REF_EVERY"), g("K_TIMEOUT")
        self.nq = self.ranks if self.per_rank else self.nbc
        self.banks = [dict(row=-1, hits=0, t={ACT: 0, RD: 0, WR: 0, PRE: 0, REF: 0}, last=-(1 << 50),
                           conflict=0, inref=0) for _ in range(self.nbc)]
        self.faw = [[] for _ in range(self.ranks)]       # DRAMsim3's four_aw_: window ends
        self.queues = [[] for _ in range(self.nq)]
        self.rdq, self.wrb = [], []
        self.pend_rd, self.pend_wr = {}, {}             # address -> transaction (reads: with their merged)
        self.refq = []
        self.ref_iter = 0
        self.rr = 0
        self.wdrain = 0
        self.cnt = dict.fromkeys(DRAM_COUNTER_NAMES, 0)
        self.nopen = [0] * self.ranks
        self.active = [0] * self.ranks
        self.since = [0] * self.ranks

    # -- address ----------------------------------------------------------------------------------
    def decode(self, addr):
        p, D_ = self.p, D
        bg = ((addr >> p[D_["BG_SHIFT"]]) & p[D_["BG_MASK"]]) ^ ((addr >> p[D_["BG_XSHIFT"]]) & p[D_["BG_XMASK"]])
        ba = ((addr >> p[D_["BA_SHIFT"]]) & p[D_["BA_MASK"]]) ^ ((addr >> p[D_["BA_XSHIFT"]]) & p[D_["BA_XMASK"]])
        ra = (addr >> p[D_["RA_SHIFT"]]) & p[D_["RA_MASK"]]
        return (((ra << p[D_["BG_BITS"]]) | bg) << self.babits) | ba, (addr >> p[D_["RO_SHIFT"]]) & p[D_["RO_MASK"]]

    def rank(self, b):
        return b // self.bpr

    def group(self, b):
        return b >> self.babits

    def queue(self, b):
        return self.rank(b) if self.per_rank else b

    # -- DRAMsim3's timing table, applied to every bank ----------------------------------------------
    def update(self, kind, b, x, auto=False):
        k = self.k
        for o in range(self.nbc):
            t = self.banks[o]["t"]
            same_rank = self.rank(o) == self.rank(b)
            same_bg = same_rank and self.group(o) == self.group(b)
            if kind in (RD, WR):
                w = kind == WR
                if o == b:
                    if auto:
                        if w:
                            t[ACT] = max(t[ACT], x + k["WRA2A"])
                            t[REF] = max(t[REF], x + k["WRA2A"])
                        else:
                            t[ACT] = max(t[ACT], x + k["RDA2A"])
                            t[REF] = max(t[REF], x + k["RDA2F"])
                        # DRAMsim3 gives the same bank no READ/WRITE entry for a column command
                        # with auto-precharge; the bank is closed, and an ACT comes first anyway
                        continue
                    t[PRE] = max(t[PRE], x + (k["W2P"] if w else k["R2P"]))
                if same_bg:
                    rd, wr = (k["W2RL"], k["WWL"]) if w else (k["RRL"], k["R2W"])
                elif same_rank:
                    rd, wr = (k["W2RS"], k["WWS"]) if w else (k["RRS"], k["R2W"])
                else:
                    rd, wr = (k["W2RO"], k["WWO"]) if w else (k["RRO"], k["R2WO"])
                t[RD] = max(t[RD], x + rd)
                t[WR] = max(t[WR], x + wr)
            elif kind == ACT:
                if o == b:
                    t[ACT] = max(t[ACT], x + k["A2A"])
                    t[RD] = max(t[RD], x + k["A2R"])
                    t[WR] = max(t[WR], x + k["A2W"])
                    t[PRE] = max(t[PRE], x + k["A2P"])
                elif same_bg:
                    t[ACT] = max(t[ACT], x + k["A2AL"])
                elif same_rank:
                    t[ACT] = max(t[ACT], x + k["A2AS"])
            elif kind == PRE:
                if o == b:
                    t[ACT] = max(t[ACT], x + k["P2A"])
                    t[REF] = max(t[REF], x + k["P2A"])

    def refresh_banks(self, target):
        return [target] if self.ref_mode == 3 else list(range(target * self.bpr, (target + 1) * self.bpr))

    # -- activity ------------------------------------------------------------------------------------
    def change(self, r, x, d):
        if self.nopen[r] > 0:
            self.active[r] += x - self.since[r]
        self.since[r] = x
        self.nopen[r] += d

    # -- commands --------------------------------------------------------------------------------------
    def faw_ok(self, r, x):
        f = self.faw[r]
        return not (f and x < f[0] and len(f) >= 4)

    def need(self, q, i, x):
        """The command queue q's entry i needs and whether it is ready at x (DRAMsim3's
        GetReadyCommand, ArbitratePrecharge, HasRWDependency)."""
        e = self.queues[q][i]
        bk = self.banks[e["bank"]]
        if bk["row"] < 0:
            return ACT, bk["t"][ACT] <= x and self.faw_ok(self.rank(e["bank"]), x)
        if e["row"] == bk["row"]:
            kind = WR if e["w"] else RD
            if e["w"] and any(not o["w"] and o["addr"] >> self.p[D["BURST_SHIFT"]] == e["addr"] >> self.p[D["BURST_SHIFT"]]
                              for o in self.queues[q][:i]):
                return kind, False
            return kind, bk["t"][kind] <= x
        if any(o["bank"] == e["bank"] for o in self.queues[q][:i]):
            return PRE, False
        hits = any(o["bank"] == e["bank"] and o["row"] == bk["row"] for o in self.queues[q][i:])
        if hits and bk["hits"] < 4 and self.frfcfs:
            return PRE, False
        return PRE, bk["t"][PRE] <= x

    def blocked(self, q):
        bs = range(q * self.bpr, (q + 1) * self.bpr) if self.per_rank else [q]
        return any(self.banks[b]["inref"] for b in bs)

    def issue(self, kind, b, x, e=None, q=None, why="queue"):
        bk, r = self.banks[b], self.rank(b)
        if kind == ACT:
            bk.update(row=e["row"], hits=0, last=x)
            self.update(ACT, b, x)
            f = self.faw[r]
            if f and x >= f[0]:
                f.pop(0)
            f.append(x + self.k["FAW"])
            self.cnt["act_cmds"] += 1
            self.change(r, x, 1)
        elif kind == PRE:
            bk.update(row=-1, hits=0, conflict=1 if why == "queue" else 0)
            self.update(PRE, b, x)
            self.cnt["pre_cmds"] += 1
            self.change(r, x, -1)
        else:
            w = kind == WR
            self.cnt["write_cmds" if w else "read_cmds"] += 1
            if bk["hits"]:
                self.cnt["row_hits"] += 1
                self.cnt["write_row_hits" if w else "read_row_hits"] += 1
            else:
                self.cnt["row_conflicts" if bk["conflict"] else "row_misses"] += 1
            self.cnt["dram_bytes"] += self.p[D["BURST_BYTES"]]
            bk["hits"] += 1
            bk["last"] = x
            self.update(kind, b, x, auto=self.closed)
            self.queues[q].remove(e)
            if w:
                del self.pend_wr[e["addr"]]
            else:
                for tx in self.pend_rd.pop(e["addr"]):
                    self.done(tx["req"], x + self.k["RD_DELAY"])
            if self.closed:
                bk.update(row=-1, hits=0, conflict=0)
                self.change(r, x, -1)

    def done(self, req, x):
        req["done"] = max(req["done"], x)
        req["remain"] -= 1
        if not req["remain"]:
            self.finished.append(req)

    def command(self, x):
        for pos, target in enumerate(self.refq):
            bs = self.refresh_banks(target)
            ready = True
            for b in bs:
                bk = self.banks[b]
                if bk["row"] >= 0:
                    if bk["t"][PRE] <= x:
                        self.issue(PRE, b, x, why="refresh")
                        return
                    ready = False
                elif bk["t"][REF] > x:
                    ready = False
            if ready:
                dur = self.k["RFCB"] if self.ref_mode == 3 else self.k["RFC"]
                for b in bs:
                    t = self.banks[b]["t"]
                    t[ACT] = max(t[ACT], x + dur)
                    t[REF] = max(t[REF], x + dur)
                    self.banks[b].update(inref=0, conflict=0)
                self.refq.pop(pos)
                self.cnt["refreshes"] += 1
                return
        if self.timeout:
            for b, bk in enumerate(self.banks):
                if bk["row"] < 0 or bk["inref"]:
                    continue
                if any(o["bank"] == b and o["row"] == bk["row"] for o in self.queues[self.queue(b)]):
                    continue
                if bk["last"] + self.timeout <= x and bk["t"][PRE] <= x:
                    self.issue(PRE, b, x, why="timeout")
                    return
        for i in range(1, self.nq + 1):
            q = (self.rr + i) % self.nq
            if not self.queues[q] or self.blocked(q):
                continue
            for k in range(len(self.queues[q]) if self.frfcfs else 1):
                kind, ok = self.need(q, k, x)
                if ok:
                    self.rr = q
                    e = self.queues[q][k]
                    self.issue(kind, e["bank"], x, e, q)
                    return

    # -- transactions ---------------------------------------------------------------------------------
    def schedule(self):
        if self.wdrain < 0:
            self.wdrain = 0
        elif self.wdrain == 0 and (len(self.wrb) >= self.Q or (len(self.wrb) > self.low and not any(self.queues))):
            self.wdrain = len(self.wrb)
        writes = self.wdrain > 0
        queue = self.wrb if writes else self.rdq
        for e in queue:
            q = self.queue(e["bank"])
            if len(self.queues[q]) >= self.CQ:
                continue
            if writes:
                if e["addr"] in self.pend_rd:
                    self.wdrain = -1 if any(o["addr"] == e["addr"] for o in self.rdq) else 0
                    return
                self.wdrain -= 1
            queue.remove(e)
            self.queues[q].append(e)
            return

    def accept(self, x):
        if not self.pending:
            return
        req = self.pending[0]
        if -(-req["t"] // self.tck) > x:
            return
        w = req["w"]
        if len(self.wrb if w else self.rdq) >= self.Q:
            return
        i = req["taken"]
        # the controller's slots (TX_SLOTS): queued transactions and reads merged into pending
        # ones; as many requests in flight (a transaction is taken only when one is free)
        used = len(self.rdq) + len(self.wrb) + sum(map(len, self.queues)) + sum(len(v) - 1 for v in self.pend_rd.values())
        live = sum(1 for q in self.accepted if q["remain"])
        if used >= self.p[D["TX_SLOTS"]] or (i == 0 and live >= self.p[D["TX_SLOTS"]]):
            return
        if i == 0:
            req["acc"] = x + 1
            self.cnt["writes" if w else "reads"] += 1
            self.accepted.append(req)
        req["taken"] = i + 1
        if req["taken"] == req["nb"]:
            self.pending.pop(0)
        addr = req["addr"] + i * req["step"]
        b, row = self.decode(addr)
        e = dict(addr=addr, bank=b, row=row, w=w, req=req)
        if w:
            if addr in self.pend_wr:
                self.cnt["write_merges"] += 1
            else:
                self.pend_wr[addr] = e
                self.wrb.append(e)
            self.done(req, x + 2)
        elif addr in self.pend_wr:
            self.cnt["read_forwards"] += 1
            self.done(req, x + 2)
        elif addr in self.pend_rd:
            self.pend_rd[addr].append(e)
        else:
            self.pend_rd[addr] = [e]
            self.rdq.append(e)

    # -- the run -------------------------------------------------------------------------------------
    def run(self, t, addr, w, until=0):
        """Requests (ps, address, 0/1) in time order, one channel; returns completions (ps) and
        acceptances (ps) per request, and runs on to `until` ps."""
        line = 1 << self.p[D["LINE_SHIFT"]]
        nb, step = self.p[D["LINE_BURSTS"]], self.p[D["BURST_BYTES"]]
        reqs = [dict(i=i, t=int(t[i]), addr=int(addr[i]) & ~(line - 1), w=int(w[i]) & 1, nb=nb, step=step,
                     taken=0, remain=nb, done=0, acc=0) for i in range(len(t))]
        self.pending = list(reqs)
        self.finished = []
        self.accepted = []
        x = 0
        stop = -(-until // self.tck)
        while self.pending or len(self.finished) < len(reqs) or x < stop:
            if self.every and x > 0 and x % self.every == 0:
                targets = list(range(self.ranks)) if self.ref_mode == 2 else [self.ref_iter]
                if self.ref_mode == 1:
                    self.ref_iter = (self.ref_iter + 1) % self.ranks
                elif self.ref_mode == 3:
                    bgpr = (self.nbc >> self.babits) // self.ranks
                    bpg = 1 << self.babits
                    it = self.ref_iter
                    r, g, ba = it // self.bpr, (it % self.bpr) >> self.babits, it & (bpg - 1)
                    g = (g + 1) % bgpr
                    if g == 0:
                        ba = (ba + 1) % bpg
                        if ba == 0:
                            r = (r + 1) % self.ranks
                    self.ref_iter = (r * bgpr + g) * bpg + ba
                for tg in targets:
                    if len(self.refq) < self.nbc:
                        self.refq.append(tg)
                    for b in self.refresh_banks(tg):
                        self.banks[b]["inref"] = 1
            self.command(x)
            self.schedule()
            self.accept(x)
            x += 1
        for r in range(self.ranks):
            self.change(r, x, 0)
        out = [q["done"] * self.tck for q in reqs]
        acc = [q["acc"] * self.tck for q in reqs]
        for q in reqs:
            if q["w"]:
                self.cnt["write_queue_wait_ps"] += q["acc"] * self.tck - q["t"]
            else:
                self.cnt["read_queue_wait_ps"] += q["acc"] * self.tck - q["t"]
                self.cnt["read_latency_sum_ps"] += q["done"] * self.tck - q["t"]
        return out, acc, x
