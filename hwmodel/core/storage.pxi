# Storage (core/storage.py in the twin): the I/O driver's page buffers and the storage device (queue
# slots, internal units, a shared data path).


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
