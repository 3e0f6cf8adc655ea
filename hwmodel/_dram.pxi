# DRAM subsystem timing, included into _core.pyx: one memory controller with its channels, banks
# and rows. Semantics are defined by _dram_reference.py (keep the two identical).
# Indices come from _dram_layout.py through the generated _layout.pxi.

cdef struct Dram:
    const int64_t* d       # parameters (D_* indices)
    int64_t* open_row      # per bank (channel-major): open row, -1 = precharged
    int64_t* bank_free     # per bank: earliest next column command, ps
    int64_t* bus_free      # per channel: data bus free, ps
    int64_t* cnt           # DC_* counters of this DRAM


cdef inline int64_t imax(int64_t a, int64_t b) noexcept nogil:
    return a if a > b else b


cdef inline int64_t dram_access(Dram* m, int64_t addr, int64_t t, int64_t nbursts, int w) noexcept nogil:
    cdef const int64_t* d = m.d
    cdef int64_t ch = (addr >> d[D_CH_SHIFT]) & d[D_CH_MASK]
    cdef int64_t bg = ((addr >> d[D_BG_SHIFT]) & d[D_BG_MASK]) ^ ((addr >> d[D_BG_XSHIFT]) & d[D_BG_XMASK])
    cdef int64_t ba = ((addr >> d[D_BA_SHIFT]) & d[D_BA_MASK]) ^ ((addr >> d[D_BA_XSHIFT]) & d[D_BA_XMASK])
    cdef int64_t bank = (((((addr >> d[D_RA_SHIFT]) & d[D_RA_MASK]) << d[D_BG_BITS]) | bg) << d[D_BA_BITS]) | ba
    cdef int64_t b = ch * d[D_N_BANKS] + bank
    cdef int64_t row = (addr >> d[D_RO_SHIFT]) & d[D_RO_MASK]
    cdef int64_t start = imax(t, m.bank_free[b])
    cdef int64_t cas = d[D_T_CWL] if w else d[D_T_CL]
    cdef int64_t lat
    if m.open_row[b] == row:
        lat = cas
        m.cnt[DC_ROW_HITS] += 1
    elif m.open_row[b] < 0:
        lat = d[D_T_RCD] + cas
        m.cnt[DC_ROW_MISSES] += 1
    else:
        lat = d[D_T_RP] + d[D_T_RCD] + cas
        m.cnt[DC_ROW_CONFLICTS] += 1
    cdef int64_t data = imax(start + lat, m.bus_free[ch])
    cdef int64_t busy = nbursts * d[D_T_BURST]
    cdef int64_t done = data + busy
    m.bus_free[ch] = done
    if d[D_CLOSED]:
        m.open_row[b] = -1
        m.bank_free[b] = done + d[D_T_RP]
    else:
        m.open_row[b] = row
        m.bank_free[b] = data - cas + busy
    m.cnt[DC_DRAM_BYTES] += nbursts * d[D_BURST_BYTES]
    return done


cdef inline int64_t dram_line(Dram* m, int64_t addr, int64_t t, int w) noexcept nogil:
    return dram_access(m, addr, t, m.d[D_LINE_BURSTS], w)


cdef int64_t dram_block(Dram* m, int64_t addr, int64_t nbytes, int64_t t, int w) noexcept nogil:
    cdef int64_t seg = 1 << m.d[D_SEG_SHIFT]
    if seg > nbytes:
        seg = nbytes
    cdef int64_t nb = seg >> m.d[D_BURST_SHIFT]
    if nb < 1:
        nb = 1
    cdef int64_t done = t
    cdef int64_t a = addr
    while a < addr + nbytes:
        done = imax(done, dram_access(m, a, t, nb, w))
        a += seg
    return done


cdef void bind_dram(Dram* m, const int64_t[::1] d, dict st, str prefix):
    cdef int64_t[::1] open_row = st[prefix + "open_row"]
    cdef int64_t[::1] bank_free = st[prefix + "bank_free"]
    cdef int64_t[::1] bus_free = st[prefix + "bus_free"]
    cdef int64_t[::1] cnt = st[prefix + "counters"]
    m.d = &d[0]
    m.open_row = &open_row[0]
    m.bank_free = &bank_free[0]
    m.bus_free = &bus_free[0]
    m.cnt = &cnt[0]
