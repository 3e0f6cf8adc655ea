"""Functional mode, the twin of core/functional.pxi: an access changes the long-lived state exactly as
the detailed mode changes it (page table and placement, victim order, sub-page presence, blade slots
and super pages, storage placement, LLC tags and dirty bits, checkpoint dirty sets), in trace order,
with no timing and without the DRAM: nothing is scheduled on a link, port, agent, buffer, device or
DRAM. Counters that do not depend on time are counted as the detailed mode counts them. Time
advances by estimates the sampler gives (hwmodel.core.sampler): closed loop, each access issues its
gap plus the estimated stall (ps) after the previous one; it completes the estimated latency (ps)
after its arrival (while a checkpoint is being copied, by the estimates for that: the copies slow the
host). Control-plane events fire by those times; a checkpoint copy or restore is counted
and takes its DMA time (CK_PACE_PS). See README, Sampled simulation.
"""
from __future__ import annotations

from .._layout import C, ERR_NO_SUPER_PAGE, K, ON_STORAGE, P, S, UNTOUCHED, VM_STAT_NAMES
from .link import IN, OUT
from .state import splitmix64

VSW = len(VM_STAT_NAMES)


class Functional:
    """Methods of the twin's `Core` (state in its attributes: core/state.py); `fx_stall`, `fx_lat`,
    `fx_stall_ck`, `fx_lat_ck` (ps) and `fx_dcnt` (every compute blade's local DRAM counters, then
    the blade DRAM's) are the compiled `Func` struct's fields."""

    def f_link(self, d, wire, q):
        """A message of queue q on the bound blade's link, direction d: counted as link_send counts it."""
        self.cnt[C["link_bytes_out"] + d] += wire
        self.vm_stats[q * VSW + 2] += wire
        self.vm_stats[q * VSW + 4] += 1

    def f_to_blade(self, wire, q):
        self.f_link(OUT, wire, q)
        if self.sw:
            self.cnt[C["port_bytes_out"]] += wire

    def f_from_blade(self, wire, q):
        if self.sw:
            self.cnt[C["port_bytes_in"]] += wire
        self.f_link(IN, wire, q)

    def f_sp_need(self, v):
        """sp_need: a super page the bound blade was never given is allocated (a request each way)."""
        vsp = v >> self.sp_shift
        if self.sp_map[vsp] >= 0:
            return
        self.f_to_blade(self.p[P["WIRE_REQ_B"]], self.cur_q)
        k = self.sp_take()
        if k < 0:
            self.stop(ERR_NO_SUPER_PAGE, vsp)
            return
        self.sp_map[vsp] = k
        self.f_from_blade(self.p[P["WIRE_REQ_B"]], self.cur_q)

    def ck_copy_func(self, f, t):
        """ck_copy in functional mode: the page leaves for the checkpoint (counted on the link or the
        device as the detailed copy is); the copy ends one DMA time after t. The host does not wait."""
        p, cks = self.p, self.cks
        if p[P["CK_TARGET"]] == 1:
            self.cnt[C["storage_writes"]] += 1
        elif p[P["CK_TARGET"]] == 2:
            self.f_link(OUT, p[P["WIRE_UNIT_B"]], self.bg)
        else:
            v = self.ck_base + (f << self.ushift)
            self.f_sp_need(v)
            self.f_to_blade(p[P["WIRE_UNIT_B"]], self.bg)
            self.blade_phys(v)
        self.ck_pending[f] = 0
        if self.ck_first[f] == 0:
            self.ck_first[f] = cks[K["ck_index"]]
        self.cnt[C["ckpt_bytes"]] += self.unit
        cks[K["ck_end"]] = max(cks[K["ck_end"]], t + p[P["CK_PACE_PS"]])
        return t

    def ck_restore_func(self, k, end):
        """fail_and_restore in functional mode: frame k comes back (counted as the detailed restore
        counts it), one DMA time after the previous one."""
        p = self.p
        if p[P["CK_TARGET"]] == 1:
            self.cnt[C["storage_reads"]] += 1
        elif p[P["CK_TARGET"]] == 2:
            self.f_link(IN, p[P["WIRE_UNIT_B"]], self.bg)
        else:
            self.blade_phys(self.ck_base + (k << self.ushift))
            self.f_from_blade(p[P["WIRE_UNIT_B"]], self.bg)
        return end + p[P["CK_PACE_PS"]]

    def f_remote_line(self, baddr, w):
        p = self.p
        self.cnt[C["remote_accesses"]] += 1
        self.f_sp_need(baddr)
        self.f_to_blade(p[P["WIRE_WLINE_B"]] if w else p[P["WIRE_REQ_B"]], self.cur_q)
        self.blade_phys(baddr)
        self.f_from_blade(p[P["WIRE_REQ_B"]] if w else p[P["WIRE_LINE_B"]], self.cur_q)

    def f_blade_slot_for_victim(self, j):
        """blade_slot_for_victim without timing: a fresh slot of set j, or a full blade's page pushed
        down to storage (by the same FIFO hand or random draw) to make one; -1 without a blade."""
        p = self.p
        s, full = self.blade_slot_choose(j)
        if not full:
            return s
        u = self.slot_page[s]
        self.f_sp_need(s << self.ushift)
        self.f_to_blade(p[P["WIRE_REQ_B"]], self.cur_q)
        self.blade_phys(s << self.ushift)
        self.f_from_blade(p[P["WIRE_UNIT_B"]], self.cur_q)
        self.cnt[C["storage_writes"]] += 1
        self.blade_slot_vacate(s, u)
        return s

    def f_swap_in(self, t, g, ge, slot, w):
        """swap_in without timing: the same frame, victim, slots and page-table updates, in the same
        order. The victim's write-back is counted at once (the detailed mode holds it back until the
        trace reaches its time: the same bytes, to the same slot)."""
        p, cnt = self.p, self.cnt
        j = g & self.smask
        cnt[C["faults"]] += 1
        f = self.take_free(j)
        if f < 0:
            f = self.pick_victim(j)
        if slot >= 0:
            self.f_sp_need(slot << self.ushift)
            self.f_to_blade(p[P["WIRE_REQ_B"]], self.cur_q)
            self.blade_phys(slot << self.ushift)
            self.f_from_blade(p[P["WIRE_UNIT_B"]], self.cur_q)
            self.slot_page[slot] = -1
        else:
            cnt[C["storage_reads"]] += 1
        if self.ck_regime and self.ck_pending[f]:   # without a regime the checkpoint arrays stay 0
            self.ck_copy(f, t)
        v = self.frame_page[f]
        if v >= 0:
            dest = slot if slot >= 0 else self.f_blade_slot_for_victim(j)
            if dest >= 0:
                v0 = dest << self.ushift
                self.f_sp_need(v0)
                self.f_to_blade(p[P["WIRE_UNIT_B"]], self.cur_q)
                self.blade_phys(v0)
                self.pt_leaf[self.pt_entry(v)] = -2 - dest
                self.slot_page[dest] = v
            else:
                cnt[C["storage_writes"]] += 1
                self.pt_leaf[self.pt_entry(v)] = ON_STORAGE
            cnt[C["swap_outs"]] += 1
            cnt[C["dirty_victims"]] += self.dirty[f]
        self.frame_ready[f] = t          # a functional fill is done at once
        self.frame_page[f] = g
        self.pt_leaf[ge] = f
        self.dirty[f] = 0
        if self.ck_regime and self.ck_dirty[f] == 1:
            self.ck_dirty[f] = 2
        if w:
            self.mark_written(f)
        cnt[C["swap_ins"]] += 1

    def f_memory_access(self, t, m, w):
        """memory_access without timing (same placement, same policy paths)."""
        p, cnt = self.p, self.cnt
        if p[P["POLICY"]] == 0:
            m -= self.mbase
            if m < self.local_bytes:
                cnt[C["local_accesses"]] += 1
            else:
                self.f_remote_line(m - self.local_bytes, w)
            return
        g = m >> self.ushift
        ge = self.pt_entry(g)
        loc = self.pt_leaf[ge]
        if loc == UNTOUCHED:
            loc, ge = self.first_touch(g)
            if loc == UNTOUCHED:      # no room (the engine raises)
                return
        if loc >= 0:
            cnt[C["local_accesses"]] += 1
            if w and self.ck_regime and self.ck_pending[loc]:
                self.ck_copy(loc, t)
            self.touch(loc)
            if w:
                self.mark_written(loc)
        elif p[P["POLICY"]] == 1:
            off = m & (self.unit - 1)
            self.f_remote_line(((-2 - loc) << self.ushift) + off, w)
        else:
            self.f_swap_in(t, g, ge, -1 if loc == ON_STORAGE else -2 - loc, w)

    def f_cache_access(self, t, m, w):
        """cache_access without timing: the same tags, use stamps, dirty bits and random draws."""
        p, sc, cnt = self.p, self.sc, self.cnt
        tag, stamp, dirty = self.cache_tag, self.cache_stamp, self.cache_dirty
        ways = self.cache_ways
        line = m >> p[P["LINE_SHIFT"]]
        base = (line & (self.cache_sets - 1)) * ways
        sc[S["cache_clock"]] += 1
        for k in range(base, base + ways):
            if tag[k] == line:
                stamp[k] = sc[S["cache_clock"]]
                if w:
                    dirty[k] = 1
                cnt[C["cache_hits"]] += 1
                return
        cnt[C["cache_misses"]] += 1
        v = next((k for k in range(base, base + ways) if tag[k] < 0), -1)
        if v < 0:
            if p[P["CACHE_POLICY"]] == 0:
                v = min(range(base, base + ways), key=lambda k: stamp[k])
            else:
                self.rng, r = splitmix64(self.rng)
                v = base + r % ways
            if dirty[v]:
                cnt[C["cache_writebacks"]] += 1
                self.f_memory_access(t, tag[v] << p[P["LINE_SHIFT"]], 1)
        tag[v] = line
        stamp[v] = sc[S["cache_clock"]]
        dirty[v] = w
        self.f_memory_access(t, m, 0)

    def f_epoch_row(self, t):
        """epoch_row from the DRAM counters as the state holds them (no DRAM is bound)."""
        row = [t] + self.cnt + [sum(x) for x in zip(*self.fx_dcnt[:self.nb])] + self.fx_dcnt[self.nb]
        base = self.sc[S["epoch_rows"]] * len(row)
        self.epoch_buf[base:base + len(row)] = row
        self.sc[S["epoch_rows"]] += 1

    def func_loop(self, t_col, addr, op, vm, vm_base, n):
        """Run accesses 0..n-1 functionally; returns how many ran (fewer when the epoch buffer filled
        up, state must grow or the run stops with an error), as run_loop."""
        p, cnt, sc = self.p, self.cnt, self.sc
        timing, window = p[P["TIMING"]], p[P["WINDOW"]]
        ctl = self.ck_regime or p[P["FAIL_AT_PS"]] >= 0 or p[P["QOS_NEV"]] > 0 or p[P["PERM_NEV"]] > 0
        vm_cb = p[p[P["VM_CB_AT"]]:p[P["VM_CB_AT"]] + len(vm_base)]
        vm_stats, ring = self.vm_stats, self.ring
        last_completion = cnt[C["last_completion_ps"]]
        for i in range(n):
            if sc[S["grow"]]:
                cnt[C["last_completion_ps"]] = last_completion
                return i
            busy = self.ck_regime and any(self.per_blade[b]["ck_sc"][K["ck_active"]] for b in range(self.nb))
            if timing == 0:
                arr = int(t_col[i])
            else:
                arr = sc[S["last_issue_ps"]] + int(t_col[i]) + (self.fx_stall_ck if busy else self.fx_stall)
            if p[P["EPOCH_PS"]]:
                while arr >= sc[S["epoch_next"]]:
                    if sc[S["epoch_rows"]] == p[P["EPOCH_CAP"]]:
                        cnt[C["last_completion_ps"]] = last_completion
                        return i
                    self.f_epoch_row(sc[S["epoch_next"]])
                    sc[S["epoch_next"]] += p[P["EPOCH_PS"]]
            if timing == 1:
                sc[S["last_issue_ps"]] = arr
            if not sc[S["started"]]:
                sc[S["started"]] = 1
                cnt[C["first_arrival_ps"]] = arr
                for b in range(self.nb):
                    self.per_blade[b]["ck_sc"][K["ck_next"]] = arr + p[P["CK_INTERVAL_PS"]]
            if ctl:
                self.control_events(arr)
            w = int(op[i])
            v = int(vm[i])
            self.cur_q = v
            if vm_cb[v] != self.cb:
                self.bind_blade(vm_cb[v])
            m = vm_base[v] + int(addr[i])
            if self.cache_sets:
                self.f_cache_access(arr, m, w)
            else:
                self.f_memory_access(arr, m, w)
            cnt[C["accesses"]] += 1
            vm_stats[v * VSW] += 1
            if w:
                cnt[C["writes"]] += 1
                vm_stats[v * VSW + 5] += 1
            else:
                cnt[C["reads"]] += 1
            done = arr + (self.fx_lat_ck if busy else self.fx_lat)
            if done > last_completion:
                last_completion = done
            if timing == 1:
                ring[sc[S["ring_idx"]]] = done
                sc[S["ring_idx"]] = (sc[S["ring_idx"]] + 1) % window
            sc[S["last_arrival_ps"]] = arr
            if sc[S["error"]]:
                cnt[C["last_completion_ps"]] = last_completion
                return i + 1
        cnt[C["last_completion_ps"]] = last_completion
        return n
