# Functional mode (core/functional.py in the twin): an access changes the long-lived state exactly as
# the detailed mode changes it (page table and placement, victim order, sub-page presence, blade slots
# and super pages, storage placement, LLC tags and dirty bits, checkpoint dirty sets), in trace order,
# with no timing and without the DRAM: nothing is scheduled on a link, port, agent, buffer, device or
# DRAM. Counters that do not depend on time are counted as the detailed mode counts them (accesses,
# faults, swaps, dirty victims, first touches, LLC hits/misses/write-backs, storage reads/writes,
# blade evictions, link and port bytes and messages, super-page grants, permission faults).
# Time advances by estimates the engine gives (hwmodel.core.sampler): closed loop, each access issues
# its gap plus the estimated stall after the previous one; it completes the estimated latency after
# its arrival (while a checkpoint is being copied, by the estimates for that: the copies slow the host). Control-plane events (checkpoint ticks, SLA and permission changes, a failure, epoch
# samples) fire by those times; a checkpoint copy or restore is counted and takes its DMA time
# (service.copy_bandwidth), nothing else. See README, Sampled simulation.


cdef struct Func:
    int64_t stall          # closed loop: estimated stall (ps) added to each access's issue gap
    int64_t lat            # estimated latency (ps): an access completes this long after it arrives
    int64_t stall_ck       # ... the same while a compute blade's checkpoint is being copied (copies
    int64_t lat_ck         #     contend with the host: the accesses around them are slower)
    int64_t** dcnt         # every compute blade's local DRAM counters, then the blade DRAM's (epoch rows)


cdef inline void f_link(Core* c, int d, int64_t wire, int64_t q) noexcept nogil:
    """A message of queue q on the bound blade's link, direction d: counted as link_send counts it."""
    c.cnt[C_LINK_BYTES_OUT + d] += wire
    cdef int64_t* vs = c.vm_stats + q * VSW
    vs[VS_LINK_BYTES] += wire
    vs[VS_LINK_MSGS] += 1


cdef inline void f_to_blade(Core* c, int64_t wire, int64_t q) noexcept nogil:
    f_link(c, OUT, wire, q)
    if c.sw:
        c.cnt[C_PORT_BYTES_OUT] += wire


cdef inline void f_from_blade(Core* c, int64_t wire, int64_t q) noexcept nogil:
    if c.sw:
        c.cnt[C_PORT_BYTES_IN] += wire
    f_link(c, IN, wire, q)


cdef inline void f_sp_need(Core* c, int64_t v) noexcept nogil:
    """sp_need: a super page the bound blade was never given is allocated (a request each way)."""
    cdef int64_t vsp = v >> c.sp_shift, k
    if c.sp_map[vsp] >= 0:
        return
    f_to_blade(c, c.p[P_WIRE_REQ_B], c.cur_q)
    k = sp_take(c)
    if k < 0:
        stop(c, ERR_NO_SUPER_PAGE, vsp)
        return
    c.sp_map[vsp] = <int32_t>k
    f_from_blade(c, c.p[P_WIRE_REQ_B], c.cur_q)


cdef int64_t ck_copy_func(Core* c, int32_t f, int64_t t) noexcept nogil:
    """ck_copy in functional mode: the page leaves for the checkpoint (counted on the link or the
    device as the detailed copy is); the copy ends one DMA time after t. The host does not wait."""
    cdef const int64_t* p = c.p
    cdef int64_t v
    if p[P_CK_TARGET] == 1:
        c.cnt[C_STORAGE_WRITES] += 1
    elif p[P_CK_TARGET] == 2:
        f_link(c, OUT, p[P_WIRE_UNIT_B], c.bg)
    else:
        v = c.ck_base + (<int64_t>f << c.ushift)
        f_sp_need(c, v)
        f_to_blade(c, p[P_WIRE_UNIT_B], c.bg)
        blade_phys(c, v)
    c.ck_pending[f] = 0
    if c.ck_first[f] == 0:
        c.ck_first[f] = <int32_t>c.cks[K_CK_INDEX]
    c.cnt[C_CKPT_BYTES] += c.unit
    c.cks[K_CK_END] = imax(c.cks[K_CK_END], t + p[P_CK_PACE_PS])
    return t


cdef int64_t ck_restore_func(Core* c, int64_t k, int64_t end) noexcept nogil:
    """fail_and_restore in functional mode: frame k comes back (counted as the detailed restore
    counts it), one DMA time after the previous one."""
    cdef const int64_t* p = c.p
    if p[P_CK_TARGET] == 1:
        c.cnt[C_STORAGE_READS] += 1
    elif p[P_CK_TARGET] == 2:
        f_link(c, IN, p[P_WIRE_UNIT_B], c.bg)
    else:
        blade_phys(c, c.ck_base + (k << c.ushift))
        f_from_blade(c, p[P_WIRE_UNIT_B], c.bg)
    return end + p[P_CK_PACE_PS]


cdef void f_remote_line(Core* c, int64_t baddr, int w) noexcept nogil:
    cdef const int64_t* p = c.p
    c.cnt[C_REMOTE_ACCESSES] += 1
    f_sp_need(c, baddr)
    f_to_blade(c, p[P_WIRE_WLINE_B] if w else p[P_WIRE_REQ_B], c.cur_q)
    blade_phys(c, baddr)
    f_from_blade(c, p[P_WIRE_REQ_B] if w else p[P_WIRE_LINE_B], c.cur_q)


cdef int64_t f_blade_slot_for_victim(Core* c, int64_t j) noexcept nogil:
    """blade_slot_for_victim without timing: a fresh slot of set j, or a full blade's page pushed
    down to storage (by the same FIFO hand or random draw) to make one; -1 without a blade."""
    cdef const int64_t* p = c.p
    cdef int64_t s
    cdef int32_t u
    cdef bint full
    s = blade_slot_choose(c, j, &full)
    if not full:
        return s
    u = c.slot_page[s]
    f_sp_need(c, s << c.ushift)
    f_to_blade(c, p[P_WIRE_REQ_B], c.cur_q)
    blade_phys(c, s << c.ushift)
    f_from_blade(c, p[P_WIRE_UNIT_B], c.cur_q)
    c.cnt[C_STORAGE_WRITES] += 1
    blade_slot_vacate(c, s, u)
    return s


cdef void f_swap_in(Core* c, int64_t t, int64_t g, int32_t* ge, int64_t slot, int w) noexcept nogil:
    """swap_in without timing: the same frame, victim, slots and page-table updates, in the same
    order (the fetch's super page first, then the checkpoint's copy, then the victim's place). The
    victim's write-back is counted at once (the detailed mode holds it back until the trace
    reaches its time: the same bytes, to the same slot)."""
    cdef const int64_t* p = c.p
    cdef int64_t j = g & c.smask
    cdef int64_t dest, v0
    c.cnt[C_FAULTS] += 1
    cdef int32_t f = take_free(c, j)
    if f < 0:
        f = pick_victim(c, j)
    if slot >= 0:
        f_sp_need(c, slot << c.ushift)
        f_to_blade(c, p[P_WIRE_REQ_B], c.cur_q)
        blade_phys(c, slot << c.ushift)
        f_from_blade(c, p[P_WIRE_UNIT_B], c.cur_q)
        c.slot_page[slot] = -1
    else:
        c.cnt[C_STORAGE_READS] += 1
    if c.ck_regime and c.ck_pending[f]:     # (without a regime the checkpoint arrays stay 0: no miss on them)
        ck_copy(c, f, t)
    cdef int32_t v = c.frame_page[f]
    if v >= 0:
        dest = slot if slot >= 0 else f_blade_slot_for_victim(c, j)
        if dest >= 0:
            v0 = dest << c.ushift
            f_sp_need(c, v0)
            f_to_blade(c, p[P_WIRE_UNIT_B], c.cur_q)
            blade_phys(c, v0)
            pt_entry(c, v)[0] = <int32_t>(-2 - dest)
            c.slot_page[dest] = v
        else:
            c.cnt[C_STORAGE_WRITES] += 1
            pt_entry(c, v)[0] = ON_STORAGE
        c.cnt[C_SWAP_OUTS] += 1
        c.cnt[C_DIRTY_VICTIMS] += c.dirty[f]
    c.frame_ready[f] = t          # a functional fill is done at once
    c.frame_page[f] = <int32_t>g
    ge[0] = f
    c.dirty[f] = 0
    if c.ck_regime and c.ck_dirty[f] == 1:
        c.ck_dirty[f] = 2
    if w:
        mark_written(c, f)
    c.cnt[C_SWAP_INS] += 1
    if c.victim == 0:       # the next victim of the set: its records now, while the trace goes on (a hint)
        prefetch_frame(c, c.tail[j])


cdef void f_memory_access(Core* c, int64_t t, int64_t m, int w) noexcept nogil:
    """memory_access without timing (same placement, same policy paths)."""
    cdef const int64_t* p = c.p
    cdef int64_t g, off
    cdef int32_t l
    cdef int32_t* ge
    if p[P_POLICY] == 0:
        m -= c.mbase
        if m < c.local_bytes:
            c.cnt[C_LOCAL_ACCESSES] += 1
        else:
            f_remote_line(c, m - c.local_bytes, w)
        return
    g = m >> c.ushift
    ge = pt_entry(c, g)
    l = ge[0]
    if l == -1:
        l = first_touch(c, g, &ge)
        if l == -1:        # no room (the engine raises)
            return
    if l >= 0:
        c.cnt[C_LOCAL_ACCESSES] += 1
        if w and c.ck_regime and c.ck_pending[l]:
            ck_copy(c, l, t)
        touch(c, l)
        if w:
            mark_written(c, l)
    elif p[P_POLICY] == 1:
        off = m & (c.unit - 1)
        f_remote_line(c, ((-2 - <int64_t>l) << c.ushift) + off, w)
    else:
        f_swap_in(c, t, g, ge, -1 if l == ON_STORAGE else -2 - <int64_t>l, w)


cdef void f_cache_access(Core* c, int64_t t, int64_t m, int w) noexcept nogil:
    """cache_access without timing: the same tags, use stamps, dirty bits and random draws."""
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
            return
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
            f_memory_access(c, t, c.cache_tag[v] << c.p[P_LINE_SHIFT], 1)
    c.cache_tag[v] = line
    c.cache_stamp[v] = c.sc[S_CACHE_CLOCK]
    c.cache_dirty[v] = <uint8_t>w
    f_memory_access(c, t, m, 0)


cdef inline void f_epoch_row(Core* c, Func* fx, int64_t t) noexcept nogil:
    """epoch_row from the DRAM counters as the state holds them (no DRAM is bound)."""
    cdef int64_t k, b, base = c.sc[S_EPOCH_ROWS] * (1 + N_COUNTERS + 2 * N_DRAM_COUNTERS)
    c.epoch_buf[base] = t
    for k in range(N_COUNTERS):
        c.epoch_buf[base + 1 + k] = c.cnt[k]
    for k in range(N_DRAM_COUNTERS):
        c.epoch_buf[base + 1 + N_COUNTERS + k] = 0
        for b in range(c.nb):
            c.epoch_buf[base + 1 + N_COUNTERS + k] += fx.dcnt[b][k]
        c.epoch_buf[base + 1 + N_COUNTERS + N_DRAM_COUNTERS + k] = fx.dcnt[c.nb][k]
    c.sc[S_EPOCH_ROWS] += 1


cdef inline void f_prefetch_neighbours(Core* c, int32_t f) noexcept nogil:
    # exact LRU: a touch unlinks f from its neighbours (random frames): their records too (a hint)
    cdef int32_t a = c.prev[f], b = c.nxt[f]
    if a >= 0:
        hw_prefetch(c.nxt + a)
    if b >= 0:
        hw_prefetch(c.prev + b)


DEF PF_NEAR = 4    # functional loop: the frame's LRU neighbours, a stage after the frame itself
DEF PF_VICTIM = 2  # ... and for an access that will fault, the page-table entry of its set's LRU victim


cdef Py_ssize_t func_loop(Core* c, Func* fx, const int64_t* t_col, const uint64_t* addr, const uint8_t* op,
                          const uint16_t* vm, const int64_t* vm_base, Py_ssize_t n) noexcept nogil:
    """Run accesses 0..n-1 functionally; returns how many ran (fewer when the epoch buffer filled
    up, state must grow or the run stops with an error), as run_loop."""
    cdef const int64_t* p = c.p
    cdef int64_t* cnt = c.cnt
    cdef int64_t* sc = c.sc
    cdef int64_t timing = p[P_TIMING]
    cdef int64_t window = p[P_WINDOW]
    cdef bint ctl = c.ck_regime or p[P_FAIL_AT_PS] >= 0 or p[P_QOS_NEV] > 0 or p[P_PERM_NEV] > 0
    cdef const int64_t* vm_cb = p + p[P_VM_CB_AT]
    cdef int64_t last_completion = cnt[C_LAST_COMPLETION_PS]
    cdef Py_ssize_t i
    cdef int64_t arr, m, done, k, g
    cdef int w, v
    cdef int32_t l
    cdef bint busy
    cdef bint pf = p[P_POLICY] != 0 and c.cache_sets == 0
    cdef bint many = c.nb > 1
    cdef bint lru = c.victim == 0
    cdef bint swaps = p[P_POLICY] >= 2
    cdef int64_t pfg[PF_RING]
    cdef int64_t pfs[PF_RING]     # the set of each access ahead
    cdef int32_t u
    cdef const int32_t* pt_dir = c.pt_dir
    cdef const int32_t* pt_leaf = c.pt_leaf
    if pf:
        for i in range(min(PF_LOC, n)):
            g = (vm_base[vm[i]] + <int64_t>addr[i]) >> c.ushift
            pfs[i] = g & c.smask
            pfg[i] = (<int64_t>pt_dir[g >> PT_LEAF_SHIFT] << PT_LEAF_SHIFT) | (g & PT_MASK)
    for i in range(n):
        if sc[S_GROW]:
            cnt[C_LAST_COMPLETION_PS] = last_completion
            return i
        if pf:      # as run_loop (no effect on results), and stages more for the LRU neighbours and victims
            if i + PF_LOC < n:
                g = (vm_base[vm[i + PF_LOC]] + <int64_t>addr[i + PF_LOC]) >> c.ushift
                pfs[(i + PF_LOC) & (PF_RING - 1)] = g & c.smask
                g = (<int64_t>pt_dir[g >> PT_LEAF_SHIFT] << PT_LEAF_SHIFT) | (g & PT_MASK)
                pfg[(i + PF_LOC) & (PF_RING - 1)] = g
                hw_prefetch(pt_leaf + g)
            if i + PF_FRAME < n and not (many and vm_cb[vm[i + PF_FRAME]] != c.cb):
                l = pt_leaf[pfg[(i + PF_FRAME) & (PF_RING - 1)]]
                if l >= 0:
                    prefetch_frame(c, l)
                elif l < -1 and l != ON_STORAGE:
                    hw_prefetch(c.slot_page + (-2 - <int64_t>l))
            if lru and i + PF_NEAR < n and not (many and vm_cb[vm[i + PF_NEAR]] != c.cb):
                l = pt_leaf[pfg[(i + PF_NEAR) & (PF_RING - 1)]]
                if l >= 0:
                    f_prefetch_neighbours(c, l)
                elif swaps:     # a fault: its set's victim (the LRU tail) and that frame's records
                    prefetch_frame(c, c.tail[pfs[(i + PF_NEAR) & (PF_RING - 1)]])
            if lru and swaps and i + PF_VICTIM < n and not (many and vm_cb[vm[i + PF_VICTIM]] != c.cb):
                l = pt_leaf[pfg[(i + PF_VICTIM) & (PF_RING - 1)]]
                if l < -1:      # the victim's page leaves: its page-table entry changes
                    k = c.tail[pfs[(i + PF_VICTIM) & (PF_RING - 1)]]
                    if k >= 0:
                        u = c.frame_page[k]
                        if u >= 0:
                            hw_prefetch(pt_leaf + ((<int64_t>pt_dir[u >> PT_LEAF_SHIFT] << PT_LEAF_SHIFT) | (u & PT_MASK)))
        busy = False
        if c.ck_regime:
            for k in range(c.nb):
                if c.cks_base[k * N_CK_FIELDS + K_CK_ACTIVE]:
                    busy = True
        if timing == 0:
            arr = t_col[i]
        else:
            arr = sc[S_LAST_ISSUE_PS] + t_col[i] + (fx.stall_ck if busy else fx.stall)
        if p[P_EPOCH_PS]:
            while arr >= sc[S_EPOCH_NEXT]:
                if sc[S_EPOCH_ROWS] == p[P_EPOCH_CAP]:
                    cnt[C_LAST_COMPLETION_PS] = last_completion
                    return i
                f_epoch_row(c, fx, sc[S_EPOCH_NEXT])
                sc[S_EPOCH_NEXT] += p[P_EPOCH_PS]
        if timing == 1:
            sc[S_LAST_ISSUE_PS] = arr
        if not sc[S_STARTED]:
            sc[S_STARTED] = 1
            cnt[C_FIRST_ARRIVAL_PS] = arr
            for k in range(c.nb):
                c.cks_base[k * N_CK_FIELDS + K_CK_NEXT] = arr + p[P_CK_INTERVAL_PS]
        if ctl:
            control_events(c, arr)
        w = op[i]
        v = vm[i]
        c.cur_q = v
        if vm_cb[v] != c.cb:
            bind_blade(c, vm_cb[v])
        m = vm_base[v] + <int64_t>addr[i]
        if c.cache_sets:
            f_cache_access(c, arr, m, w)
        else:
            f_memory_access(c, arr, m, w)
        cnt[C_ACCESSES] += 1
        c.vm_stats[v * VSW + VS_ACCESSES] += 1
        if w:
            cnt[C_WRITES] += 1
            c.vm_stats[v * VSW + VS_WRITES] += 1
        else:
            cnt[C_READS] += 1
        done = arr + (fx.lat_ck if busy else fx.lat)
        if done > last_completion:
            last_completion = done
        if timing == 1:
            c.ring[sc[S_RING_IDX]] = done
            sc[S_RING_IDX] = ring_next(sc[S_RING_IDX], window)
        sc[S_LAST_ARRIVAL_PS] = arr
        if sc[S_ERROR]:
            cnt[C_LAST_COMPLETION_PS] = last_completion
            return i + 1
    cnt[C_LAST_COMPLETION_PS] = last_completion
    return n


DEF F_LOC = 12      # func_loop_paged's prefetch stages (accesses ahead): page-table entry, its
DEF F_FRAME = 6     # frame's records, the frame's LRU neighbours (or a fault's victim: its records
DEF F_NEAR = 3      # and page-table entry)
DEF F_RING = 16     # > F_LOC, a power of two
DEF F_VICTIMS = 4   # a swap's hints reach this many victims ahead


cdef inline Py_ssize_t paged_flush(Core* c, const int64_t* t_col, const uint8_t* op, const uint16_t* vm, Py_ssize_t k,
                                   int64_t n_local, int64_t last_completion, int64_t last_issue, int64_t last_arr,
                                   int64_t stall, int64_t lat, bint closed, bint one_vm) noexcept nogil:
    """func_loop_paged's registers back to the state after its k accesses; returns k. What the loop
    did not write as it went, written now as func_loop writes it: the counts of accesses, reads
    and writes (and one VM's), and closed loop, the completion ring: each access's completion
    (arrival + lat) in turn, of which the last `window` stay (the arrivals, recomputed backwards
    from the last: each is the one before plus its gap plus the stall)."""
    cdef int64_t* sc = c.sc
    cdef int64_t window = c.p[P_WINDOW]
    cdef int64_t n_writes = 0, ridx, arr
    cdef Py_ssize_t i, m
    for i in range(k):
        n_writes += op[i]
    c.cnt[C_ACCESSES] += k
    c.cnt[C_WRITES] += n_writes
    c.cnt[C_READS] += k - n_writes
    c.cnt[C_LOCAL_ACCESSES] += n_local
    if one_vm:
        c.vm_stats[vm[0] * VSW + VS_ACCESSES] += k
        c.vm_stats[vm[0] * VSW + VS_WRITES] += n_writes
    c.cnt[C_LAST_COMPLETION_PS] = last_completion
    sc[S_LAST_ISSUE_PS] = last_issue
    sc[S_LAST_ARRIVAL_PS] = last_arr
    if closed and k:
        ridx = (sc[S_RING_IDX] + k) % window     # where the next access's completion goes
        m = min(k, window)
        arr = last_arr
        i = k - 1
        while m > 0:
            ridx = ridx - 1 if ridx > 0 else window - 1
            c.ring[ridx] = arr + lat
            arr -= t_col[i] + stall
            i -= 1
            m -= 1
        sc[S_RING_IDX] = (sc[S_RING_IDX] + k) % window
    return k


cdef inline void paged_swaps(Core* c, int64_t n_swaps, int64_t n_dirty, int64_t* vs) noexcept nogil:
    """What func_loop_paged's in-line swaps counted in registers, added to the state (every one is
    only ever added to, nothing in the loop reads it): each swap is a fault, a swap in and a swap
    out, a request and a unit out (the victim), a unit in; `n_dirty` of the victims were dirty;
    `vs`: the one VM's statistics (the swaps of more VMs count as they go)."""
    cdef const int64_t* p = c.p
    cdef int64_t wire_req = p[P_WIRE_REQ_B], wire_unit = p[P_WIRE_UNIT_B]
    if n_swaps == 0:
        return
    c.cnt[C_FAULTS] += n_swaps
    c.cnt[C_LINK_BYTES_OUT] += n_swaps * (wire_req + wire_unit)
    c.cnt[C_LINK_BYTES_IN] += n_swaps * wire_unit
    if c.sw:
        c.cnt[C_PORT_BYTES_OUT] += n_swaps * (wire_req + wire_unit)
        c.cnt[C_PORT_BYTES_IN] += n_swaps * wire_unit
    if vs != NULL:
        vs[VS_LINK_BYTES] += n_swaps * (wire_req + 2 * wire_unit)
        vs[VS_LINK_MSGS] += 3 * n_swaps
    c.cnt[C_SWAP_OUTS] += n_swaps
    c.cnt[C_DIRTY_VICTIMS] += n_dirty
    c.cnt[C_SWAP_INS] += n_swaps


# func_loop_paged's specialisations: each flag a type, so that Cython compiles one loop per
# combination, with the flag a constant the C compiler folds (and drops what the others need)
ctypedef fused LruK:          # exact LRU: int64_t; any other victim policy: uint64_t
    int64_t
    uint64_t
ctypedef fused ClosedK:       # closed loop: int32_t; open: uint16_t
    int32_t
    uint16_t
ctypedef fused OneVmK:        # one VM: uint8_t; more: double
    uint8_t
    double


cdef Py_ssize_t paged_body(Core* c, Func* fx, const int64_t* t_col, const uint64_t* addr, const uint8_t* op,
                           const uint16_t* vm, const int64_t* vm_base, Py_ssize_t n,
                           LruK lru_k, ClosedK closed_k, OneVmK one_vm_k) noexcept nogil:
    """func_loop_paged for one combination of (exact LRU, closed loop, one VM)."""
    cdef bint lru = LruK is int64_t
    cdef bint closed = ClosedK is int32_t
    cdef bint one_vm = OneVmK is uint8_t
    cdef const int64_t* p = c.p
    cdef int64_t* sc = c.sc
    cdef int64_t stall = fx.stall, lat = fx.lat
    cdef int64_t last_completion = c.cnt[C_LAST_COMPLETION_PS]
    cdef int64_t last_issue = sc[S_LAST_ISSUE_PS], last_arr = sc[S_LAST_ARRIVAL_PS]
    cdef int64_t* vstats = c.vm_stats
    cdef int64_t vb0 = vm_base[0]
    cdef int64_t n_other = 0      # accesses that were not local hits (n_local: the others)
    cdef int64_t n_swaps = 0, n_dirty = 0   # one VM: the in-line swaps, and their dirty victims (paged_swaps)
    cdef int64_t ushift = c.ushift, smask = c.smask
    cdef const int32_t* pt_dir = c.pt_dir
    cdef int32_t* pt_leaf = c.pt_leaf
    cdef int32_t* prev = c.prev
    cdef int32_t* nxt = c.nxt
    cdef int32_t* tail = c.tail
    cdef uint8_t* dirty = c.dirty
    cdef uint8_t* ref = c.ref
    cdef int victim = c.victim
    cdef bint swaps = p[P_POLICY] >= 2
    cdef bint fast_fault = lru and swaps and c.sp_identity
    cdef int64_t* cnt = c.cnt
    cdef int64_t* vs
    cdef int32_t* used = c.used
    # the records a swap in line changes, in registers (as the lists above: f_memory_access may
    # re-point them, so they are read again after it)
    cdef int32_t* frame_page = c.frame_page
    cdef int32_t* slot_page = c.slot_page
    cdef int32_t* sp_map = c.sp_map
    cdef int64_t* frame_ready = c.frame_ready
    cdef int64_t ways = c.ways, sp_shift = c.sp_shift
    cdef int64_t wire_req = p[P_WIRE_REQ_B], wire_unit = p[P_WIRE_UNIT_B]
    cdef Py_ssize_t i
    cdef int64_t arr, m, k, g, j, slot, gi
    cdef int w, v
    cdef int32_t l, a, b, u, f
    cdef int hop
    cdef int64_t pfg[F_RING]      # accesses ahead: where their page-table entries are
    cdef int32_t pfl[F_RING]      # ... and what those held F_FRAME accesses ahead (hints only)
    if sc[S_GROW] or n == 0:
        return 0
    if not sc[S_STARTED]:         # as func_loop at the first access (its arrival is the same below)
        arr = t_col[0] if not closed else last_issue + t_col[0] + stall
        sc[S_STARTED] = 1
        cnt[C_FIRST_ARRIVAL_PS] = arr
        c.cks_base[K_CK_NEXT] = arr + p[P_CK_INTERVAL_PS]
    # the rings hold valid entries from the start (an entry of leaf 0, nothing), so the later
    # stages run unchecked past the chunk's end (what they read there only makes hints)
    for i in range(F_RING):
        pfg[i] = 0
        pfl[i] = -1
    for i in range(min(F_LOC, n)):
        g = ((vb0 if one_vm else vm_base[vm[i]]) + <int64_t>addr[i]) >> ushift
        pfg[i] = (<int64_t>pt_dir[g >> PT_LEAF_SHIFT] << PT_LEAF_SHIFT) | (g & PT_MASK)
    for i in range(min(F_FRAME, n)):
        pfl[i] = pt_leaf[pfg[i]]
    for i in range(n):
        # hints only (no effect on results), as func_loop: the page-table entry F_LOC accesses
        # ahead, then its frame's records, its LRU neighbours, a fault's victim's entry
        if i + F_LOC < n:
            g = ((vb0 if one_vm else vm_base[vm[i + F_LOC]]) + <int64_t>addr[i + F_LOC]) >> ushift
            g = (<int64_t>pt_dir[g >> PT_LEAF_SHIFT] << PT_LEAF_SHIFT) | (g & PT_MASK)
            pfg[(i + F_LOC) & (F_RING - 1)] = g
            hw_prefetch(pt_leaf + g)
        l = pt_leaf[pfg[(i + F_FRAME) & (F_RING - 1)]]
        pfl[(i + F_FRAME) & (F_RING - 1)] = l
        if l >= 0:
            if lru:
                hw_prefetch(prev + l)
                hw_prefetch(nxt + l)
            else:
                hw_prefetch(ref + l)
            hw_prefetch(dirty + l)
        elif l < -1 and l != ON_STORAGE:
            hw_prefetch(slot_page + (-2 - <int64_t>l))
        if lru:
            l = pfl[(i + F_NEAR) & (F_RING - 1)]     # as it was F_FRAME - F_NEAR accesses ago (a hint)
            if l >= 0:
                a = prev[l]
                b = nxt[l]
                if a >= 0:
                    hw_prefetch(nxt + a)
                if b >= 0:
                    hw_prefetch(prev + b)
            elif swaps and i + F_NEAR < n:     # a fault ahead: its set's victim (the LRU tail) leaves
                k = tail[((vb0 if one_vm else vm_base[vm[i + F_NEAR]]) + <int64_t>addr[i + F_NEAR]) >> ushift & smask]
                if k >= 0:
                    prefetch_frame(c, <int32_t>k)
                    u = frame_page[k]
                    if u >= 0:
                        hw_prefetch(pt_leaf + ((<int64_t>pt_dir[u >> PT_LEAF_SHIFT] << PT_LEAF_SHIFT) | (u & PT_MASK)))
        if closed:
            arr = last_issue + t_col[i] + stall
            last_issue = arr
        else:
            arr = t_col[i]
        w = op[i]
        v = 0 if one_vm else vm[i]     # (one VM: the engine checked every id is 0)
        gi = pfg[i & (F_RING - 1)]      # its page-table entry, as looked up F_LOC accesses ago:
        if gi < (1 << PT_LEAF_SHIFT):   # its range had no leaf then (it may have one now)
            g = (vm_base[v] + <int64_t>addr[i]) >> ushift
            gi = (<int64_t>pt_dir[g >> PT_LEAF_SHIFT] << PT_LEAF_SHIFT) | (g & PT_MASK)
        l = pt_leaf[gi]
        if l >= 0:
            if lru:         # touch
                j = l & smask
                if c.head[j] != l:
                    lru_remove(c, l, j)
                    lru_push(c, l, j)
            elif victim == 1:
                ref[l] = 1
            dirty[l] |= <uint8_t>w       # mark_written without a checkpoint regime (no branch on w: a
            #                              read or a write is as good as random to the branch predictor)
        else:
            n_other += 1
            m = vm_base[v] + <int64_t>addr[i]
            g = m >> ushift
            if (fast_fault and l < -1 and l != ON_STORAGE and used[g & smask] >= ways and tail[g & smask] >= 0
                    and frame_page[tail[g & smask]] >= 0
                    and sp_map[((-2 - <int64_t>l) << ushift) >> sp_shift] >= 0):
                # f_swap_in's usual case, in line (the same changes in the same order): a fault on a
                # page in the blade (its super page given, identity mapping) with no free frame; the
                # LRU victim goes to the slot the page leaves
                slot = -2 - <int64_t>l
                j = g & smask
                f = tail[j]
                if not one_vm:
                    cnt[C_FAULTS] += 1
                lru_remove(c, f, j)         # pick_victim: the tail to the head
                lru_push(c, f, j)
                # the next victims, up the list from the new tail (hints: each fault reaches one
                # step further than the last, so what it reads came with an earlier fault's hints):
                # the page-table entry of the (F_VICTIMS - 1)th, the records of the F_VICTIMSth
                k = tail[j]
                for hop in range(F_VICTIMS - 2):
                    if k < 0:
                        break
                    k = prev[k]
                if k >= 0:
                    u = frame_page[k]
                    if u >= 0:
                        hw_prefetch(pt_leaf + ((<int64_t>pt_dir[u >> PT_LEAF_SHIFT] << PT_LEAF_SHIFT) | (u & PT_MASK)))
                    k = prev[k]
                    if k >= 0:
                        prefetch_frame(c, <int32_t>k)
                # the fetch (a request out, the unit back), then the victim into the slot it leaves
                # (one VM: counted in registers, paged_swaps adds them up at the end)
                if not one_vm:
                    vs = vstats + v * VSW
                    cnt[C_LINK_BYTES_OUT] += wire_req + wire_unit
                    cnt[C_LINK_BYTES_IN] += wire_unit
                    if c.sw:
                        cnt[C_PORT_BYTES_OUT] += wire_req + wire_unit
                        cnt[C_PORT_BYTES_IN] += wire_unit
                    vs[VS_LINK_BYTES] += wire_req + 2 * wire_unit
                    vs[VS_LINK_MSGS] += 3
                u = frame_page[f]
                pt_leaf[(<int64_t>pt_dir[u >> PT_LEAF_SHIFT] << PT_LEAF_SHIFT) | (u & PT_MASK)] = <int32_t>(-2 - slot)
                slot_page[slot] = u
                if one_vm:
                    n_swaps += 1
                    n_dirty += dirty[f]
                else:
                    cnt[C_SWAP_OUTS] += 1
                    cnt[C_DIRTY_VICTIMS] += dirty[f]
                    cnt[C_SWAP_INS] += 1
                frame_ready[f] = arr
                frame_page[f] = <int32_t>g
                pt_leaf[gi] = f
                dirty[f] = <uint8_t>w
            else:
                c.cur_q = v
                f_memory_access(c, arr, m, w)
                frame_page, slot_page, sp_map, frame_ready = c.frame_page, c.slot_page, c.sp_map, c.frame_ready
                if sc[S_GROW] or sc[S_ERROR]:
                    if not one_vm:
                        vstats[v * VSW + VS_ACCESSES] += 1
                        vstats[v * VSW + VS_WRITES] += w
                    last_arr = arr
                    if arr + lat > last_completion:
                        last_completion = arr + lat
                    if one_vm:
                        paged_swaps(c, n_swaps, n_dirty, vstats)     # (v = 0)
                    return paged_flush(c, t_col, op, vm, i + 1, i + 1 - n_other, last_completion, last_issue,
                                       last_arr, stall, lat, closed, one_vm)
        if not one_vm:
            vstats[v * VSW + VS_ACCESSES] += 1
            vstats[v * VSW + VS_WRITES] += w
        if not closed:
            if arr + lat > last_completion:
                last_completion = arr + lat
            last_arr = arr
    if closed:      # arrivals never go back (gaps and the stall are >= 0): the last one's completes last
        last_arr = last_issue
        if last_arr + lat > last_completion:
            last_completion = last_arr + lat
    if one_vm:
        paged_swaps(c, n_swaps, n_dirty, vstats)     # (v = 0)
    return paged_flush(c, t_col, op, vm, n, n - n_other, last_completion, last_issue, last_arr, stall, lat, closed,
                       one_vm)


cdef Py_ssize_t func_loop_paged(Core* c, Func* fx, const int64_t* t_col, const uint64_t* addr, const uint8_t* op,
                                const uint16_t* vm, const int64_t* vm_base, Py_ssize_t n) noexcept nogil:
    """func_loop for the common configuration (func_loop_fits): paging (policy >= 1), one compute
    blade, no LLC, no time-driven event (checkpoints, a failure, SLA or permission changes,
    epochs). The same results: an access to a local page (the usual case) and, with exact LRU, a
    swap from the blade are handled here, with the counts and clocks kept in registers until the
    end (paged_flush); every other access goes through f_memory_access as in func_loop. Without
    a checkpoint regime no copy is ever in progress: the estimates are always (stall, lat)."""
    cdef int64_t lru_on = 0
    cdef uint64_t lru_off = 0
    cdef int32_t closed_on = 0
    cdef uint16_t closed_off = 0
    cdef uint8_t one_on = 0
    cdef double one_off = 0
    if c.victim == 0:
        if c.p[P_TIMING] == 1:
            if c.bg == 1:
                return paged_body(c, fx, t_col, addr, op, vm, vm_base, n, lru_on, closed_on, one_on)
            return paged_body(c, fx, t_col, addr, op, vm, vm_base, n, lru_on, closed_on, one_off)
        if c.bg == 1:
            return paged_body(c, fx, t_col, addr, op, vm, vm_base, n, lru_on, closed_off, one_on)
        return paged_body(c, fx, t_col, addr, op, vm, vm_base, n, lru_on, closed_off, one_off)
    if c.p[P_TIMING] == 1:
        if c.bg == 1:
            return paged_body(c, fx, t_col, addr, op, vm, vm_base, n, lru_off, closed_on, one_on)
        return paged_body(c, fx, t_col, addr, op, vm, vm_base, n, lru_off, closed_on, one_off)
    if c.bg == 1:
        return paged_body(c, fx, t_col, addr, op, vm, vm_base, n, lru_off, closed_off, one_on)
    return paged_body(c, fx, t_col, addr, op, vm, vm_base, n, lru_off, closed_off, one_off)


cdef inline bint func_loop_fits(Core* c) noexcept nogil:
    """func_loop_paged runs this configuration."""
    cdef const int64_t* p = c.p
    return (p[P_POLICY] != 0 and c.cache_sets == 0 and c.nb == 1 and not c.ck_regime and p[P_FAIL_AT_PS] < 0
            and p[P_QOS_NEV] == 0 and p[P_PERM_NEV] == 0 and p[P_EPOCH_PS] == 0)
