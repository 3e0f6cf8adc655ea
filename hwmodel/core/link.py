"""Link and QoS, the twin of core/link.pxi: the calendars of link directions, the switch port and
the protocol agent; the SNIC's disciplines (fifo, strict priority, drr/wfq as one fair share, token
buckets); a message to or from the memory blade through the link, the switch and its port; the
protocol agent's decode. Times in integer ps.
"""
from __future__ import annotations

from .._layout import C, CAL_WIDTH, LINK_CAL_SLOTS, P, SLA_FIELDS, VM_STAT_NAMES

OUT, IN = 0, 1
QW, VSW = len(SLA_FIELDS), len(VM_STAT_NAMES)


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


class LinkQoS:
    """Methods of the twin's `Core` (state in its attributes: core/state.py)."""

    def qos_start(self, sd, d, a, ser, wire, q):
        """SNIC QoS: when a message of queue q, ready at a, starts serializing in direction d of a
        link or the switch port, whose state is `sd` (a Sched; qtb None: caps act on the links only).
        fifo: one next-free time. strict priority: per level a next-free time; a message of level l
        starts at max(a, free[l]), after any lower-level message that was on the wire at a
        (non-preemptive), then every lower level's next-free time moves back by its
        serialization. fair (drr/wfq): per-queue virtual finish F; it finishes at
        max(a, F) + ser * W / w, W the weight of the queues with F > a (itself included).
        Token bucket (any discipline): the start is also >= the time the bucket holds its bytes;
        the message holds its place in the discipline from when it was ready."""
        qsla, nq, nlev = self.qsla, self.nq, self.nlev
        r = q * QW
        num, den, burst = qsla[r + 2], qsla[r + 3], qsla[r + 4]
        qtb = sd.qtb
        if qtb is None:
            num = 0
        tb = (d * nq + q) * 2
        e = a
        if num:
            e = max(a, qtb[tb] - (-(qtb[tb + 1] - (burst - wire) * num) // den))
        if self.qdisc == 0:
            s = cal_reserve(sd.cal, d * CAL_WIDTH, e, ser)
        elif self.qdisc == 1:
            qfree, qls, qle = sd.qfree, sd.qls, sd.qle
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
            qfin = sd.qfin
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

    def link_send(self, direction, t, ser, wire, q):
        """A message of queue q (a VM, or the background queue), ready at t; returns its arrival."""
        if self.qos:
            start = self.qos_start(self.link, direction, t, ser, wire, q)
        else:
            start = cal_reserve(self.link.cal, direction * CAL_WIDTH, t, ser)
        self.cnt[C["link_bytes_out"] + direction] += wire
        vs = self.vm_stats
        vs[q * VSW + 2] += wire
        vs[q * VSW + 3] += start - t
        vs[q * VSW + 4] += 1
        return start + ser + self.prop

    def port_send(self, d, t, wire, q):
        """The switch's port to the memory blade, shared by every compute blade: a calendar each way,
        or, under QoS, the links' discipline by the message's VM on the port's own state."""
        p = self.p
        ser = -(-(wire * p[P["SW_NUM"]]) // p[P["SW_DEN"]])
        if self.qos:
            s = self.qos_start(self.port, d, t, ser, wire, q)
        else:
            s = cal_reserve(self.port.cal, d * CAL_WIDTH, t, ser)
        self.cnt[C["port_queue_ps"]] += s - t
        self.cnt[C["port_bytes_out"] + d] += wire
        return s + ser

    def to_blade(self, t, ser, wire, q):
        """A message to the memory blade: the link, then (with a switch) the switch and its port."""
        t = self.link_send(OUT, t, ser, wire, q)
        if self.sw:
            t = self.port_send(OUT, t + self.p[P["SW_LAT_PS"]], wire, q)
        return t

    def from_blade(self, t, ser, wire, q):
        """A message from the memory blade sent at t: the port and the switch, then the link."""
        if self.sw:
            t = self.port_send(IN, t, wire, q) + self.p[P["SW_LAT_PS"]]
        return self.link_send(IN, t, ser, wire, q)

    def agent_in(self, t):
        """The protocol agent takes a request that arrived at t (busy AGENT_OCC_PS with each: the
        first free slot at or after t on its calendar), decodes and maps it; returns when the
        memory controller gets it."""
        occ = self.p[P["AGENT_OCC_PS"]]
        if occ:
            s = cal_reserve(self.port.cal, 2 * CAL_WIDTH, t, occ)   # state["port_cal"]: port out, in, agent
            self.cnt[C["agent_wait_ps"]] += s - t
            t = s
        return t + self.p[P["AGENT_PS"]]
