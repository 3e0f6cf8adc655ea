# The run state the parts share (core/state.py in the twin): the state dict's arrays bound to one
# `Core` (bind_state), each compute blade's slices of them (bind_blade), and helpers every part uses.
# Included by hwmodel/_core.pyx; the structs are in hwmodel/_core.pxd.


cdef inline int64_t ring_next(int64_t k, int64_t n) noexcept nogil:
    """(k + 1) % n for 0 <= k < n, without a division (ring and hand indices)."""
    return k + 1 if k + 1 < n else 0


cdef inline uint64_t splitmix64(uint64_t* x) noexcept nogil:
    x[0] += 0x9E3779B97F4A7C15ULL
    cdef uint64_t z = x[0]
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL
    return z ^ (z >> 31)


cdef inline void stop(Core* c, int64_t code, int64_t info) noexcept nogil:
    """The run stops at this access with ERR_* `code` and its detail (the first error stands): the
    engine raises, naming the access."""
    if not c.sc[S_ERROR]:
        c.sc[S_ERROR] = code
        c.sc[S_ERROR_INFO] = info


cdef int bind_state(Core* c, const int64_t[::1] p, dict st, Py_ssize_t n_vm) except -1:
    """Point `c` at the arrays of the state dict `st` (with the GIL; they outlive the run of the
    chunk: the engine changes them only between calls) and derive the fields the parts read. The
    per-blade fields are bound by bind_blade, the DRAMs by bind_dram.

    Every array in `st` must have at least one element (the engine pads empty tables), so that
    taking the address of element 0 is valid."""
    cdef int64_t[::1] cnt = st["counters"]
    cdef int64_t[::1] hist = st["hist"]
    cdef int64_t[::1] vm_hist = st["vm_hist"]
    cdef int64_t[::1] vm_stats = st["vm_stats"]
    cdef int64_t[::1] sc = st["scalars"]
    cdef int64_t[::1] ring = st["ring"]
    cdef int64_t[::1] link_cal = st["link_cal"]
    cdef int64_t[::1] port_cal = st["port_cal"]
    cdef int64_t[::1] port_qos = st["port_qos"]
    cdef int64_t[::1] defer = st["defer"]
    cdef int64_t[::1] ck_sc = st["ck_sc"]
    cdef int64_t[::1] frame_ready = st["frame_ready"]
    cdef int32_t[::1] pt_dir = st["pt_dir"]
    cdef int32_t[::1] pt_leaf = st["pt_leaf"]
    cdef int64_t[::1] cb_grow = st["cb_grow"]
    cdef int64_t[::1] va_key = st["va_key"]
    cdef int32_t[::1] va_page = st["va_page"]
    cdef int64_t[::1] va_next = st["va_next"]
    cdef int32_t[::1] frame_page = st["frame_page"]
    cdef int32_t[::1] prev = st["lru_prev"]
    cdef int32_t[::1] nxt = st["lru_next"]
    cdef int32_t[::1] head = st["set_head"]
    cdef int32_t[::1] tail = st["set_tail"]
    cdef int32_t[::1] used = st["set_used"]
    cdef int32_t[::1] hand = st["set_hand"]
    cdef int32_t[::1] blade_next = st["blade_next"]
    cdef uint8_t[::1] dirty = st["dirty"]
    cdef uint8_t[::1] ref = st["ref"]
    cdef int32_t[::1] slot_page = st["slot_page"]
    cdef int32_t[::1] blade_hand = st["blade_hand"]
    cdef int64_t[::1] dev_unit_free = st["dev_unit_free"]
    cdef int64_t[::1] dev_ring = st["dev_ring"]
    cdef int64_t[::1] buf_free = st["buf_free"]
    cdef uint8_t[::1] ck_dirty = st["ck_dirty"]
    cdef int32_t[::1] ck_first = st["ck_first"]
    cdef int32_t[::1] ck_list = st["ck_list"]
    cdef uint8_t[::1] ck_pending = st["ck_pending"]
    cdef int32_t[::1] ck_copy_list = st["ck_copy_list"]
    cdef int64_t[::1] epoch_buf = st["epoch_buf"]
    cdef int64_t[::1] cache_tag = st["cache_tag"]
    cdef int64_t[::1] cache_stamp = st["cache_stamp"]
    cdef uint8_t[::1] cache_dirty = st["cache_dirty"]
    cdef int64_t[::1] qsla = st["qos_sla"]
    cdef int64_t[::1] qfree = st["qos_free"]
    cdef int64_t[::1] qls = st["qos_ls"]
    cdef int64_t[::1] qle = st["qos_le"]
    cdef int64_t[::1] qfin = st["qos_fin"]
    cdef int64_t[::1] qtb = st["qos_tb"]
    cdef int32_t[::1] sp_map = st["sp_map"]
    cdef int32_t[::1] sp_owner = st["sp_owner"]
    cdef int64_t[::1] mbuf_ring = st["mbuf_ring"]
    cdef int32_t[::1] mbuf_idx = st["mbuf_idx"]
    if (pt_dir.shape[0] < p[P_N_DIR] or pt_leaf.shape[0] < 2 << PT_LEAF_SHIFT
            or cb_grow.shape[0] != p[P_N_CB] * N_GROW_FIELDS):
        raise ValueError("run_chunk: the page table or the growth rows do not fit this system")
    cdef Py_ssize_t nva = va_key.shape[0]
    if p[P_VIRTUAL] and (nva < 2 or nva & (nva - 1) or va_page.shape[0] != nva or va_next.shape[0] != n_vm):
        raise ValueError("run_chunk: the virtual-page table must be a power of two >= 2, with one counter per VM")
    c.p = &p[0]
    c.cnt = &cnt[0]
    c.hist = &hist[0]
    c.vm_hist = &vm_hist[0]
    c.vm_stats = &vm_stats[0]
    c.sc = &sc[0]
    c.ring = &ring[0]
    c.pt_dir = &pt_dir[0]
    c.pt_leaf = &pt_leaf[0]
    c.pt_leaf_lim = (pt_leaf.shape[0] >> PT_LEAF_SHIFT) - GROW_ROOM
    c.cbg = &cb_grow[0]
    c.va_key = &va_key[0]
    c.va_page = &va_page[0]
    c.va_next = &va_next[0]
    c.vm_pages = &p[p[P_VM_PAGES_AT]]
    c.va_mask = <uint64_t>(va_key.shape[0] - 1)
    c.va_shift = 64 - hw_bitlen(<unsigned long long>(va_key.shape[0] - 1)) if p[P_VIRTUAL] else 0
    c.va_lim = va_key.shape[0] // 2     # the table is at most half full
    c.dev_unit_free = &dev_unit_free[0]
    c.dev_ring = &dev_ring[0]
    c.buf_free = &buf_free[0]
    c.ck_regime = p[P_CK_REGIME]
    c.epoch_buf = &epoch_buf[0]
    c.cache_sets = p[P_CACHE_SETS]
    c.cache_ways = p[P_CACHE_WAYS]
    c.qsla = &qsla[0]
    c.qos = p[P_QOS]
    c.qdisc = p[P_QOS_DISC]
    c.nq = p[P_QOS_NQ]
    c.nlev = p[P_QOS_LEVELS]
    c.bg = n_vm      # the background queue's row follows the VMs'
    c.cur_q = 0
    c.qos_start_p = <void*>qos_start
    c.rng = <uint64_t>sc[S_RNG]
    c.ushift = p[P_UNIT_SHIFT]
    c.unit = (<int64_t>1) << c.ushift
    c.n_sets = p[P_N_SETS]
    c.smask = p[P_N_SETS] - 1
    c.prop = p[P_PROP_PS]
    c.victim = p[P_VICTIM]
    c.sw = p[P_SW]
    c.sp_shift = p[P_SP_SHIFT]
    c.nb = p[P_N_CB]
    c.sp_identity = c.nb == 1 and p[P_SP_MODE] == 0 and p[P_PERM_NEV] == 0
    # per-blade arrays: blade k's slice starts where bind_blade says
    c.base.link.cal = &link_cal[0]
    c.port.cal = &port_cal[0]
    cdef int64_t port_lv = 2 * (c.nlev if c.nlev > 0 else 1)   # port_qos: qfree, qls, qle, then qfin
    c.port.qfree = &port_qos[0]
    c.port.qls = c.port.qfree + port_lv
    c.port.qle = c.port.qls + port_lv
    c.port.qfin = c.port.qle + port_lv
    c.port.qtb = NULL
    c.defer = &defer[0]
    c.cks_base = &ck_sc[0]
    c.base.frame_ready = &frame_ready[0]
    c.base.frame_page = &frame_page[0]
    c.base.prev = &prev[0]
    c.base.nxt = &nxt[0]
    c.base.head = &head[0]
    c.base.tail = &tail[0]
    c.base.used = &used[0]
    c.base.hand = &hand[0]
    c.base.blade_next = &blade_next[0]
    c.base.dirty = &dirty[0]
    c.base.ref = &ref[0]
    c.base.slot_page = &slot_page[0]
    c.base.blade_hand = &blade_hand[0]
    c.base.ck_dirty = &ck_dirty[0]
    c.base.ck_first = &ck_first[0]
    c.base.ck_list = &ck_list[0]
    c.base.ck_pending = &ck_pending[0]
    c.base.ck_copy_list = &ck_copy_list[0]
    c.base.cache_tag = &cache_tag[0]
    c.base.cache_stamp = &cache_stamp[0]
    c.base.cache_dirty = &cache_dirty[0]
    c.base.link.qfree = &qfree[0]
    c.base.link.qls = &qls[0]
    c.base.link.qle = &qle[0]
    c.base.link.qfin = &qfin[0]
    c.base.link.qtb = &qtb[0]
    c.base.sp_map = &sp_map[0]
    c.sp_owner = &sp_owner[0]
    c.mbuf_ring = &mbuf_ring[0]
    c.mbuf_idx = &mbuf_idx[0]
    c.log = NULL
    c.func = False
    return 0


cdef void bind_blade(Core* c, int64_t k) noexcept nogil:
    """Point the per-blade fields of `c` at compute blade k's slices of the state arrays."""
    cdef const int64_t* r = c.p + c.p[P_CB_AT] + k * N_CB_FIELDS
    cdef const int64_t* gr = c.cbg + k * N_GROW_FIELDS
    cdef int64_t fo = gr[G_FRAME_BASE], so = k * c.n_sets
    cdef int64_t lv = k * 2 * (c.nlev if c.nlev > 0 else 1), nq = k * 2 * (c.nq if c.nq > 0 else 1)
    cdef int64_t co = k * c.cache_sets * c.cache_ways
    cdef Blade* b = &c.base
    c.cb = k
    c.sc[S_CB] = k
    c.local = &c.locals[k]
    c.ways = r[CB_WAYS]
    c.local_bytes = r[CB_LOCAL_BYTES]
    c.temp_addr = r[CB_TEMP_ADDR]
    c.mbase = r[CB_MBASE]
    c.per_set = r[CB_PER_SET]
    # rows of frames and slots the state holds (the engine grows them before a set can run out)
    c.frame_rows = gr[G_FRAME_ROWS]
    c.frame_lim = c.frame_rows - GROW_ROOM if c.frame_rows < c.ways else c.ways
    c.slot_rows = gr[G_SLOT_ROWS]
    c.slot_lim = c.slot_rows - GROW_ROOM if c.slot_rows < c.per_set else c.per_set
    c.ck_base = r[CB_CK_BASE]
    c.peer_base = r[CB_PEER_BASE]
    c.cks = c.cks_base + k * N_CK_FIELDS
    c.link.cal = b.link.cal + 2 * CAL_WIDTH * k
    c.frame_ready = b.frame_ready + fo
    c.frame_page = b.frame_page + fo
    c.prev = b.prev + fo
    c.nxt = b.nxt + fo
    c.dirty = b.dirty + fo
    c.ref = b.ref + fo
    c.ck_dirty = b.ck_dirty + fo
    c.ck_pending = b.ck_pending + fo
    c.ck_first = b.ck_first + fo
    c.ck_list = b.ck_list + fo
    c.ck_copy_list = b.ck_copy_list + fo
    c.head = b.head + so
    c.tail = b.tail + so
    c.used = b.used + so
    c.hand = b.hand + so
    c.blade_next = b.blade_next + so
    c.blade_hand = b.blade_hand + so
    c.slot_page = b.slot_page + gr[G_SLOT_BASE]
    c.sp_map = b.sp_map + r[CB_VSP_OFF]
    c.cache_tag = b.cache_tag + co
    c.cache_stamp = b.cache_stamp + co
    c.cache_dirty = b.cache_dirty + co
    c.link.qfree = b.link.qfree + lv
    c.link.qls = b.link.qls + lv
    c.link.qle = b.link.qle + lv
    c.link.qfin = b.link.qfin + nq
    c.link.qtb = b.link.qtb + 2 * nq
