# Paging (core/paging.py in the twin): the hypervisor's page table (two levels, leaves taken at first
# touch) and the guest kernel's virtual-page map; local frames; a line-sized access to local memory,
# over the link or by a swap-in (memory_access), and the swap-in of a remote or stored page.


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


cdef inline void prefetch_frame(Core* c, int32_t f) noexcept nogil:
    # a frame's records that an access or a swap will touch (a hint: no effect on results)
    hw_prefetch(c.frame_ready + f)
    hw_prefetch(c.frame_page + f)
    hw_prefetch(c.prev + f)
    hw_prefetch(c.nxt + f)
    hw_prefetch(c.dirty + f)


cdef inline void mark_written(Core* c, int32_t f) noexcept nogil:
    """A host write to frame f: dirty for swapping, and listed for the next checkpoint."""
    c.dirty[f] = 1
    if c.ck_regime:
        if c.ck_dirty[f] == 0:
            c.ck_list[c.cks[K_CK_COUNT]] = f
            c.cks[K_CK_COUNT] += 1
        c.ck_dirty[f] = 1


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


cdef inline int32_t first_touch(Core* c, int64_t g, int32_t** ge) noexcept nogil:
    """Guest unit g's first touch: a free local frame of its set while any is left, else a blade
    slot, else storage (placement first_touch; `low` placed every unit at boot). Sets its entry
    (*ge); returns where it is, or -1 when there is no room (the run stops)."""
    cdef int64_t j = g & c.smask
    cdef int32_t l
    cdef int32_t f = take_free(c, j)
    if f >= 0:
        l = f
        c.frame_page[f] = <int32_t>g
        c.cnt[C_FIRST_TOUCH_LOCAL] += 1
    elif c.blade_next[j] < c.per_set:
        l = <int32_t>(-2 - (c.blade_next[j] * c.n_sets + j))
        c.slot_page[-2 - l] = <int32_t>g
        c.blade_next[j] += 1
        if c.blade_next[j] > c.slot_lim:
            c.sc[S_GROW] = 1
        c.cnt[C_FIRST_TOUCH_REMOTE] += 1
    elif not c.p[P_STORAGE]:
        # only a VM of `auto` memory outgrows its blade: the engine raises
        stop(c, ERR_NO_ROOM, c.cb)
        return -1
    else:
        l = ON_STORAGE
        c.cnt[C_FIRST_TOUCH_STORAGE] += 1
    ge[0] = pt_claim(c, g)
    ge[0][0] = l
    return l


cdef int64_t memory_access(Core* c, int64_t arr, int64_t m, int w) noexcept nogil:
    """One line-sized request from the processor side to the hypervisor's memory: local DRAM,
    a remote line, or a swap, by policy."""
    cdef const int64_t* p = c.p
    cdef int64_t* cnt = c.cnt
    cdef int64_t g, off, done
    cdef int32_t l
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
            l = first_touch(c, g, &ge)
            if l == -1:       # no room: the engine raises
                return arr
        if l >= 0:
            done = local_access(c, arr, l, off, w)
        elif p[P_POLICY] == 1:
            done = remote_line(c, arr + p[P_FILTER_PS], ((-2 - <int64_t>l) << c.ushift) + off, w)
        else:
            done = swap_in(c, arr, g, ge, -1 if l == ON_STORAGE else -2 - <int64_t>l, off, w)
    return done
