# The memory blade and its address-mapping module (core/memory_blade.py in the twin): super pages
# handed out at boot or on demand, granted, revoked and released; the permission check of every
# request; the buffer that manages an address (its latency and command queue); the blade DRAM's
# lines and blocks; a line read or written over the link (fine-grained remote access).


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
        stop(c, ERR_NO_SUPER_PAGE, vsp)
        return t
    c.sp_map[vsp] = <int32_t>k
    return from_blade(c, t, c.p[P_SER_REQ_PS], c.p[P_WIRE_REQ_B], c.cur_q)


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
            stop(c, ERR_NO_SUPER_PAGE, vsp)
            return
        sp_map[vsp] = <int32_t>psp
    c.sp_owner[sp_map[vsp]] = <int32_t>(k + 1 if access else -(k + 1))


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
        if c.p[P_STRICT]:
            stop(c, ERR_PERMISSION, vsp)
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
    cdef int64_t done = mem_line(c, c.blade, addr, t, w)
    if slot != NULL:
        slot[0] = done
    return done


cdef inline int64_t blade_block(Core* c, int64_t v, int64_t nbytes, int64_t t, int w) noexcept nogil:
    cdef int64_t addr = blade_phys(c, v)
    if addr < 0:
        return t
    cdef int64_t* slot = mbuf_slot(c, addr, &t)
    cdef int64_t done = mem_block(c, c.blade, addr, nbytes, t, w)
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
