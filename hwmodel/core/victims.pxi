# Victims (core/victims.py in the twin): the replacement order of each frame set and the victim
# choice (exact LRU, CLOCK, FIFO, seeded random), and where a victim goes: its write-back to the memory
# blade (held back until the trace reaches its time: defer_writeback, run_deferred), or down to
# storage through the I/O driver when the blade is full.


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


cdef inline int64_t blade_slot_choose(Core* c, int64_t j, bint* full) noexcept nogil:
    """The blade slot of set j a victim goes to, or -1 without a blade: the set's next fresh slot,
    or on a full blade the one the FIFO hand (or a random draw: storage.victim) picks, whose page
    must first go down to storage (*full). Shared by the detailed and the functional mode."""
    cdef int64_t per_set = c.per_set
    cdef int64_t k, s
    full[0] = False
    if per_set == 0:
        return -1
    if c.blade_next[j] < per_set:
        s = c.blade_next[j] * c.n_sets + j
        c.blade_next[j] += 1
        if c.blade_next[j] > c.slot_lim:
            c.sc[S_GROW] = 1
        return s
    full[0] = True
    if c.p[P_ST_VICTIM] == 0:
        k = c.blade_hand[j]
        c.blade_hand[j] = <int32_t>ring_next(k, per_set)
    else:
        k = <int64_t>(splitmix64(&c.rng) % <uint64_t>per_set)
    return k * c.n_sets + j


cdef inline void blade_slot_vacate(Core* c, int64_t s, int32_t u) noexcept nogil:
    """Slot s's page u has gone down to storage: the slot is free for the victim."""
    pt_entry(c, u)[0] = ON_STORAGE
    c.slot_page[s] = -1
    c.cnt[C_BLADE_EVICTIONS] += 1


cdef int64_t blade_slot_for_victim(Core* c, int64_t j, int64_t t) noexcept nogil:
    """A blade slot of set j for a victim leaving local memory at t, or -1 without a blade. A full
    blade first pushes one of its pages down to storage through the I/O driver."""
    cdef const int64_t* p = c.p
    cdef int64_t s, b, start, t_req, t_rd, t_in
    cdef int32_t u
    cdef bint full
    s = blade_slot_choose(c, j, &full)
    if not full:
        return s
    u = c.slot_page[s]
    # the driver pulls the page over the link into its buffer and writes it to the device
    b = driver_take(c, t, &start)
    t_req = to_blade(c, sp_need(c, s << c.ushift, start), p[P_SER_REQ_PS], p[P_WIRE_REQ_B], c.cur_q)
    t_rd = blade_block(c, s << c.ushift, c.unit, agent_in(c, t_req), 0)
    t_in = from_blade(c, t_rd, p[P_SER_UNIT_PS], p[P_WIRE_UNIT_B], c.cur_q)
    c.buf_free[b] = storage_io(c, t_in, 1)
    blade_slot_vacate(c, s, u)
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
