# cython: language_level=3
"""Compiled data plane: one nogil loop over a chunk of the trace.

Mirrors `_reference.py` line for line (read that file for the semantics); the differential tests
require identical counters, histograms, state and completion times. Inputs are validated by the
caller (`hwmodel.engine`) before they reach this module; here nothing is checked per access.
State is struct-of-arrays in a dict of numpy arrays owned by `hwmodel.engine.CoreState`.
"""
from libc.stdint cimport int64_t, uint64_t, int32_t, uint8_t, uint16_t
from libc.string cimport memcpy
from libc.stdlib cimport malloc, calloc, free, realloc

import numpy as np

from hwmodel._layout import local_prefix

include "_layout.pxi"
include "_dram.pxi"

cdef extern from *:
    """
    static inline int hw_bitlen(unsigned long long v) { return v ? 64 - __builtin_clzll(v) : 0; }
    #define hw_prefetch(p) __builtin_prefetch((const void*)(p), 1, 3)
    """
    int hw_bitlen(unsigned long long v) noexcept nogil
    void hw_prefetch(const void* p) noexcept nogil

DEF OUT = 0
DEF IN = 1
DEF ON_STORAGE = -2147483648   # _layout.ON_STORAGE
DEF INT64_MAX_PS = 9223372036854775807
# software prefetch distances (accesses ahead) for the page-location table and, one stage later,
# the frame's records: both are indexed by random pages, so without it each access waits on misses
DEF PF_LOC = 16
DEF PF_FRAME = 8
DEF PF_RING = 32   # > PF_LOC, a power of two
DEF VA_TABLE_FULL = 1   # va_map stopped: the virtual-page table is half full
DEF VA_VM_FULL = 2      # ... a VM has no free guest-physical page
# _layout.SLA_FIELDS, EVENT_FIELDS, VM_STAT_NAMES (tests/test_snic.py checks these against it)
DEF Q_LEVEL = 0
DEF Q_WEIGHT = 1
DEF Q_TB_NUM = 2
DEF Q_TB_DEN = 3
DEF Q_TB_BURST = 4
DEF QW = 5
DEF EVW = 7
DEF VS_ACCESSES = 0
DEF VS_LATENCY = 1
DEF VS_LINK_BYTES = 2
DEF VS_LINK_QUEUE = 3
DEF VS_LINK_MSGS = 4
DEF VS_WRITES = 5
DEF VS_WRITE_LATENCY = 6
DEF VSW = 7


# the DRAM request log (hwmodel run --dram-trace): rows of _layout.LOG_FIELDS in a C buffer that
# doubles when full; run_chunk hands it to the caller as one array per chunk
DEF LOG_W = 4
cdef struct ReqLog:
    int64_t* rows
    int64_t n, cap
    bint failed            # a realloc failed: the log is incomplete (run_chunk raises)


# the scheduling state of one link (both directions), or of the switch's memory-blade port
cdef struct Sched:
    int64_t* cal           # fifo: a calendar per direction
    int64_t* qfree         # strict priority, per direction and level: next free
    int64_t* qls           # strict priority, per direction and level: last message's wire interval
    int64_t* qle
    int64_t* qfin          # fair, per direction and queue: virtual finish time
    int64_t* qtb           # token bucket, per direction and queue: full-at time (ps, remainder); NULL = no caps


# where the per-blade state arrays start (blade 0's slices); bind_blade offsets them to blade k's
cdef struct Blade:
    Sched link
    int64_t* frame_ready
    int32_t* frame_page
    int32_t* prev
    int32_t* nxt
    int32_t* head
    int32_t* tail
    int32_t* used
    int32_t* hand
    int32_t* blade_next
    uint8_t* dirty
    uint8_t* ref
    int32_t* slot_page
    int32_t* blade_hand
    uint8_t* ck_dirty
    uint8_t* ck_pending
    int32_t* ck_first
    int32_t* ck_list
    int32_t* ck_copy_list
    int64_t* cache_tag
    int64_t* cache_stamp
    uint8_t* cache_dirty
    int32_t* sp_map


cdef struct Core:
    # the pointers that `Blade` also has are the bound compute blade's slices (bind_blade)
    const int64_t* p
    int64_t* cnt
    int64_t* hist
    int64_t* vm_hist       # per VM: coarse latency histogram (when P_VM_HIST)
    int64_t* vm_stats
    int64_t* sc
    int64_t* ring
    Sched link             # the bound blade's link
    int64_t* frame_ready
    int32_t* pt_dir        # page-table directory: per PT_LEAF guest pages, the leaf that holds them (0 = untouched)
    int32_t* pt_leaf       # page-table leaves, one after another (_layout.PT_LEAF_SHIFT)
    int64_t pt_leaf_lim    # more leaves in use than this: too little room left (scalars["grow"])
    int64_t* cbg           # per compute blade: GROW_FIELDS (where its frames and slots are, how many rows)
    int64_t frame_rows, frame_lim   # the bound blade's frame rows; a set using more than frame_lim: grow
    int64_t slot_rows, slot_lim     # likewise for its blade slots
    int64_t* va_key        # virtual pages: open-addressing keys (_layout.VA_HASH), 0 = empty
    int32_t* va_page       # ... and the guest-physical page each maps to (within its VM)
    int64_t* va_next       # per VM: guest-physical pages handed out
    const int64_t* vm_pages   # per VM: guest-physical pages it may have
    uint64_t va_mask
    int64_t va_shift, va_lim  # home slot = hash >> va_shift; entries it may hold
    int32_t* frame_page
    int32_t* prev
    int32_t* nxt
    int32_t* head
    int32_t* tail
    int32_t* used
    int32_t* hand
    int32_t* blade_next
    uint8_t* dirty
    uint8_t* ref
    int32_t* slot_page     # per blade slot (the compute blade's numbering): the unit it holds, -1 = free
    int32_t* blade_hand    # per set: FIFO hand over its blade slots (eviction to storage)
    int64_t* dev_unit_free # per storage-device unit: free at, ps
    int64_t* dev_ring      # per queue slot: completion of the request that holds it
    int64_t* buf_free      # per I/O-driver buffer: free at, ps
    uint8_t* ck_dirty      # per frame: 0 clean, 1 written since the last checkpoint (listed), 2 listed but clean
    uint8_t* ck_pending    # per frame: in the checkpoint in progress, not yet copied
    int32_t* ck_first      # per frame: index of the first checkpoint that holds it, 0 = none
    int32_t* ck_list       # frames listed since the last checkpoint (each once)
    int32_t* ck_copy_list  # frames of the checkpoint in progress
    int64_t* epoch_buf     # rows of (time, counters, local DRAM counters, blade DRAM counters)
    int64_t* cache_tag     # per cache way: line address held, -1 = invalid
    int64_t* cache_stamp   # per cache way: last use (LRU)
    uint8_t* cache_dirty
    int64_t* qsla          # per queue: the SLA row in force (SLA_FIELDS)
    int32_t* sp_map        # per super page of the compute blade: the memory blade's, -1 = none
    Blade base             # the per-blade arrays as a whole (blade 0's slices)
    int64_t* defer         # held-back victim write-backs: a ring of DEFER_FIELDS rows sorted by time
    Sched port             # the switch's port to the memory blade (caps act on the links only)
    int32_t* sp_owner      # per memory-blade super page: blade + 1 may use it, -(blade + 1) revoked, 0 free
    int64_t nb, cb         # compute blades; the bound one
    int64_t local_bytes, temp_addr, mbase, per_set, sp_shift, sw, ck_base, peer_base
    int64_t* cks           # the bound blade's service-processor and host row (CK_FIELDS)
    int64_t* cks_base      # every blade's rows
    bint sp_identity       # one blade, super pages given at boot, never revoked: blade address = its own
    int64_t qos, qdisc, nq, nlev, cur_q, bg
    void* qos_start_p
    uint64_t rng
    int64_t ushift, smask, n_sets, ways, prop, victim, cache_sets, cache_ways, ck_regime
    int64_t unit           # bytes of a swap unit: 1 << ushift
    Dram* local            # the bound compute blade's local DRAM, one of `locals`
    Dram* locals
    Dram blade
    Dram peer              # a peer node's memory (service processor checkpoints)
    int64_t* mbuf_ring     # per memory-blade buffer: its queue slots' completion times
    int32_t* mbuf_idx      # per memory-blade buffer: the next slot to reuse
    ReqLog* log            # DRAM request log, NULL = not kept


cdef void log_request(Core* c, Dram* m, int64_t addr, int64_t t, int64_t nbytes, int w) noexcept nogil:
    cdef ReqLog* lg = c.log
    cdef int64_t* grown
    cdef int64_t dram_id = c.nb if m == &c.blade else c.nb + 1 if m == &c.peer else m - c.locals
    if lg.failed:
        return
    if lg.n == lg.cap:
        grown = <int64_t*>realloc(lg.rows, 2 * lg.cap * LOG_W * sizeof(int64_t))
        if grown == NULL:
            lg.failed = True
            return
        lg.rows, lg.cap = grown, 2 * lg.cap
    cdef int64_t* r = lg.rows + lg.n * LOG_W
    r[0], r[1], r[2], r[3] = t, addr, nbytes, (dram_id << 1) | w
    lg.n += 1


cdef inline int64_t mem_line(Core* c, Dram* m, int64_t addr, int64_t t, int w) noexcept nogil:
    """A line request to DRAM m (logged when the run keeps a DRAM trace)."""
    if c.log != NULL:
        log_request(c, m, addr, t, (<int64_t>1) << c.p[P_LINE_SHIFT], w)
    return dram_line(m, addr, t, w)


cdef inline int64_t mem_block(Core* c, Dram* m, int64_t addr, int64_t nbytes, int64_t t, int w) noexcept nogil:
    """A block (swap unit) request to DRAM m (logged when the run keeps a DRAM trace)."""
    if c.log != NULL:
        log_request(c, m, addr, t, nbytes, w)
    return dram_block(m, addr, nbytes, t, w)


cdef inline int64_t ring_next(int64_t k, int64_t n) noexcept nogil:
    """(k + 1) % n for 0 <= k < n, without a division (ring and hand indices)."""
    return k + 1 if k + 1 < n else 0


cdef inline int32_t* pt_entry(Core* c, int64_t g) noexcept nogil:
    """Guest page g's page-table entry; an untouched range's is in leaf 0 (read only)."""
    return c.pt_leaf + ((<int64_t>c.pt_dir[g >> PT_LEAF_SHIFT] << PT_LEAF_SHIFT) | (g & PT_MASK))


cdef inline int32_t* pt_claim(Core* c, int64_t g) noexcept nogil:
    """g's entry for its first touch: its range takes the next free leaf if it has none yet."""
    cdef int32_t* d = c.pt_dir + (g >> PT_LEAF_SHIFT)
    if d[0] == 0:
        d[0] = <int32_t>c.sc[S_PT_LEAVES]
        c.sc[S_PT_LEAVES] += 1
        if c.sc[S_PT_LEAVES] > c.pt_leaf_lim:
            c.sc[S_GROW] = 1
    return c.pt_leaf + ((<int64_t>d[0] << PT_LEAF_SHIFT) | (g & PT_MASK))


cdef inline uint64_t va_key_of(int64_t v, uint64_t a, int64_t ushift) noexcept nogil:
    return (((a >> ushift) << 16) | <uint64_t>v) + 1


cdef inline uint64_t va_home(Core* c, uint64_t key) noexcept nogil:
    return (key * 0x9E3779B97F4A7C15ULL) >> c.va_shift     # _layout.VA_HASH


cdef Py_ssize_t va_map(Core* c, const uint64_t* addr, const uint16_t* vm, const int64_t* vm_base,
                       int64_t* mach, Py_ssize_t n, int* why) noexcept nogil:
    """Virtual addresses: the machine address of accesses 0..k-1, in trace order, before they run
    (a mapping depends on nothing else). A page's first touch takes its VM's next free
    guest-physical page (the guest kernel hands them out in order). Returns k: n, or the first
    access whose page is new when the table is half full (why = VA_TABLE_FULL: the engine grows
    it) or its VM has no page left (VA_VM_FULL)."""
    cdef Py_ssize_t i
    cdef uint64_t key, h
    cdef int64_t v, gp
    cdef int64_t umask = c.unit - 1
    for i in range(n):
        if i + 8 < n:
            hw_prefetch(c.va_key + va_home(c, va_key_of(vm[i + 8], addr[i + 8], c.ushift)))
        v = vm[i]
        key = va_key_of(v, addr[i], c.ushift)
        h = va_home(c, key)
        while c.va_key[h] != 0 and <uint64_t>c.va_key[h] != key:
            h = (h + 1) & c.va_mask
        if c.va_key[h] != 0:
            gp = c.va_page[h]
        else:
            if c.sc[S_VA_USED] >= c.va_lim:
                why[0] = VA_TABLE_FULL
                return i
            gp = c.va_next[v]
            if gp >= c.vm_pages[v]:
                why[0] = VA_VM_FULL
                return i
            c.va_next[v] = gp + 1
            c.va_key[h] = <int64_t>key
            c.va_page[h] = <int32_t>gp
            c.sc[S_VA_USED] += 1
        mach[i] = vm_base[v] + (gp << c.ushift) + <int64_t>(addr[i] & <uint64_t>umask)
    return n


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


cdef int64_t sp_take(Core* c) noexcept nogil:
    """The lowest free super page of the memory blade, or -1 (the run stops: no capacity left)."""
    cdef int64_t k = c.sc[S_SP_NEXT]
    while k < c.p[P_N_SP] and c.sp_owner[k] != 0:
        k += 1
    c.sc[S_SP_NEXT] = k
    if k == c.p[P_N_SP]:
        return -1
    c.sp_owner[k] = <int32_t>(c.cb + 1)
    c.cnt[C_SP_GRANTS] += 1
    return k


cdef inline int64_t sp_need(Core* c, int64_t v, int64_t t) noexcept nogil:
    """Before the bound blade's request to its blade address v: when v's super page was never
    handed to it (allocation on demand), the hypervisor first sends an allocate request, and the
    agent grants the lowest free super page. Returns when the request may go."""
    if c.sp_map[v >> c.sp_shift] >= 0:
        return t
    return sp_allocate(c, v >> c.sp_shift, t)


cdef int64_t sp_allocate(Core* c, int64_t vsp, int64_t t) noexcept nogil:
    cdef int64_t k
    t = to_blade(c, t, c.p[P_SER_REQ_PS], c.p[P_WIRE_REQ_B], c.cur_q)
    t = agent_in(c, t)
    k = sp_take(c)
    if k < 0:
        if not c.sc[S_ERROR]:
            c.sc[S_ERROR] = ERR_NO_SUPER_PAGE
            c.sc[S_ERROR_INFO] = vsp
        return t
    c.sp_map[vsp] = <int32_t>k
    return from_blade(c, t, c.p[P_SER_REQ_PS], c.p[P_WIRE_REQ_B], c.cur_q)


cdef inline int64_t blade_phys(Core* c, int64_t v) noexcept nogil:
    """Address-mapping module: the bound compute blade's blade address v -> the memory blade's
    address, or -1 when that super page is not the blade's to touch (a permission fault: the
    request is refused, counted, and in strict mode stops the run)."""
    if c.sp_identity:
        return v
    cdef int64_t vsp = v >> c.sp_shift
    cdef int64_t psp = c.sp_map[vsp]
    if psp < 0 or c.sp_owner[psp] != c.cb + 1:
        c.cnt[C_PERMISSION_FAULTS] += 1
        if c.p[P_STRICT] and not c.sc[S_ERROR]:
            c.sc[S_ERROR] = ERR_PERMISSION
            c.sc[S_ERROR_INFO] = vsp
        return -1
    return (psp << c.sp_shift) | (v & ((<int64_t>1 << c.sp_shift) - 1))


cdef inline int64_t* mbuf_slot(Core* c, int64_t addr, int64_t* t) noexcept nogil:
    """The memory controller finds the buffer that manages `addr`: the request pays the buffer's
    latency and, when its command queue is full, waits for the oldest slot (back-pressure).
    Returns the slot to fill with the request's completion, or NULL when queues are unlimited."""
    cdef const int64_t* p = c.p
    t[0] += p[P_BUF_LAT_PS]
    if p[P_BUF_QD] == 0:
        return NULL
    cdef int64_t b = (addr >> p[P_BUF_SHIFT]) % p[P_BUF_N]
    cdef int64_t* slot = c.mbuf_ring + b * p[P_BUF_QD] + c.mbuf_idx[b]
    c.mbuf_idx[b] = <int32_t>ring_next(c.mbuf_idx[b], p[P_BUF_QD])
    if slot[0] > t[0]:
        c.cnt[C_BUFFER_WAIT_PS] += slot[0] - t[0]
        t[0] = slot[0]
    return slot


cdef inline int64_t blade_line(Core* c, int64_t v, int64_t t, int w) noexcept nogil:
    """A line at the bound compute blade's blade address v, from the agent's hand-off at t."""
    cdef int64_t addr = blade_phys(c, v)
    if addr < 0:
        return t
    cdef int64_t* slot = mbuf_slot(c, addr, &t)
    cdef int64_t done = mem_line(c, &c.blade, addr, t, w)
    if slot != NULL:
        slot[0] = done
    return done


cdef inline int64_t blade_block(Core* c, int64_t v, int64_t nbytes, int64_t t, int w) noexcept nogil:
    cdef int64_t addr = blade_phys(c, v)
    if addr < 0:
        return t
    cdef int64_t* slot = mbuf_slot(c, addr, &t)
    cdef int64_t done = mem_block(c, &c.blade, addr, nbytes, t, w)
    if slot != NULL:
        slot[0] = done
    return done


cdef int64_t remote_line(Core* c, int64_t t, int64_t baddr, int w) noexcept nogil:
    cdef const int64_t* p = c.p
    cdef int64_t t1, t2
    c.cnt[C_REMOTE_ACCESSES] += 1
    t = sp_need(c, baddr, t)
    if w:
        t1 = to_blade(c, t, p[P_SER_WLINE_PS], p[P_WIRE_WLINE_B], c.cur_q)
    else:
        t1 = to_blade(c, t, p[P_SER_REQ_PS], p[P_WIRE_REQ_B], c.cur_q)
    t2 = blade_line(c, baddr, agent_in(c, t1), w)
    if w:
        return from_blade(c, t2, p[P_SER_REQ_PS], p[P_WIRE_REQ_B], c.cur_q)
    return from_blade(c, t2, p[P_SER_LINE_PS], p[P_WIRE_LINE_B], c.cur_q)


cdef inline void lru_remove(Core* c, int32_t f, int64_t j) noexcept nogil:
    cdef int32_t a = c.prev[f]
    cdef int32_t b = c.nxt[f]
    if a >= 0:
        c.nxt[a] = b
    else:
        c.head[j] = b
    if b >= 0:
        c.prev[b] = a
    else:
        c.tail[j] = a


cdef inline void lru_push(Core* c, int32_t f, int64_t j) noexcept nogil:
    c.prev[f] = -1
    c.nxt[f] = c.head[j]
    if c.head[j] >= 0:
        c.prev[c.head[j]] = f
    else:
        c.tail[j] = f
    c.head[j] = f


cdef inline void touch(Core* c, int32_t f) noexcept nogil:
    cdef int64_t j
    if c.victim == 0:
        j = f & c.smask
        if c.head[j] != f:
            lru_remove(c, f, j)
            lru_push(c, f, j)
    elif c.victim == 1:
        c.ref[f] = 1


cdef inline int32_t take_free(Core* c, int64_t j) noexcept nogil:
    if c.used[j] >= c.ways:
        return -1
    cdef int32_t f = <int32_t>(c.used[j] * c.n_sets + j)
    c.used[j] += 1
    if c.used[j] > c.frame_lim:     # frames are taken in order: the engine grows the rows
        c.sc[S_GROW] = 1
    if c.victim == 0:
        lru_push(c, f, j)
    elif c.victim == 1:
        c.ref[f] = 1
    return f


cdef inline uint64_t splitmix64(uint64_t* x) noexcept nogil:
    x[0] += 0x9E3779B97F4A7C15ULL
    cdef uint64_t z = x[0]
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL
    return z ^ (z >> 31)


cdef inline void prefetch_frame(Core* c, int32_t f) noexcept nogil:
    # a frame's records that an access or a swap will touch (a hint: no effect on results)
    hw_prefetch(c.frame_ready + f)
    hw_prefetch(c.frame_page + f)
    hw_prefetch(c.prev + f)
    hw_prefetch(c.nxt + f)
    hw_prefetch(c.dirty + f)


cdef int32_t pick_victim(Core* c, int64_t j) noexcept nogil:
    cdef int32_t f
    if c.victim == 0:
        f = c.tail[j]
        lru_remove(c, f, j)
        lru_push(c, f, j)
        prefetch_frame(c, c.tail[j])    # the next victim, most likely
        return f
    if c.victim == 1:
        while True:
            f = <int32_t>(c.hand[j] * c.n_sets + j)
            c.hand[j] = <int32_t>ring_next(c.hand[j], c.ways)
            if c.ref[f]:
                c.ref[f] = 0
            else:
                c.ref[f] = 1
                return f
    if c.victim == 2:
        f = <int32_t>(c.hand[j] * c.n_sets + j)
        c.hand[j] = <int32_t>ring_next(c.hand[j], c.ways)
        prefetch_frame(c, <int32_t>(c.hand[j] * c.n_sets + j))
        return f
    cdef uint64_t r = splitmix64(&c.rng)
    return <int32_t>((r % <uint64_t>c.ways) * c.n_sets + j)


cdef inline void mark_written(Core* c, int32_t f) noexcept nogil:
    """A host write to frame f: dirty for swapping, and listed for the next checkpoint."""
    c.dirty[f] = 1
    if c.ck_regime:
        if c.ck_dirty[f] == 0:
            c.ck_list[c.cks[K_CK_COUNT]] = f
            c.cks[K_CK_COUNT] += 1
        c.ck_dirty[f] = 1


cdef int64_t storage_io(Core* c, int64_t t, int write) noexcept nogil:
    """One swap unit to or from the storage device; returns when it is done. A request waits for
    a queue slot (the request ST_QD earlier must be done) and a free internal unit, then takes
    the device access time and its transfer on the shared data path."""
    cdef const int64_t* p = c.p
    cdef int64_t k, u = 0
    cdef int64_t s = imax(t, c.dev_ring[c.sc[S_DEV_RING_IDX]])
    for k in range(1, p[P_ST_UNITS]):
        if c.dev_unit_free[k] < c.dev_unit_free[u]:
            u = k
    s = imax(s, c.dev_unit_free[u])
    c.cnt[C_STORAGE_WAIT_PS] += s - t
    cdef int64_t x = imax(s + (p[P_ST_WRITE_PS] if write else p[P_ST_READ_PS]), c.sc[S_DEV_BUS_FREE])
    cdef int64_t done = x + p[P_ST_XFER_PS]
    c.sc[S_DEV_BUS_FREE] = done
    c.dev_unit_free[u] = done
    c.dev_ring[c.sc[S_DEV_RING_IDX]] = done
    c.sc[S_DEV_RING_IDX] = ring_next(c.sc[S_DEV_RING_IDX], p[P_ST_QD])
    if write:
        c.cnt[C_STORAGE_WRITES] += 1
    else:
        c.cnt[C_STORAGE_READS] += 1
    return done


cdef int64_t driver_take(Core* c, int64_t t, int64_t* start) noexcept nogil:
    """The I/O driver's earliest-free page buffer for a command issued at t; `start` gets the time
    the command can begin (after the driver's overhead and the buffer being free)."""
    cdef int64_t k, b = 0
    for k in range(1, c.p[P_DRV_BUFS]):
        if c.buf_free[k] < c.buf_free[b]:
            b = k
    cdef int64_t ready = t + c.p[P_DRV_OVERHEAD_PS]
    if c.buf_free[b] > ready:
        c.cnt[C_DRIVER_WAIT_PS] += c.buf_free[b] - ready
        ready = c.buf_free[b]
    start[0] = ready
    return b


cdef int64_t ck_copy(Core* c, int32_t f, int64_t t) noexcept nogil:
    """The service processor copies frame f at t through its own memory controller (the same
    banks and data bus as the host) to the checkpoint target; returns when it was read out."""
    cdef const int64_t* p = c.p
    cdef int64_t unit = c.unit
    cdef int64_t rd = mem_block(c, c.local, <int64_t>f << c.ushift, unit, t, 0)
    cdef int64_t done, tw
    if p[P_CK_TARGET] == 1:
        done = storage_io(c, rd, 1)
    elif p[P_CK_TARGET] == 2:       # a peer node's memory, through the switch
        tw = link_send(c, OUT, rd, p[P_SER_UNIT_PS], p[P_WIRE_UNIT_B], c.bg)
        done = mem_block(c, &c.peer, c.peer_base + (<int64_t>f << c.ushift), unit, tw + p[P_PEER_PS], 1)
    else:
        tw = to_blade(c, sp_need(c, c.ck_base + (<int64_t>f << c.ushift), rd), p[P_SER_UNIT_PS],
                      p[P_WIRE_UNIT_B], c.bg)
        done = blade_block(c, c.ck_base + (<int64_t>f << c.ushift), unit, agent_in(c, tw), 1)
    c.ck_pending[f] = 0
    if c.ck_first[f] == 0:
        c.ck_first[f] = <int32_t>c.cks[K_CK_INDEX]
    c.cnt[C_CKPT_BYTES] += unit
    c.cks[K_CK_END] = imax(c.cks[K_CK_END], done)
    return rd


cdef void ck_finish(Core* c) noexcept nogil:
    """The checkpoint in progress is completely stored: it becomes the last complete one."""
    cdef int64_t* sc = c.cks      # this blade's service processor and host
    sc[K_CK_ACTIVE] = 0
    sc[K_CK_PREV_INDEX] = sc[K_CK_LAST_INDEX]
    sc[K_CK_PREV_START] = sc[K_CK_LAST_START]
    sc[K_CK_PREV_END] = sc[K_CK_LAST_END]
    sc[K_CK_LAST_INDEX] = sc[K_CK_INDEX]
    sc[K_CK_LAST_START] = sc[K_CK_START]
    sc[K_CK_LAST_END] = sc[K_CK_END]
    c.cnt[C_CHECKPOINTS] += 1
    c.cnt[C_CKPT_BUSY_PS] += sc[K_CK_END] - sc[K_CK_START]


cdef void ck_advance(Core* c, int64_t t) noexcept nogil:
    """Issue the checkpoint copies due by t, one per DMA slot, in time order."""
    cdef int64_t* sc = c.cks      # this blade's service processor and host
    cdef int32_t f
    while sc[K_CK_POS] < sc[K_CK_TOTAL] and sc[K_CK_ISSUE] <= t:
        f = c.ck_copy_list[sc[K_CK_POS]]
        sc[K_CK_POS] += 1
        if c.ck_pending[f]:       # not already copied on a write
            ck_copy(c, f, sc[K_CK_ISSUE])
            sc[K_CK_ISSUE] += c.p[P_CK_PACE_PS]
    if sc[K_CK_POS] == sc[K_CK_TOTAL]:
        ck_finish(c)


cdef void ck_start(Core* c, int64_t t) noexcept nogil:
    """A checkpoint tick at t: snapshot the frames to copy. The stopping regimes copy them all
    while the host waits; cow copies them in the background as time passes."""
    cdef int64_t* sc = c.cks      # this blade's service processor and host
    cdef int64_t k, n = 0, frames = c.n_sets * c.frame_rows, stop_from   # frames beyond: never taken
    cdef int32_t f
    sc[K_CK_INDEX] += 1
    if c.ck_regime == 1:              # stop_and_copy: the whole resident image
        for k in range(frames):
            if c.frame_page[k] >= 0:
                c.ck_copy_list[n] = <int32_t>k
                n += 1
    else:                             # incremental, cow: the frames written since the last tick
        for k in range(sc[K_CK_COUNT]):
            f = c.ck_list[k]
            if c.ck_dirty[f] == 1:
                c.ck_copy_list[n] = f
                n += 1
    for k in range(sc[K_CK_COUNT]):
        c.ck_dirty[c.ck_list[k]] = 0
    sc[K_CK_COUNT] = 0
    for k in range(n):
        c.ck_pending[c.ck_copy_list[k]] = 1
    sc[K_CK_START] = t
    sc[K_CK_ISSUE] = t + c.p[P_CK_SETUP_PS]
    sc[K_CK_END] = sc[K_CK_ISSUE]
    sc[K_CK_POS] = 0
    sc[K_CK_TOTAL] = n
    sc[K_CK_ACTIVE] = 1
    if c.ck_regime == 3:
        ck_advance(c, t)
        return
    stop_from = imax(t, sc[K_STALL_UNTIL])
    ck_advance(c, INT64_MAX_PS)
    if sc[K_CK_LAST_END] > stop_from:
        c.cnt[C_CKPT_STALL_PS] += sc[K_CK_LAST_END] - stop_from
        sc[K_STALL_UNTIL] = sc[K_CK_LAST_END]


cdef void fail_and_restore(Core* c, int64_t t) noexcept nogil:
    """A failure at t: a checkpoint not completely stored by t is never used; the service
    processor fetches the last complete one back into local DRAM, and the host resumes after."""
    cdef const int64_t* p = c.p
    cdef int64_t* sc = c.cks      # this blade's service processor and host
    cdef int64_t unit = c.unit
    cdef int64_t good, good_start, start, end, got, k, frames = c.n_sets * c.frame_rows
    if sc[K_CK_ACTIVE]:               # discard the checkpoint in progress
        for k in range(sc[K_CK_POS], sc[K_CK_TOTAL]):
            c.ck_pending[c.ck_copy_list[k]] = 0
        sc[K_CK_ACTIVE] = 0
    if sc[K_CK_LAST_INDEX] > 0 and sc[K_CK_LAST_END] <= t:
        good, good_start = sc[K_CK_LAST_INDEX], sc[K_CK_LAST_START]
    elif sc[K_CK_PREV_INDEX] > 0 and sc[K_CK_PREV_END] <= t:
        good, good_start = sc[K_CK_PREV_INDEX], sc[K_CK_PREV_START]
    else:
        good, good_start = 0, c.cnt[C_FIRST_ARRIVAL_PS]
    start = t + p[P_CK_SETUP_PS]
    end = start
    for k in range(frames):
        if 0 < c.ck_first[k] <= good:
            if p[P_CK_TARGET] == 1:
                got = storage_io(c, start, 0)
            elif p[P_CK_TARGET] == 2:
                got = mem_block(c, &c.peer, c.peer_base + (k << c.ushift), unit, start + p[P_PEER_PS], 0)
                got = link_send(c, IN, got, p[P_SER_UNIT_PS], p[P_WIRE_UNIT_B], c.bg)
            else:
                got = blade_block(c, c.ck_base + (k << c.ushift), unit, start, 0)
                got = from_blade(c, got, p[P_SER_UNIT_PS], p[P_WIRE_UNIT_B], c.bg)
            end = imax(end, mem_block(c, c.local, k << c.ushift, unit, got, 1))
            c.cnt[C_RESTORED_BYTES] += unit
    c.cnt[C_FAILURES] += 1
    c.cnt[C_LOST_WORK_PS] += t - good_start
    c.cnt[C_RECOVERY_PS] += end - t
    sc[K_STALL_UNTIL] = imax(sc[K_STALL_UNTIL], end)
    sc[K_FAILED] = 1


cdef inline int64_t local_access(Core* c, int64_t t, int32_t f, int64_t off, int w) noexcept nogil:
    c.cnt[C_LOCAL_ACCESSES] += 1
    t = imax(t, c.frame_ready[f])
    cdef int64_t rd
    if w and c.ck_pending[f]:
        # copy on write: the page goes out to the checkpoint before the host changes it
        rd = ck_copy(c, f, t)
        c.cnt[C_COW_WAIT_PS] += rd - t
        t = rd
    cdef int64_t done = mem_line(c, c.local, (<int64_t>f << c.ushift) + off, t, w)
    touch(c, f)
    if w:
        mark_written(c, f)
    return done


cdef int64_t blade_slot_for_victim(Core* c, int64_t j, int64_t t) noexcept nogil:
    """A blade slot of set j for a victim leaving local memory at t, or -1 without a blade. A full
    blade first pushes one of its pages down to storage through the I/O driver."""
    cdef const int64_t* p = c.p
    cdef int64_t per_set = c.per_set
    cdef int64_t k, s, b, start, t_req, t_rd, t_in
    cdef int32_t u
    if per_set == 0:
        return -1
    if c.blade_next[j] < per_set:
        s = c.blade_next[j] * c.n_sets + j
        c.blade_next[j] += 1
        if c.blade_next[j] > c.slot_lim:
            c.sc[S_GROW] = 1
        return s
    if p[P_ST_VICTIM] == 0:
        k = c.blade_hand[j]
        c.blade_hand[j] = <int32_t>ring_next(k, per_set)
    else:
        k = <int64_t>(splitmix64(&c.rng) % <uint64_t>per_set)
    s = k * c.n_sets + j
    u = c.slot_page[s]
    # the driver pulls the page over the link into its buffer and writes it to the device
    b = driver_take(c, t, &start)
    t_req = to_blade(c, sp_need(c, s << c.ushift, start), p[P_SER_REQ_PS], p[P_WIRE_REQ_B], c.cur_q)
    t_rd = blade_block(c, s << c.ushift, c.unit, agent_in(c, t_req), 0)
    t_in = from_blade(c, t_rd, p[P_SER_UNIT_PS], p[P_WIRE_UNIT_B], c.cur_q)
    c.buf_free[b] = storage_io(c, t_in, 1)
    pt_entry(c, u)[0] = ON_STORAGE
    c.slot_page[s] = -1
    c.cnt[C_BLADE_EVICTIONS] += 1
    return s


cdef void writeback(Core* c, int64_t t, int64_t dest) noexcept nogil:
    """The transmission module sends a victim, ready at t, into the bound blade's slot dest."""
    cdef int64_t t_wb = to_blade(c, sp_need(c, dest << c.ushift, t), c.p[P_SER_UNIT_PS], c.p[P_WIRE_UNIT_B], c.cur_q)
    blade_block(c, dest << c.ushift, c.unit, agent_in(c, t_wb), 1)


cdef void defer_writeback(Core* c, int64_t t, int64_t dest) noexcept nogil:
    """Hold the write-back (ready at t) until an access arrives at or after t (see _layout)."""
    cdef int64_t n, k, j, i, head
    cdef int64_t* q = c.defer
    if c.sc[S_DEFER_N] == DEFER_CAP:            # full: the earliest goes now
        run_deferred(c, q[4 * c.sc[S_DEFER_HEAD]])
    n, head = c.sc[S_DEFER_N], c.sc[S_DEFER_HEAD]
    k = n
    while k > 0:                                 # sorted by time: walk back from the newest
        i = 4 * ((head + k - 1) & (DEFER_CAP - 1))
        if q[i] <= t:
            break
        j = 4 * ((head + k) & (DEFER_CAP - 1))
        q[j], q[j + 1], q[j + 2], q[j + 3] = q[i], q[i + 1], q[i + 2], q[i + 3]
        k -= 1
    j = 4 * ((head + k) & (DEFER_CAP - 1))
    q[j], q[j + 1], q[j + 2], q[j + 3] = t, c.cb, dest, c.cur_q
    c.sc[S_DEFER_N] = n + 1


cdef void run_deferred(Core* c, int64_t upto) noexcept nogil:
    """Carry out the held-back write-backs ready by `upto`, in time order, each on its blade."""
    cdef int64_t* q = c.defer
    cdef int64_t bound = c.cb, cur_q = c.cur_q, t, k, dest, i
    while c.sc[S_DEFER_N] > 0:
        i = 4 * c.sc[S_DEFER_HEAD]
        if q[i] > upto:
            break
        t, k, dest, c.cur_q = q[i], q[i + 1], q[i + 2], q[i + 3]
        c.sc[S_DEFER_HEAD] = (c.sc[S_DEFER_HEAD] + 1) & (DEFER_CAP - 1)
        c.sc[S_DEFER_N] -= 1
        if k != c.cb:
            bind_blade(c, k)
        writeback(c, t, dest)
    if c.cb != bound:
        bind_blade(c, bound)
    c.cur_q = cur_q


cdef int64_t swap_in(Core* c, int64_t t, int64_t g, int32_t* ge, int64_t slot, int64_t off, int w) noexcept nogil:
    """Fault on unit g (page-table entry ge), which is in blade slot `slot`, or on storage when slot < 0."""
    cdef const int64_t* p = c.p
    cdef int64_t unit = c.unit
    c.cnt[C_FAULTS] += 1
    cdef int64_t t0 = t + p[P_TRAP_PS]
    cdef int64_t j = g & c.smask
    cdef int32_t f = take_free(c, j)
    if f < 0:
        f = pick_victim(c, j)
    cdef int64_t faddr = <int64_t>f << c.ushift
    cdef int64_t t_req, t_rd, start, t_all, t_first, buf = -1
    if slot >= 0:
        # request right after the trap, blade DRAM read, the whole unit back (store and forward)
        t_req = to_blade(c, sp_need(c, slot << c.ushift, t0), p[P_SER_REQ_PS], p[P_WIRE_REQ_B], c.cur_q)
        t_rd = blade_block(c, slot << c.ushift, unit, agent_in(c, t_req), 0)
        t_all = from_blade(c, t_rd, p[P_SER_UNIT_PS], p[P_WIRE_UNIT_B], c.cur_q)
        start = t_all - p[P_SER_UNIT_PS] - c.prop
        t_first = start + p[P_SER_FIRST_PS] + c.prop
        c.slot_page[slot] = -1
    else:
        # the I/O driver reads the unit from the device into one of its buffers
        buf = driver_take(c, t0, &start)
        t_all = storage_io(c, start, 0)
        t_first = t_all
    if c.ck_pending[f]:
        t0 = imax(t0, ck_copy(c, f, t0))   # the checkpoint takes the victim's page before it leaves
    cdef int32_t v = c.frame_page[f]
    cdef int64_t free_at = t0
    cdef int64_t dest, b2, s2
    if v >= 0:
        # swapping module: the victim to the temporary page, which frees the frame
        free_at = mem_block(c, c.local, faddr, unit, imax(t0, c.frame_ready[f]), 0)
        free_at = mem_block(c, c.local, c.temp_addr, unit, free_at, 1)
    cdef int64_t t_fill = mem_block(c, c.local, faddr, unit, imax(t_all, free_at), 1)
    if buf >= 0:
        c.buf_free[buf] = t_fill   # the driver buffer is free once its unit is in the frame
    if v >= 0:
        # transmission module: the victim goes to the blade, into the slot the fetched unit
        # vacated (or a fresh one), else down to storage through the driver
        dest = slot if slot >= 0 else blade_slot_for_victim(c, j, free_at)
        if dest >= 0:
            defer_writeback(c, free_at, dest)
            pt_entry(c, v)[0] = <int32_t>(-2 - dest)
            c.slot_page[dest] = v
        else:
            b2 = driver_take(c, free_at, &s2)
            s2 = mem_block(c, c.local, c.temp_addr, unit, s2, 0)
            c.buf_free[b2] = storage_io(c, s2, 1)
            pt_entry(c, v)[0] = ON_STORAGE
        c.cnt[C_SWAP_OUTS] += 1
        c.cnt[C_DIRTY_VICTIMS] += c.dirty[f]
    cdef int64_t ready = t_fill + p[P_MAP_UPDATE_PS]
    c.frame_ready[f] = ready
    c.frame_page[f] = <int32_t>g
    ge[0] = f
    c.dirty[f] = 0
    if c.ck_dirty[f] == 1:
        c.ck_dirty[f] = 2
    if w:
        mark_written(c, f)
    c.cnt[C_SWAP_INS] += 1
    cdef int64_t done
    if p[P_CBF]:
        done = imax(t_first, free_at)
    else:
        done = mem_line(c, c.local, faddr + off, ready, w)
    if slot >= 0:
        c.cnt[C_BLADE_FAULT_PS] += done - t
    else:
        c.cnt[C_STORAGE_FAULT_PS] += done - t
    return done


cdef inline int64_t hist_bin(int64_t v) noexcept nogil:
    cdef int k = hw_bitlen(<unsigned long long>v)
    if k <= HIST_SUB_BITS + 1:
        return v
    return ((<int64_t>(k - HIST_SUB_BITS - 1)) << HIST_SUB_BITS) + (v >> (k - HIST_SUB_BITS - 1))


cdef int64_t memory_access(Core* c, int64_t arr, int64_t m, int w) noexcept nogil:
    """One line-sized request from the processor side to the hypervisor's memory: local DRAM,
    a remote line, or a swap, by policy."""
    cdef const int64_t* p = c.p
    cdef int64_t* cnt = c.cnt
    cdef int64_t g, off, j, done
    cdef int32_t l, f
    cdef int32_t* ge
    if p[P_POLICY] == 0:
        m -= c.mbase   # the blade's own machine addresses
        if m < c.local_bytes:
            cnt[C_LOCAL_ACCESSES] += 1
            done = mem_line(c, c.local, m, arr, w)
        else:
            done = remote_line(c, arr, m - c.local_bytes, w)
    else:
        g = m >> c.ushift
        off = m & (c.unit - 1)
        ge = pt_entry(c, g)
        l = ge[0]
        if l == -1:
            j = g & c.smask
            f = take_free(c, j)
            if f >= 0:
                l = f
                c.frame_page[f] = <int32_t>g
                cnt[C_FIRST_TOUCH_LOCAL] += 1
            else:
                if c.blade_next[j] < c.per_set:
                    l = <int32_t>(-2 - (c.blade_next[j] * c.n_sets + j))
                    c.slot_page[-2 - l] = <int32_t>g
                    c.blade_next[j] += 1
                    if c.blade_next[j] > c.slot_lim:
                        c.sc[S_GROW] = 1
                    cnt[C_FIRST_TOUCH_REMOTE] += 1
                elif not p[P_STORAGE]:
                    # only a VM of `auto` memory outgrows its blade: the engine raises
                    if not c.sc[S_ERROR]:
                        c.sc[S_ERROR] = ERR_NO_ROOM
                        c.sc[S_ERROR_INFO] = c.cb
                    return arr
                else:
                    l = ON_STORAGE
                    cnt[C_FIRST_TOUCH_STORAGE] += 1
            ge = pt_claim(c, g)
            ge[0] = l
        if l >= 0:
            done = local_access(c, arr, l, off, w)
        elif p[P_POLICY] == 1:
            done = remote_line(c, arr + p[P_FILTER_PS], ((-2 - <int64_t>l) << c.ushift) + off, w)
        else:
            done = swap_in(c, arr, g, ge, -1 if l == ON_STORAGE else -2 - <int64_t>l, off, w)
    return done


cdef int64_t cache_access(Core* c, int64_t arr, int64_t m, int w) noexcept nogil:
    """Last-level cache filter (write-back, write-allocate): a hit ends here after the hit
    latency; a miss evicts a way (a dirty victim is written back to memory off the critical
    path) and fetches the line with a read after the tag check."""
    cdef int64_t line = m >> c.p[P_LINE_SHIFT]
    cdef int64_t base = (line & (c.cache_sets - 1)) * c.cache_ways
    cdef int64_t k, v = -1, oldest
    c.sc[S_CACHE_CLOCK] += 1
    for k in range(base, base + c.cache_ways):
        if c.cache_tag[k] == line:
            c.cache_stamp[k] = c.sc[S_CACHE_CLOCK]
            if w:
                c.cache_dirty[k] = 1
            c.cnt[C_CACHE_HITS] += 1
            return arr + c.p[P_CACHE_HIT_PS]
    c.cnt[C_CACHE_MISSES] += 1
    for k in range(base, base + c.cache_ways):
        if c.cache_tag[k] < 0:
            v = k
            break
    if v < 0:
        if c.p[P_CACHE_POLICY] == 0:
            v = base
            oldest = c.cache_stamp[base]
            for k in range(base + 1, base + c.cache_ways):
                if c.cache_stamp[k] < oldest:
                    oldest = c.cache_stamp[k]
                    v = k
        else:
            v = base + <int64_t>(splitmix64(&c.rng) % <uint64_t>c.cache_ways)
        if c.cache_dirty[v]:
            c.cnt[C_CACHE_WRITEBACKS] += 1
            memory_access(c, arr, c.cache_tag[v] << c.p[P_LINE_SHIFT], 1)
    c.cache_tag[v] = line
    c.cache_stamp[v] = c.sc[S_CACHE_CLOCK]
    c.cache_dirty[v] = <uint8_t>w
    return memory_access(c, arr + c.p[P_CACHE_HIT_PS], m, 0)


cdef void permission_change(Core* c, int64_t k, int64_t vsp, int64_t access) noexcept nogil:
    """The address-mapping module lets compute blade k use its super page vsp (access 1), or stops
    it (0: its hypervisor still maps pages there, their requests become permission faults), or
    takes it back (2, de-allocation: free again; the blade's next request there asks for a new
    one). A super page not yet handed out is granted first (not for a release)."""
    cdef int32_t* sp_map = c.base.sp_map + c.p[c.p[P_CB_AT] + k * N_CB_FIELDS + CB_VSP_OFF]
    cdef int64_t bound = c.cb, psp
    c.cnt[C_PERMISSION_CHANGES] += 1
    if access == 2:
        psp = sp_map[vsp]
        if psp >= 0:
            c.sp_owner[psp] = 0
            sp_map[vsp] = -1
            if psp < c.sc[S_SP_NEXT]:
                c.sc[S_SP_NEXT] = psp
            c.cnt[C_SP_RELEASES] += 1
        return
    if sp_map[vsp] < 0:
        c.cb = k                     # sp_take hands it to blade k
        psp = sp_take(c)
        c.cb = bound
        if psp < 0:
            if not c.sc[S_ERROR]:
                c.sc[S_ERROR] = ERR_NO_SUPER_PAGE
                c.sc[S_ERROR_INFO] = vsp
            return
        sp_map[vsp] = <int32_t>psp
    c.sp_owner[sp_map[vsp]] = <int32_t>(k + 1 if access else -(k + 1))


cdef void control_events(Core* c, int64_t arr) noexcept nogil:
    """Checkpoint ticks and background copies of every compute blade's service processor, an
    injected failure, SLA and permission changes due by `arr`, in time order (the blades'
    background copies interleaved by time; their ticks in blade order within a step). A tick that
    finds a checkpoint still being copied waits for it to finish."""
    cdef int64_t* sc = c.sc
    cdef int64_t* ck
    cdef int64_t fail_at = c.p[P_FAIL_AT_PS]
    cdef int64_t fail_cb = c.p[P_FAIL_CB]
    cdef int64_t* fck = c.cks_base + fail_cb * N_CK_FIELDS
    cdef int64_t interval = c.p[P_CK_INTERVAL_PS]
    cdef int64_t lim, t, busy_until, skipped, ev_t, pm_t, k, q, b, best, t1, t2, bound = c.cb
    cdef bint started
    cdef const int64_t* ev = c.p
    cdef const int64_t* pm = c.p
    while True:
        lim = arr
        if not fck[K_FAILED] and 0 <= fail_at < lim:
            lim = fail_at
        ev_t = INT64_MAX_PS
        if sc[S_QOS_EV] < c.p[P_QOS_NEV]:
            ev = c.p + c.p[P_QOS_EV_AT] + sc[S_QOS_EV] * EVW
            ev_t = ev[0]
            if ev_t < lim:
                lim = ev_t
        pm_t = INT64_MAX_PS
        if sc[S_PERM_EV] < c.p[P_PERM_NEV]:
            pm = c.p + c.p[P_PERM_EV_AT] + sc[S_PERM_EV] * N_PERM_FIELDS
            pm_t = pm[0]
            if pm_t < lim:
                lim = pm_t
        while True:      # background copies due by lim, across blades in time order (ties: blade order)
            best, t1, t2 = -1, INT64_MAX_PS, INT64_MAX_PS
            for b in range(c.nb):
                ck = c.cks_base + b * N_CK_FIELDS
                if ck[K_CK_ACTIVE] and ck[K_CK_ISSUE] <= lim:
                    if ck[K_CK_ISSUE] < t1:
                        best, t1, t2 = b, ck[K_CK_ISSUE], t1
                    elif ck[K_CK_ISSUE] < t2:
                        t2 = ck[K_CK_ISSUE]
            if best < 0:
                break
            if best != c.cb:
                bind_blade(c, best)
            ck_advance(c, t2 if t2 < lim else lim)
        started = False
        if c.ck_regime:
            for b in range(c.nb):
                ck = c.cks_base + b * N_CK_FIELDS
                if ck[K_CK_ACTIVE] or ck[K_CK_NEXT] > lim:
                    continue
                if b != c.cb:
                    bind_blade(c, b)
                t = imax(ck[K_CK_NEXT], ck[K_CK_LAST_END])
                ck_start(c, t)
                # ticks that fall while this checkpoint is taken (or stops the host) are skipped:
                # otherwise checkpoints longer than the interval would queue up without end
                busy_until = t if ck[K_CK_ACTIVE] else ck[K_CK_LAST_END]
                ck[K_CK_NEXT] += interval
                if ck[K_CK_NEXT] <= busy_until:
                    skipped = (busy_until - ck[K_CK_NEXT]) // interval + 1
                    c.cnt[C_CKPT_TICKS_SKIPPED] += skipped
                    ck[K_CK_NEXT] += skipped * interval
                started = True
                break
        if started:
            continue
        if not fck[K_FAILED] and 0 <= fail_at <= lim:
            if fail_cb != c.cb:
                bind_blade(c, fail_cb)
            fail_and_restore(c, fail_at)
        elif ev_t <= lim:
            # the network manager changes queue q's SLA: its row in force becomes the event's
            q = ev[1]
            for k in range(QW):
                c.qsla[q * QW + k] = ev[2 + k]
            sc[S_QOS_EV] += 1
        elif pm_t <= lim:
            permission_change(c, pm[1], pm[2], pm[3])
            sc[S_PERM_EV] += 1
        else:
            break
    if c.cb != bound:
        bind_blade(c, bound)


cdef inline void epoch_row(Core* c, int64_t t) noexcept nogil:
    """Append (t, all counters) to the epoch buffer: the state of the run as of time t."""
    cdef int64_t k, b, base = c.sc[S_EPOCH_ROWS] * (1 + N_COUNTERS + 2 * N_DRAM_COUNTERS)
    c.epoch_buf[base] = t
    for k in range(N_COUNTERS):
        c.epoch_buf[base + 1 + k] = c.cnt[k]
    for k in range(N_DRAM_COUNTERS):
        c.epoch_buf[base + 1 + N_COUNTERS + k] = 0
        for b in range(c.nb):        # local DRAM: every compute blade's together
            c.epoch_buf[base + 1 + N_COUNTERS + k] += c.locals[b].cnt[k]
        c.epoch_buf[base + 1 + N_COUNTERS + N_DRAM_COUNTERS + k] = c.blade.cnt[k]
    c.sc[S_EPOCH_ROWS] += 1


cdef void bind_blade(Core* c, int64_t k) noexcept nogil:
    """Point the per-blade fields of `c` at compute blade k's slices of the state arrays."""
    cdef const int64_t* r = c.p + c.p[P_CB_AT] + k * N_CB_FIELDS
    cdef const int64_t* gr = c.cbg + k * N_GROW_FIELDS
    cdef int64_t fo = gr[G_FRAME_BASE], so = k * c.n_sets
    cdef int64_t lv = k * 2 * (c.nlev if c.nlev > 0 else 1), nq = k * 2 * (c.nq if c.nq > 0 else 1)
    cdef int64_t co = k * c.cache_sets * c.cache_ways
    cdef Blade* b = &c.base
    c.cb = k
    c.sc[S_CB] = k
    c.local = &c.locals[k]
    c.ways = r[CB_WAYS]
    c.local_bytes = r[CB_LOCAL_BYTES]
    c.temp_addr = r[CB_TEMP_ADDR]
    c.mbase = r[CB_MBASE]
    c.per_set = r[CB_PER_SET]
    # rows of frames and slots the state holds (the engine grows them before a set can run out)
    c.frame_rows = gr[G_FRAME_ROWS]
    c.frame_lim = c.frame_rows - GROW_ROOM if c.frame_rows < c.ways else c.ways
    c.slot_rows = gr[G_SLOT_ROWS]
    c.slot_lim = c.slot_rows - GROW_ROOM if c.slot_rows < c.per_set else c.per_set
    c.ck_base = r[CB_CK_BASE]
    c.peer_base = r[CB_PEER_BASE]
    c.cks = c.cks_base + k * N_CK_FIELDS
    c.link.cal = b.link.cal + 2 * CAL_WIDTH * k
    c.frame_ready = b.frame_ready + fo
    c.frame_page = b.frame_page + fo
    c.prev = b.prev + fo
    c.nxt = b.nxt + fo
    c.dirty = b.dirty + fo
    c.ref = b.ref + fo
    c.ck_dirty = b.ck_dirty + fo
    c.ck_pending = b.ck_pending + fo
    c.ck_first = b.ck_first + fo
    c.ck_list = b.ck_list + fo
    c.ck_copy_list = b.ck_copy_list + fo
    c.head = b.head + so
    c.tail = b.tail + so
    c.used = b.used + so
    c.hand = b.hand + so
    c.blade_next = b.blade_next + so
    c.blade_hand = b.blade_hand + so
    c.slot_page = b.slot_page + gr[G_SLOT_BASE]
    c.sp_map = b.sp_map + r[CB_VSP_OFF]
    c.cache_tag = b.cache_tag + co
    c.cache_stamp = b.cache_stamp + co
    c.cache_dirty = b.cache_dirty + co
    c.link.qfree = b.link.qfree + lv
    c.link.qls = b.link.qls + lv
    c.link.qle = b.link.qle + lv
    c.link.qfin = b.link.qfin + nq
    c.link.qtb = b.link.qtb + 2 * nq


cdef Py_ssize_t run_loop(Core* c, const int64_t* t_col, const uint64_t* addr, const uint8_t* op,
                         const uint16_t* vm, const int64_t* vm_base, int64_t* out, Py_ssize_t n,
                         bint want_out) noexcept nogil:
    """Run accesses 0..n-1 (machine address = vm_base[vm] + addr); returns how many ran (fewer
    when the epoch buffer filled up, state must grow or the run stops with an error)."""
    cdef const int64_t* p = c.p
    cdef int64_t* cnt = c.cnt
    cdef int64_t* sc = c.sc
    cdef int64_t timing = p[P_TIMING]
    cdef int64_t window = p[P_WINDOW]
    cdef bint ctl = c.ck_regime or p[P_FAIL_AT_PS] >= 0 or p[P_QOS_NEV] > 0 or p[P_PERM_NEV] > 0
    cdef const int64_t* vm_cb = p + p[P_VM_CB_AT]
    cdef bint vm_hist = p[P_VM_HIST]
    cdef int64_t hist_bins = (64 - HIST_SUB_BITS) * (1 << HIST_SUB_BITS) + (1 << HIST_SUB_BITS)
    cdef int64_t vm_bins = hist_bins >> VM_HIST_SHIFT
    cdef int64_t last_completion = cnt[C_LAST_COMPLETION_PS]
    cdef Py_ssize_t i
    cdef int64_t arr, issue, ready_at, m, done, lat, start, b, k
    cdef int w, v
    cdef int32_t l
    # prefetch only helps the page-based policies without a cache in front (no effect on results);
    # pfg holds the pages of the accesses ahead, computed once at the first stage
    cdef bint pf = p[P_POLICY] != 0 and c.cache_sets == 0
    cdef bint many = c.nb > 1      # several compute blades: prefetch only into the bound one's frames
    cdef int64_t pfg[PF_RING]      # accesses ahead: where their page-table entries are
    cdef int64_t g
    cdef const int32_t* pt_dir = c.pt_dir     # the engine changes the arrays only between calls
    cdef const int32_t* pt_leaf = c.pt_leaf
    if pf:
        for i in range(min(PF_LOC, n)):
            g = (vm_base[vm[i]] + <int64_t>addr[i]) >> c.ushift
            pfg[i] = (<int64_t>pt_dir[g >> PT_LEAF_SHIFT] << PT_LEAF_SHIFT) | (g & PT_MASK)
    for i in range(n):
        if sc[S_GROW]:     # a growable array is short of room: nothing of access i has happened
            cnt[C_LAST_COMPLETION_PS] = last_completion
            return i
        if pf:
            if i + PF_LOC < n:
                # the page-table entry's place (a range first touched before the access gets there
                # is then read in leaf 0: a prefetch missed, no effect on results)
                g = (vm_base[vm[i + PF_LOC]] + <int64_t>addr[i + PF_LOC]) >> c.ushift
                g = (<int64_t>pt_dir[g >> PT_LEAF_SHIFT] << PT_LEAF_SHIFT) | (g & PT_MASK)
                pfg[(i + PF_LOC) & (PF_RING - 1)] = g
                hw_prefetch(pt_leaf + g)
            if i + PF_FRAME < n and not (many and vm_cb[vm[i + PF_FRAME]] != c.cb):
                l = pt_leaf[pfg[(i + PF_FRAME) & (PF_RING - 1)]]
                if l >= 0:
                    prefetch_frame(c, l)
        if timing == 0:
            arr = t_col[i]
        else:
            issue = sc[S_LAST_ISSUE_PS] + t_col[i]
            ready_at = c.ring[sc[S_RING_IDX]]
            arr = imax(issue, ready_at)
        if p[P_EPOCH_PS]:
            while arr >= sc[S_EPOCH_NEXT]:
                if sc[S_EPOCH_ROWS] == p[P_EPOCH_CAP]:
                    cnt[C_LAST_COMPLETION_PS] = last_completion
                    return i       # nothing of access i has happened yet: the engine resumes here
                epoch_row(c, sc[S_EPOCH_NEXT])
                sc[S_EPOCH_NEXT] += p[P_EPOCH_PS]
        if timing == 1:
            cnt[C_STALL_PS] += arr - issue
            sc[S_LAST_ISSUE_PS] = arr
        if not sc[S_STARTED]:
            sc[S_STARTED] = 1
            cnt[C_FIRST_ARRIVAL_PS] = arr
            for k in range(c.nb):       # every blade's service processor starts its clock
                c.cks_base[k * N_CK_FIELDS + K_CK_NEXT] = arr + p[P_CK_INTERVAL_PS]
        if ctl:
            control_events(c, arr)
        w = op[i]
        v = vm[i]
        c.cur_q = v
        if vm_cb[v] != c.cb:
            bind_blade(c, vm_cb[v])
        if sc[S_DEFER_N] and c.defer[4 * sc[S_DEFER_HEAD]] <= arr:
            run_deferred(c, arr)
        m = vm_base[v] + <int64_t>addr[i]
        start = imax(arr, c.cks[K_STALL_UNTIL])   # the host is stopped by a checkpoint or a recovery
        if c.cache_sets:
            done = cache_access(c, start, m, w)
        else:
            done = memory_access(c, start, m, w)
        lat = done - arr
        cnt[C_ACCESSES] += 1
        cnt[C_LATENCY_SUM_PS] += lat
        if lat > cnt[C_LATENCY_MAX_PS]:
            cnt[C_LATENCY_MAX_PS] = lat
        if w:
            cnt[C_WRITES] += 1
            cnt[C_WRITE_LATENCY_SUM_PS] += lat
            if lat > cnt[C_WRITE_LATENCY_MAX_PS]:
                cnt[C_WRITE_LATENCY_MAX_PS] = lat
            c.vm_stats[v * VSW + VS_WRITES] += 1
            c.vm_stats[v * VSW + VS_WRITE_LATENCY] += lat
        else:
            cnt[C_READS] += 1
            cnt[C_READ_LATENCY_SUM_PS] += lat
            if lat > cnt[C_READ_LATENCY_MAX_PS]:
                cnt[C_READ_LATENCY_MAX_PS] = lat
        b = hist_bin(lat)
        c.hist[w * hist_bins + b] += 1      # reads, then writes
        if vm_hist:
            c.vm_hist[(2 * v + w) * vm_bins + (b >> VM_HIST_SHIFT)] += 1
        c.vm_stats[v * VSW + VS_ACCESSES] += 1
        c.vm_stats[v * VSW + VS_LATENCY] += lat
        if done > last_completion:
            last_completion = done
        if timing == 1:
            c.ring[sc[S_RING_IDX]] = done
            sc[S_RING_IDX] = ring_next(sc[S_RING_IDX], window)   # the next arrival waits on it: no division
        if want_out:
            out[i] = done
        sc[S_LAST_ARRIVAL_PS] = arr
        if sc[S_ERROR]:       # the engine raises, naming access i
            cnt[C_LAST_COMPLETION_PS] = last_completion
            return i + 1
    cnt[C_LAST_COMPLETION_PS] = last_completion
    return n


def run_chunk(const int64_t[::1] p, const int64_t[::1] dl, const int64_t[::1] db, const int64_t[::1] dp, dict st,
              const int64_t[::1] t_col, const uint64_t[::1] addr, const uint8_t[::1] op,
              const uint16_t[::1] vm, const int64_t[::1] vm_base, int64_t[::1] out, list dram_log=None):
    """Advance the state dict `st` over one chunk; same contract as `_reference.run_chunk`
    (returns how many accesses ran: fewer than the chunk when the epoch buffer is full). An empty
    chunk ends the run: the victim write-backs still held back are carried out. With `dram_log`
    (a list), the requests every DRAM received are appended to it as one array of LOG_FIELDS rows.

    Every array in `st` must have at least one element (the engine pads empty tables), so that
    taking the address of element 0 is valid.
    """
    cdef Core c
    cdef int64_t[::1] cnt = st["counters"]
    cdef int64_t[::1] hist = st["hist"]
    cdef int64_t[::1] vm_hist = st["vm_hist"]
    cdef int64_t[::1] vm_stats = st["vm_stats"]
    cdef int64_t[::1] sc = st["scalars"]
    cdef int64_t[::1] ring = st["ring"]
    cdef int64_t[::1] link_cal = st["link_cal"]
    cdef int64_t[::1] port_cal = st["port_cal"]
    cdef int64_t[::1] port_qos = st["port_qos"]
    cdef int64_t[::1] defer = st["defer"]
    cdef int64_t[::1] ck_sc = st["ck_sc"]
    cdef int64_t[::1] frame_ready = st["frame_ready"]
    cdef int32_t[::1] pt_dir = st["pt_dir"]
    cdef int32_t[::1] pt_leaf = st["pt_leaf"]
    cdef int64_t[::1] cb_grow = st["cb_grow"]
    cdef int64_t[::1] va_key = st["va_key"]
    cdef int32_t[::1] va_page = st["va_page"]
    cdef int64_t[::1] va_next = st["va_next"]
    cdef int32_t[::1] frame_page = st["frame_page"]
    cdef int32_t[::1] prev = st["lru_prev"]
    cdef int32_t[::1] nxt = st["lru_next"]
    cdef int32_t[::1] head = st["set_head"]
    cdef int32_t[::1] tail = st["set_tail"]
    cdef int32_t[::1] used = st["set_used"]
    cdef int32_t[::1] hand = st["set_hand"]
    cdef int32_t[::1] blade_next = st["blade_next"]
    cdef uint8_t[::1] dirty = st["dirty"]
    cdef uint8_t[::1] ref = st["ref"]
    cdef int32_t[::1] slot_page = st["slot_page"]
    cdef int32_t[::1] blade_hand = st["blade_hand"]
    cdef int64_t[::1] dev_unit_free = st["dev_unit_free"]
    cdef int64_t[::1] dev_ring = st["dev_ring"]
    cdef int64_t[::1] buf_free = st["buf_free"]
    cdef uint8_t[::1] ck_dirty = st["ck_dirty"]
    cdef int32_t[::1] ck_first = st["ck_first"]
    cdef int32_t[::1] ck_list = st["ck_list"]
    cdef uint8_t[::1] ck_pending = st["ck_pending"]
    cdef int32_t[::1] ck_copy_list = st["ck_copy_list"]
    cdef int64_t[::1] epoch_buf = st["epoch_buf"]
    cdef int64_t[::1] cache_tag = st["cache_tag"]
    cdef int64_t[::1] cache_stamp = st["cache_stamp"]
    cdef uint8_t[::1] cache_dirty = st["cache_dirty"]
    cdef int64_t[::1] qsla = st["qos_sla"]
    cdef int64_t[::1] qfree = st["qos_free"]
    cdef int64_t[::1] qls = st["qos_ls"]
    cdef int64_t[::1] qle = st["qos_le"]
    cdef int64_t[::1] qfin = st["qos_fin"]
    cdef int64_t[::1] qtb = st["qos_tb"]
    cdef int32_t[::1] sp_map = st["sp_map"]
    cdef int32_t[::1] sp_owner = st["sp_owner"]
    cdef int64_t[::1] mbuf_ring = st["mbuf_ring"]
    cdef int32_t[::1] mbuf_idx = st["mbuf_idx"]
    cdef int64_t dummy = 0
    cdef int64_t* outp = &dummy
    cdef Py_ssize_t ran
    cdef int64_t k
    cdef Py_ssize_t n = addr.shape[0]
    if t_col.shape[0] != n or op.shape[0] != n or vm.shape[0] != n:
        raise ValueError("run_chunk: trace columns differ in length")
    if out.shape[0] != 0 and out.shape[0] != n:
        raise ValueError("run_chunk: out must be empty or as long as the chunk")
    if dl.shape[0] != p[P_N_CB] * N_DRAM_PARAMS:
        raise ValueError("run_chunk: dl must hold one local DRAM parameter vector per compute blade")
    if (pt_dir.shape[0] < p[P_N_DIR] or pt_leaf.shape[0] < 2 << PT_LEAF_SHIFT
            or cb_grow.shape[0] != p[P_N_CB] * N_GROW_FIELDS):
        raise ValueError("run_chunk: the page table or the growth rows do not fit this system")
    cdef Py_ssize_t nva = va_key.shape[0]
    if p[P_VIRTUAL] and (nva < 2 or nva & (nva - 1) or va_page.shape[0] != nva or va_next.shape[0] != vm_base.shape[0]):
        raise ValueError("run_chunk: the virtual-page table must be a power of two >= 2, with one counter per VM")
    c.p = &p[0]
    c.cnt = &cnt[0]
    c.hist = &hist[0]
    c.vm_hist = &vm_hist[0]
    c.vm_stats = &vm_stats[0]
    c.sc = &sc[0]
    c.ring = &ring[0]
    c.pt_dir = &pt_dir[0]
    c.pt_leaf = &pt_leaf[0]
    c.pt_leaf_lim = (pt_leaf.shape[0] >> PT_LEAF_SHIFT) - GROW_ROOM
    c.cbg = &cb_grow[0]
    c.va_key = &va_key[0]
    c.va_page = &va_page[0]
    c.va_next = &va_next[0]
    c.vm_pages = &p[p[P_VM_PAGES_AT]]
    c.va_mask = <uint64_t>(va_key.shape[0] - 1)
    c.va_shift = 64 - hw_bitlen(<unsigned long long>(va_key.shape[0] - 1)) if p[P_VIRTUAL] else 0
    c.va_lim = va_key.shape[0] // 2     # the table is at most half full
    c.dev_unit_free = &dev_unit_free[0]
    c.dev_ring = &dev_ring[0]
    c.buf_free = &buf_free[0]
    c.ck_regime = p[P_CK_REGIME]
    c.epoch_buf = &epoch_buf[0]
    c.cache_sets = p[P_CACHE_SETS]
    c.cache_ways = p[P_CACHE_WAYS]
    c.qsla = &qsla[0]
    c.qos = p[P_QOS]
    c.qdisc = p[P_QOS_DISC]
    c.nq = p[P_QOS_NQ]
    c.nlev = p[P_QOS_LEVELS]
    c.bg = vm_base.shape[0]      # the background queue's row follows the VMs'
    c.cur_q = 0
    c.qos_start_p = <void*>qos_start
    c.rng = <uint64_t>sc[S_RNG]
    c.ushift = p[P_UNIT_SHIFT]
    c.unit = (<int64_t>1) << c.ushift
    c.n_sets = p[P_N_SETS]
    c.smask = p[P_N_SETS] - 1
    c.prop = p[P_PROP_PS]
    c.victim = p[P_VICTIM]
    c.sw = p[P_SW]
    c.sp_shift = p[P_SP_SHIFT]
    c.nb = p[P_N_CB]
    c.sp_identity = c.nb == 1 and p[P_SP_MODE] == 0 and p[P_PERM_NEV] == 0
    # per-blade arrays: blade k's slice starts where bind_blade says
    c.base.link.cal = &link_cal[0]
    c.port.cal = &port_cal[0]
    cdef int64_t port_lv = 2 * (c.nlev if c.nlev > 0 else 1)   # port_qos: qfree, qls, qle, then qfin
    c.port.qfree = &port_qos[0]
    c.port.qls = c.port.qfree + port_lv
    c.port.qle = c.port.qls + port_lv
    c.port.qfin = c.port.qle + port_lv
    c.port.qtb = NULL
    c.defer = &defer[0]
    c.cks_base = &ck_sc[0]
    c.base.frame_ready = &frame_ready[0]
    c.base.frame_page = &frame_page[0]
    c.base.prev = &prev[0]
    c.base.nxt = &nxt[0]
    c.base.head = &head[0]
    c.base.tail = &tail[0]
    c.base.used = &used[0]
    c.base.hand = &hand[0]
    c.base.blade_next = &blade_next[0]
    c.base.dirty = &dirty[0]
    c.base.ref = &ref[0]
    c.base.slot_page = &slot_page[0]
    c.base.blade_hand = &blade_hand[0]
    c.base.ck_dirty = &ck_dirty[0]
    c.base.ck_first = &ck_first[0]
    c.base.ck_list = &ck_list[0]
    c.base.ck_pending = &ck_pending[0]
    c.base.ck_copy_list = &ck_copy_list[0]
    c.base.cache_tag = &cache_tag[0]
    c.base.cache_stamp = &cache_stamp[0]
    c.base.cache_dirty = &cache_dirty[0]
    c.base.link.qfree = &qfree[0]
    c.base.link.qls = &qls[0]
    c.base.link.qle = &qle[0]
    c.base.link.qfin = &qfin[0]
    c.base.link.qtb = &qtb[0]
    c.base.sp_map = &sp_map[0]
    c.sp_owner = &sp_owner[0]
    c.mbuf_ring = &mbuf_ring[0]
    c.mbuf_idx = &mbuf_idx[0]
    if out.shape[0]:
        outp = &out[0]
    cdef ReqLog log
    c.log = NULL
    if dram_log is not None:
        log.n, log.cap, log.failed = 0, 4096, False
        log.rows = <int64_t*>malloc(log.cap * LOG_W * sizeof(int64_t))
        if log.rows == NULL:
            raise MemoryError("the DRAM request log")
        c.log = &log
    c.locals = <Dram*>malloc(c.nb * sizeof(Dram))
    if c.locals == NULL:
        if c.log != NULL:
            free(log.rows)
        raise MemoryError()
    try:
        for k in range(c.nb):
            bind_dram(&c.locals[k], dl[k * N_DRAM_PARAMS:(k + 1) * N_DRAM_PARAMS], st, local_prefix(k))
        bind_dram(&c.blade, db, st, "blade_")
        bind_dram(&c.peer, dp, st, "peer_")
        bind_blade(&c, sc[S_CB])
        if n == 0:                    # the end of the run: carry out what was held back
            with nogil:
                run_deferred(&c, INT64_MAX_PS)
            ran = 0
        elif not p[P_VIRTUAL]:
            with nogil:
                ran = run_loop(&c, &t_col[0], &addr[0], &op[0], &vm[0], &vm_base[0], outp, n, out.shape[0] != 0)
        else:
            ran = run_virtual(&c, t_col, addr, op, vm, vm_base, outp, n, out.shape[0] != 0)
        if c.log != NULL:
            if log.failed:
                raise MemoryError("out of memory for the DRAM request log; use smaller chunks (--chunk)")
            rows = np.empty((log.n, LOG_W), np.int64)
            if log.n:
                copy_rows(rows, log.rows, log.n)
            dram_log.append(rows)
    finally:
        free(c.locals)
        if c.log != NULL:
            free(log.rows)
    sc[S_RNG] = <int64_t>c.rng
    return ran


cdef Py_ssize_t run_virtual(Core* c, const int64_t[::1] t_col, const uint64_t[::1] addr, const uint8_t[::1] op,
                            const uint16_t[::1] vm, const int64_t[::1] vm_base, int64_t* outp, Py_ssize_t n,
                            bint want_out) except -1:
    """run_loop over virtual addresses: mapped first (va_map), then run as machine addresses. When
    the mapping stopped short and everything before it ran: the table grows (the engine) or the
    VM's memory is full (the run stops, naming that access)."""
    cdef int64_t* mach = <int64_t*>malloc(n * sizeof(int64_t))
    cdef int64_t* zero = <int64_t*>calloc(vm_base.shape[0], sizeof(int64_t))
    cdef Py_ssize_t k, ran
    cdef int why = 0
    if mach == NULL or zero == NULL:
        free(mach)
        free(zero)
        raise MemoryError("virtual addresses of a chunk")
    try:
        with nogil:
            k = va_map(c, &addr[0], &vm[0], &vm_base[0], mach, n, &why)
            ran = run_loop(c, &t_col[0], <const uint64_t*>mach, &op[0], &vm[0], zero, outp, k, want_out)
        if ran == k < n and not c.sc[S_ERROR]:
            if why == VA_TABLE_FULL:
                c.sc[S_GROW] = 1
            else:
                c.sc[S_ERROR] = ERR_VM_FULL
                c.sc[S_ERROR_INFO] = vm[k]
                ran = k + 1
    finally:
        free(mach)
        free(zero)
    return ran


cdef void copy_rows(int64_t[:, ::1] dst, const int64_t* src, int64_t n):
    memcpy(&dst[0, 0], src, n * LOG_W * sizeof(int64_t))


def decode_lookup(const int64_t[::1] p, dict st, const uint64_t[::1] addr, const uint16_t[::1] vm,
                  const int64_t[::1] vm_base, bint lookup):
    """Benchmark stages without timing or state change: decode (machine address -> swap unit,
    offset, set) and, with `lookup`, the page-table lookup. Returns (a, b, c): a checksum of the
    decoded fields and 0, 0 for decode; counts of local, remote and untouched units for lookup."""
    cdef int32_t[::1] pt_dir = st["pt_dir"]
    cdef int32_t[::1] pt_leaf = st["pt_leaf"]
    cdef Py_ssize_t i, n = addr.shape[0]
    cdef int64_t ushift = p[P_UNIT_SHIFT], smask = p[P_N_SETS] - 1, umask = ((<int64_t>1) << p[P_UNIT_SHIFT]) - 1
    cdef int64_t m, g, a = 0, b = 0, c = 0
    cdef int32_t l
    with nogil:
        for i in range(n):
            m = vm_base[vm[i]] + <int64_t>addr[i]
            g = m >> ushift
            if not lookup:
                a += g + (m & umask) + (g & smask)
                continue
            l = pt_leaf[(<int64_t>pt_dir[g >> PT_LEAF_SHIFT] << PT_LEAF_SHIFT) | (g & PT_MASK)]
            if l >= 0:
                a += 1
            elif l == -1:
                c += 1
            else:
                b += 1
    return a, b, c
