# Checkpoints (core/checkpoints.py in the twin): the service processor copies frames through its own
# memory controller (the same banks and bus as the host) to the memory blade, storage or a peer;
# stop_and_copy, incremental and copy-on-write regimes; a failure restores the last complete one.


cdef int64_t ck_copy(Core* c, int32_t f, int64_t t) noexcept nogil:
    """The service processor copies frame f at t through its own memory controller (the same
    banks and data bus as the host) to the checkpoint target; returns when it was read out."""
    cdef const int64_t* p = c.p
    cdef int64_t unit = c.unit
    if c.func:       # functional mode: the copy is counted and takes its DMA time, nothing is scheduled
        return ck_copy_func(c, f, t)
    cdef int64_t rd = mem_block(c, c.local, <int64_t>f << c.ushift, unit, t, 0)
    cdef int64_t done, tw
    if p[P_CK_TARGET] == 1:
        done = storage_io(c, rd, 1)
    elif p[P_CK_TARGET] == 2:       # a peer node's memory, through the switch
        tw = link_send(c, OUT, rd, p[P_SER_UNIT_PS], p[P_WIRE_UNIT_B], c.bg)
        done = mem_block(c, c.peer, c.peer_base + (<int64_t>f << c.ushift), unit, tw + p[P_PEER_PS], 1)
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
            if c.func:       # functional mode: counted, one DMA time each, nothing scheduled
                end = ck_restore_func(c, k, end)
            else:
                if p[P_CK_TARGET] == 1:
                    got = storage_io(c, start, 0)
                elif p[P_CK_TARGET] == 2:
                    got = mem_block(c, c.peer, c.peer_base + (k << c.ushift), unit, start + p[P_PEER_PS], 0)
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
