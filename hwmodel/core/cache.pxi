# The last-level cache filter (core/cache.py in the twin): set-associative, write-back, write-allocate.


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
