"""The run loop, the twin of core/loop.pxi: arrivals (open or closed loop), epoch samples and
control-plane events due by each arrival, one access through the LLC or memory, latency statistics;
virtual addresses are mapped for the whole chunk first (run_virtual). Times in integer ps.

Arrival: the timestamp (open loop), or previous issue + gap, delayed until the access W places
earlier has completed (closed loop, an in-order window of W outstanding accesses).
"""
from __future__ import annotations

from .._layout import (C, ERR_VM_FULL, EVENT_FIELDS, HIST_BINS, K, P, PERM_FIELDS, S, SLA_FIELDS, VM_HIST_BINS,
                       VM_HIST_SHIFT, VM_STAT_NAMES, hist_bin)

QW, EVW, VSW = len(SLA_FIELDS), len(EVENT_FIELDS), len(VM_STAT_NAMES)


class RunLoop:
    """Methods of the twin's `Core` (state in its attributes: core/state.py)."""

    def epoch_row(self, t):
        """Append (t, all counters) to the epoch buffer: the state of the run as of time t."""
        row = [t] + self.cnt + [sum(x) for x in zip(*(d.cnt for d in self.locals))] + self.blade.cnt
        base = self.sc[S["epoch_rows"]] * len(row)
        self.epoch_buf[base:base + len(row)] = row
        self.sc[S["epoch_rows"]] += 1

    def control_events(self, arr):
        """Checkpoint ticks and background copies of every compute blade's service processor, an
        injected failure, SLA and permission changes due by `arr`, in time order (the blades'
        background copies interleaved by time; their ticks in blade order within a step). A tick
        that finds a checkpoint still being copied waits for it to finish."""
        p, sc, per_blade = self.p, self.sc, self.per_blade
        fail_at, fail_cb = p[P["FAIL_AT_PS"]], p[P["FAIL_CB"]]
        bound = self.cb
        while True:
            fck = per_blade[fail_cb]["ck_sc"]
            lim = fail_at if not fck[K["failed"]] and 0 <= fail_at < arr else arr
            ev_t = pm_t = None
            if sc[S["qos_ev"]] < p[P["QOS_NEV"]]:
                ev = p[P["QOS_EV_AT"]] + sc[S["qos_ev"]] * EVW
                ev_t = p[ev]
                lim = min(lim, ev_t)
            if sc[S["perm_ev"]] < p[P["PERM_NEV"]]:
                pm = p[P["PERM_EV_AT"]] + sc[S["perm_ev"]] * len(PERM_FIELDS)
                pm_t = p[pm]
                lim = min(lim, pm_t)
            while True:     # background copies due by lim, across blades in time order (ties: blade order)
                due = sorted((per_blade[b]["ck_sc"][K["ck_issue"]], b) for b in range(self.nb)
                             if per_blade[b]["ck_sc"][K["ck_active"]] and per_blade[b]["ck_sc"][K["ck_issue"]] <= lim)
                if not due:
                    break
                if due[0][1] != self.cb:
                    self.bind_blade(due[0][1])
                self.ck_advance(min(lim, due[1][0]) if len(due) > 1 else lim)
            started = False
            for b in range(self.nb if self.ck_regime else 0):
                ck = per_blade[b]["ck_sc"]
                if ck[K["ck_active"]] or ck[K["ck_next"]] > lim:
                    continue
                if b != self.cb:
                    self.bind_blade(b)
                t = max(ck[K["ck_next"]], ck[K["ck_last_end"]])
                self.ck_start(t)
                # ticks that fall while this checkpoint is taken (or stops the host) are skipped:
                # otherwise checkpoints longer than the interval would queue up without end
                busy_until = t if ck[K["ck_active"]] else ck[K["ck_last_end"]]
                interval = p[P["CK_INTERVAL_PS"]]
                ck[K["ck_next"]] += interval
                if ck[K["ck_next"]] <= busy_until:
                    skipped = (busy_until - ck[K["ck_next"]]) // interval + 1
                    self.cnt[C["ckpt_ticks_skipped"]] += skipped
                    ck[K["ck_next"]] += skipped * interval
                started = True
                break
            if started:
                continue
            if not fck[K["failed"]] and 0 <= fail_at <= lim:
                if fail_cb != self.cb:
                    self.bind_blade(fail_cb)
                self.fail_and_restore(fail_at)
            elif ev_t is not None and ev_t <= lim:
                # the network manager changes queue q's SLA: its row in force becomes the event's
                q = p[ev + 1]
                self.qsla[q * QW:(q + 1) * QW] = p[ev + 2:ev + 2 + QW]
                sc[S["qos_ev"]] += 1
            elif pm_t is not None and pm_t <= lim:
                self.permission_change(p[pm + 1], p[pm + 2], p[pm + 3])
                sc[S["perm_ev"]] += 1
            else:
                break
        if self.cb != bound:
            self.bind_blade(bound)

    def run_loop(self, t_col, addr, op, vm, vm_base, out, n, want_out):
        """Run accesses 0..n-1 (machine address = vm_base[vm] + addr); returns how many ran (fewer
        when the epoch buffer filled up, state must grow or the run stops with an error)."""
        p, cnt, sc = self.p, self.cnt, self.sc
        timing, window = p[P["TIMING"]], p[P["WINDOW"]]
        ctl = self.ck_regime or p[P["FAIL_AT_PS"]] >= 0 or p[P["QOS_NEV"]] > 0 or p[P["PERM_NEV"]] > 0
        vm_cb = p[p[P["VM_CB_AT"]]:p[P["VM_CB_AT"]] + len(vm_base)]
        vm_hist, vm_stats, ring = p[P["VM_HIST"]], self.vm_stats, self.ring
        last_completion = cnt[C["last_completion_ps"]]
        for i in range(n):
            if sc[S["grow"]]:     # a growable array is short of room: nothing of access i has happened
                cnt[C["last_completion_ps"]] = last_completion
                return i
            if timing == 0:
                arr = int(t_col[i])
            else:
                issue = sc[S["last_issue_ps"]] + int(t_col[i])
                ready_at = ring[sc[S["ring_idx"]]]
                arr = max(issue, ready_at)
            if p[P["EPOCH_PS"]]:
                while arr >= sc[S["epoch_next"]]:
                    if sc[S["epoch_rows"]] == p[P["EPOCH_CAP"]]:
                        cnt[C["last_completion_ps"]] = last_completion
                        return i       # nothing of access i has happened yet: the engine resumes here
                    self.epoch_row(sc[S["epoch_next"]])
                    sc[S["epoch_next"]] += p[P["EPOCH_PS"]]
            if timing == 1:
                cnt[C["stall_ps"]] += arr - issue
                sc[S["last_issue_ps"]] = arr
            if not sc[S["started"]]:
                sc[S["started"]] = 1
                cnt[C["first_arrival_ps"]] = arr
                for b in range(self.nb):      # every blade's service processor starts its clock
                    self.per_blade[b]["ck_sc"][K["ck_next"]] = arr + p[P["CK_INTERVAL_PS"]]
            if ctl:
                self.control_events(arr)
            w = int(op[i])
            v = int(vm[i])
            self.cur_q = v
            if vm_cb[v] != self.cb:
                self.bind_blade(vm_cb[v])
            if sc[S["defer_n"]] and self.defer[4 * sc[S["defer_head"]]] <= arr:
                self.run_deferred(arr)
            m = vm_base[v] + int(addr[i])
            start = max(arr, self.cks[K["stall_until"]])   # the host is stopped by a checkpoint or a recovery
            done = self.cache_access(start, m, w) if self.cache_sets else self.memory_access(start, m, w)
            lat = done - arr
            cnt[C["accesses"]] += 1
            cnt[C["latency_sum_ps"]] += lat
            if lat > cnt[C["latency_max_ps"]]:
                cnt[C["latency_max_ps"]] = lat
            kind = "write" if w else "read"   # reads and writes apart (the counter names say which)
            cnt[C[kind + "s"]] += 1
            cnt[C[kind + "_latency_sum_ps"]] += lat
            if lat > cnt[C[kind + "_latency_max_ps"]]:
                cnt[C[kind + "_latency_max_ps"]] = lat
            if w:
                vm_stats[v * VSW + 5] += 1
                vm_stats[v * VSW + 6] += lat
            b = hist_bin(lat)
            self.hist[w * HIST_BINS + b] += 1      # reads, then writes
            if vm_hist:
                self.vm_hist[(2 * v + w) * VM_HIST_BINS + (b >> VM_HIST_SHIFT)] += 1
            vm_stats[v * VSW] += 1
            vm_stats[v * VSW + 1] += lat
            if done > last_completion:
                last_completion = done
            if timing == 1:
                ring[sc[S["ring_idx"]]] = done
                sc[S["ring_idx"]] = (sc[S["ring_idx"]] + 1) % window
            if want_out:
                out[i] = done
            sc[S["last_arrival_ps"]] = arr
            if sc[S["error"]]:      # the engine raises, naming access i
                cnt[C["last_completion_ps"]] = last_completion
                return i + 1
        cnt[C["last_completion_ps"]] = last_completion
        return n

    def run_virtual(self, t_col, addr, op, vm, vm_base, out, n, want_out):
        """run_loop over virtual addresses: mapped first (va_map), then run as machine addresses.
        When the mapping stopped short and everything before it ran: the table grows (the engine)
        or the VM's memory is full (the run stops, naming that access)."""
        mach, why = self.va_map(addr, vm, n)
        k = len(mach)
        ran = self.run_loop(t_col, mach, op, vm, [0] * len(vm_base), out, k, want_out)
        if ran == k < n and not self.sc[S["error"]]:
            if why == "table":
                self.sc[S["grow"]] = 1
            else:
                self.stop(ERR_VM_FULL, int(vm[k]))
                ran = k + 1
        return ran
