# Requests to a DRAM, and the DRAM request log (core/dram_log.py in the twin): every line or block a
# DRAM receives goes through mem_line / mem_block, which log it when the run keeps a DRAM trace.


DEF LOG_W = 4     # int64 per row of the log: _layout.LOG_FIELDS


cdef void log_request(Core* c, Dram* m, int64_t addr, int64_t t, int64_t nbytes, int w) noexcept nogil:
    cdef ReqLog* lg = c.log
    cdef int64_t* grown
    cdef int64_t dram_id = c.nb if m == c.blade else c.nb + 1 if m == c.peer else m - c.locals
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


cdef void copy_rows(int64_t[:, ::1] dst, const int64_t* src, int64_t n):
    memcpy(&dst[0, 0], src, n * LOG_W * sizeof(int64_t))
