"""Paging, the twin of core/paging.pxi: the hypervisor's page table (two levels, leaves taken at
first touch) and the guest kernel's virtual-page map; local frames; a line-sized access to local
memory, over the link or by a swap-in (memory_access), and the swap-in of a remote or stored page.
Times in integer ps.

Page-table entries (_layout): a local frame (>= 0), UNTOUCHED, ON_STORAGE, or blade slot s as
-2 - s. The compiled core's prefetch hints (prefetch_frame) change no result and have no twin.
"""
from __future__ import annotations

from .._layout import C, ERR_NO_ROOM, K, ON_STORAGE, P, PT_LEAF, PT_LEAF_SHIFT, S, UNTOUCHED, VA_HASH
from .state import MASK64


class Paging:
    """Methods of the twin's `Core` (state in its attributes: core/state.py)."""

    def pt_entry(self, g):
        """Index in pt_leaf of guest page g's entry (an untouched range's is in leaf 0, read only)."""
        return (self.pt_dir[g >> PT_LEAF_SHIFT] << PT_LEAF_SHIFT) | (g & (PT_LEAF - 1))

    def pt_claim(self, g):
        """g's entry for its first touch: its range takes the next free leaf if it has none yet."""
        d, sc = self.pt_dir, self.sc
        if d[g >> PT_LEAF_SHIFT] == 0:
            d[g >> PT_LEAF_SHIFT] = sc[S["pt_leaves"]]
            sc[S["pt_leaves"]] += 1
            if sc[S["pt_leaves"]] > self.pt_leaf_lim:
                sc[S["grow"]] = 1
        return self.pt_entry(g)

    @staticmethod
    def va_key_of(v, a, ushift):
        """The table key of VM v's virtual address a: its page and VM, + 1 (0 = an empty slot)."""
        return (((a >> ushift) << 16) | v) + 1

    def va_home(self, key):
        return ((key * VA_HASH) & MASK64) >> (64 - (self.va_size.bit_length() - 1))

    def va_map(self, addr, vm, n):
        """Virtual addresses: the machine address of accesses 0..k-1 in trace order, before they
        run (a page's first touch takes its VM's next free guest-physical page: the guest kernel
        hands them out in order). Returns (the addresses, why it stopped short of n: "" none,
        "table" the table is half full: the engine grows it, "vm" the VM has no page left)."""
        va_key, va_page, va_next, sc = self.va_key, self.va_page, self.va_next, self.sc
        ushift, umask = self.ushift, self.unit - 1
        mach = []
        for i in range(n):
            v, a = int(vm[i]), int(addr[i])
            key = self.va_key_of(v, a, ushift)
            h = self.va_home(key)
            while va_key[h] != 0 and va_key[h] != key:
                h = (h + 1) & (self.va_size - 1)
            if va_key[h] == 0:
                if sc[S["va_used"]] >= self.va_lim:
                    return mach, "table"
                if va_next[v] >= self.vm_pages[v]:
                    return mach, "vm"
                va_key[h], va_page[h] = key, va_next[v]
                va_next[v] += 1
                sc[S["va_used"]] += 1
            mach.append(self.vm_base[v] + (va_page[h] << ushift) + (a & umask))
        return mach, ""

    def take_free(self, j):
        """A never-used frame of set j, entered into the replacement order, or -1."""
        used = self.used
        if used[j] >= self.ways:
            return -1
        f = used[j] * self.n_sets + j
        used[j] += 1
        if used[j] > self.frame_lim:     # frames are taken in order: the engine grows the rows
            self.sc[S["grow"]] = 1
        if self.victim == 0:
            self.lru_push(f, j)
        elif self.victim == 1:
            self.ref[f] = 1
        return f

    def mark_written(self, f):
        """A host write to frame f: dirty for swapping, and listed for the next checkpoint."""
        self.dirty[f] = 1
        if self.ck_regime:
            if self.ck_dirty[f] == 0:
                cks = self.cks
                self.ck_list[cks[K["ck_count"]]] = f
                cks[K["ck_count"]] += 1
            self.ck_dirty[f] = 1

    def local_access(self, t, f, off, w):
        """A line of local frame f, once the frame is ready (a copy on write first when the
        checkpoint in progress has not taken the page yet)."""
        self.cnt[C["local_accesses"]] += 1
        t = max(t, self.frame_ready[f])
        if w and self.ck_pending[f]:
            # copy on write: the page goes out to the checkpoint before the host changes it
            rd = self.ck_copy(f, t)
            self.cnt[C["cow_wait_ps"]] += rd - t
            t = rd
        done = self.mem_line(self.local, (f << self.ushift) + off, t, w)
        self.touch(f)
        if w:
            self.mark_written(f)
        return done

    def swap_in(self, t, g, ge, slot, off, w):
        """Fault on unit g (page-table entry ge), which is in blade slot `slot`, or on storage when
        slot < 0."""
        p, cnt, unit, local = self.p, self.cnt, self.unit, self.local
        cnt[C["faults"]] += 1
        t0 = t + p[P["TRAP_PS"]]
        j = g & self.smask
        f = self.take_free(j)
        if f < 0:
            f = self.pick_victim(j)
        faddr = f << self.ushift
        buf = -1
        if slot >= 0:
            # request right after the trap, blade DRAM read, the whole unit back (store and forward)
            t_req = self.to_blade(self.sp_need(slot << self.ushift, t0), p[P["SER_REQ_PS"]], p[P["WIRE_REQ_B"]],
                                  self.cur_q)
            t_rd = self.blade_block(slot << self.ushift, unit, self.agent_in(t_req), 0)
            t_all = self.from_blade(t_rd, p[P["SER_UNIT_PS"]], p[P["WIRE_UNIT_B"]], self.cur_q)
            start = t_all - p[P["SER_UNIT_PS"]] - self.prop
            t_first = start + p[P["SER_FIRST_PS"]] + self.prop
            self.slot_page[slot] = -1
        else:
            # the I/O driver reads the unit from the device into one of its buffers
            buf, start = self.driver_take(t0)
            t_all = t_first = self.storage_io(start, 0)
        if self.ck_pending[f]:
            t0 = max(t0, self.ck_copy(f, t0))   # the checkpoint takes the victim's page before it leaves
        v = self.frame_page[f]
        free_at = t0
        if v >= 0:
            # swapping module: the victim to the temporary page, which frees the frame
            free_at = self.mem_block(local, faddr, unit, max(t0, self.frame_ready[f]), 0)
            free_at = self.mem_block(local, self.temp_addr, unit, free_at, 1)
        t_fill = self.mem_block(local, faddr, unit, max(t_all, free_at), 1)
        if buf >= 0:
            self.buf_free[buf] = t_fill   # the driver buffer is free once its unit is in the frame
        if v >= 0:
            # transmission module: the victim goes to the blade, into the slot the fetched unit
            # vacated (or a fresh one), else down to storage through the driver
            dest = slot if slot >= 0 else self.blade_slot_for_victim(j, free_at)
            if dest >= 0:
                self.defer_writeback(free_at, dest)
                self.pt_leaf[self.pt_entry(v)] = -2 - dest
                self.slot_page[dest] = v
            else:
                b2, s2 = self.driver_take(free_at)
                s2 = self.mem_block(local, self.temp_addr, unit, s2, 0)
                self.buf_free[b2] = self.storage_io(s2, 1)
                self.pt_leaf[self.pt_entry(v)] = ON_STORAGE
            cnt[C["swap_outs"]] += 1
            cnt[C["dirty_victims"]] += self.dirty[f]
        ready = t_fill + p[P["MAP_UPDATE_PS"]]
        self.frame_ready[f] = ready
        self.frame_page[f] = g
        self.pt_leaf[ge] = f
        self.dirty[f] = 0
        if self.ck_dirty[f] == 1:
            self.ck_dirty[f] = 2
        if w:
            self.mark_written(f)
        cnt[C["swap_ins"]] += 1
        done = max(t_first, free_at) if p[P["CBF"]] else self.mem_line(local, faddr + off, ready, w)
        cnt[C["blade_fault_ps"] if slot >= 0 else C["storage_fault_ps"]] += done - t
        return done

    def first_touch(self, g):
        """Guest unit g's first touch: a free local frame of its set while any is left, else a blade
        slot, else storage (placement first_touch; `low` placed every unit at boot). Sets its entry;
        returns (where it is, the entry's index), or (UNTOUCHED, -1) when there is no room (the run
        stops)."""
        p, cnt = self.p, self.cnt
        j = g & self.smask
        f = self.take_free(j)
        if f >= 0:
            loc = f
            self.frame_page[f] = g
            cnt[C["first_touch_local"]] += 1
        elif self.blade_next[j] < self.per_set:
            loc = -2 - (self.blade_next[j] * self.n_sets + j)
            self.slot_page[-2 - loc] = g
            self.blade_next[j] += 1
            if self.blade_next[j] > self.slot_lim:
                self.sc[S["grow"]] = 1
            cnt[C["first_touch_remote"]] += 1
        elif not p[P["STORAGE"]]:
            # only a VM of `auto` memory outgrows its blade: the engine raises
            self.stop(ERR_NO_ROOM, self.cb)
            return UNTOUCHED, -1
        else:
            loc = ON_STORAGE
            cnt[C["first_touch_storage"]] += 1
        ge = self.pt_claim(g)
        self.pt_leaf[ge] = loc
        return loc, ge

    def memory_access(self, arr, m, w):
        """One line-sized request from the processor side to the hypervisor's memory: local DRAM,
        a remote line, or a swap, by policy."""
        p, cnt = self.p, self.cnt
        policy = p[P["POLICY"]]
        if policy == 0:
            m -= self.mbase   # the blade's own machine addresses
            if m < self.local_bytes:
                cnt[C["local_accesses"]] += 1
                return self.mem_line(self.local, m, arr, w)
            return self.remote_line(arr, m - self.local_bytes, w)
        g = m >> self.ushift
        off = m & (self.unit - 1)
        ge = self.pt_entry(g)
        loc = self.pt_leaf[ge]
        if loc == UNTOUCHED:
            loc, ge = self.first_touch(g)
            if loc == UNTOUCHED:      # no room: the engine raises
                return arr
        if loc >= 0:
            return self.local_access(arr, loc, off, w)
        if policy == 1:
            return self.remote_line(arr + p[P["FILTER_PS"]], ((-2 - loc) << self.ushift) + off, w)
        return self.swap_in(arr, g, ge, -1 if loc == ON_STORAGE else -2 - loc, off, w)
