"""Victims, the twin of core/victims.pxi: the replacement order of each frame set and the victim
choice (exact LRU, CLOCK, FIFO, seeded random), and where a victim goes: its write-back to the
memory blade (held back until the trace reaches its time: defer_writeback, run_deferred), or down
to storage through the I/O driver when the blade is full. Times in integer ps."""
from __future__ import annotations

from .._layout import C, DEFER_CAP, ON_STORAGE, P, S
from .state import splitmix64


class Victims:
    """Methods of the twin's `Core` (state in its attributes: core/state.py)."""

    def lru_remove(self, f, j):
        prev, nxt = self.prev, self.nxt
        a, b = prev[f], nxt[f]
        if a >= 0:
            nxt[a] = b
        else:
            self.head[j] = b
        if b >= 0:
            prev[b] = a
        else:
            self.tail[j] = a

    def lru_push(self, f, j):
        head = self.head
        self.prev[f] = -1
        self.nxt[f] = head[j]
        if head[j] >= 0:
            self.prev[head[j]] = f
        else:
            self.tail[j] = f
        head[j] = f

    def touch(self, f):
        """A use of frame f: the front of its set's LRU list, or its CLOCK reference bit."""
        if self.victim == 0:
            j = f & self.smask
            if self.head[j] != f:
                self.lru_remove(f, j)
                self.lru_push(f, j)
        elif self.victim == 1:
            self.ref[f] = 1

    def pick_victim(self, j):
        """The frame of set j whose page leaves: exact LRU (the list's tail, moved to the front for
        the page that comes in), CLOCK (second chance), FIFO (a hand), or seeded random."""
        if self.victim == 0:
            f = self.tail[j]
            self.lru_remove(f, j)
            self.lru_push(f, j)
            return f
        hand, n_sets, ways = self.hand, self.n_sets, self.ways
        if self.victim == 1:
            while True:
                f = hand[j] * n_sets + j
                hand[j] = (hand[j] + 1) % ways
                if self.ref[f]:
                    self.ref[f] = 0
                else:
                    self.ref[f] = 1
                    return f
        if self.victim == 2:
            f = hand[j] * n_sets + j
            hand[j] = (hand[j] + 1) % ways
            return f
        self.rng, r = splitmix64(self.rng)
        return (r % ways) * n_sets + j

    def blade_slot_choose(self, j):
        """(slot, full): the blade slot of set j a victim goes to, or -1 without a blade: the set's
        next fresh slot, or on a full blade the one the FIFO hand (or a random draw: storage.victim)
        picks, whose page must first go down to storage (full). Shared by both modes."""
        per_set = self.per_set
        if per_set == 0:
            return -1, False
        blade_next = self.blade_next
        if blade_next[j] < per_set:
            s = blade_next[j] * self.n_sets + j
            blade_next[j] += 1
            if blade_next[j] > self.slot_lim:
                self.sc[S["grow"]] = 1
            return s, False
        if self.p[P["ST_VICTIM"]] == 0:
            k = self.blade_hand[j]
            self.blade_hand[j] = (k + 1) % per_set
        else:
            self.rng, r = splitmix64(self.rng)
            k = r % per_set
        return k * self.n_sets + j, True

    def blade_slot_vacate(self, s, u):
        """Slot s's page u has gone down to storage: the slot is free for the victim."""
        self.pt_leaf[self.pt_entry(u)] = ON_STORAGE
        self.slot_page[s] = -1
        self.cnt[C["blade_evictions"]] += 1

    def blade_slot_for_victim(self, j, t):
        """A blade slot of set j for a victim leaving local memory at t, or -1 without a blade. A
        full blade first pushes one of its pages down to storage through the I/O driver."""
        p = self.p
        s, full = self.blade_slot_choose(j)
        if not full:
            return s
        u = self.slot_page[s]
        # the driver pulls the page over the link into its buffer and writes it to the device
        b, start = self.driver_take(t)
        t_req = self.to_blade(self.sp_need(s << self.ushift, start), p[P["SER_REQ_PS"]], p[P["WIRE_REQ_B"]],
                              self.cur_q)
        t_rd = self.blade_block(s << self.ushift, self.unit, self.agent_in(t_req), 0)
        t_in = self.from_blade(t_rd, p[P["SER_UNIT_PS"]], p[P["WIRE_UNIT_B"]], self.cur_q)
        self.buf_free[b] = self.storage_io(t_in, 1)
        self.blade_slot_vacate(s, u)
        return s

    def writeback(self, t, dest):
        """The transmission module sends a victim, ready at t, into the bound blade's slot dest."""
        p = self.p
        t_wb = self.to_blade(self.sp_need(dest << self.ushift, t), p[P["SER_UNIT_PS"]], p[P["WIRE_UNIT_B"]],
                             self.cur_q)
        self.blade_block(dest << self.ushift, self.unit, self.agent_in(t_wb), 1)

    def defer_writeback(self, t, dest):
        """Hold the write-back (ready at t) until an access arrives at or after t (see _layout):
        a ring of DEFER_CAP rows from defer_head, sorted by time."""
        sc, defer = self.sc, self.defer
        if sc[S["defer_n"]] == DEFER_CAP:      # full: the earliest goes now
            self.run_deferred(defer[4 * sc[S["defer_head"]]])
        n, head = sc[S["defer_n"]], sc[S["defer_head"]]
        rows = [defer[4 * ((head + k) % DEFER_CAP):4 * ((head + k) % DEFER_CAP) + 4] for k in range(n)]
        k = n
        while k > 0 and rows[k - 1][0] > t:
            k -= 1
        rows.insert(k, [t, self.cb, dest, self.cur_q])
        for k, r in enumerate(rows):
            i = 4 * ((head + k) % DEFER_CAP)
            defer[i:i + 4] = r
        sc[S["defer_n"]] = n + 1

    def run_deferred(self, upto):
        """Carry out the held-back write-backs ready by `upto`, in time order, each on its blade."""
        sc, defer = self.sc, self.defer
        bound, q = self.cb, self.cur_q
        while sc[S["defer_n"]] > 0 and defer[4 * sc[S["defer_head"]]] <= upto:
            i = 4 * sc[S["defer_head"]]
            t, k, dest, self.cur_q = defer[i:i + 4]
            sc[S["defer_head"]] = (sc[S["defer_head"]] + 1) % DEFER_CAP
            sc[S["defer_n"]] -= 1
            if k != self.cb:
                self.bind_blade(k)
            self.writeback(t, dest)
        if self.cb != bound:
            self.bind_blade(bound)
        self.cur_q = q
