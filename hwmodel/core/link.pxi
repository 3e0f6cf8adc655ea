# Link and QoS (core/link.py in the twin): the calendars of link directions, the switch port and the
# protocol agent; the SNIC's disciplines (fifo, strict priority, drr/wfq as one fair share, token
# buckets); a message to or from the memory blade through the link, the switch and its port; the
# protocol agent's decode.


# _layout.SLA_FIELDS (tests/test_snic.py checks these against it)
DEF Q_LEVEL = 0
DEF Q_WEIGHT = 1
DEF Q_TB_NUM = 2
DEF Q_TB_DEN = 3
DEF Q_TB_BURST = 4


cdef inline int64_t ceil_div(int64_t x, int64_t d) noexcept nogil:
    """ceil(x / d) for d > 0 and any sign of x (C division truncates toward zero)."""
    if x >= 0:
        return (x + d - 1) // d
    return -((-x) // d)


cdef inline int64_t cal_reserve(int64_t* cal, int64_t a, int64_t dur) noexcept nogil:
    """Reserve `dur` ps on a calendar (see _layout.LINK_CAL_SLOTS) for a message ready at a: the
    first idle gap at or after a that holds it. A full calendar forgets its oldest reservation and
    counts the time before its end as busy. Returns the start."""
    cdef int64_t n = cal[0], head = cal[1], x, pos, j
    cdef int64_t* r = cal + 3
    if n == LINK_CAL_SLOTS:
        if r[2 * head + 1] > cal[2]:
            cal[2] = r[2 * head + 1]
        head = (head + 1) & (LINK_CAL_SLOTS - 1)
        n -= 1
        cal[1] = head
    x = a if a > cal[2] else cal[2]
    pos = n
    if n > 0 and x < r[2 * ((head + n - 1) & (LINK_CAL_SLOTS - 1)) + 1]:   # not simply after the last one
        cal_insert_scan(r, head, n, &x, dur, &pos)
    j = (head + pos) & (LINK_CAL_SLOTS - 1)
    r[2 * j] = x
    r[2 * j + 1] = x + dur
    cal[0] = n + 1
    return x


cdef void cal_insert_scan(int64_t* r, int64_t head, int64_t n, int64_t* x, int64_t dur, int64_t* pos) noexcept nogil:
    """cal_reserve's slow path: the first gap that holds the message, and room made for it there.
    Reservations are sorted and disjoint: skip back over those that end after x (usually a few
    recent ones), then walk forward to the first gap wide enough."""
    cdef int64_t k = n - 1, j, i
    while k >= 0 and r[2 * ((head + k) & (LINK_CAL_SLOTS - 1)) + 1] > x[0]:
        k -= 1
    k += 1
    pos[0] = n
    while k < n:
        j = (head + k) & (LINK_CAL_SLOTS - 1)
        if x[0] + dur <= r[2 * j]:
            pos[0] = k
            break
        if r[2 * j + 1] > x[0]:
            x[0] = r[2 * j + 1]
        k += 1
    for k in range(n, pos[0], -1):
        j = (head + k) & (LINK_CAL_SLOTS - 1)
        i = (head + k - 1) & (LINK_CAL_SLOTS - 1)
        r[2 * j] = r[2 * i]
        r[2 * j + 1] = r[2 * i + 1]


cdef int64_t qos_start(Core* c, Sched* sd, int d, int64_t a, int64_t ser, int64_t wire, int64_t q) noexcept nogil:
    """When a message of queue q, ready at a, starts serializing in direction d of the link or
    port `sd` (QoS active)."""
    cdef int64_t* sla = c.qsla + q * QW
    cdef int64_t e = a, x, s, k, lvl, w, W, nl = c.nlev
    cdef bint shaped = sla[Q_TB_NUM] != 0 and sd.qtb != NULL
    cdef int64_t* tb = sd.qtb + (d * c.nq + q) * 2
    cdef int64_t* fr
    cdef int64_t* fin
    if shaped:
        # token bucket (cap = 1 / (TB_NUM / TB_DEN ps per byte), depth TB_BURST): it is full again
        # at D = tb[0] + tb[1] / TB_DEN; a message of L bytes may start once D - s <= (B - L) ps/B
        e = imax(a, tb[0] + ceil_div(tb[1] - (sla[Q_TB_BURST] - wire) * sla[Q_TB_NUM], sla[Q_TB_DEN]))
    if c.qdisc == 0:
        s = cal_reserve(sd.cal + d * CAL_WIDTH, e, ser)
    elif c.qdisc == 1:
        lvl = sla[Q_LEVEL]
        fr = sd.qfree + d * nl
        x = imax(a, fr[lvl])
        for k in range(lvl + 1, nl):          # non-preemptive: a lower level on the wire at a
            if sd.qls[d * nl + k] <= a < sd.qle[d * nl + k]:
                x = imax(x, sd.qle[d * nl + k])
        s = imax(e, x)
        fr[lvl] = x + ser
        for k in range(lvl + 1, nl):          # lower levels wait behind it
            fr[k] = imax(fr[k], x) + ser
        sd.qls[d * nl + lvl] = s
        sd.qle[d * nl + lvl] = s + ser
    else:
        fin = sd.qfin + d * c.nq
        w = sla[Q_WEIGHT]
        W = w
        for k in range(c.nq):                 # weight of the queues still busy at a
            if k != q and fin[k] > a:
                W += c.qsla[k * QW + Q_WEIGHT]
        x = imax(a, fin[q]) + (ser * W + w - 1) // w - ser
        s = imax(e, x)
        fin[q] = s + ser
    if shaped:
        if s > tb[0]:
            tb[0] = s
            tb[1] = 0
        tb[1] += wire * sla[Q_TB_NUM]
        tb[0] += tb[1] // sla[Q_TB_DEN]
        tb[1] = tb[1] % sla[Q_TB_DEN]
    return s


ctypedef int64_t (*qos_fn_t)(Core*, Sched*, int, int64_t, int64_t, int64_t, int64_t) noexcept nogil


cdef inline int64_t link_send(Core* c, int direction, int64_t t, int64_t ser, int64_t wire, int64_t q) noexcept nogil:
    """A message of queue q (a VM, or the background queue), ready at t; returns its arrival."""
    cdef int64_t start
    if c.qos:   # through a pointer: the QoS code stays out of line, the FIFO path small
        start = (<qos_fn_t>c.qos_start_p)(c, &c.link, direction, t, ser, wire, q)
    else:
        start = cal_reserve(c.link.cal + direction * CAL_WIDTH, t, ser)
    c.cnt[C_LINK_BYTES_OUT + direction] += wire
    cdef int64_t* vs = c.vm_stats + q * VSW
    vs[VS_LINK_BYTES] += wire
    vs[VS_LINK_QUEUE] += start - t
    vs[VS_LINK_MSGS] += 1
    return start + ser + c.prop


cdef int64_t port_send(Core* c, int d, int64_t t, int64_t wire, int64_t q) noexcept nogil:
    """The switch's port to the memory blade, shared by every compute blade: a calendar each way,
    or, under QoS, the links' discipline by the message's VM on the port's own state."""
    cdef int64_t ser = ceil_div(wire * c.p[P_SW_NUM], c.p[P_SW_DEN])
    cdef int64_t s
    if c.qos:
        s = (<qos_fn_t>c.qos_start_p)(c, &c.port, d, t, ser, wire, q)
    else:
        s = cal_reserve(c.port.cal + d * CAL_WIDTH, t, ser)
    c.cnt[C_PORT_QUEUE_PS] += s - t
    c.cnt[C_PORT_BYTES_OUT + d] += wire
    return s + ser


cdef inline int64_t to_blade(Core* c, int64_t t, int64_t ser, int64_t wire, int64_t q) noexcept nogil:
    """A message to the memory blade: the compute blade's link, then (with a switch) the switch and
    its port. Returns its arrival at the blade."""
    t = link_send(c, OUT, t, ser, wire, q)
    if c.sw:
        t = port_send(c, OUT, t + c.p[P_SW_LAT_PS], wire, q)
    return t


cdef inline int64_t from_blade(Core* c, int64_t t, int64_t ser, int64_t wire, int64_t q) noexcept nogil:
    """A message from the memory blade, sent at t: the port and the switch, then the link."""
    if c.sw:
        t = port_send(c, IN, t, wire, q) + c.p[P_SW_LAT_PS]
    return link_send(c, IN, t, ser, wire, q)


cdef inline int64_t agent_in(Core* c, int64_t t) noexcept nogil:
    """The protocol agent takes a request that arrived at t (it is busy AGENT_OCC_PS with each:
    the first free slot at or after t on its calendar), decodes and maps it; returns when the
    memory controller gets it."""
    cdef int64_t occ = c.p[P_AGENT_OCC_PS], s
    if occ:
        s = cal_reserve(c.port.cal + 2 * CAL_WIDTH, t, occ)   # state["port_cal"]: port out, in, agent
        c.cnt[C_AGENT_WAIT_PS] += s - t
        t = s
    return t + c.p[P_AGENT_PS]
