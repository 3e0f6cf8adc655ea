"""Plain-Python twin of `_core.pyx`: the same state layout and the same arithmetic, one access at a
time. It is the test oracle (differential tests require identical results) and the fallback when the
compiled core is missing. Keep it small and literal; any change here is a change to `_core.pyx`.

Semantics of one access (times in integer ps):
- arrival: the timestamp (open loop), or previous issue + gap, delayed until the access W places
  earlier has completed (closed loop, in-order window of W outstanding accesses);
- static: machine address < local size -> local DRAM, else one line over the link;
- fgra / page_swap / subpage_swap: the hypervisor's table gives a local frame or a blade slot;
  untouched pages take a free local frame (first_touch) or a blade slot;
- fgra: a remote page is read or written a line at a time over the link, never moved;
- page_swap / subpage_swap: a remote unit traps; a victim frame of the unit's set is chosen; the
  victim is copied to the temporary page and sent to the blade into the slot the fetched unit
  vacates (off the critical path, but it holds the outbound link and DRAM); the fetched unit is
  written into the frame once it has arrived and the frame is free; the access then completes
  locally (or, with critical-block-first, when the first packet arrives).
"""
from __future__ import annotations

import numpy as np

from ._dram_layout import DRAM_NAMES
from ._dram_reference import Dram
from ._layout import (CAL_WIDTH, CB, CB_FIELDS, CK_FIELDS, DEFER_CAP, K, C, ERR_NO_SUPER_PAGE, ERR_PERMISSION, EVENT_FIELDS, HIST_BINS,
                      LINK_CAL_SLOTS, ON_STORAGE, P, PERM_FIELDS, S, SLA_FIELDS, UNTOUCHED, VM_HIST_BINS, VM_HIST_SHIFT,
                      LOG_FIELDS, VM_STAT_NAMES, hist_bin, local_prefix)

_MASK64 = (1 << 64) - 1
OUT, IN = 0, 1


def _to_signed(x: int) -> int:
    return x - (1 << 64) if x >= (1 << 63) else x


def splitmix64(x: int):
    """(new state, output) of SplitMix64; states are unsigned 64-bit."""
    x = (x + 0x9E3779B97F4A7C15) & _MASK64
    z = x
    z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & _MASK64
    z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & _MASK64
    return x, z ^ (z >> 31)


def cal_reserve(cal, o, a, dur):
    """Reserve dur ps on the calendar at cal[o:o + CAL_WIDTH] for a message ready at a: the first
    idle gap at or after a that holds it (a full calendar forgets its oldest reservation and counts
    the time before its end as busy). Returns the start."""
    K = LINK_CAL_SLOTS
    n, head, floor = cal[o], cal[o + 1], cal[o + 2]
    r = o + 3
    if n == K:
        floor = max(floor, cal[r + 2 * head + 1])
        head = (head + 1) % K
        n -= 1
    res = [(cal[r + 2 * ((head + k) % K)], cal[r + 2 * ((head + k) % K) + 1]) for k in range(n)]
    x = max(a, floor)
    pos = n
    for k, (s0, e0) in enumerate(res):
        if e0 <= x:
            continue
        if x + dur <= s0:
            pos = k
            break
        x = e0
    res.insert(pos, (x, x + dur))
    for k, (s0, e0) in enumerate(res):
        cal[r + 2 * ((head + k) % K)] = s0
        cal[r + 2 * ((head + k) % K) + 1] = e0
    cal[o], cal[o + 1], cal[o + 2] = n + 1, head, floor
    return x


class _Logged:
    """A DRAM whose requests are also appended to a log (rows of _layout.LOG_FIELDS)."""

    def __init__(self, dram, dram_id, rows, line):
        self.dram, self.id, self.rows, self.line_bytes = dram, dram_id, rows, line

    def line(self, addr, t, w):
        self.rows.append((t, addr, self.line_bytes, self.id << 1 | w))
        return self.dram.line(addr, t, w)

    def block(self, addr, nbytes, t, w):
        self.rows.append((t, addr, nbytes, self.id << 1 | w))
        return self.dram.block(addr, nbytes, t, w)

    def save(self):
        self.dram.save()


def run_chunk(p, dl, db, dp, st, t_col, addr, op, vm, vm_base, out, dram_log=None):
    """Advance `st` (dict of numpy arrays, updated in place) over one chunk of accesses.

    p, dl, db, dp: int64 parameter vectors (see _layout; DRAM of local, blade, checkpoint peer); t_col: arrival (open) or gap (closed) in ps;
    addr: guest byte addresses; op: 0 read / 1 write; vm: VM ids; vm_base: machine byte address of
    each VM's guest address 0; out: per-access completion time in ps (length 0 = not wanted).
    dram_log: a list to which the requests every DRAM received are appended, as one int64 array
    of rows of _layout.LOG_FIELDS (None = no log).
    Returns how many accesses ran (fewer than the chunk when the epoch buffer is full).
    """
    p = [int(x) for x in p]
    cnt = st["counters"].tolist()
    hist = st["hist"].tolist()
    vm_hist = st["vm_hist"].tolist()
    vm_stats = st["vm_stats"].tolist()
    sc = st["scalars"].tolist()
    loc = st["loc"].tolist()
    ring = st["ring"].tolist()
    dev_unit_free = st["dev_unit_free"].tolist()
    dev_ring = st["dev_ring"].tolist()
    buf_free = st["buf_free"].tolist()
    ck_regime = p[P["CK_REGIME"]]
    epoch_buf = st["epoch_buf"].tolist()
    mbuf_ring = st["mbuf_ring"].tolist()
    mbuf_idx = st["mbuf_idx"].tolist()
    sp_owner = st["sp_owner"].tolist()
    port_cal = st["port_cal"].tolist()
    port_qos = st["port_qos"].tolist()
    _lv = 2 * max(p[P["QOS_LEVELS"]], 1)
    port_qfree, port_qls, port_qle, port_qfin = (port_qos[:_lv], port_qos[_lv:2 * _lv], port_qos[2 * _lv:3 * _lv],
                                                 port_qos[3 * _lv:])
    defer = st["defer"].tolist()
    cache_sets, cache_ways = p[P["CACHE_SETS"]], p[P["CACHE_WAYS"]]
    n_cb = p[P["N_CB"]]
    cb_rows = [p[p[P["CB_AT"]] + k * len(CB_FIELDS):p[P["CB_AT"]] + (k + 1) * len(CB_FIELDS)] for k in range(n_cb)]
    vm_cb = p[p[P["VM_CB_AT"]]:p[P["VM_CB_AT"]] + len(vm_base)]
    nd = len(DRAM_NAMES)
    clock = (sc, defer)    # the detailed DRAM model's horizon comes from them (_dram_ctrl_reference)
    locals_ = [Dram(dl[k * nd:(k + 1) * nd], st, local_prefix(k), clock) for k in range(n_cb)]
    blade = Dram(db, st, "blade_", clock)
    peer = Dram(dp, st, "peer_", clock)
    log_rows = []
    if dram_log is not None:
        line_bytes = 1 << p[P["LINE_SHIFT"]]
        locals_ = [_Logged(d, k, log_rows, line_bytes) for k, d in enumerate(locals_)]
        blade = _Logged(blade, n_cb, log_rows, line_bytes)
        peer = _Logged(peer, n_cb + 1, log_rows, line_bytes)
    vm_base = [int(x) for x in vm_base]
    n_sets_ = p[P["N_SETS"]]
    lev_, nq_ = max(p[P["QOS_LEVELS"]], 1), max(p[P["QOS_NQ"]], 1)

    # per-blade state: each compute blade's slices of the shared arrays, as (start, length) by name
    def extents(k):
        r = cb_rows[k]
        frames = n_sets_ * r[CB["WAYS"]]
        fo, so = r[CB["FRAME_OFF"]], k * n_sets_
        out = {name: (fo, frames) for name in ("frame_page", "frame_ready", "dirty", "ref", "lru_prev", "lru_next",
                                               "ck_dirty", "ck_first", "ck_list", "ck_pending", "ck_copy_list")}
        out.update({name: (so, n_sets_) for name in ("set_head", "set_tail", "set_used", "set_hand", "blade_next",
                                                      "blade_hand")})
        out["slot_page"] = (r[CB["SLOT_OFF"]], r[CB["PER_SET"]] * n_sets_)
        out["sp_map"] = (r[CB["VSP_OFF"]], r[CB["N_VSP"]])
        out["link_cal"] = (2 * CAL_WIDTH * k, 2 * CAL_WIDTH)
        out["ck_sc"] = (len(CK_FIELDS) * k, len(CK_FIELDS))
        ncw = cache_sets * cache_ways
        out.update({name: (k * ncw, ncw) for name in ("cache_tag", "cache_stamp", "cache_dirty")})
        out.update({name: (k * 2 * lev_, 2 * lev_) for name in ("qos_free", "qos_ls", "qos_le")})
        out["qos_fin"] = (k * 2 * nq_, 2 * nq_)
        out["qos_tb"] = (k * 4 * nq_, 4 * nq_)
        return out

    per_blade = []
    for k in range(n_cb):
        per_blade.append({name: st[name][o:o + n].tolist() for name, (o, n) in extents(k).items()})

    frame_page = frame_ready = dirty = ref = prev = nxt = ck_dirty = ck_first = ck_list = ck_pending = None
    ck_copy_list = head = tail = used = hand = blade_next = blade_hand = slot_page = sp_map = link_cal = None
    cache_tag = cache_stamp = cache_dirty = qfree = qls = qle = qfin = qtb = local = None
    ways = local_bytes = temp_addr = mbase = per_set = ck_base = peer_base = 0
    cks = None
    cur_cb = -1

    def bind(k):
        """Make compute blade k's state the one the functions below see."""
        nonlocal frame_page, frame_ready, dirty, ref, prev, nxt, ck_dirty, ck_first, ck_list, ck_pending
        nonlocal ck_copy_list, head, tail, used, hand, blade_next, blade_hand, slot_page, sp_map, link_cal
        nonlocal cache_tag, cache_stamp, cache_dirty, qfree, qls, qle, qfin, qtb, local
        nonlocal ways, local_bytes, temp_addr, mbase, per_set, cur_cb, ck_base, peer_base, cks
        b, r = per_blade[k], cb_rows[k]
        frame_page, frame_ready, dirty, ref = b["frame_page"], b["frame_ready"], b["dirty"], b["ref"]
        prev, nxt = b["lru_prev"], b["lru_next"]
        ck_dirty, ck_first, ck_list, ck_pending = b["ck_dirty"], b["ck_first"], b["ck_list"], b["ck_pending"]
        ck_copy_list = b["ck_copy_list"]
        head, tail, used, hand = b["set_head"], b["set_tail"], b["set_used"], b["set_hand"]
        blade_next, blade_hand, slot_page, sp_map = b["blade_next"], b["blade_hand"], b["slot_page"], b["sp_map"]
        link_cal = b["link_cal"]
        cache_tag, cache_stamp, cache_dirty = b["cache_tag"], b["cache_stamp"], b["cache_dirty"]
        qfree, qls, qle, qfin, qtb = b["qos_free"], b["qos_ls"], b["qos_le"], b["qos_fin"], b["qos_tb"]
        local = locals_[k]
        ways, local_bytes, temp_addr = r[CB["WAYS"]], r[CB["LOCAL_BYTES"]], r[CB["TEMP_ADDR"]]
        mbase, per_set = r[CB["MBASE"]], r[CB["PER_SET"]]
        ck_base, peer_base, cks = r[CB["CK_BASE"]], r[CB["PEER_BASE"]], b["ck_sc"]
        cur_cb = k
        sc[S["cb"]] = k

    policy, victim_policy, timing, window = p[P["POLICY"]], p[P["VICTIM"]], p[P["TIMING"]], p[P["WINDOW"]]
    ushift = p[P["UNIT_SHIFT"]]
    unit = 1 << ushift
    umask = unit - 1
    smask = p[P["N_SETS"]] - 1
    n_sets = p[P["N_SETS"]]
    prop = p[P["PROP_PS"]]
    rng = sc[S["rng"]] & _MASK64
    qsla = st["qos_sla"].tolist()
    sp_shift = p[P["SP_SHIFT"]]
    qos, qdisc, nq, nlev = p[P["QOS"]], p[P["QOS_DISC"]], p[P["QOS_NQ"]], p[P["QOS_LEVELS"]]
    QW, EVW, VSW = len(SLA_FIELDS), len(EVENT_FIELDS), len(VM_STAT_NAMES)
    bg = len(vm_base)     # the background queue (checkpoint copies) follows the VMs
    cur_q = 0             # the queue of the access being run

    def qos_start(sched, d, a, ser, wire, q):
        """SNIC QoS: when a message of queue q, ready at a, starts serializing in direction d of a
        link or the switch port, whose state `sched` is (calendars, qfree, qls, qle, qfin, qtb or
        None: caps act on the links only).
        fifo: one next-free time. strict priority: per level a next-free time; a message of level l
        starts at max(a, free[l]), after any lower-level message that was on the wire at a
        (non-preemptive), then every lower level's next-free time moves back by its
        serialization. fair (drr/wfq): per-queue virtual finish F; it finishes at
        max(a, F) + ser * W / w, W the weight of the queues with F > a (itself included).
        Token bucket (any discipline): the start is also >= the time the bucket holds its bytes;
        the message holds its place in the discipline from when it was ready."""
        cal, qfree, qls, qle, qfin, qtb = sched
        r = q * QW
        num, den, burst = qsla[r + 2], qsla[r + 3], qsla[r + 4]
        if qtb is None:
            num = 0
        tb = (d * nq + q) * 2
        e = a
        if num:
            e = max(a, qtb[tb] - (-(qtb[tb + 1] - (burst - wire) * num) // den))
        if qdisc == 0:
            s = cal_reserve(cal, d * CAL_WIDTH, e, ser)
        elif qdisc == 1:
            lvl = qsla[r]
            base = d * nlev
            x = max(a, qfree[base + lvl])
            for k in range(lvl + 1, nlev):
                if qls[base + k] <= a < qle[base + k]:
                    x = max(x, qle[base + k])
            s = max(e, x)
            qfree[base + lvl] = x + ser
            for k in range(lvl + 1, nlev):
                qfree[base + k] = max(qfree[base + k], x) + ser
            qls[base + lvl] = s
            qle[base + lvl] = s + ser
        else:
            base = d * nq
            w = qsla[r + 1]
            W = w
            for k in range(nq):
                if k != q and qfin[base + k] > a:
                    W += qsla[k * QW + 1]
            x = max(a, qfin[base + q]) + (ser * W + w - 1) // w - ser
            s = max(e, x)
            qfin[base + q] = s + ser
        if num:
            if s > qtb[tb]:
                qtb[tb], qtb[tb + 1] = s, 0
            qtb[tb + 1] += wire * num
            qtb[tb] += qtb[tb + 1] // den
            qtb[tb + 1] %= den
        return s

    def link_send(direction, t, ser, wire, q):
        """A message of queue q (a VM, or the background queue), ready at t; returns its arrival."""
        if qos:
            start = qos_start((link_cal, qfree, qls, qle, qfin, qtb), direction, t, ser, wire, q)
        else:
            start = cal_reserve(link_cal, direction * CAL_WIDTH, t, ser)
        cnt[C["link_bytes_out"] + direction] += wire
        vm_stats[q * VSW + 2] += wire
        vm_stats[q * VSW + 3] += start - t
        vm_stats[q * VSW + 4] += 1
        return start + ser + prop

    def port_send(d, t, wire, q):
        """The switch's port to the memory blade, shared by every compute blade: a calendar each way,
        or, under QoS, the links' discipline by the message's VM on the port's own state."""
        ser = -(-(wire * p[P["SW_NUM"]]) // p[P["SW_DEN"]])
        if qos:
            s = qos_start((port_cal, port_qfree, port_qls, port_qle, port_qfin, None), d, t, ser, wire, q)
        else:
            s = cal_reserve(port_cal, d * CAL_WIDTH, t, ser)
        cnt[C["port_queue_ps"]] += s - t
        cnt[C["port_bytes_out"] + d] += wire
        return s + ser

    def to_blade(t, ser, wire, q):
        """A message to the memory blade: the link, then (with a switch) the switch and its port."""
        t = link_send(OUT, t, ser, wire, q)
        if p[P["SW"]]:
            t = port_send(OUT, t + p[P["SW_LAT_PS"]], wire, q)
        return t

    def from_blade(t, ser, wire, q):
        """A message from the memory blade sent at t: the port and the switch, then the link."""
        if p[P["SW"]]:
            t = port_send(IN, t, wire, q) + p[P["SW_LAT_PS"]]
        return link_send(IN, t, ser, wire, q)

    def agent_in(t):
        """The protocol agent takes a request that arrived at t (busy AGENT_OCC_PS with each: the
        first free slot at or after t on its calendar), decodes and maps it."""
        occ = p[P["AGENT_OCC_PS"]]
        if occ:
            s = cal_reserve(port_cal, 2 * CAL_WIDTH, t, occ)
            cnt[C["agent_wait_ps"]] += s - t
            t = s
        return t + p[P["AGENT_PS"]]

    def stop(code, info):
        if not sc[S["error"]]:
            sc[S["error"]], sc[S["error_info"]] = code, info

    def sp_take():
        """The lowest free super page of the memory blade, now the bound blade's; -1 if none."""
        k = sc[S["sp_next"]]
        while k < p[P["N_SP"]] and sp_owner[k] != 0:
            k += 1
        sc[S["sp_next"]] = k
        if k == p[P["N_SP"]]:
            return -1
        sp_owner[k] = cur_cb + 1
        cnt[C["sp_grants"]] += 1
        return k

    def sp_need(v, t):
        """Before a request to blade address v: a super page never handed to this blade is asked
        for first (allocate request, agent, grant back). Returns when the request may go."""
        vsp = v >> sp_shift
        if sp_map[vsp] >= 0:
            return t
        t = agent_in(to_blade(t, p[P["SER_REQ_PS"]], p[P["WIRE_REQ_B"]], cur_q))
        k = sp_take()
        if k < 0:
            stop(ERR_NO_SUPER_PAGE, vsp)
            return t
        sp_map[vsp] = k
        return from_blade(t, p[P["SER_REQ_PS"]], p[P["WIRE_REQ_B"]], cur_q)

    def blade_phys(v):
        """Address-mapping module: blade address v of the bound compute blade -> the memory
        blade's, or -1 for a super page that is not the blade's (a permission fault, refused)."""
        vsp = v >> sp_shift
        psp = sp_map[vsp]
        if psp < 0 or sp_owner[psp] != cur_cb + 1:
            cnt[C["permission_faults"]] += 1
            if p[P["STRICT"]]:
                stop(ERR_PERMISSION, vsp)
            return -1
        return (psp << sp_shift) | (v & ((1 << sp_shift) - 1))

    def permission_change(k, vsp, access):
        """Blade k may use its super page vsp again (1), or no longer (0), or gives it back (2: free
        again, the blade's next request there asks for a new one); one never handed out is
        granted first (not for a release)."""
        nonlocal cur_cb
        m = per_blade[k]["sp_map"]
        cnt[C["permission_changes"]] += 1
        if access == 2:
            if m[vsp] >= 0:
                sp_owner[m[vsp]] = 0
                sc[S["sp_next"]] = min(sc[S["sp_next"]], m[vsp])
                m[vsp] = -1
                cnt[C["sp_releases"]] += 1
            return
        if m[vsp] < 0:
            bound, cur_cb = cur_cb, k
            psp = sp_take()
            cur_cb = bound
            if psp < 0:
                stop(ERR_NO_SUPER_PAGE, vsp)
                return
            m[vsp] = psp
        sp_owner[m[vsp]] = k + 1 if access else -(k + 1)

    def mbuf_admit(addr, t):
        """The buffer that manages addr: its latency, and a wait for a free command-queue slot.
        Returns (start, slot index or -1 when queues are unlimited)."""
        t += p[P["BUF_LAT_PS"]]
        if p[P["BUF_QD"]] == 0:
            return t, -1
        b = (addr >> p[P["BUF_SHIFT"]]) % p[P["BUF_N"]]
        k = b * p[P["BUF_QD"]] + mbuf_idx[b]
        mbuf_idx[b] = (mbuf_idx[b] + 1) % p[P["BUF_QD"]]
        if mbuf_ring[k] > t:
            cnt[C["buffer_wait_ps"]] += mbuf_ring[k] - t
            t = mbuf_ring[k]
        return t, k

    def blade_line(v, t, w):
        addr = blade_phys(v)
        if addr < 0:
            return t
        t, k = mbuf_admit(addr, t)
        done = blade.line(addr, t, w)
        if k >= 0:
            mbuf_ring[k] = done
        return done

    def blade_block(v, nbytes, t, w):
        addr = blade_phys(v)
        if addr < 0:
            return t
        t, k = mbuf_admit(addr, t)
        done = blade.block(addr, nbytes, t, w)
        if k >= 0:
            mbuf_ring[k] = done
        return done

    def remote_line(t, baddr, w):
        cnt[C["remote_accesses"]] += 1
        t = sp_need(baddr, t)
        if w:
            t1 = to_blade(t, p[P["SER_WLINE_PS"]], p[P["WIRE_WLINE_B"]], cur_q)
        else:
            t1 = to_blade(t, p[P["SER_REQ_PS"]], p[P["WIRE_REQ_B"]], cur_q)
        t2 = blade_line(baddr, agent_in(t1), w)
        if w:  # completion message
            return from_blade(t2, p[P["SER_REQ_PS"]], p[P["WIRE_REQ_B"]], cur_q)
        return from_blade(t2, p[P["SER_LINE_PS"]], p[P["WIRE_LINE_B"]], cur_q)

    def lru_remove(f, j):
        a, b = prev[f], nxt[f]
        if a >= 0:
            nxt[a] = b
        else:
            head[j] = b
        if b >= 0:
            prev[b] = a
        else:
            tail[j] = a

    def lru_push(f, j):
        prev[f] = -1
        nxt[f] = head[j]
        if head[j] >= 0:
            prev[head[j]] = f
        else:
            tail[j] = f
        head[j] = f

    def touch(f):
        if victim_policy == 0:
            j = f & smask
            if head[j] != f:
                lru_remove(f, j)
                lru_push(f, j)
        elif victim_policy == 1:
            ref[f] = 1

    def take_free(j):
        """A never-used frame of set j, entered into the replacement order, or -1."""
        if used[j] >= ways:
            return -1
        f = used[j] * n_sets + j
        used[j] += 1
        if victim_policy == 0:
            lru_push(f, j)
        elif victim_policy == 1:
            ref[f] = 1
        return f

    def pick_victim(j):
        nonlocal rng
        if victim_policy == 0:
            f = tail[j]
            lru_remove(f, j)
            lru_push(f, j)
            return f
        if victim_policy == 1:
            while True:
                f = hand[j] * n_sets + j
                hand[j] = (hand[j] + 1) % ways
                if ref[f]:
                    ref[f] = 0
                else:
                    ref[f] = 1
                    return f
        if victim_policy == 2:
            f = hand[j] * n_sets + j
            hand[j] = (hand[j] + 1) % ways
            return f
        rng, r = splitmix64(rng)
        return (r % ways) * n_sets + j

    def mark_written(f):
        """A host write to frame f: dirty for swapping, and listed for the next checkpoint."""
        dirty[f] = 1
        if ck_regime:
            if ck_dirty[f] == 0:
                ck_list[cks[K["ck_count"]]] = f
                cks[K["ck_count"]] += 1
            ck_dirty[f] = 1

    def local_access(t, f, off, w):
        cnt[C["local_accesses"]] += 1
        t = max(t, frame_ready[f])
        if w and ck_pending[f]:
            # copy on write: the page goes out to the checkpoint before the host changes it
            rd = ck_copy(f, t)
            cnt[C["cow_wait_ps"]] += rd - t
            t = rd
        done = local.line((f << ushift) + off, t, w)
        touch(f)
        if w:
            mark_written(f)
        return done

    def ck_copy(f, t):
        """The service processor copies frame f at t through its own memory controller (same
        banks and bus as the host) to the checkpoint target; returns when it was read out."""
        rd = local.block(f << ushift, unit, t, 0)
        if p[P["CK_TARGET"]] == 1:
            done = storage_io(rd, 1)
        elif p[P["CK_TARGET"]] == 2:       # a peer node's memory, through the switch
            tw = link_send(OUT, rd, p[P["SER_UNIT_PS"]], p[P["WIRE_UNIT_B"]], bg)
            done = peer.block(peer_base + (f << ushift), unit, tw + p[P["PEER_PS"]], 1)
        else:
            tw = to_blade(sp_need(ck_base + (f << ushift), rd), p[P["SER_UNIT_PS"]], p[P["WIRE_UNIT_B"]], bg)
            done = blade_block(ck_base + (f << ushift), unit, agent_in(tw), 1)
        ck_pending[f] = 0
        if ck_first[f] == 0:
            ck_first[f] = cks[K["ck_index"]]
        cnt[C["ckpt_bytes"]] += unit
        cks[K["ck_end"]] = max(cks[K["ck_end"]], done)
        return rd

    def ck_finish():
        cks[K["ck_active"]] = 0
        for what in ("index", "start", "end"):
            cks[K["ck_prev_" + what]] = cks[K["ck_last_" + what]]
        cks[K["ck_last_index"]] = cks[K["ck_index"]]
        cks[K["ck_last_start"]] = cks[K["ck_start"]]
        cks[K["ck_last_end"]] = cks[K["ck_end"]]
        cnt[C["checkpoints"]] += 1
        cnt[C["ckpt_busy_ps"]] += cks[K["ck_end"]] - cks[K["ck_start"]]

    def ck_advance(t):
        """Issue the checkpoint copies due by t, one per DMA slot, in time order."""
        while cks[K["ck_pos"]] < cks[K["ck_total"]] and cks[K["ck_issue"]] <= t:
            f = ck_copy_list[cks[K["ck_pos"]]]
            cks[K["ck_pos"]] += 1
            if ck_pending[f]:       # not already copied on a write
                ck_copy(f, cks[K["ck_issue"]])
                cks[K["ck_issue"]] += p[P["CK_PACE_PS"]]
        if cks[K["ck_pos"]] == cks[K["ck_total"]]:
            ck_finish()

    def ck_start(t):
        """A tick at t: snapshot the frames to copy; stopping regimes copy them while the host
        waits, cow copies them in the background."""
        cks[K["ck_index"]] += 1
        if ck_regime == 1:
            todo = [k for k in range(n_sets * ways) if frame_page[k] >= 0]
        else:
            todo = [f for f in ck_list[:cks[K["ck_count"]]] if ck_dirty[f] == 1]
        for f in ck_list[:cks[K["ck_count"]]]:
            ck_dirty[f] = 0
        cks[K["ck_count"]] = 0
        ck_copy_list[:len(todo)] = todo
        for f in todo:
            ck_pending[f] = 1
        cks[K["ck_start"]] = t
        cks[K["ck_issue"]] = cks[K["ck_end"]] = t + p[P["CK_SETUP_PS"]]
        cks[K["ck_pos"]], cks[K["ck_total"]], cks[K["ck_active"]] = 0, len(todo), 1
        if ck_regime == 3:
            ck_advance(t)
            return
        stop_from = max(t, cks[K["stall_until"]])
        ck_advance(1 << 63)
        if cks[K["ck_last_end"]] > stop_from:
            cnt[C["ckpt_stall_ps"]] += cks[K["ck_last_end"]] - stop_from
            cks[K["stall_until"]] = cks[K["ck_last_end"]]

    def fail_and_restore(t):
        """A failure at t: the last completely stored checkpoint is fetched back into local DRAM."""
        if cks[K["ck_active"]]:
            for f in ck_copy_list[cks[K["ck_pos"]]:cks[K["ck_total"]]]:
                ck_pending[f] = 0
            cks[K["ck_active"]] = 0
        if cks[K["ck_last_index"]] > 0 and cks[K["ck_last_end"]] <= t:
            good, good_start = cks[K["ck_last_index"]], cks[K["ck_last_start"]]
        elif cks[K["ck_prev_index"]] > 0 and cks[K["ck_prev_end"]] <= t:
            good, good_start = cks[K["ck_prev_index"]], cks[K["ck_prev_start"]]
        else:
            good, good_start = 0, cnt[C["first_arrival_ps"]]
        start = t + p[P["CK_SETUP_PS"]]
        end = start
        for k in range(n_sets * ways):
            if 0 < ck_first[k] <= good:
                if p[P["CK_TARGET"]] == 1:
                    got = storage_io(start, 0)
                elif p[P["CK_TARGET"]] == 2:
                    got = peer.block(peer_base + (k << ushift), unit, start + p[P["PEER_PS"]], 0)
                    got = link_send(IN, got, p[P["SER_UNIT_PS"]], p[P["WIRE_UNIT_B"]], bg)
                else:
                    got = blade_block(ck_base + (k << ushift), unit, start, 0)
                    got = from_blade(got, p[P["SER_UNIT_PS"]], p[P["WIRE_UNIT_B"]], bg)
                end = max(end, local.block(k << ushift, unit, got, 1))
                cnt[C["restored_bytes"]] += unit
        cnt[C["failures"]] += 1
        cnt[C["lost_work_ps"]] += t - good_start
        cnt[C["recovery_ps"]] += end - t
        cks[K["stall_until"]] = max(cks[K["stall_until"]], end)
        cks[K["failed"]] = 1

    def control_events(arr):
        """Every blade's checkpoint ticks and background copies, an injected failure, SLA and
        permission changes due by arr, in time order (the blades' background copies interleaved
        by time; their ticks in blade order within a step)."""
        fail_at, fail_cb = p[P["FAIL_AT_PS"]], p[P["FAIL_CB"]]
        bound = cur_cb
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
                due = sorted((per_blade[b]["ck_sc"][K["ck_issue"]], b) for b in range(n_cb)
                             if per_blade[b]["ck_sc"][K["ck_active"]] and per_blade[b]["ck_sc"][K["ck_issue"]] <= lim)
                if not due:
                    break
                if due[0][1] != cur_cb:
                    bind(due[0][1])
                ck_advance(min(lim, due[1][0]) if len(due) > 1 else lim)
            started = False
            for b in range(n_cb if ck_regime else 0):
                ck = per_blade[b]["ck_sc"]
                if ck[K["ck_active"]] or ck[K["ck_next"]] > lim:
                    continue
                if b != cur_cb:
                    bind(b)
                t = max(ck[K["ck_next"]], ck[K["ck_last_end"]])
                ck_start(t)
                # ticks that fall while this checkpoint is taken (or stops the host) are skipped
                busy_until = t if ck[K["ck_active"]] else ck[K["ck_last_end"]]
                interval = p[P["CK_INTERVAL_PS"]]
                ck[K["ck_next"]] += interval
                if ck[K["ck_next"]] <= busy_until:
                    skipped = (busy_until - ck[K["ck_next"]]) // interval + 1
                    cnt[C["ckpt_ticks_skipped"]] += skipped
                    ck[K["ck_next"]] += skipped * interval
                started = True
                break
            if started:
                continue
            if not fck[K["failed"]] and 0 <= fail_at <= lim:
                if fail_cb != cur_cb:
                    bind(fail_cb)
                fail_and_restore(fail_at)
            elif ev_t is not None and ev_t <= lim:
                # the network manager changes a queue's SLA: its row in force becomes the event's
                q = p[ev + 1]
                qsla[q * QW:(q + 1) * QW] = p[ev + 2:ev + 2 + QW]
                sc[S["qos_ev"]] += 1
            elif pm_t is not None and pm_t <= lim:
                permission_change(p[pm + 1], p[pm + 2], p[pm + 3])
                sc[S["perm_ev"]] += 1
            else:
                break
        if cur_cb != bound:
            bind(bound)

    def storage_io(t, write):
        """One swap unit to or from the device: queue slot, free unit, access time, transfer."""
        ri = sc[S["dev_ring_idx"]]
        s = max(t, dev_ring[ri])
        u = min(range(p[P["ST_UNITS"]]), key=lambda k: dev_unit_free[k])
        s = max(s, dev_unit_free[u])
        cnt[C["storage_wait_ps"]] += s - t
        x = max(s + (p[P["ST_WRITE_PS"]] if write else p[P["ST_READ_PS"]]), sc[S["dev_bus_free"]])
        done = x + p[P["ST_XFER_PS"]]
        sc[S["dev_bus_free"]] = done
        dev_unit_free[u] = done
        dev_ring[ri] = done
        sc[S["dev_ring_idx"]] = (ri + 1) % p[P["ST_QD"]]
        cnt[C["storage_writes"] if write else C["storage_reads"]] += 1
        return done

    def driver_take(t):
        """(buffer, start) for an I/O command issued at t: earliest-free buffer, after the overhead."""
        b = min(range(p[P["DRV_BUFS"]]), key=lambda k: buf_free[k])
        ready = t + p[P["DRV_OVERHEAD_PS"]]
        if buf_free[b] > ready:
            cnt[C["driver_wait_ps"]] += buf_free[b] - ready
            ready = buf_free[b]
        return b, ready

    def blade_slot_for_victim(j, t):
        """A blade slot of set j for a victim, or -1 without a blade; a full blade first pushes
        one of its pages down to storage through the driver."""
        nonlocal rng
        if per_set == 0:
            return -1
        if blade_next[j] < per_set:
            s = blade_next[j] * n_sets + j
            blade_next[j] += 1
            return s
        if p[P["ST_VICTIM"]] == 0:
            k = blade_hand[j]
            blade_hand[j] = (k + 1) % per_set
        else:
            rng, r = splitmix64(rng)
            k = r % per_set
        s = k * n_sets + j
        u = slot_page[s]
        b, start = driver_take(t)
        t_req = to_blade(sp_need(s << ushift, start), p[P["SER_REQ_PS"]], p[P["WIRE_REQ_B"]], cur_q)
        t_rd = blade_block(s << ushift, unit, agent_in(t_req), 0)
        t_in = from_blade(t_rd, p[P["SER_UNIT_PS"]], p[P["WIRE_UNIT_B"]], cur_q)
        buf_free[b] = storage_io(t_in, 1)
        loc[u] = ON_STORAGE
        slot_page[s] = -1
        cnt[C["blade_evictions"]] += 1
        return s

    def writeback(t, dest):
        """The transmission module sends a victim, ready at t, into the bound blade's slot dest."""
        t_wb = to_blade(sp_need(dest << ushift, t), p[P["SER_UNIT_PS"]], p[P["WIRE_UNIT_B"]], cur_q)
        blade_block(dest << ushift, unit, agent_in(t_wb), 1)

    def defer_writeback(t, dest):
        """Hold the write-back (ready at t) until an access arrives at or after t (see _layout):
        a ring of DEFER_CAP rows from defer_head, sorted by time."""
        if sc[S["defer_n"]] == DEFER_CAP:      # full: the earliest goes now
            run_deferred(defer[4 * sc[S["defer_head"]]])
        n, head = sc[S["defer_n"]], sc[S["defer_head"]]
        rows = [defer[4 * ((head + k) % DEFER_CAP):4 * ((head + k) % DEFER_CAP) + 4] for k in range(n)]
        k = n
        while k > 0 and rows[k - 1][0] > t:
            k -= 1
        rows.insert(k, [t, cur_cb, dest, cur_q])
        for k, r in enumerate(rows):
            j = 4 * ((head + k) % DEFER_CAP)
            defer[j:j + 4] = r
        sc[S["defer_n"]] = n + 1

    def run_deferred(upto):
        """Carry out the held-back write-backs ready by `upto`, in time order, each on its blade."""
        nonlocal cur_q
        bound, q = cur_cb, cur_q
        while sc[S["defer_n"]] > 0 and defer[4 * sc[S["defer_head"]]] <= upto:
            i = 4 * sc[S["defer_head"]]
            t, k, dest, cur_q = defer[i:i + 4]
            sc[S["defer_head"]] = (sc[S["defer_head"]] + 1) % DEFER_CAP
            sc[S["defer_n"]] -= 1
            if k != cur_cb:
                bind(k)
            writeback(t, dest)
        if cur_cb != bound:
            bind(bound)
        cur_q = q

    def swap_in(t, g, slot, off, w):
        """Fault on unit g, in blade slot `slot` or on storage when slot < 0."""
        cnt[C["faults"]] += 1
        t0 = t + p[P["TRAP_PS"]]
        j = g & smask
        f = take_free(j)
        if f < 0:
            f = pick_victim(j)
        faddr = f << ushift
        buf = -1
        if slot >= 0:
            # request right after the trap, blade DRAM read, the whole unit back (store and forward)
            t_req = to_blade(sp_need(slot << ushift, t0), p[P["SER_REQ_PS"]], p[P["WIRE_REQ_B"]], cur_q)
            t_rd = blade_block(slot << ushift, unit, agent_in(t_req), 0)
            t_all = from_blade(t_rd, p[P["SER_UNIT_PS"]], p[P["WIRE_UNIT_B"]], cur_q)
            start = t_all - p[P["SER_UNIT_PS"]] - prop
            t_first = start + p[P["SER_FIRST_PS"]] + prop
            slot_page[slot] = -1
        else:
            buf, start = driver_take(t0)
            t_all = t_first = storage_io(start, 0)
        if ck_pending[f]:
            t0 = max(t0, ck_copy(f, t0))   # the checkpoint takes the victim's page before it leaves
        v = frame_page[f]
        free_at = t0
        if v >= 0:
            # swapping module: the victim to the temporary page, which frees the frame
            free_at = local.block(faddr, unit, max(t0, frame_ready[f]), 0)
            free_at = local.block(temp_addr, unit, free_at, 1)
        t_fill = local.block(faddr, unit, max(t_all, free_at), 1)
        if buf >= 0:
            buf_free[buf] = t_fill   # the driver buffer is free once its unit is in the frame
        if v >= 0:
            # transmission module: the victim goes to the blade, into the slot the fetched unit
            # vacated (or a fresh one), else down to storage through the driver
            dest = slot if slot >= 0 else blade_slot_for_victim(j, free_at)
            if dest >= 0:
                defer_writeback(free_at, dest)
                loc[v] = -2 - dest
                slot_page[dest] = v
            else:
                b2, s2 = driver_take(free_at)
                s2 = local.block(temp_addr, unit, s2, 0)
                buf_free[b2] = storage_io(s2, 1)
                loc[v] = ON_STORAGE
            cnt[C["swap_outs"]] += 1
            cnt[C["dirty_victims"]] += dirty[f]
        ready = t_fill + p[P["MAP_UPDATE_PS"]]
        frame_ready[f] = ready
        frame_page[f] = g
        loc[g] = f
        dirty[f] = 0
        if ck_dirty[f] == 1:
            ck_dirty[f] = 2
        if w:
            mark_written(f)
        cnt[C["swap_ins"]] += 1
        done = max(t_first, free_at) if p[P["CBF"]] else local.line(faddr + off, ready, w)
        cnt[C["blade_fault_ps"] if slot >= 0 else C["storage_fault_ps"]] += done - t
        return done

    def memory_access(arr, m, w):
        """One line-sized request to the hypervisor's memory: local, remote line or swap."""
        if policy == 0:
            m -= mbase   # the blade's own machine addresses
            if m < local_bytes:
                cnt[C["local_accesses"]] += 1
                done = local.line(m, arr, w)
            else:
                done = remote_line(arr, m - local_bytes, w)
        else:
            g = m >> ushift
            off = m & umask
            l = loc[g]
            if l == UNTOUCHED:
                j = g & smask
                f = take_free(j)
                if f >= 0:
                    l = f
                    frame_page[f] = g
                    cnt[C["first_touch_local"]] += 1
                elif blade_next[j] < per_set:
                    l = -2 - (blade_next[j] * n_sets + j)
                    slot_page[-2 - l] = g
                    blade_next[j] += 1
                    cnt[C["first_touch_remote"]] += 1
                else:
                    l = ON_STORAGE
                    cnt[C["first_touch_storage"]] += 1
                loc[g] = l
            if l >= 0:
                done = local_access(arr, l, off, w)
            elif policy == 1:
                done = remote_line(arr + p[P["FILTER_PS"]], ((-2 - l) << ushift) + off, w)
            else:
                done = swap_in(arr, g, -1 if l == ON_STORAGE else -2 - l, off, w)
        return done

    def cache_access(arr, m, w):
        """LLC filter: write-back, write-allocate; LRU by use stamp or seeded random."""
        nonlocal rng
        line = m >> p[P["LINE_SHIFT"]]
        base = (line & (cache_sets - 1)) * cache_ways
        sc[S["cache_clock"]] += 1
        for k in range(base, base + cache_ways):
            if cache_tag[k] == line:
                cache_stamp[k] = sc[S["cache_clock"]]
                if w:
                    cache_dirty[k] = 1
                cnt[C["cache_hits"]] += 1
                return arr + p[P["CACHE_HIT_PS"]]
        cnt[C["cache_misses"]] += 1
        v = next((k for k in range(base, base + cache_ways) if cache_tag[k] < 0), -1)
        if v < 0:
            if p[P["CACHE_POLICY"]] == 0:
                v = min(range(base, base + cache_ways), key=lambda k: cache_stamp[k])
            else:
                rng, r = splitmix64(rng)
                v = base + r % cache_ways
            if cache_dirty[v]:
                cnt[C["cache_writebacks"]] += 1
                memory_access(arr, cache_tag[v] << p[P["LINE_SHIFT"]], 1)
        cache_tag[v] = line
        cache_stamp[v] = sc[S["cache_clock"]]
        cache_dirty[v] = w
        return memory_access(arr + p[P["CACHE_HIT_PS"]], m, 0)

    def epoch_row(t):
        """Append (t, all counters) to the epoch buffer."""
        row = [t] + cnt + [sum(x) for x in zip(*(d.cnt for d in locals_))] + blade.cnt
        base = sc[S["epoch_rows"]] * len(row)
        epoch_buf[base:base + len(row)] = row
        sc[S["epoch_rows"]] += 1

    bind(sc[S["cb"]])
    n = len(addr)
    ran = n
    want_out = len(out) > 0
    last_completion = cnt[C["last_completion_ps"]]
    for i in range(n):
        if timing == 0:
            arr = int(t_col[i])
        else:
            issue = sc[S["last_issue_ps"]] + int(t_col[i])
            ready_at = ring[sc[S["ring_idx"]]]
            arr = max(issue, ready_at)
        full = False
        while p[P["EPOCH_PS"]] and arr >= sc[S["epoch_next"]]:
            if sc[S["epoch_rows"]] == p[P["EPOCH_CAP"]]:
                full = True     # nothing of access i has happened yet: the engine resumes here
                break
            epoch_row(sc[S["epoch_next"]])
            sc[S["epoch_next"]] += p[P["EPOCH_PS"]]
        if full:
            ran = i
            break
        if timing == 1:
            cnt[C["stall_ps"]] += arr - issue
            sc[S["last_issue_ps"]] = arr
        if not sc[S["started"]]:
            sc[S["started"]] = 1
            cnt[C["first_arrival_ps"]] = arr
            for b in range(n_cb):      # every blade's service processor starts its clock
                per_blade[b]["ck_sc"][K["ck_next"]] = arr + p[P["CK_INTERVAL_PS"]]
        if ck_regime or p[P["FAIL_AT_PS"]] >= 0 or p[P["QOS_NEV"]] > 0 or p[P["PERM_NEV"]] > 0:
            control_events(arr)
        w = int(op[i])
        v = int(vm[i])
        cur_q = v
        if vm_cb[v] != cur_cb:
            bind(vm_cb[v])
        if sc[S["defer_n"]]:
            run_deferred(arr)
        m = vm_base[v] + int(addr[i])
        start = max(arr, cks[K["stall_until"]])   # the host is stopped by a checkpoint or a recovery
        done = cache_access(start, m, w) if cache_sets else memory_access(start, m, w)
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
        b = hist_bin(lat)
        hist[w * HIST_BINS + b] += 1      # reads, then writes
        if p[P["VM_HIST"]]:
            vm_hist[(2 * v + w) * VM_HIST_BINS + (b >> VM_HIST_SHIFT)] += 1
        vm_stats[v * VSW] += 1
        vm_stats[v * VSW + 1] += lat
        if w:
            vm_stats[v * VSW + 5] += 1
            vm_stats[v * VSW + 6] += lat
        if done > last_completion:
            last_completion = done
        if timing == 1:
            ring[sc[S["ring_idx"]]] = done
            sc[S["ring_idx"]] = (sc[S["ring_idx"]] + 1) % window
        if want_out:
            out[i] = done
        sc[S["last_arrival_ps"]] = arr
        if sc[S["error"]]:      # the engine raises, naming access i
            ran = i + 1
            break
    if n == 0:      # the end of the run: carry out what was held back
        run_deferred(1 << 63)
    cnt[C["last_completion_ps"]] = last_completion
    sc[S["rng"]] = _to_signed(rng)
    st["epoch_buf"][:] = epoch_buf

    st["counters"][:] = cnt
    st["hist"][:] = hist
    st["vm_hist"][:] = vm_hist
    st["vm_stats"][:] = vm_stats
    st["scalars"][:] = sc
    for name, val in (("loc", loc), ("ring", ring), ("dev_unit_free", dev_unit_free), ("dev_ring", dev_ring),
                      ("buf_free", buf_free), ("mbuf_ring", mbuf_ring), ("mbuf_idx", mbuf_idx), ("qos_sla", qsla),
                      ("sp_owner", sp_owner), ("port_cal", port_cal), ("defer", defer),
                      ("port_qos", port_qfree + port_qls + port_qle + port_qfin)):
        st[name][:] = val
    for k in range(n_cb):
        for name, (o, n_) in extents(k).items():
            st[name][o:o + n_] = per_blade[k][name]
    for d in locals_:
        d.save()
    blade.save()
    peer.save()
    if dram_log is not None:
        dram_log.append(np.array(log_rows, np.int64).reshape(-1, len(LOG_FIELDS)))
    return ran


def decode_lookup(p, st, addr, vm, vm_base, lookup):
    """Twin of `_core.decode_lookup` (benchmark stages: decode, or decode + page-table lookup)."""
    ushift = int(p[P["UNIT_SHIFT"]])
    smask = int(p[P["N_SETS"]]) - 1
    umask = (1 << ushift) - 1
    loc = st["loc"]
    a = b = c = 0
    for i in range(len(addr)):
        m = int(vm_base[int(vm[i])]) + int(addr[i])
        g = m >> ushift
        if not lookup:
            a += g + (m & umask) + (g & smask)
            continue
        entry = int(loc[g])
        if entry >= 0:
            a += 1
        elif entry == UNTOUCHED:
            c += 1
        else:
            b += 1
    return a, b, c
