"""Checkpoints, the twin of core/checkpoints.pxi: the service processor copies frames through its own
memory controller (the same banks and bus as the host) to the memory blade, storage or a peer;
stop_and_copy, incremental and copy-on-write regimes; a failure restores the last complete one.
Times in integer ps; the bound compute blade's service processor and host row is `cks` (CK_FIELDS).
"""
from __future__ import annotations

from .._layout import C, K, P
from .link import IN, OUT

_FAR = 1 << 63     # a time after every other (INT64_MAX_PS in the compiled core)


class Checkpoints:
    """Methods of the twin's `Core` (state in its attributes: core/state.py)."""

    def ck_copy(self, f, t):
        """The service processor copies frame f at t through its own memory controller (the same
        banks and data bus as the host) to the checkpoint target; returns when it was read out."""
        if self.func:      # functional mode: the copy is counted and takes its DMA time, nothing is scheduled
            return self.ck_copy_func(f, t)
        p, unit, ushift, cks = self.p, self.unit, self.ushift, self.cks
        rd = self.mem_block(self.local, f << ushift, unit, t, 0)
        if p[P["CK_TARGET"]] == 1:
            done = self.storage_io(rd, 1)
        elif p[P["CK_TARGET"]] == 2:       # a peer node's memory, through the switch
            tw = self.link_send(OUT, rd, p[P["SER_UNIT_PS"]], p[P["WIRE_UNIT_B"]], self.bg)
            done = self.mem_block(self.peer, self.peer_base + (f << ushift), unit, tw + p[P["PEER_PS"]], 1)
        else:
            tw = self.to_blade(self.sp_need(self.ck_base + (f << ushift), rd), p[P["SER_UNIT_PS"]],
                               p[P["WIRE_UNIT_B"]], self.bg)
            done = self.blade_block(self.ck_base + (f << ushift), unit, self.agent_in(tw), 1)
        self.ck_pending[f] = 0
        if self.ck_first[f] == 0:
            self.ck_first[f] = cks[K["ck_index"]]
        self.cnt[C["ckpt_bytes"]] += unit
        cks[K["ck_end"]] = max(cks[K["ck_end"]], done)
        return rd

    def ck_finish(self):
        """The checkpoint in progress is completely stored: it becomes the last complete one."""
        cks = self.cks
        cks[K["ck_active"]] = 0
        for what in ("index", "start", "end"):
            cks[K["ck_prev_" + what]] = cks[K["ck_last_" + what]]
        cks[K["ck_last_index"]] = cks[K["ck_index"]]
        cks[K["ck_last_start"]] = cks[K["ck_start"]]
        cks[K["ck_last_end"]] = cks[K["ck_end"]]
        self.cnt[C["checkpoints"]] += 1
        self.cnt[C["ckpt_busy_ps"]] += cks[K["ck_end"]] - cks[K["ck_start"]]

    def ck_advance(self, t):
        """Issue the checkpoint copies due by t, one per DMA slot, in time order."""
        cks = self.cks
        while cks[K["ck_pos"]] < cks[K["ck_total"]] and cks[K["ck_issue"]] <= t:
            f = self.ck_copy_list[cks[K["ck_pos"]]]
            cks[K["ck_pos"]] += 1
            if self.ck_pending[f]:       # not already copied on a write
                self.ck_copy(f, cks[K["ck_issue"]])
                cks[K["ck_issue"]] += self.p[P["CK_PACE_PS"]]
        if cks[K["ck_pos"]] == cks[K["ck_total"]]:
            self.ck_finish()

    def ck_start(self, t):
        """A checkpoint tick at t: snapshot the frames to copy. The stopping regimes copy them all
        while the host waits; cow copies them in the background as time passes."""
        cks, ck_list, ck_dirty = self.cks, self.ck_list, self.ck_dirty
        cks[K["ck_index"]] += 1
        if self.ck_regime == 1:     # stop_and_copy: the whole resident image (frames beyond: never taken)
            todo = [k for k in range(self.n_sets * self.frame_rows) if self.frame_page[k] >= 0]
        else:                       # incremental, cow: the frames written since the last tick
            todo = [f for f in ck_list[:cks[K["ck_count"]]] if ck_dirty[f] == 1]
        for f in ck_list[:cks[K["ck_count"]]]:
            ck_dirty[f] = 0
        cks[K["ck_count"]] = 0
        self.ck_copy_list[:len(todo)] = todo
        for f in todo:
            self.ck_pending[f] = 1
        cks[K["ck_start"]] = t
        cks[K["ck_issue"]] = cks[K["ck_end"]] = t + self.p[P["CK_SETUP_PS"]]
        cks[K["ck_pos"]], cks[K["ck_total"]], cks[K["ck_active"]] = 0, len(todo), 1
        if self.ck_regime == 3:
            self.ck_advance(t)
            return
        stop_from = max(t, cks[K["stall_until"]])
        self.ck_advance(_FAR)
        if cks[K["ck_last_end"]] > stop_from:
            self.cnt[C["ckpt_stall_ps"]] += cks[K["ck_last_end"]] - stop_from
            cks[K["stall_until"]] = cks[K["ck_last_end"]]

    def fail_and_restore(self, t):
        """A failure at t: a checkpoint not completely stored by t is never used; the service
        processor fetches the last complete one back into local DRAM, and the host resumes after."""
        p, cks, cnt, unit, ushift = self.p, self.cks, self.cnt, self.unit, self.ushift
        if cks[K["ck_active"]]:         # discard the checkpoint in progress
            for f in self.ck_copy_list[cks[K["ck_pos"]]:cks[K["ck_total"]]]:
                self.ck_pending[f] = 0
            cks[K["ck_active"]] = 0
        if cks[K["ck_last_index"]] > 0 and cks[K["ck_last_end"]] <= t:
            good, good_start = cks[K["ck_last_index"]], cks[K["ck_last_start"]]
        elif cks[K["ck_prev_index"]] > 0 and cks[K["ck_prev_end"]] <= t:
            good, good_start = cks[K["ck_prev_index"]], cks[K["ck_prev_start"]]
        else:
            good, good_start = 0, cnt[C["first_arrival_ps"]]
        start = t + p[P["CK_SETUP_PS"]]
        end = start
        for k in range(self.n_sets * self.frame_rows):
            if 0 < self.ck_first[k] <= good and self.func:   # functional mode: counted, one DMA time each
                end = self.ck_restore_func(k, end)
                cnt[C["restored_bytes"]] += unit
            elif 0 < self.ck_first[k] <= good:
                if p[P["CK_TARGET"]] == 1:
                    got = self.storage_io(start, 0)
                elif p[P["CK_TARGET"]] == 2:
                    got = self.mem_block(self.peer, self.peer_base + (k << ushift), unit, start + p[P["PEER_PS"]], 0)
                    got = self.link_send(IN, got, p[P["SER_UNIT_PS"]], p[P["WIRE_UNIT_B"]], self.bg)
                else:
                    got = self.blade_block(self.ck_base + (k << ushift), unit, start, 0)
                    got = self.from_blade(got, p[P["SER_UNIT_PS"]], p[P["WIRE_UNIT_B"]], self.bg)
                end = max(end, self.mem_block(self.local, k << ushift, unit, got, 1))
                cnt[C["restored_bytes"]] += unit
        cnt[C["failures"]] += 1
        cnt[C["lost_work_ps"]] += t - good_start
        cnt[C["recovery_ps"]] += end - t
        cks[K["stall_until"]] = max(cks[K["stall_until"]], end)
        cks[K["failed"]] = 1
