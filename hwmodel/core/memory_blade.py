"""The memory blade and its address-mapping module, the twin of core/memory_blade.pxi: super pages
handed out at boot or on demand, granted, revoked and released; the permission check of every
request; the buffer that manages an address (its latency and command queue); the blade DRAM's lines
and blocks; a line read or written over the link (fine-grained remote access). Times in integer ps.
"""
from __future__ import annotations

from .._layout import C, ERR_NO_SUPER_PAGE, ERR_PERMISSION, P, S


class BladeMemory:
    """Methods of the twin's `Core` (state in its attributes: core/state.py)."""

    def sp_take(self):
        """The lowest free super page of the memory blade, now the bound blade's; -1 if none."""
        k = self.sc[S["sp_next"]]
        n_sp = self.p[P["N_SP"]]
        while k < n_sp and self.sp_owner[k] != 0:
            k += 1
        self.sc[S["sp_next"]] = k
        if k == n_sp:
            return -1
        self.sp_owner[k] = self.cb + 1
        self.cnt[C["sp_grants"]] += 1
        return k

    def sp_need(self, v, t):
        """Before the bound blade's request to its blade address v: when v's super page was never
        handed to it (allocation on demand), the hypervisor first sends an allocate request, and the
        agent grants the lowest free super page. Returns when the request may go."""
        if self.sp_map[v >> self.sp_shift] >= 0:
            return t
        return self.sp_allocate(v >> self.sp_shift, t)

    def sp_allocate(self, vsp, t):
        p = self.p
        t = self.to_blade(t, p[P["SER_REQ_PS"]], p[P["WIRE_REQ_B"]], self.cur_q)
        t = self.agent_in(t)
        k = self.sp_take()
        if k < 0:
            self.stop(ERR_NO_SUPER_PAGE, vsp)
            return t
        self.sp_map[vsp] = k
        return self.from_blade(t, p[P["SER_REQ_PS"]], p[P["WIRE_REQ_B"]], self.cur_q)

    def permission_change(self, k, vsp, access):
        """The address-mapping module lets compute blade k use its super page vsp (access 1), or
        stops it (0: its hypervisor still maps pages there, their requests become permission
        faults), or takes it back (2, de-allocation: free again; the blade's next request there asks
        for a new one). A super page not yet handed out is granted first (not for a release)."""
        sp_map = self.per_blade[k]["sp_map"]
        self.cnt[C["permission_changes"]] += 1
        if access == 2:
            psp = sp_map[vsp]
            if psp >= 0:
                self.sp_owner[psp] = 0
                sp_map[vsp] = -1
                if psp < self.sc[S["sp_next"]]:
                    self.sc[S["sp_next"]] = psp
                self.cnt[C["sp_releases"]] += 1
            return
        if sp_map[vsp] < 0:
            bound, self.cb = self.cb, k      # sp_take hands it to blade k
            psp = self.sp_take()
            self.cb = bound
            if psp < 0:
                self.stop(ERR_NO_SUPER_PAGE, vsp)
                return
            sp_map[vsp] = psp
        self.sp_owner[sp_map[vsp]] = k + 1 if access else -(k + 1)

    def blade_phys(self, v):
        """Address-mapping module: the bound compute blade's blade address v -> the memory blade's
        address, or -1 when that super page is not the blade's to touch (a permission fault: the
        request is refused, counted, and in strict mode stops the run). The compiled core skips the
        lookup where the map is the identity (sp_identity); the twin always makes it, which checks
        that shortcut."""
        vsp = v >> self.sp_shift
        psp = self.sp_map[vsp]
        if psp < 0 or self.sp_owner[psp] != self.cb + 1:
            self.cnt[C["permission_faults"]] += 1
            if self.p[P["STRICT"]]:
                self.stop(ERR_PERMISSION, vsp)
            return -1
        return (psp << self.sp_shift) | (v & ((1 << self.sp_shift) - 1))

    def mbuf_slot(self, addr, t):
        """The memory controller finds the buffer that manages `addr` (super pages are dealt to the
        buffers in turn): the request pays the buffer's latency and, when its command queue is
        full, waits for the oldest slot (back-pressure). Returns (start, the slot to fill with the
        request's completion, or -1 when queues are unlimited)."""
        p = self.p
        t += p[P["BUF_LAT_PS"]]
        qd = p[P["BUF_QD"]]
        if qd == 0:
            return t, -1
        b = (addr >> p[P["BUF_SHIFT"]]) % p[P["BUF_N"]]
        k = b * qd + self.mbuf_idx[b]
        self.mbuf_idx[b] = (self.mbuf_idx[b] + 1) % qd
        if self.mbuf_ring[k] > t:
            self.cnt[C["buffer_wait_ps"]] += self.mbuf_ring[k] - t
            t = self.mbuf_ring[k]
        return t, k

    def blade_line(self, v, t, w):
        """A line at the bound compute blade's blade address v, from the agent's hand-off at t."""
        addr = self.blade_phys(v)
        if addr < 0:
            return t
        t, k = self.mbuf_slot(addr, t)
        done = self.mem_line(self.blade, addr, t, w)
        if k >= 0:
            self.mbuf_ring[k] = done
        return done

    def blade_block(self, v, nbytes, t, w):
        addr = self.blade_phys(v)
        if addr < 0:
            return t
        t, k = self.mbuf_slot(addr, t)
        done = self.mem_block(self.blade, addr, nbytes, t, w)
        if k >= 0:
            self.mbuf_ring[k] = done
        return done

    def remote_line(self, t, baddr, w):
        """A line read or written at blade address baddr over the link (fgra, static): the request
        (a write carries its line), the agent, the blade DRAM, the response."""
        p, q = self.p, self.cur_q
        self.cnt[C["remote_accesses"]] += 1
        t = self.sp_need(baddr, t)
        if w:
            t1 = self.to_blade(t, p[P["SER_WLINE_PS"]], p[P["WIRE_WLINE_B"]], q)
        else:
            t1 = self.to_blade(t, p[P["SER_REQ_PS"]], p[P["WIRE_REQ_B"]], q)
        t2 = self.blade_line(baddr, self.agent_in(t1), w)
        if w:  # completion message
            return self.from_blade(t2, p[P["SER_REQ_PS"]], p[P["WIRE_REQ_B"]], q)
        return self.from_blade(t2, p[P["SER_LINE_PS"]], p[P["WIRE_LINE_B"]], q)
