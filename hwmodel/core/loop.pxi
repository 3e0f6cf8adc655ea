# The run loop (core/loop.py in the twin): arrivals (open or closed loop), epoch samples and
# control-plane events due by each arrival, one access through the LLC or memory, latency statistics;
# virtual addresses are mapped for the whole chunk first (run_virtual).


# software prefetch distances (accesses ahead) for the page-location table and, one stage later,
# the frame's records: both are indexed by random pages, so without it each access waits on misses
DEF PF_LOC = 16
DEF PF_FRAME = 8
DEF PF_RING = 32   # > PF_LOC, a power of two


cdef inline int64_t hist_bin(int64_t v) noexcept nogil:
    cdef int k = hw_bitlen(<unsigned long long>v)
    if k <= HIST_SUB_BITS + 1:
        return v
    return ((<int64_t>(k - HIST_SUB_BITS - 1)) << HIST_SUB_BITS) + (v >> (k - HIST_SUB_BITS - 1))


cdef inline void epoch_row(Core* c, int64_t t) noexcept nogil:
    """Append (t, all counters) to the epoch buffer: the state of the run as of time t."""
    ctl_settle()              # the DRAM counters as committed, not as a kept run-ahead has them
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
                stop(c, ERR_VM_FULL, vm[k])
                ran = k + 1
    finally:
        free(mach)
        free(zero)
    return ran
