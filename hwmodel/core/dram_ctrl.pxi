# The detailed DRAM controller (DRAM.model = "detailed"), included by core/dram.pxi: DRAMsim3's
# controller simulated cycle by cycle where anything can happen. Semantics: the docstring of
# core/dram_ctrl.py, whose functions these mirror one for one (same names, ctl_ prefix);
# completions, counters and state match bit for bit. An in-system answer runs ahead and is
# undone (at once in the twin; here when a later request needs it, see ctl_segment): the channel's
# small records (banks, bank groups, ranks, the channel record, queue lengths, read queue, write
# buffer) are copied before and written back after (ctl_small_save); every write to the large
# ones (slots, command queues, the pending-address table, held requests, rank activity) goes
# through jset / jmax / jadd and its undo journal; counters go to scratch while running ahead.

cdef enum:
    K_ACT = 0                # command kinds (the twin's ACT, RD, WR, PRE, REF, REFB, NONE)
    K_RD = 1
    K_WR = 2
    K_PRE = 3
    K_NONE = 6
    WHY_QUEUE = 0            # why a PRE issues
    WHY_REFRESH = 1
    WHY_TIMEOUT = 2

cdef int64_t CTL_FAR = (<int64_t>1) << 62
cdef uint64_t CTL_HMUL = 0x9E3779B97F4A7C15ULL


# -- the undo journal -------------------------------------------------------------------------
cdef void ctl_jgrow(Dram* m) noexcept nogil:
    # m.jbuf is the buffer of the keeper running ahead (see ctl_segment), grown in place
    cdef int64_t cap = 2 * m.jcap if m.jcap else 1 << 14
    cdef JEntry* p = <JEntry*>realloc(m.jbuf, cap * sizeof(JEntry))
    if p == NULL:
        fprintf(stderr, b"hwmodel: out of memory for the DRAM controller's undo journal\n")
        abort()
    m.jbuf = p
    m.jcap = cap


cdef void ctl_jrec(Dram* m, int64_t* p) noexcept nogil:
    if m.jn == m.jcap:
        ctl_jgrow(m)
    m.jbuf[m.jn].p = p
    m.jbuf[m.jn].old = p[0]
    m.jn += 1


cdef inline void ctl_jrec_n(Dram* m, int64_t* p, int64_t n) noexcept nogil:
    # the n words from p journaled (one test of m.jon for a record written whole)
    cdef int64_t i
    if m.jon:
        for i in range(n):
            ctl_jrec(m, p + i)


cdef inline void jset(Dram* m, int64_t* p, int64_t v) noexcept nogil:
    if m.jon:
        ctl_jrec(m, p)
    p[0] = v


cdef inline void smax(int64_t* p, int64_t v) noexcept nogil:
    # a write to a record an answer's run ahead restores from its copy (ctl_small_save)
    p[0] = v if v > p[0] else p[0]


cdef inline void jmax(Dram* m, int64_t* p, int64_t v) noexcept nogil:
    if v > p[0]:
        jset(m, p, v)


cdef inline void jadd(Dram* m, int64_t* p, int64_t v) noexcept nogil:
    jset(m, p, p[0] + v)


cdef void ctl_rollback(Dram* m) noexcept nogil:
    cdef int64_t i = m.jn - 1
    while i >= 0:
        m.jbuf[i].p[0] = m.jbuf[i].old
        i -= 1
    m.jn = 0


# -- records ----------------------------------------------------------------------------------
# The records of the channel being simulated: ctl_channel() sets their bases when a channel's
# simulation starts (every access below happens inside it, for that channel; ch is kept in the
# signatures as the twin has it).
cdef inline void ctl_channel(Dram* m, int64_t ch) noexcept nogil:
    m.b_chan = m.k_chan + ch * N_KH
    m.b_bank = m.k_bank + ch * m.n_banks * N_KB
    m.b_bg = m.k_bg + ch * m.nbg * N_KG
    m.b_rank = m.k_rank + ch * m.n_ranks * N_KR
    m.b_tx = m.k_tx + ch * m.txs * N_KT
    m.b_req = m.k_req + ch * m.txs * N_KQ
    m.b_cq = m.k_cq + ch * m.nq * m.cqsize
    m.b_cqn = m.k_cqn + ch * m.nq


cdef inline int64_t* KBp(Dram* m, int64_t ch, int64_t b) noexcept nogil:
    return m.b_bank + b * N_KB


cdef inline int64_t* KGp(Dram* m, int64_t ch, int64_t b) noexcept nogil:
    return m.b_bg + (b >> m.ba_bits) * N_KG


cdef inline int64_t* KRp(Dram* m, int64_t ch, int64_t r) noexcept nogil:
    return m.b_rank + r * N_KR


cdef inline int64_t* KHp(Dram* m, int64_t ch) noexcept nogil:
    return m.k_chan + ch * N_KH


cdef inline int64_t* KHc(Dram* m) noexcept nogil:
    # KHp for the channel being simulated (one load)
    return m.b_chan


cdef inline int64_t* KTp(Dram* m, int64_t ch, int64_t s) noexcept nogil:
    return m.b_tx + s * N_KT


cdef inline int64_t* KQp(Dram* m, int64_t ch, int64_t s) noexcept nogil:
    return m.b_req + s * N_KQ


cdef inline int64_t* CQp(Dram* m, int64_t ch, int64_t q) noexcept nogil:
    return m.b_cq + q * m.cqsize


cdef inline int64_t ctl_queue_of(Dram* m, int64_t b) noexcept nogil:
    return b >> m.bpr_shift if m.per_rank else b


cdef inline int64_t ctl_ceil(Dram* m, int64_t t) noexcept nogil:
    # the first cycle at or after t ps
    if t <= 0:
        return -((-t) // m.tck)
    return (t + m.tck - 1) // m.tck


cdef inline int64_t ctl_wrap(int64_t i, int64_t n) noexcept nogil:
    # i % n for 0 <= i < 2n
    return i - n if i >= n else i


# -- bank timing ------------------------------------------------------------------------------
cdef inline int64_t ctl_act_ready(Dram* m, int64_t ch, int64_t b) noexcept nogil:
    cdef int64_t* rk = KRp(m, ch, b >> m.bpr_shift)
    cdef int64_t v = imax(imax(KBp(m, ch, b)[KB_T_ACT], KGp(m, ch, b)[KG_T_ACT]), rk[KR_T_ACT])
    return imax(v, rk[KR_FAW0 + rk[KR_FAW_I]] + m.k_faw)


cdef inline int64_t ctl_col_ready(Dram* m, int64_t ch, int64_t b, int64_t w) noexcept nogil:
    # KB_T_WR = KB_T_RD + 1, and the same for KG and KR
    return imax(imax(KBp(m, ch, b)[KB_T_RD + w], KGp(m, ch, b)[KG_T_RD + w]), KRp(m, ch, b >> m.bpr_shift)[KR_T_RD + w])


cdef void ctl_timing_act(Dram* m, int64_t ch, int64_t b, int64_t x) noexcept nogil:
    cdef int64_t* bk = KBp(m, ch, b)
    cdef int64_t* rk = KRp(m, ch, b >> m.bpr_shift)
    smax(&bk[KB_T_ACT], x + m.k_a2a)
    smax(&bk[KB_T_RD], x + m.k_a2r)
    smax(&bk[KB_T_WR], x + m.k_a2w)
    smax(&bk[KB_T_PRE], x + m.k_a2p)
    smax(&KGp(m, ch, b)[KG_T_ACT], x + m.k_a2al)
    smax(&rk[KR_T_ACT], x + m.k_a2as)
    cdef int64_t i = rk[KR_FAW_I]
    rk[KR_FAW0 + i] = x
    rk[KR_FAW_I] = (i + 1) & 3


cdef void ctl_timing_col(Dram* m, int64_t ch, int64_t b, int64_t w, bint auto, int64_t x) noexcept nogil:
    cdef int64_t* bk = KBp(m, ch, b)
    cdef int64_t* bg = KGp(m, ch, b)
    cdef int64_t r = b >> m.bpr_shift
    cdef int64_t bg_rd, bg_wr, rk_rd, rk_wr, o_rd, o_wr, k
    cdef int64_t* rk
    if w:
        bg_rd, bg_wr, rk_rd, rk_wr, o_rd, o_wr = m.k_w2rl, m.k_wwl, m.k_w2rs, m.k_wws, m.k_w2ro, m.k_wwo
        if auto:
            smax(&bk[KB_T_ACT], x + m.k_wra2a)
            smax(&bk[KB_T_REF], x + m.k_wra2a)
        else:
            smax(&bk[KB_T_PRE], x + m.k_w2p)
    else:
        bg_rd, bg_wr, rk_rd, rk_wr, o_rd, o_wr = m.k_rrl, m.k_r2w, m.k_rrs, m.k_r2w, m.k_rro, m.k_r2wo
        if auto:
            smax(&bk[KB_T_ACT], x + m.k_rda2a)
            smax(&bk[KB_T_REF], x + m.k_rda2f)
        else:
            smax(&bk[KB_T_PRE], x + m.k_r2p)
    smax(&bg[KG_T_RD], x + bg_rd)
    smax(&bg[KG_T_WR], x + bg_wr)
    for k in range(m.n_ranks):
        rk = KRp(m, ch, k)
        if k == r:
            smax(&rk[KR_T_RD], x + rk_rd)
            smax(&rk[KR_T_WR], x + rk_wr)
        else:
            smax(&rk[KR_T_RD], x + o_rd)
            smax(&rk[KR_T_WR], x + o_wr)


cdef inline void ctl_timing_pre(Dram* m, int64_t ch, int64_t b, int64_t x) noexcept nogil:
    cdef int64_t* bk = KBp(m, ch, b)
    smax(&bk[KB_T_ACT], x + m.k_p2a)
    smax(&bk[KB_T_REF], x + m.k_p2a)


cdef void ctl_timing_ref(Dram* m, int64_t ch, int64_t b0, int64_t n, int64_t dur, int64_t x) noexcept nogil:
    cdef int64_t b
    cdef int64_t* bk
    for b in range(b0, b0 + n):
        bk = KBp(m, ch, b)
        smax(&bk[KB_T_ACT], x + dur)
        smax(&bk[KB_T_REF], x + dur)


# -- rank activity ----------------------------------------------------------------------------
cdef void ctl_ra_advance(Dram* m, int64_t ch, int64_t r, int64_t t) noexcept nogil:
    cdef int64_t g = ch * m.n_ranks + r
    cdef int64_t* a = m.ract + g * DA_W
    cdef int64_t front = a[DA_FRONT], nopen = a[DA_NOPEN], act = a[DA_ACTIVE]
    cdef int64_t mk, k, nxt
    if t <= front:
        return
    while a[DA_MARK] <= t:
        mk = a[DA_MARK]
        k = a[DA_MARK_N]
        if k < RA_MARKS:
            jset(m, &m.rmk[g * RA_MARKS + k], act + (mk - front if nopen > 0 else 0))
        jset(m, &a[DA_MARK_N], k + 1)
        if mk >= a[DA_MARK_END]:
            jset(m, &a[DA_MARK], CTL_FAR)
        else:
            nxt = mk + a[DA_MARK_PS]
            jset(m, &a[DA_MARK], nxt if nxt < a[DA_MARK_END] else a[DA_MARK_END])
    jset(m, &a[DA_ACTIVE], act + (t - front if nopen > 0 else 0))
    jset(m, &a[DA_FRONT], t)


cdef inline void ctl_ra_change(Dram* m, int64_t ch, int64_t r, int64_t x, int64_t opens) noexcept nogil:
    if not m.activity:
        return
    ctl_ra_advance(m, ch, r, x * m.tck)
    jadd(m, &m.ract[(ch * m.n_ranks + r) * DA_W + DA_NOPEN], opens)


# -- the pending-address table ----------------------------------------------------------------
cdef inline int64_t ctl_hslot(Dram* m, int64_t key) noexcept nogil:
    return <int64_t>((<uint64_t>key * CTL_HMUL) >> (64 - m.hbits))


cdef int64_t ctl_pend_find(Dram* m, int64_t ch, int64_t addr, int64_t w) noexcept nogil:
    cdef int64_t key = addr * 2 + w, mask = ((<int64_t>1) << m.hbits) - 1
    cdef int64_t* pe = m.k_pend + (ch << m.hbits) * 2
    cdef int64_t h = ctl_hslot(m, key)
    cdef int64_t k
    while True:
        k = pe[2 * h]
        if k == key:
            return pe[2 * h + 1]
        if k < 0:
            return -1
        h = (h + 1) & mask


cdef void ctl_pend_put(Dram* m, int64_t ch, int64_t addr, int64_t w, int64_t slot) noexcept nogil:
    cdef int64_t key = addr * 2 + w, mask = ((<int64_t>1) << m.hbits) - 1
    cdef int64_t* pe = m.k_pend + (ch << m.hbits) * 2
    cdef int64_t h = ctl_hslot(m, key)
    while pe[2 * h] >= 0:
        h = (h + 1) & mask
    jset(m, &pe[2 * h], key)
    jset(m, &pe[2 * h + 1], slot)


cdef void ctl_pend_del(Dram* m, int64_t ch, int64_t addr, int64_t w) noexcept nogil:
    cdef int64_t key = addr * 2 + w, mask = ((<int64_t>1) << m.hbits) - 1
    cdef int64_t* pe = m.k_pend + (ch << m.hbits) * 2
    cdef int64_t h = ctl_hslot(m, key)
    cdef int64_t j, k, home
    while pe[2 * h] != key:
        h = (h + 1) & mask
    j = h
    while True:
        j = (j + 1) & mask
        k = pe[2 * j]
        if k < 0:
            break
        home = ctl_hslot(m, k)
        if (j > h and (home <= h or home > j)) or (j < h and home <= h and home > j):
            jset(m, &pe[2 * h], k)
            jset(m, &pe[2 * h + 1], pe[2 * j + 1])
            h = j
    jset(m, &pe[2 * h], -1)
    jset(m, &pe[2 * h + 1], -1)


# -- slots ------------------------------------------------------------------------------------
cdef inline int64_t ctl_tx_alloc(Dram* m, int64_t ch) noexcept nogil:
    cdef int64_t* c = KHc(m)
    cdef int64_t s = c[KH_TX_FREE]
    c[KH_TX_FREE] = KTp(m, ch, s)[KT_NEXT]
    return s


cdef inline void ctl_tx_free(Dram* m, int64_t ch, int64_t s) noexcept nogil:
    cdef int64_t* c = KHc(m)
    if c[KH_TX_FREE] < 0:
        m.tfe_dirty = True      # the front end may have waited for a slot (t_fe: see ctl_fe_next)
    jset(m, &KTp(m, ch, s)[KT_NEXT], c[KH_TX_FREE])
    c[KH_TX_FREE] = s


cdef inline int64_t ctl_req_alloc(Dram* m, int64_t ch) noexcept nogil:
    cdef int64_t* c = KHc(m)
    cdef int64_t s = c[KH_REQ_FREE]
    c[KH_REQ_FREE] = KQp(m, ch, s)[KQ_NEXT]
    return s


cdef void ctl_req_done(Dram* m, int64_t ch, int64_t r, int64_t x) noexcept nogil:
    cdef int64_t* rq = KQp(m, ch, r)
    cdef int64_t* c
    cdef int64_t done, acc, t, w, ticket
    jmax(m, &rq[KQ_DONE], x)
    jadd(m, &rq[KQ_REMAIN], -1)
    if rq[KQ_REMAIN]:
        return
    done, acc, t, w, ticket = rq[KQ_DONE] * m.tck, rq[KQ_ACC] * m.tck, rq[KQ_T], rq[KQ_W] & 1, rq[KQ_TICKET]
    if w:
        m.cnt[DC_WRITE_QUEUE_WAIT_PS] += acc - t
    else:
        m.cnt[DC_READ_QUEUE_WAIT_PS] += acc - t
        m.cnt[DC_READ_LATENCY_SUM_PS] += done - t
    if m.out != NULL:
        m.out[ticket] = done
        if m.acc != NULL:
            m.acc[ticket] = acc
    if m.sk_done != NULL and m.sk_n < m.sk_cap:
        m.sk_done[m.sk_n] = done
        m.sk_acc[m.sk_n] = acc
        m.sk_w[m.sk_n] = w
        m.sk_n += 1
    if ticket == m.target:
        m.target_done = done
    c = KHc(m)
    if c[KH_REQ_FREE] < 0:
        m.tfe_dirty = True      # the front end may have waited for a request slot
    c[KH_LIVE] += -1
    jset(m, &rq[KQ_NEXT], c[KH_REQ_FREE])
    c[KH_REQ_FREE] = r


# -- command queues ---------------------------------------------------------------------------
cdef inline bint ctl_write_held(Dram* m, int64_t ch, int64_t* e, int64_t k, int64_t addr) noexcept nogil:
    # a WRITE to addr at entry k of command queue e waits for a READ of its burst queued before it
    cdef int64_t burst = addr >> m.burst_shift, j
    cdef int64_t* u
    for j in range(k):
        u = KTp(m, ch, e[j])
        if not (u[KT_W] & 1) and (u[KT_ADDR] >> m.burst_shift) == burst:
            return True
    return False


cdef inline int64_t ctl_entry(Dram* m, int64_t ch, int64_t q, int64_t k, int64_t* t) noexcept nogil:
    # the kind of command entry k of queue q needs next, and in t the earliest cycle (K_NONE: a
    # rule holds it back whatever the cycle)
    cdef int64_t* e = CQp(m, ch, q)
    cdef int64_t n = m.b_cqn[q]
    cdef int64_t* tx = KTp(m, ch, e[k])
    cdef int64_t b = tx[KT_BANK], row = tx[KT_ROW], w = tx[KT_W] & 1
    cdef int64_t* bk = KBp(m, ch, b)
    cdef int64_t open_row = bk[KB_ROW]
    cdef int64_t j
    cdef int64_t* u
    if open_row < 0:
        t[0] = ctl_act_ready(m, ch, b)
        return K_ACT
    if row == open_row:
        if w and ctl_write_held(m, ch, e, k, tx[KT_ADDR]):
            t[0] = CTL_FAR
            return K_NONE
        t[0] = ctl_col_ready(m, ch, b, w)
        return K_RD + w
    for j in range(k):
        if KTp(m, ch, e[j])[KT_BANK] == b:
            t[0] = CTL_FAR
            return K_NONE
    if m.frfcfs and bk[KB_HITS] < 4:
        for j in range(k, n):
            u = KTp(m, ch, e[j])
            if u[KT_BANK] == b and u[KT_ROW] == open_row:
                t[0] = CTL_FAR
                return K_NONE
    t[0] = bk[KB_T_PRE]
    return K_PRE


cdef bint ctl_queue_blocked(Dram* m, int64_t ch, int64_t q) noexcept nogil:
    cdef int64_t b
    if not m.per_rank:
        return KBp(m, ch, q)[KB_INREF] != 0
    for b in range(q * m.bpr, (q + 1) * m.bpr):
        if KBp(m, ch, b)[KB_INREF]:
            return True
    return False


cdef inline int64_t ctl_queue_len(Dram* m, int64_t ch, int64_t q) noexcept nogil:
    cdef int64_t n = m.b_cqn[q]
    return n if m.frfcfs or n < 1 else 1


cdef int64_t ctl_queue_first(Dram* m, int64_t ch, int64_t q, int64_t x, int64_t* kind) noexcept nogil:
    cdef int64_t k, t, kd
    for k in range(ctl_queue_len(m, ch, q)):
        kd = ctl_entry(m, ch, q, k, &t)
        if kd != K_NONE and t <= x:
            kind[0] = kd
            return k
    kind[0] = K_NONE
    return -1


cdef int64_t ctl_queue_next(Dram* m, int64_t ch, int64_t q) noexcept nogil:
    cdef int64_t k, t, best = CTL_FAR
    for k in range(ctl_queue_len(m, ch, q)):
        if ctl_entry(m, ch, q, k, &t) != K_NONE and t < best:
            best = t
    return best


cdef void ctl_queue_remove(Dram* m, int64_t ch, int64_t q, int64_t k) noexcept nogil:
    cdef int64_t* e = CQp(m, ch, q)
    cdef int64_t* n = &m.b_cqn[q]
    cdef int64_t j
    for j in range(k, n[0] - 1):
        jset(m, &e[j], e[j + 1])
    n[0] -= 1
    m.tq_dirty = True
    ctl_cache_qlen(m, ch, q, n[0] + 1, n[0])


cdef bint ctl_has_hit(Dram* m, int64_t ch, int64_t b) noexcept nogil:
    cdef int64_t q = ctl_queue_of(m, b)
    cdef int64_t* e = CQp(m, ch, q)
    cdef int64_t row = KBp(m, ch, b)[KB_ROW]
    cdef int64_t j
    cdef int64_t* u
    for j in range(m.b_cqn[q]):
        u = KTp(m, ch, e[j])
        if u[KT_BANK] == b and u[KT_ROW] == row:
            return True
    return False


# -- readiness caches (compiled only) ----------------------------------------------------------
# The twin finds the next cycle a command may issue by evaluating every queued command; here each
# command queue keeps the earliest cycle its READ, WRITE, PRE and ACT candidates may issue. A
# command changes them for its own queue (an ACT, READ or WRITE recomputes it at once; other changes
# mark it dirty for the next sync) and, by DRAMsim3's timing
# table, raises the ACT candidates of its rank (ACT) or every queue's column candidates (READ,
# WRITE) by a known amount, applied in place: every constraint only grows, so max() with the new
# one is exact. A PRE or refresh that leaves a per-bank queue's bank closed, and a transaction
# entering a per-bank queue, set that queue's readiness in place (ctl_cache_bank, ctl_q_arrive), and
# an arrival lowers t_q to the queue's new readiness rather than making every queue's be looked at
# again (and, when that queue alone is the earliest, names it in t_qq, the queue the next command
# step tries first). Per-rank queues are recomputed after every command. Masks (64 queues a word) say
# which queues hold commands (qne), are skipped for a refresh (qblk) and have candidates of a kind;
# the scans walk their bits. The transaction scheduler keeps how many leading read-queue /
# write-buffer entries wait for full command queues (skip_rd, skip_wr; 0 whenever a command queue
# gets room). A cache that is early only costs a visit; one that is late would change results.
cdef extern from *:
    """
    /* the index of the lowest set bit of v (v != 0), as a 64-bit value: the bit walks below index
       arrays with it. GCC's __builtin_ctzll returns an int, which it sign-extends and, for the
       false output dependency of bsf/tzcnt on older cores, precedes with a zeroing xor: two more
       instructions per bit, on loops that walk some 20 bits a request */
    static inline int64_t hw_ctz64(uint64_t v) {
    #if defined(__GNUC__) && defined(__x86_64__)
        int64_t r;
        __asm__("rep bsfq %1, %0" : "=r"(r) : "rm"(v) : "cc");
        return r;
    #else
        return __builtin_ctzll(v);
    #endif
    }
    """
    int64_t hw_ctz64(uint64_t v) noexcept nogil


cdef inline int64_t imin(int64_t a, int64_t b) noexcept nogil:
    return a if a < b else b


cdef inline void ctl_dirty(Dram* m, int64_t q) noexcept nogil:
    m.qdirty[q >> 6] |= (<uint64_t>1) << (q & 63)
    m.q_dirty = m.tq_dirty = True


cdef inline void ctl_all_dirty(Dram* m) noexcept nogil:
    cdef int64_t i
    for i in range((m.nq + 63) >> 6):
        m.qdirty[i] = ~(<uint64_t>0)
    m.q_dirty = m.tq_dirty = True


cdef inline void ctl_setbit(uint64_t* mask, int64_t q, bint on) noexcept nogil:
    cdef uint64_t bit = (<uint64_t>1) << (q & 63)
    mask[q >> 6] = (mask[q >> 6] & ~bit) | ((<uint64_t>(on != 0)) << (q & 63))


cdef void ctl_q_recompute(Dram* m, int64_t ch, int64_t q) noexcept nogil:
    # queue q's readiness by kind; for per-bank queues the twin's queue_next split by kind
    cdef int64_t n = m.b_cqn[q]
    cdef int64_t rd = CTL_FAR, wr = CTL_FAR, pre = CTL_FAR, act = CTL_FAR
    cdef int64_t b, row, k, j, lim, hits, burst
    cdef bint has_rd = False, has_wr = False, blocked
    cdef int64_t* bk
    cdef int64_t* e
    cdef int64_t* tx
    cdef int64_t* u
    if n and m.per_rank:
        act = ctl_queue_next(m, ch, q)
    elif n:
        b = q
        bk = KBp(m, ch, b)
        row = bk[KB_ROW]
        if row < 0:
            act = ctl_act_ready(m, ch, b)
        else:
            e = CQp(m, ch, q)
            lim = n if m.frfcfs else 1
            hits = 0
            for k in range(n):
                tx = KTp(m, ch, e[k])
                if tx[KT_ROW] != row:
                    continue
                hits += 1
                if k >= lim:
                    continue
                if tx[KT_W] & 1:
                    if not has_wr:
                        blocked = False
                        burst = tx[KT_ADDR] >> m.burst_shift
                        for j in range(k):
                            u = KTp(m, ch, e[j])
                            if not (u[KT_W] & 1) and (u[KT_ADDR] >> m.burst_shift) == burst:
                                blocked = True
                                break
                        has_wr = not blocked
                else:
                    has_rd = True
            if KTp(m, ch, e[0])[KT_ROW] != row and (not m.frfcfs or hits == 0 or bk[KB_HITS] >= 4):
                pre = bk[KB_T_PRE]
            if has_rd:
                rd = ctl_col_ready(m, ch, b, 0)
            if has_wr:
                wr = ctl_col_ready(m, ch, b, 1)
    m.qrd[q], m.qwr[q], m.qpre[q], m.qact[q] = rd, wr, pre, act
    m.qmin[q] = imin(imin(rd, wr), imin(pre, act))
    cdef int64_t i = q >> 6, sh = q & 63
    cdef uint64_t keep = ~((<uint64_t>1) << sh)
    m.qrdm[i] = (m.qrdm[i] & keep) | ((<uint64_t>(rd < CTL_FAR)) << sh)
    m.qwrm[i] = (m.qwrm[i] & keep) | ((<uint64_t>(wr < CTL_FAR)) << sh)
    m.qactm[i] = (m.qactm[i] & keep) | ((<uint64_t>(act < CTL_FAR)) << sh)
    m.qdirty[i] &= keep


cdef inline void ctl_q_none(Dram* m, int64_t q) noexcept nogil:
    # ctl_q_recompute's answer for an empty queue q: no candidate of any kind
    cdef int64_t i = q >> 6
    cdef uint64_t keep = ~((<uint64_t>1) << (q & 63))
    m.qrd[q] = m.qwr[q] = m.qpre[q] = m.qact[q] = m.qmin[q] = CTL_FAR
    m.qrdm[i] &= keep
    m.qwrm[i] &= keep
    m.qactm[i] &= keep
    m.qdirty[i] &= keep


cdef inline void ctl_lower_tq(Dram* m, int64_t q, int64_t x) noexcept nogil:
    # queue q's readiness was set in place by the scheduler at cycle x, after this cycle's command
    # step: t_q no later than it or x + 1, whichever is later. Which queue round robin tries first
    # at t_q (t_qq, for ctl_queue_command's shortcut) is q when q alone is that early (one mask
    # word, q not blocked), else no longer known
    cdef int64_t t = imax(m.qmin[q], x + 1)
    if t > m.t_q:
        return
    m.t_qq = q if t < m.t_q and m.nw == 1 and not (m.qblk[0] >> q) & 1 else -1
    m.t_q = t


cdef inline void ctl_q_arrive(Dram* m, int64_t ch, int64_t q, int64_t x) noexcept nogil:
    # a transaction was appended to per-bank command queue q (now n long): its readiness updated
    # in place when it was exact before (ctl_q_recompute's result for the longer queue), else q is
    # marked dirty. Alone, its kind and time are set; behind other commands the new one changes nothing unless it hits the open row
    # (FR-FCFS): it adds a READ / WRITE candidate and, a hit now being queued, takes the PRE away
    cdef int64_t n = m.b_cqn[q], i = q >> 6, sh = q & 63, j, burst, row, rd, wr, pre, act
    cdef uint64_t bit = (<uint64_t>1) << sh
    cdef int64_t* bk
    cdef int64_t* e
    cdef int64_t* tx
    cdef int64_t* u
    if m.per_rank or (n > 1 and (m.qdirty[i] & bit)):
        ctl_dirty(m, q)
        return
    bk = KBp(m, ch, q)
    row = bk[KB_ROW]
    if n == 1:
        # the queue was empty: its one command is an ACT (bank closed), a READ / WRITE (a hit, which
        # nothing ahead of it can block) or a PRE (no hit queued)
        e = CQp(m, ch, q)
        tx = KTp(m, ch, e[0])
        rd = wr = pre = act = CTL_FAR
        if row < 0:
            act = ctl_act_ready(m, ch, q)
        elif tx[KT_ROW] == row:
            if tx[KT_W] & 1:
                wr = ctl_col_ready(m, ch, q, 1)
            else:
                rd = ctl_col_ready(m, ch, q, 0)
        else:
            pre = bk[KB_T_PRE]
        m.qrd[q], m.qwr[q], m.qpre[q], m.qact[q] = rd, wr, pre, act
        m.qmin[q] = imin(imin(rd, wr), imin(pre, act))
        m.qrdm[i] = (m.qrdm[i] & ~bit) | ((<uint64_t>(rd < CTL_FAR)) << sh)
        m.qwrm[i] = (m.qwrm[i] & ~bit) | ((<uint64_t>(wr < CTL_FAR)) << sh)
        m.qactm[i] = (m.qactm[i] & ~bit) | ((<uint64_t>(act < CTL_FAR)) << sh)
        m.qdirty[i] &= ~bit
        ctl_lower_tq(m, q, x)
        return
    if row < 0 or not m.frfcfs:
        return
    e = CQp(m, ch, q)
    tx = KTp(m, ch, e[n - 1])
    if tx[KT_ROW] != row:
        return
    rd, wr, pre = m.qrd[q], m.qwr[q], m.qpre[q]
    if tx[KT_W] & 1:
        if wr >= CTL_FAR:
            burst = tx[KT_ADDR] >> m.burst_shift
            for j in range(n - 1):
                u = KTp(m, ch, e[j])
                if not (u[KT_W] & 1) and (u[KT_ADDR] >> m.burst_shift) == burst:
                    break
            else:
                wr = ctl_col_ready(m, ch, q, 1)
                m.qwr[q] = wr
                m.qwrm[i] |= bit
    elif rd >= CTL_FAR:
        rd = ctl_col_ready(m, ch, q, 0)
        m.qrd[q] = rd
        m.qrdm[i] |= bit
    if pre < CTL_FAR and bk[KB_HITS] < 4:
        pre = CTL_FAR
        m.qpre[q] = pre
    m.qmin[q] = imin(imin(rd, wr), imin(pre, m.qact[q]))
    ctl_lower_tq(m, q, x)


cdef void ctl_cache_build(Dram* m, int64_t ch) noexcept nogil:
    # the caches from channel ch's state: every queue dirty, the masks and the waiting counts
    cdef int64_t i, q, n
    cdef int64_t* c = KHp(m, ch)
    m.cache_ch = ch
    m.t_qq = -1
    ctl_all_dirty(m)
    for i in range(CTL_QWORDS):
        m.qne[i] = 0
        m.qblk[i] = 0
    m.movable_rd = m.movable_wr = 0
    m.skip_rd = m.skip_wr = 0
    for q in range(m.nq):
        m.wait_rd[q] = m.wait_wr[q] = 0
        ctl_setbit(m.qne, q, m.b_cqn[q] > 0)
        ctl_setbit(m.qblk, q, ctl_queue_blocked(m, ch, q))
    for i in range(c[KH_RQ_N]):
        q = ctl_queue_of(m, KTp(m, ch, m.k_rdq[ch * m.qsize + i])[KT_BANK])
        m.rdq_q[i] = q
        m.wait_rd[q] += 1
        m.movable_rd += m.b_cqn[q] < m.cqsize
    for i in range(c[KH_WB_N]):
        q = ctl_queue_of(m, KTp(m, ch, m.k_wrb[ch * m.qsize + i])[KT_BANK])
        m.wrb_q[i] = q
        m.wait_wr[q] += 1
        m.movable_wr += m.b_cqn[q] < m.cqsize


cdef inline void ctl_copy(int64_t* dst, const int64_t* src, int64_t n) noexcept nogil:
    memcpy(dst, src, n * sizeof(int64_t))


cdef inline int64_t ctl_cache_words(Dram* m) noexcept nogil:
    return 7 * m.nq + 6 * ((m.nq + 63) >> 6) + 2 * m.qsize + 8


cdef void ctl_cache_save(Dram* m, int64_t* b) noexcept nogil:
    # the caches of the channel being simulated (into b, ctl_cache_words long), kept while an
    # answer runs ahead (they are not state: rolling the state back must bring them back too);
    # rebuilding them costs more
    cdef int64_t nq = m.nq, nw = (m.nq + 63) >> 6, q = m.qsize
    ctl_copy(b, m.qrd, nq)
    ctl_copy(b + nq, m.qwr, nq)
    ctl_copy(b + 2 * nq, m.qpre, nq)
    ctl_copy(b + 3 * nq, m.qact, nq)
    ctl_copy(b + 4 * nq, m.qmin, nq)
    ctl_copy(b + 5 * nq, m.wait_rd, nq)
    ctl_copy(b + 6 * nq, m.wait_wr, nq)
    b += 7 * nq
    memcpy(b, m.qdirty, nw * 8)
    memcpy(b + nw, m.qrdm, nw * 8)
    memcpy(b + 2 * nw, m.qwrm, nw * 8)
    memcpy(b + 3 * nw, m.qactm, nw * 8)
    memcpy(b + 4 * nw, m.qne, nw * 8)
    memcpy(b + 5 * nw, m.qblk, nw * 8)
    b += 6 * nw
    ctl_copy(b, m.rdq_q, q)
    ctl_copy(b + q, m.wrb_q, q)
    b += 2 * q
    b[0], b[1], b[2], b[3], b[4], b[5], b[6] = m.cache_ch, m.movable_rd, m.movable_wr, m.tq_dirty, m.tfe_dirty, m.t_q, m.t_fe


cdef void ctl_cache_load(Dram* m, const int64_t* b) noexcept nogil:
    cdef int64_t nq = m.nq, nw = (m.nq + 63) >> 6, q = m.qsize
    m.skip_rd = m.skip_wr = 0
    m.t_qq = -1
    if b == NULL:
        m.cache_ch = -1
        return
    ctl_copy(m.qrd, b, nq)
    ctl_copy(m.qwr, b + nq, nq)
    ctl_copy(m.qpre, b + 2 * nq, nq)
    ctl_copy(m.qact, b + 3 * nq, nq)
    ctl_copy(m.qmin, b + 4 * nq, nq)
    ctl_copy(m.wait_rd, b + 5 * nq, nq)
    ctl_copy(m.wait_wr, b + 6 * nq, nq)
    b += 7 * nq
    memcpy(m.qdirty, b, nw * 8)
    m.q_dirty = True        # (whether any bit is set: the next sync looks)
    memcpy(m.qrdm, b + nw, nw * 8)
    memcpy(m.qwrm, b + 2 * nw, nw * 8)
    memcpy(m.qactm, b + 3 * nw, nw * 8)
    memcpy(m.qne, b + 4 * nw, nw * 8)
    memcpy(m.qblk, b + 5 * nw, nw * 8)
    b += 6 * nw
    ctl_copy(m.rdq_q, b, q)
    ctl_copy(m.wrb_q, b + q, q)
    b += 2 * q
    m.cache_ch, m.movable_rd, m.movable_wr, m.tq_dirty, m.tfe_dirty, m.t_q, m.t_fe = b[0], b[1], b[2], b[3], b[4], b[5], b[6]


cdef inline int64_t ctl_small_words(Dram* m) noexcept nogil:
    return m.n_banks * N_KB + m.nbg * N_KG + m.n_ranks * N_KR + N_KH + m.n_banks + m.nq + 2 * m.qsize


cdef void ctl_small_save(Dram* m, int64_t ch, int64_t* b) noexcept nogil:
    # channel ch's small records (into b, ctl_small_words long), copied before an answer runs
    # ahead (see the top of this file); not the counters, which a run ahead does not touch
    cdef int64_t nb = m.n_banks * N_KB, ng = m.nbg * N_KG, nr = m.n_ranks * N_KR
    ctl_copy(b, m.b_bank, nb)
    ctl_copy(b + nb, m.b_bg, ng)
    ctl_copy(b + nb + ng, m.b_rank, nr)
    b += nb + ng + nr
    ctl_copy(b, KHp(m, ch), N_KH)
    ctl_copy(b + N_KH, m.k_refq + ch * m.n_banks, m.n_banks)
    b += N_KH + m.n_banks
    ctl_copy(b, m.b_cqn, m.nq)
    ctl_copy(b + m.nq, m.k_rdq + ch * m.qsize, m.qsize)
    ctl_copy(b + m.nq + m.qsize, m.k_wrb + ch * m.qsize, m.qsize)


cdef void ctl_small_load(Dram* m, int64_t ch, const int64_t* b) noexcept nogil:
    cdef int64_t nb = m.n_banks * N_KB, ng = m.nbg * N_KG, nr = m.n_ranks * N_KR
    ctl_copy(m.b_bank, b, nb)
    ctl_copy(m.b_bg, b + nb, ng)
    ctl_copy(m.b_rank, b + nb + ng, nr)
    b += nb + ng + nr
    ctl_copy(KHp(m, ch), b, N_KH)
    ctl_copy(m.k_refq + ch * m.n_banks, b + N_KH, m.n_banks)
    b += N_KH + m.n_banks
    ctl_copy(m.b_cqn, b, m.nq)
    ctl_copy(m.k_rdq + ch * m.qsize, b + m.nq, m.qsize)
    ctl_copy(m.k_wrb + ch * m.qsize, b + m.nq + m.qsize, m.qsize)


cdef inline void ctl_cache_sync(Dram* m, int64_t ch) noexcept nogil:
    # make every queue's readiness exact for channel ch (most calls find nothing to do: q_dirty
    # says whether a queue may have been marked since the last sync, one test for all the words)
    if m.cache_ch != ch:
        ctl_cache_build(m, ch)
    if m.q_dirty:
        ctl_cache_sync_dirty(m, ch)


cdef void ctl_cache_sync_dirty(Dram* m, int64_t ch) noexcept nogil:
    cdef int64_t i, q
    cdef uint64_t bits
    for i in range(m.nw):
        bits = m.qdirty[i]
        while bits:
            q = (i << 6) + hw_ctz64(bits)
            bits &= bits - 1
            if q < m.nq:
                ctl_q_recompute(m, ch, q)
        m.qdirty[i] = 0
    m.q_dirty = False


cdef inline void ctl_cache_qlen(Dram* m, int64_t ch, int64_t q, int64_t was, int64_t n) noexcept nogil:
    # command queue q went from `was` commands to n (one more or one less): what waits for it
    # becomes movable when it gets room, and stops being when it fills
    if m.cache_ch != ch:
        return
    ctl_setbit(m.qne, q, n > 0)
    if was < m.cqsize and n == m.cqsize:
        m.movable_rd -= m.wait_rd[q]
        m.movable_wr -= m.wait_wr[q]
    elif was == m.cqsize and n < m.cqsize:
        m.movable_rd += m.wait_rd[q]
        m.movable_wr += m.wait_wr[q]
        m.skip_rd = m.skip_wr = 0


cdef inline void ctl_cache_wait(Dram* m, int64_t ch, int64_t q, int64_t w, int64_t d) noexcept nogil:
    # a read (w = 0) or write for command queue q enters (d = 1) or leaves (d = -1) the read
    # queue / write buffer
    if m.cache_ch != ch:
        return
    if w:
        m.wait_wr[q] += d
        if m.b_cqn[q] < m.cqsize:
            m.movable_wr += d
    else:
        m.wait_rd[q] += d
        if m.b_cqn[q] < m.cqsize:
            m.movable_rd += d


cdef inline int64_t ctl_q_ready(Dram* m, int64_t q) noexcept nogil:
    return m.qmin[q]


cdef inline uint64_t ctl_span_bits(Dram* m, int64_t i, int64_t lo, int64_t n) noexcept nogil:
    # the bits of mask word i for queues lo .. lo + n - 1, a span aligned to its (power of two)
    # length n (a bank group's or a rank's banks)
    if m.nw == 1:
        return (~(<uint64_t>0) >> (64 - n)) << lo
    return ctl_range_bits(i, lo, lo + n)


cdef inline int64_t ctl_pick(uint64_t bit, uint64_t gm, uint64_t rm, int64_t vg, int64_t vr, int64_t vo) noexcept nogil:
    # vg for a queue in mask gm, else vr for one in rm (gm within rm), else vo; without a branch
    cdef int64_t ing = -<int64_t>((bit & gm) != 0), inr = -<int64_t>((bit & rm) != 0)
    return vo + (inr & (vr - vo)) + (ing & (vg - vr))


cdef inline void ctl_cache_act(Dram* m, int64_t ch, int64_t b, int64_t x) noexcept nogil:
    # an ACT to bank b at x: tRRD_S (tRRD_L in its bank group) and tFAW for the other ACT
    # candidates of its rank
    cdef int64_t r, lo, lg, g, i, q, v
    cdef int64_t vt[2]
    cdef int64_t* rk
    cdef uint64_t bits, gm, bit
    if m.cache_ch != ch:
        return
    if m.per_rank:
        ctl_all_dirty(m)
        return
    r = b >> m.bpr_shift
    rk = KRp(m, ch, r)
    lo = imax(x + m.k_a2as, rk[KR_FAW0 + rk[KR_FAW_I]] + m.k_faw)
    lg = imax(lo, x + m.k_a2al)
    g = b >> m.ba_bits
    if m.nw == 1:
        # one mask word (as in ctl_cache_col): the rank's other ACT candidates, its bank group's
        # raised to lg, the rest to lo (the word loop below with this body for every width ran the
        # cross-check traces 2-4% slower, +53 instructions a request: the common case stands apart)
        bits = m.qactm[0] & ((~(<uint64_t>0) >> (64 - m.bpr)) << (r << m.bpr_shift)) & ~((<uint64_t>1) << b)
        gm = (~(<uint64_t>0) >> (64 - m.bpg)) << (g << m.ba_bits)
        vt[0], vt[1] = lo, lg
        while bits:         # one loop (one exit to predict), the value looked up without a branch
            q = hw_ctz64(bits)
            bits &= bits - 1
            v = imax(m.qact[q], vt[(gm >> q) & 1])
            m.qact[q] = v
            m.qmin[q] = imin(imin(m.qrd[q], m.qwr[q]), imin(m.qpre[q], v))
        ctl_q_recompute(m, ch, b)
        m.tq_dirty = True
        return
    for i in range((r << m.bpr_shift) >> 6, (((r + 1) << m.bpr_shift) + 63) >> 6):
        bits = m.qactm[i] & ctl_span_bits(m, i, r << m.bpr_shift, m.bpr)
        if i == b >> 6:
            bits &= ~((<uint64_t>1) << (b & 63))     # b's own queue: recomputed below
        gm = ctl_span_bits(m, i, g << m.ba_bits, m.bpg)
        while bits:
            bit = bits & (~bits + 1)
            bits ^= bit
            q = (i << 6) + hw_ctz64(bit)
            v = ctl_pick(bit, gm, gm, lg, lg, lo)
            m.qact[q] = imax(m.qact[q], v)
            m.qmin[q] = imin(imin(m.qrd[q], m.qwr[q]), imin(m.qpre[q], m.qact[q]))
    # b's own queue at once (its bank's state is final): cheaper than marking it for the next sync
    ctl_q_recompute(m, ch, b)
    m.tq_dirty = True


cdef inline void ctl_raise2(Dram* m, uint64_t bits, int64_t base, int64_t vr, int64_t vw) noexcept nogil:
    # the queues base + (bits set): READ candidates at least vr, WRITE ones at least vw
    cdef int64_t q
    while bits:
        q = base + hw_ctz64(bits)
        bits &= bits - 1
        m.qrd[q] = imax(m.qrd[q], vr)
        m.qwr[q] = imax(m.qwr[q], vw)
        m.qmin[q] = imin(imin(m.qrd[q], m.qwr[q]), imin(m.qpre[q], m.qact[q]))


cdef inline void ctl_cache_col(Dram* m, int64_t ch, int64_t b, int64_t w, int64_t x) noexcept nogil:
    # a READ / WRITE to bank b at x: every other queue's column candidates by DRAMsim3's table (a
    # queue without a READ candidate has qrd = CTL_FAR, which max() leaves: one pass raises both
    # kinds); b's own queue is recomputed at the end of ctl_issue_col
    cdef int64_t r, g, i, q, vr, vw, k
    cdef int64_t brd, bwr, rrd, rwr, ord_, owr
    cdef int64_t vrt[3]
    cdef int64_t vwt[3]
    cdef uint64_t bits, gm, rm, bit
    if m.cache_ch != ch:
        return
    if m.per_rank:
        ctl_all_dirty(m)
        return
    if w:
        brd, bwr, rrd, rwr, ord_, owr = m.k_w2rl, m.k_wwl, m.k_w2rs, m.k_wws, m.k_w2ro, m.k_wwo
    else:
        brd, bwr, rrd, rwr, ord_, owr = m.k_rrl, m.k_r2w, m.k_rrs, m.k_r2w, m.k_rro, m.k_r2wo
    r, g = b >> m.bpr_shift, b >> m.ba_bits
    if m.nw == 1:
        # one mask word (up to 64 queues, the usual case): no word loop, fewer values live at once
        # (one loop for every width, with this body, was 2-4% slower on the cross-check traces)
        bits = (m.qrdm[0] | m.qwrm[0]) & ~((<uint64_t>1) << b)
        gm = (~(<uint64_t>0) >> (64 - m.bpg)) << (g << m.ba_bits)
        rm = (~(<uint64_t>0) >> (64 - m.bpr)) << (r << m.bpr_shift)
        # one loop over the three sets (one exit to predict), each queue's values looked up by
        # its class without a branch: 0 another rank, 1 b's rank, 2 b's bank group
        vrt[0], vrt[1], vrt[2] = x + ord_, x + rrd, x + brd
        vwt[0], vwt[1], vwt[2] = x + owr, x + rwr, x + bwr
        while bits:
            q = hw_ctz64(bits)
            bits &= bits - 1
            k = ((rm >> q) & 1) + ((gm >> q) & 1)
            vr = imax(m.qrd[q], vrt[k])
            vw = imax(m.qwr[q], vwt[k])
            m.qrd[q] = vr
            m.qwr[q] = vw
            m.qmin[q] = imin(imin(vr, vw), imin(m.qpre[q], m.qact[q]))
        m.tq_dirty = True
        return
    for i in range(m.nw):
        bits = m.qrdm[i] | m.qwrm[i]
        if i == b >> 6:
            bits &= ~((<uint64_t>1) << (b & 63))
        if not bits:
            continue
        gm = ctl_span_bits(m, i, g << m.ba_bits, m.bpg)      # b's bank group
        rm = ctl_span_bits(m, i, r << m.bpr_shift, m.bpr)    # b's rank
        ctl_raise2(m, bits & gm, i << 6, x + brd, x + bwr)
        ctl_raise2(m, bits & rm & ~gm, i << 6, x + rrd, x + rwr)
        ctl_raise2(m, bits & ~rm, i << 6, x + ord_, x + owr)
    m.tq_dirty = True


cdef inline void ctl_cache_bank(Dram* m, int64_t ch, int64_t b) noexcept nogil:
    # bank b's own state changed (PRE, refresh): its queue is recomputed
    cdef int64_t i = b >> 6, sh = b & 63, act = CTL_FAR
    cdef uint64_t keep = ~((<uint64_t>1) << sh)
    if m.cache_ch != ch:
        return
    if m.per_rank:
        ctl_all_dirty(m)
    elif KBp(m, ch, b)[KB_ROW] >= 0:
        ctl_dirty(m, b)
    else:
        # a closed bank: ctl_q_recompute's answer without looking at the queue (an ACT, if any)
        if m.b_cqn[b]:
            act = ctl_act_ready(m, ch, b)
        m.qrd[b] = m.qwr[b] = m.qpre[b] = CTL_FAR
        m.qact[b] = m.qmin[b] = act
        m.qrdm[i] &= keep
        m.qwrm[i] &= keep
        m.qactm[i] = (m.qactm[i] & keep) | ((<uint64_t>(act < CTL_FAR)) << sh)
        m.qdirty[i] &= keep
        m.tq_dirty = True


# -- refresh ----------------------------------------------------------------------------------
cdef inline void ctl_ref_banks(Dram* m, int64_t target, int64_t* b0, int64_t* n) noexcept nogil:
    if m.ref_mode == 3:
        b0[0], n[0] = target, 1
    else:
        b0[0], n[0] = target * m.bpr, m.bpr


cdef void ctl_refresh_add(Dram* m, int64_t ch, int64_t tg) noexcept nogil:
    cdef int64_t* c = KHp(m, ch)
    cdef int64_t n = c[KH_REF_N]
    cdef int64_t b0, nb, b
    if n < m.n_banks:
        m.k_refq[ch * m.n_banks + (c[KH_REF_HEAD] + n) % m.n_banks] = tg
        c[KH_REF_N] = n + 1
    ctl_ref_banks(m, tg, &b0, &nb)
    for b in range(b0, b0 + nb):
        KBp(m, ch, b)[KB_INREF] = 1
        if m.cache_ch == ch:
            ctl_setbit(m.qblk, ctl_queue_of(m, b), True)
    m.tq_dirty = True


cdef void ctl_refresh_insert(Dram* m, int64_t ch, int64_t x) noexcept nogil:
    cdef int64_t* c = KHp(m, ch)
    cdef int64_t it, r, g, ba, k
    if m.ref_mode == 2:
        for k in range(m.n_ranks):
            ctl_refresh_add(m, ch, k)
    else:
        it = c[KH_REF_ITER]
        if m.ref_mode == 1:
            c[KH_REF_ITER] = (it + 1) % m.n_ranks
        else:
            r, g, ba = it >> m.bpr_shift, (it % m.bpr) >> m.ba_bits, it & (m.bpg - 1)
            g = (g + 1) % m.bgpr
            if g == 0:
                ba = (ba + 1) % m.bpg
                if ba == 0:
                    r = (r + 1) % m.n_ranks
            c[KH_REF_ITER] = (r * m.bgpr + g) * m.bpg + ba
        ctl_refresh_add(m, ch, it)
    c[KH_REF_NEXT] = x + m.ref_every


cdef int64_t ctl_refresh_step(Dram* m, int64_t ch, int64_t target) noexcept nogil:
    cdef int64_t b0, nb, b, pre = CTL_FAR, ready = 0
    cdef bint opened = False
    cdef int64_t* bk
    ctl_ref_banks(m, target, &b0, &nb)
    for b in range(b0, b0 + nb):
        bk = KBp(m, ch, b)
        if bk[KB_ROW] >= 0:
            opened = True
            if bk[KB_T_PRE] < pre:
                pre = bk[KB_T_PRE]
        elif bk[KB_T_REF] > ready:
            ready = bk[KB_T_REF]
    return pre if opened else ready


cdef bint ctl_refresh_command(Dram* m, int64_t ch, int64_t x) noexcept nogil:
    cdef int64_t* c = KHp(m, ch)
    cdef int64_t n = c[KH_REF_N], head = c[KH_REF_HEAD]
    cdef int64_t i, target, b0, nb, b
    cdef bint all_ready
    cdef int64_t* bk
    for i in range(n):
        target = m.k_refq[ch * m.n_banks + ctl_wrap(head + i, m.n_banks)]
        ctl_ref_banks(m, target, &b0, &nb)
        all_ready = True
        for b in range(b0, b0 + nb):
            bk = KBp(m, ch, b)
            if bk[KB_ROW] >= 0:
                if bk[KB_T_PRE] <= x:
                    ctl_issue_pre(m, ch, b, x, WHY_REFRESH)
                    return True
                all_ready = False
            elif bk[KB_T_REF] > x:
                all_ready = False
        if all_ready:
            ctl_issue_ref(m, ch, i, target, x)
            return True
    return False


cdef int64_t ctl_refresh_next(Dram* m, int64_t ch) noexcept nogil:
    cdef int64_t* c = KHp(m, ch)
    cdef int64_t n = c[KH_REF_N], head = c[KH_REF_HEAD]
    cdef int64_t i, t, best = CTL_FAR
    for i in range(n):
        t = ctl_refresh_step(m, ch, m.k_refq[ch * m.n_banks + ctl_wrap(head + i, m.n_banks)])
        if t < best:
            best = t
    return best


# -- timeout row policy -----------------------------------------------------------------------
cdef int64_t ctl_timeout_due(Dram* m, int64_t ch, int64_t b) noexcept nogil:
    cdef int64_t* bk = KBp(m, ch, b)
    if bk[KB_ROW] < 0 or bk[KB_INREF] or ctl_has_hit(m, ch, b):
        return CTL_FAR
    return imax(bk[KB_LAST_COL] + m.row_timeout, bk[KB_T_PRE])


cdef bint ctl_timeout_command(Dram* m, int64_t ch, int64_t x) noexcept nogil:
    cdef int64_t b
    for b in range(m.n_banks):
        if ctl_timeout_due(m, ch, b) <= x:
            ctl_issue_pre(m, ch, b, x, WHY_TIMEOUT)
            return True
    return False


cdef int64_t ctl_timeout_next(Dram* m, int64_t ch) noexcept nogil:
    cdef int64_t b, t, best = CTL_FAR
    for b in range(m.n_banks):
        t = ctl_timeout_due(m, ch, b)
        if t < best:
            best = t
    return best


# -- issuing commands -------------------------------------------------------------------------
cdef inline void ctl_issue_act(Dram* m, int64_t ch, int64_t b, int64_t row, int64_t x) noexcept nogil:
    cdef int64_t* bk = KBp(m, ch, b)
    bk[KB_ROW] = row
    bk[KB_HITS] = 0
    bk[KB_LAST_COL] = x
    ctl_timing_act(m, ch, b, x)
    ctl_cache_act(m, ch, b, x)
    m.cnt[DC_ACT_CMDS] += 1
    ctl_ra_change(m, ch, b >> m.bpr_shift, x, 1)


cdef void ctl_issue_pre(Dram* m, int64_t ch, int64_t b, int64_t x, int why) noexcept nogil:
    cdef int64_t* bk = KBp(m, ch, b)
    bk[KB_ROW] = -1
    bk[KB_HITS] = 0
    bk[KB_CONFLICT] = 1 if why == WHY_QUEUE else 0
    ctl_timing_pre(m, ch, b, x)
    ctl_cache_bank(m, ch, b)
    m.cnt[DC_PRE_CMDS] += 1
    ctl_ra_change(m, ch, b >> m.bpr_shift, x, -1)


cdef void ctl_issue_ref(Dram* m, int64_t ch, int64_t i, int64_t target, int64_t x) noexcept nogil:
    cdef int64_t* c = KHp(m, ch)
    cdef int64_t b0, nb, b, j
    cdef int64_t n = c[KH_REF_N], head = c[KH_REF_HEAD]
    cdef int64_t* q = m.k_refq + ch * m.n_banks
    ctl_ref_banks(m, target, &b0, &nb)
    ctl_timing_ref(m, ch, b0, nb, m.k_rfcb if m.ref_mode == 3 else m.k_rfc, x)
    for b in range(b0, b0 + nb):
        KBp(m, ch, b)[KB_INREF] = 0
        KBp(m, ch, b)[KB_CONFLICT] = 0
        ctl_cache_bank(m, ch, b)
    if m.cache_ch == ch:
        for b in range(b0, b0 + nb):
            j = ctl_queue_of(m, b)
            ctl_setbit(m.qblk, j, ctl_queue_blocked(m, ch, j))
    for j in range(i, n - 1):
        q[(head + j) % m.n_banks] = q[(head + j + 1) % m.n_banks]
    c[KH_REF_N] = n - 1
    m.cnt[DC_REFRESHES] += 1


cdef inline void ctl_issue_col(Dram* m, int64_t ch, int64_t q, int64_t k, int64_t x) noexcept nogil:
    cdef int64_t s = CQp(m, ch, q)[k]
    cdef int64_t* tx = KTp(m, ch, s)
    cdef int64_t b = tx[KT_BANK], w = tx[KT_W] & 1, addr = tx[KT_ADDR]
    cdef int64_t* bk = KBp(m, ch, b)
    cdef int64_t* cnt = m.cnt
    cdef int64_t nxt
    cnt[DC_READ_CMDS + w] += 1            # DC_WRITE_CMDS follows DC_READ_CMDS
    if bk[KB_HITS]:
        cnt[DC_ROW_HITS] += 1
        cnt[DC_READ_ROW_HITS + w] += 1    # DC_WRITE_ROW_HITS follows
    elif bk[KB_CONFLICT]:
        cnt[DC_ROW_CONFLICTS] += 1
    else:
        cnt[DC_ROW_MISSES] += 1
    cnt[DC_DRAM_BYTES] += m.burst_bytes
    bk[KB_HITS] += 1
    bk[KB_LAST_COL] = x
    ctl_timing_col(m, ch, b, w, m.closed, x)
    ctl_cache_col(m, ch, b, w, x)
    ctl_queue_remove(m, ch, q, k)
    ctl_pend_del(m, ch, addr, w)
    if w:
        ctl_tx_free(m, ch, s)
    else:
        while s >= 0:
            tx = KTp(m, ch, s)
            nxt = tx[KT_NEXT]
            ctl_req_done(m, ch, tx[KT_REQ], x + m.k_rd_delay)
            ctl_tx_free(m, ch, s)
            s = nxt
    if m.closed:
        bk[KB_ROW] = -1
        bk[KB_HITS] = 0
        bk[KB_CONFLICT] = 0
        ctl_ra_change(m, ch, b >> m.bpr_shift, x, -1)
    KHc(m)[KH_SCHED] = 1
    if m.cache_ch == ch and not m.per_rank:
        if m.b_cqn[q]:
            ctl_q_recompute(m, ch, q)   # see ctl_cache_col
        else:
            ctl_q_none(m, q)            # the queue emptied (often): its answer without the call


cdef inline uint64_t ctl_range_bits(int64_t i, int64_t lo, int64_t hi) noexcept nogil:
    # the bits of mask word i that stand for queues lo .. hi - 1 (lo < hi)
    cdef int64_t a = lo - (i << 6), z = hi - (i << 6)
    a = 0 if a < 0 else a
    z = 64 if z > 64 else z
    if z <= a:
        return 0
    return (~(<uint64_t>0) >> (64 - z)) & (~(<uint64_t>0) << a)


cdef inline int64_t ctl_queue_first_cached(Dram* m, int64_t ch, int64_t q, int64_t x, int64_t* kind) noexcept nogil:
    # ctl_queue_first for a per-bank queue whose readiness is cached and not dirty: the kind that
    # is ready comes from the cache (an ACT or a PRE is the first entry's, a READ / WRITE the first
    # hit's of a ready kind), checked against the bank's timing; -2: ask ctl_queue_first
    cdef int64_t* e
    cdef int64_t* tx
    cdef int64_t k, n, row
    cdef bint rd_ok, wr_ok
    if m.qact[q] <= x:
        kind[0] = K_ACT
        return 0 if ctl_act_ready(m, ch, q) <= x else -2
    if m.qpre[q] <= x:
        kind[0] = K_PRE
        return 0 if KBp(m, ch, q)[KB_T_PRE] <= x else -2
    rd_ok, wr_ok = m.qrd[q] <= x, m.qwr[q] <= x
    e = CQp(m, ch, q)
    n = ctl_queue_len(m, ch, q)
    row = KBp(m, ch, q)[KB_ROW]
    for k in range(n):
        tx = KTp(m, ch, e[k])
        if tx[KT_ROW] != row:
            continue
        if tx[KT_W] & 1:
            if not wr_ok:
                continue
            if not ctl_write_held(m, ch, e, k, tx[KT_ADDR]):
                kind[0] = K_WR
                return k if ctl_col_ready(m, ch, q, 1) <= x else -2
        elif rd_ok:
            kind[0] = K_RD
            return k if ctl_col_ready(m, ch, q, 0) <= x else -2
    return -2


cdef inline bint ctl_queue_issue(Dram* m, int64_t ch, int64_t q, int64_t x) noexcept nogil:
    # queue q's first command ready at x issues (False: none is)
    cdef int64_t k = -2, kind, b
    cdef int64_t* tx
    if m.cache_ch == ch and not m.per_rank and not (m.qdirty[q >> 6] >> (q & 63)) & 1 and m.b_cqn[q]:
        k = ctl_queue_first_cached(m, ch, q, x, &kind)
    if k == -2:
        k = ctl_queue_first(m, ch, q, x, &kind)
    if k < 0:
        return False
    KHc(m)[KH_RR] = q
    tx = KTp(m, ch, CQp(m, ch, q)[k])
    b = tx[KT_BANK]
    if kind == K_ACT:
        ctl_issue_act(m, ch, b, tx[KT_ROW], x)
    elif kind == K_PRE:
        ctl_issue_pre(m, ch, b, x, WHY_QUEUE)
    else:
        ctl_issue_col(m, ch, q, k, x)
    return True


cdef inline uint64_t ctl_rr_split(Dram* m, int64_t start, uint64_t* rest) noexcept nogil:
    # one mask word: the queues with commands and not blocked, in round-robin order from `start`:
    # those from start (returned), then those before it (*rest)
    cdef uint64_t cand = m.qne[0] & ~m.qblk[0]
    cdef uint64_t first = cand & (~(<uint64_t>0) << start)
    rest[0] = cand & ~first
    return first


cdef bint ctl_queue_command(Dram* m, int64_t ch, int64_t x) noexcept nogil:
    # round robin over the command queues from the one after the queue served last; a queue whose
    # cached readiness is later than x has nothing ready (the twin evaluates every command)
    cdef int64_t start = KHc(m)[KH_RR] + 1
    cdef int64_t q, lo, hi, part, i
    cdef uint64_t bits, cand, first
    cdef int64_t t, best = CTL_FAR, bq = -1
    if not m.tq_dirty and m.t_q == x and m.t_qq >= 0 and m.cache_ch == ch:
        # t_qq is the queue round robin reaches first among those ready at t_q (as ctl_queues_next,
        # an unsuccessful scan or an arrival found it), and nothing has changed since (no queue is
        # dirty): it is the one
        if ctl_queue_issue(m, ch, m.t_qq, x):
            return True
    ctl_cache_sync(m, ch)
    if start >= m.nq:
        start = 0
    if m.nw == 1:
        # one word: the queues from start, then those before it
        first = ctl_rr_split(m, start, &cand)
        for part in range(2):
            bits = first if part == 0 else cand
            while bits:
                q = hw_ctz64(bits)
                bits &= bits - 1
                t = m.qmin[q]
                if t <= x and ctl_queue_issue(m, ch, q, x):
                    return True
                bq = q if t < best else bq
                best = t if t < best else best
        if best > x:        # none was ready: the earliest is when one may be (as queues_next)
            m.t_q = best
            m.t_qq = bq
            m.tq_dirty = False
        return False
    for part in range(2):       # queues start .. nq - 1, then 0 .. start - 1
        lo = start if part == 0 else 0
        hi = m.nq if part == 0 else start
        if lo >= hi:
            continue
        for i in range(lo >> 6, (hi + 63) >> 6):
            bits = m.qne[i] & ~m.qblk[i] & ctl_range_bits(i, lo, hi)
            while bits:
                q = (i << 6) + hw_ctz64(bits)
                bits &= bits - 1
                if m.qmin[q] <= x and ctl_queue_issue(m, ch, q, x):
                    return True
    return False


cdef int64_t ctl_queues_next(Dram* m, int64_t ch) noexcept nogil:
    # the earliest readiness of the queues not blocked; with one mask word, also the queue that
    # reaches it first in round-robin order (the one ctl_queue_command would try first), in t_qq
    cdef int64_t q, t, best = CTL_FAR, bq = -1, start
    cdef int64_t i
    cdef uint64_t bits, key, bkey
    ctl_cache_sync(m, ch)
    if m.nw == 1:
        start = KHc(m)[KH_RR] + 1
        start = start if start < m.nq else 0
        # one loop in queue order (one exit for the branch predictor to miss, where walking the
        # round-robin order's two parts had two): the least key 2 t + (q < start) wins, so that of
        # equally early queues those from start on come first, then the lowest (t <= CTL_FAR = 2^62:
        # the key fits 64 bits unsigned)
        bits = m.qne[0] & ~m.qblk[0]
        bkey = 2 * <uint64_t>CTL_FAR
        while bits:
            q = hw_ctz64(bits)
            bits &= bits - 1
            key = 2 * <uint64_t>m.qmin[q] + <uint64_t>(q < start)
            bq = q if key < bkey else bq
            bkey = key if key < bkey else bkey
        m.t_qq = bq
        return <int64_t>(bkey >> 1)
    m.t_qq = -1
    for i in range(m.nw):
        bits = m.qne[i] & ~m.qblk[i]
        while bits:
            q = (i << 6) + hw_ctz64(bits)
            bits &= bits - 1
            t = m.qmin[q]
            best = t if t < best else best
    return best


# -- the transaction scheduler ----------------------------------------------------------------
cdef bint ctl_cmdq_empty(Dram* m, int64_t ch) noexcept nogil:
    cdef int64_t q
    if m.cache_ch == ch:
        for q in range((m.nq + 63) >> 6):
            if m.qne[q]:
                return False
        return True
    for q in range(m.nq):
        if m.b_cqn[q]:
            return False
    return True


cdef bint ctl_in_read_queue(Dram* m, int64_t ch, int64_t s) noexcept nogil:
    cdef int64_t k
    for k in range(KHc(m)[KH_RQ_N]):
        if m.k_rdq[ch * m.qsize + k] == s:
            return True
    return False


cdef void ctl_schedule(Dram* m, int64_t ch, int64_t x) noexcept nogil:
    cdef int64_t* c = KHc(m)
    cdef int64_t changed = 0
    cdef int64_t wb_n = c[KH_WB_N], rq_n = c[KH_RQ_N]
    cdef int64_t* queue
    cdef int64_t n, k, s, q, j, r
    cdef int64_t* tx
    cdef bint writes
    if c[KH_WDRAIN] < 0:
        c[KH_WDRAIN] = 0
        changed = 1
    elif c[KH_WDRAIN] == 0 and (wb_n >= m.qsize or (wb_n > m.wb_lo and ctl_cmdq_empty(m, ch))):
        c[KH_WDRAIN] = wb_n
        changed = 1
    writes = c[KH_WDRAIN] > 0
    if writes:
        queue, n = m.k_wrb + ch * m.qsize, wb_n
    else:
        queue, n = m.k_rdq + ch * m.qsize, rq_n
    cdef bint cached = m.cache_ch == ch
    cdef int64_t* tq = &m.rdq_q[0]
    if writes:
        tq = &m.wrb_q[0]
    cdef int64_t k0 = 0
    if cached:
        # entries before skip wait for full command queues (none moves when every one does)
        k0 = n if (m.movable_wr if writes else m.movable_rd) == 0 else (m.skip_wr if writes else m.skip_rd)
        while k0 < n and m.b_cqn[tq[k0]] >= m.cqsize:
            k0 += 1
        if writes:
            m.skip_wr = k0
        else:
            m.skip_rd = k0
    for k in range(k0, n):
        q = tq[k] if cached else ctl_queue_of(m, KTp(m, ch, queue[k])[KT_BANK])
        if m.b_cqn[q] >= m.cqsize:
            continue
        s = queue[k]
        tx = KTp(m, ch, s)
        if writes:
            r = ctl_pend_find(m, ch, tx[KT_ADDR], 0)
            if r >= 0:
                c[KH_WDRAIN] = -1 if ctl_in_read_queue(m, ch, r) else 0
                changed = 1
                break
            c[KH_WDRAIN] += -1
        jset(m, &CQp(m, ch, q)[m.b_cqn[q]], s)
        m.b_cqn[q] += 1
        if m.cache_ch == ch:
            ctl_q_arrive(m, ch, q, x)
            ctl_cache_wait(m, ch, q, writes, -1)
            ctl_cache_qlen(m, ch, q, m.b_cqn[q] - 1, m.b_cqn[q])
        for j in range(k, n - 1):
            queue[j] = queue[j + 1]
            if cached:
                tq[j] = tq[j + 1]
        c[KH_WB_N if writes else KH_RQ_N] = n - 1
        if n >= m.qsize:
            m.tfe_dirty = True  # the front end may have waited for room
        changed = 1
        break
    c[KH_SCHED] = changed


# -- the front end ----------------------------------------------------------------------------
cdef bint ctl_src_peek(Dram* m, int64_t ch, int64_t* t, int64_t* addr, int64_t* nb, int64_t* step,
                       int64_t* w, int64_t* ticket) noexcept nogil:
    cdef Src* s = &m.src
    cdef int64_t i
    cdef int64_t* c
    cdef int64_t* f
    if s.ring:
        c = KHc(m)
        if not c[KH_FE_N]:
            return False
        f = m.k_fe + (ch * m.fes + c[KH_FE_HEAD]) * N_KF
        t[0], addr[0], nb[0], step[0], w[0], ticket[0] = f[KF_T], f[KF_ADDR], f[KF_NB], f[KF_STEP], f[KF_W], f[KF_TICKET]
        return True
    if s.pos >= s.n:
        return False
    i = s.idx[s.pos] if s.idx != NULL else s.pos
    t[0] = s.t[i]
    addr[0] = s.addr[i] & ~((<int64_t>1 << m.line_shift) - 1)
    nb[0], step[0], w[0], ticket[0] = m.line_bursts, m.burst_bytes, s.w[i] & 1, i
    return True


cdef void ctl_src_pop(Dram* m, int64_t ch) noexcept nogil:
    cdef int64_t* c
    if m.src.ring:
        c = KHc(m)
        c[KH_FE_HEAD] = (c[KH_FE_HEAD] + 1) % m.fes
        c[KH_FE_N] += -1
    else:
        m.src.pos += 1


cdef void ctl_fe_insert(Dram* m, int64_t ch, int64_t t, int64_t addr, int64_t nb, int64_t step,
                        int64_t w, int64_t ticket) noexcept nogil:
    cdef int64_t* c = KHp(m, ch)
    cdef int64_t n = c[KH_FE_N], head = c[KH_FE_HEAD]
    cdef int64_t* fe = m.k_fe + ch * m.fes * N_KF
    cdef int64_t k = n, lo = 1 if c[KH_FE_TAKEN] else 0, j
    cdef int64_t* P
    cdef int64_t* Q
    while k > lo:
        P = fe + ((head + k - 1) % m.fes) * N_KF
        if P[KF_T] <= t:
            break
        Q = fe + ((head + k) % m.fes) * N_KF
        for j in range(N_KF):
            jset(m, &Q[j], P[j])
        k -= 1
    Q = fe + ((head + k) % m.fes) * N_KF
    jset(m, &Q[KF_T], t)
    jset(m, &Q[KF_ADDR], addr)
    jset(m, &Q[KF_NB], nb)
    jset(m, &Q[KF_STEP], step)
    jset(m, &Q[KF_W], w)
    jset(m, &Q[KF_TICKET], ticket)
    c[KH_FE_N] = n + 1
    m.tfe_dirty = True


cdef inline bint ctl_fe_room(Dram* m, int64_t ch, int64_t w) noexcept nogil:
    cdef int64_t* c = KHc(m)
    if c[KH_WB_N if w & 1 else KH_RQ_N] >= m.qsize:
        return False
    if c[KH_TX_FREE] < 0:
        return False
    return c[KH_FE_TAKEN] > 0 or c[KH_REQ_FREE] >= 0


cdef inline void ctl_decode(Dram* m, int64_t addr, int64_t* ch, int64_t* b, int64_t* row) noexcept nogil:
    # like dram_decode, with the bank within its channel
    dram_decode(m, addr, ch, b, row)
    b[0] -= ch[0] * m.n_banks


cdef int64_t ctl_new_tx(Dram* m, int64_t ch, int64_t addr, int64_t b, int64_t row, int64_t w,
                        int64_t rs) noexcept nogil:
    cdef int64_t s = ctl_tx_alloc(m, ch)
    cdef int64_t* tx = KTp(m, ch, s)
    ctl_jrec_n(m, tx, N_KT)     # the whole record, then written as jset would
    tx[KT_ADDR], tx[KT_BANK], tx[KT_ROW], tx[KT_W], tx[KT_REQ], tx[KT_NEXT] = addr, b, row, w, rs, -1
    return s


cdef void ctl_accept(Dram* m, int64_t ch, int64_t x) noexcept nogil:
    cdef int64_t t, addr, nb, step, w, ticket
    if not ctl_src_peek(m, ch, &t, &addr, &nb, &step, &w, &ticket):
        return
    if ctl_ceil(m, t) > x or not ctl_fe_room(m, ch, w):
        return
    cdef int64_t* c = KHc(m)
    cdef int64_t i = c[KH_FE_TAKEN]
    cdef int64_t wr = w & 1, rs, taddr, ch2, b, row, s, head
    cdef int64_t* rq
    cdef int64_t* tx
    if i == 0:
        rs = ctl_req_alloc(m, ch)
        rq = KQp(m, ch, rs)
        ctl_jrec_n(m, rq, N_KQ)     # the whole record, then written as jset would
        rq[KQ_TICKET], rq[KQ_T], rq[KQ_ACC], rq[KQ_DONE], rq[KQ_REMAIN], rq[KQ_W], rq[KQ_NEXT] = ticket, t, x + 1, 0, nb, w, -1
        c[KH_FE_REQ] = rs
        c[KH_LIVE] += 1
        m.cnt[DC_WRITES if wr else DC_READS] += 1
    rs = c[KH_FE_REQ]
    m.tfe_dirty = True
    taddr = addr + i * step
    if i + 1 == nb:
        c[KH_FE_TAKEN] = 0
        ctl_src_pop(m, ch)
    else:
        c[KH_FE_TAKEN] = i + 1
    c[KH_SCHED] = 1
    ctl_decode(m, taddr, &ch2, &b, &row)
    if wr:
        if ctl_pend_find(m, ch, taddr, 1) >= 0:
            m.cnt[DC_WRITE_MERGES] += 1
        else:
            s = ctl_new_tx(m, ch, taddr, b, row, 1, rs)
            ctl_pend_put(m, ch, taddr, 1, s)
            if m.cache_ch == ch:
                m.wrb_q[c[KH_WB_N]] = ctl_queue_of(m, b)
            m.k_wrb[ch * m.qsize + c[KH_WB_N]] = s
            c[KH_WB_N] += 1
            ctl_cache_wait(m, ch, ctl_queue_of(m, b), 1, 1)
        ctl_req_done(m, ch, rs, x + 2)
        return
    if ctl_pend_find(m, ch, taddr, 1) >= 0:
        m.cnt[DC_READ_FORWARDS] += 1
        ctl_req_done(m, ch, rs, x + 2)
        return
    head = ctl_pend_find(m, ch, taddr, 0)
    s = ctl_new_tx(m, ch, taddr, b, row, 0, rs)
    if head >= 0:
        tx = KTp(m, ch, head)
        while tx[KT_NEXT] >= 0:
            tx = KTp(m, ch, tx[KT_NEXT])
        jset(m, &tx[KT_NEXT], s)
        return
    ctl_pend_put(m, ch, taddr, 0, s)
    if m.cache_ch == ch:
        m.rdq_q[c[KH_RQ_N]] = ctl_queue_of(m, b)
    m.k_rdq[ch * m.qsize + c[KH_RQ_N]] = s
    c[KH_RQ_N] += 1
    ctl_cache_wait(m, ch, ctl_queue_of(m, b), 0, 1)


cdef int64_t ctl_fe_next(Dram* m, int64_t ch, int64_t x) noexcept nogil:
    # t_fe (x = 0): recomputed when the front end's head changes, and when a slot or queue place it
    # may have waited for is freed (a free while it had room changes nothing; early only costs a visit)
    cdef int64_t t, addr, nb, step, w, ticket
    if not ctl_src_peek(m, ch, &t, &addr, &nb, &step, &w, &ticket) or not ctl_fe_room(m, ch, w):
        return CTL_FAR
    return imax(ctl_ceil(m, t), x)


# -- the loop ---------------------------------------------------------------------------------
cdef void ctl_cycle(Dram* m, int64_t ch, int64_t x) noexcept nogil:
    # the twin's cycle; a step whose cached time is later than x has nothing to do and is skipped
    cdef int64_t* c = KHc(m)
    cdef bint issued = False
    if x == c[KH_REF_NEXT]:
        ctl_refresh_insert(m, ch, x)
    if c[KH_REF_N]:
        issued = ctl_refresh_command(m, ch, x)
    if not issued and m.row_timeout:
        issued = ctl_timeout_command(m, ch, x)
    if not issued and (m.tq_dirty or m.t_q <= x):
        ctl_queue_command(m, ch, x)
    if c[KH_SCHED]:
        ctl_schedule(m, ch, x)
    if m.tfe_dirty:
        m.t_fe = ctl_fe_next(m, ch, 0)
        m.tfe_dirty = False
    if m.t_fe <= x:
        ctl_accept(m, ch, x)


cdef int64_t ctl_next_cycle(Dram* m, int64_t ch, int64_t x, int64_t limit) noexcept nogil:
    # (limit: the run stops before it, so the twin never gets to cycle x's scheduler)
    cdef int64_t* c = KHc(m)
    cdef int64_t y = c[KH_REF_NEXT], v, wdr
    if c[KH_SCHED] and x < limit:
        # the twin tries the scheduler at x; when that can move nothing nor start or stop a
        # drain, its cycle x does nothing but clear SCHED (every other step has its own time); the
        # waiting counts and masks it reads are kept exact whatever queues are dirty
        if m.cache_ch != ch:
            ctl_cache_build(m, ch)
        wdr = c[KH_WDRAIN]
        if wdr < 0 or (wdr == 0 and (c[KH_WB_N] >= m.qsize or (c[KH_WB_N] > m.wb_lo and ctl_cmdq_empty(m, ch)))) \
                or (m.movable_wr if wdr > 0 else m.movable_rd) > 0:
            return x
        c[KH_SCHED] = 0
    elif c[KH_SCHED]:
        return x
    if c[KH_REF_N]:
        v = ctl_refresh_next(m, ch)
        y = v if v < y else y
    if m.row_timeout:
        v = ctl_timeout_next(m, ch)
        y = v if v < y else y
    if m.tq_dirty:
        m.t_q = ctl_queues_next(m, ch)
        m.tq_dirty = False
    y = m.t_q if m.t_q < y else y
    if m.tfe_dirty:
        m.t_fe = ctl_fe_next(m, ch, 0)
        m.tfe_dirty = False
    y = m.t_fe if m.t_fe < y else y
    return imax(y, x)


cdef int64_t ctl_advance(Dram* m, int64_t ch, int64_t stop, int mode) noexcept nogil:
    # the twin's advance: mode 0 up to (not including) cycle stop; 1 until the target is done;
    # 2 until every request is taken and done, and at least up to stop
    cdef int64_t* c = KHp(m, ch)
    cdef int64_t x = c[KH_CYC], y, r, t, addr, nb, step, w, ticket
    ctl_channel(m, ch)
    m.tq_dirty = m.tfe_dirty = True
    while True:
        if mode == 2 and not c[KH_LIVE] and not ctl_src_peek(m, ch, &t, &addr, &nb, &step, &w, &ticket):
            mode = 0
            stop = imax(stop, x)
        y = ctl_next_cycle(m, ch, x, stop if mode == 0 else CTL_FAR)
        if mode == 0 and y >= stop:
            x = imax(x, stop)
            break
        ctl_cycle(m, ch, y)
        x = y + 1
        if mode == 1 and m.target_done >= 0:
            break
    c[KH_CYC] = x
    if m.activity and mode != 1:
        for r in range(m.n_ranks):
            ctl_ra_advance(m, ch, r, x * m.tck)
    return x


# -- in-system requests -----------------------------------------------------------------------
cdef int64_t ctl_horizon(Dram* m) noexcept nogil:
    cdef int64_t h
    if m.sc == NULL:
        return 0
    h = m.sc[S_LAST_ARRIVAL_PS] if m.sc[S_STARTED] else 0
    if m.sc[S_DEFER_N] and m.defer[4 * m.sc[S_DEFER_HEAD]] < h:
        h = m.defer[4 * m.sc[S_DEFER_HEAD]]
    return h


# An answer runs its channel ahead of the committed state until the request is done. The next
# request to that channel seldom changes the run: when it arrives at or after the cycle the run
# reached, or behind a request the front end still holds there, every cycle simulated so far is the
# same with it. The run is then kept and continued instead of rolled back and simulated again. A
# thread keeps up to KEEPERS runs (a page swap alternates between two DRAMs); any other use of a
# kept channel settles it first: roll back, put its kept requests into the committed front end,
# where answering them one by one would have put them (none was late, so in the same order), and
# commit as far as that would have. Results equal always rolling back, which the twin does (the
# tests compare the two). A run ahead counts into scratch counters: only committed cycles count.
cdef enum:
    KEEPERS = 8
    KEEP_JOURNAL = 1 << 19      # journal entries (8 MiB) past which a kept run is settled

cdef extern from *:
    """
    typedef struct {
        void* m;                /* the Dram whose run is kept (NULL: a free keeper) */
        int64_t ch;             /* its channel */
        int64_t seq;            /* the channel's next ticket */
        int64_t cyc;            /* the committed cycle answering one by one would have reached */
        int64_t fe;             /* requests in the committed front end (not counting rows) */
        int64_t n, cap;         /* requests answered on the kept run (rows of 6), room for them */
        int64_t* rows;
        int64_t* small;         /* copies the run rolls back to, and their room */
        int64_t* saved;
        int64_t nsmall, nsaved, has_saved;
        void* jbuf;             /* the run's undo journal */
        int64_t jn, jcap;
        int64_t used;           /* when last used (the least recent is settled for a new run) */
    } HwKeep;
    static __thread HwKeep hw_keep[8];
    static __thread int64_t hw_keep_clock = 0;
    static __thread int64_t hw_keep_cnt[256];    /* a run ahead's counters, discarded */
    """
    ctypedef struct HwKeep:
        void* m
        int64_t ch, seq, cyc, fe, n, cap
        int64_t* rows
        int64_t* small
        int64_t* saved
        int64_t nsmall, nsaved, has_saved
        void* jbuf
        int64_t jn, jcap
        int64_t used
    HwKeep hw_keep[8]
    int64_t hw_keep_clock
    int64_t hw_keep_cnt[256]

assert N_DRAM_COUNTERS <= 256 and KEEPERS == 8
cdef bint keep_runs = True


def _keep_runs(bint on):
    """Whether answers keep their run-ahead (the default); off, every answer rolls back as the twin
    does. For the tests, which compare the two where the twin is too slow to run."""
    global keep_runs
    keep_runs = on


cdef int64_t* ctl_room(int64_t* p, int64_t* have, int64_t n) noexcept nogil:
    # p grown to hold n int64 (have: what it holds)
    if n <= have[0]:
        return p
    p = <int64_t*>realloc(p, n * sizeof(int64_t))
    if p == NULL:
        fprintf(stderr, b"hwmodel: out of memory for the DRAM controller's kept run\n")
        abort()
    have[0] = n
    return p


cdef void ctl_run_ahead(Dram* m, int64_t ch, HwKeep* k, int64_t ticket) noexcept nogil:
    # run channel ch ahead until request `ticket` is done, journaled into keeper k (the journal
    # on: m.jon and k's buffer in m)
    global hw_keep_clock
    cdef int64_t* cnt = m.cnt
    m.cnt = hw_keep_cnt
    m.target = ticket
    m.target_done = -1
    ctl_advance(m, ch, CTL_FAR, 1)
    m.target = -1
    m.cnt = cnt
    k.jbuf, k.jn, k.jcap = <void*>m.jbuf, m.jn, m.jcap
    m.jon = False
    hw_keep_clock += 1
    k.used = hw_keep_clock


cdef void ctl_settle_one(HwKeep* k) noexcept nogil:
    """Roll back keeper k's run, hand its requests to the committed front end and commit up to
    the latest horizon, as answering each request from the committed state would have."""
    cdef Dram* m = <Dram*>k.m
    cdef int64_t ch = k.ch, i
    cdef int64_t* r
    if m == NULL:
        return
    k.m = NULL
    ctl_channel(m, ch)
    m.jbuf, m.jn = <JEntry*>k.jbuf, k.jn
    ctl_rollback(m)
    k.jn = 0
    ctl_small_load(m, ch, k.small)
    if k.has_saved:
        ctl_cache_load(m, k.saved)
    elif m.cache_ch == ch:
        m.cache_ch = -1       # rebuilt when next needed
    KHp(m, ch)[KH_SEQ] = k.seq
    for i in range(k.n):
        r = k.rows + 6 * i
        ctl_fe_insert(m, ch, r[0], r[1], r[2], r[3], r[4], r[5])
    k.n = 0
    ctl_advance(m, ch, k.cyc, 0)


cdef void ctl_settle() noexcept nogil:
    """Settle every run the thread keeps (before the state is read or handed back)."""
    cdef int64_t i
    for i in range(KEEPERS):
        ctl_settle_one(&hw_keep[i])


cdef bint ctl_keep_holds(Dram* m, int64_t ch, HwKeep* k, int64_t t, int64_t x, int64_t h) noexcept nogil:
    # keeper k's run answers a request arriving at t (cycle x; horizon at cycle h) as rolling back
    # would: not late for the committed state, which would have had front-end room, and nothing
    # simulated changes
    cdef int64_t* c = KHp(m, ch)
    if not keep_runs or x < imax(k.cyc, h) or k.fe + k.n >= m.fes or k.jn > KEEP_JOURNAL:
        return False
    if x >= c[KH_CYC]:
        return True
    return c[KH_FE_N] > 0 and m.k_fe[(ch * m.fes + c[KH_FE_HEAD]) * N_KF + KF_T] <= t


cdef int64_t ctl_segment(Dram* m, int64_t addr, int64_t t, int64_t nb, int64_t w) noexcept nogil:
    cdef int64_t ch, b, row, ticket, h, i
    cdef int64_t* c
    cdef int64_t* r
    cdef HwKeep* k = NULL
    ctl_decode(m, addr, &ch, &b, &row)
    c = KHp(m, ch)
    m.src.ring = True
    h = ctl_ceil(m, ctl_horizon(m))
    for i in range(KEEPERS):
        if hw_keep[i].m == <void*>m and hw_keep[i].ch == ch:
            k = &hw_keep[i]
            break
    if k != NULL and ctl_keep_holds(m, ch, k, t, ctl_ceil(m, t), h):
        # answered on the kept run: the request joins it (and the rows to hand over when settled)
        k.cyc = imax(k.cyc, h)
        ticket = k.seq
        k.seq = ticket + 1
        c[KH_SEQ] = ticket + 1
        k.rows = ctl_room(k.rows, &k.cap, 6 * (k.n + 1))
        r = k.rows + 6 * k.n
        r[0], r[1], r[2], r[3], r[4], r[5] = t, addr, nb, m.burst_bytes, w, ticket
        k.n += 1
        m.jbuf, m.jn, m.jcap, m.jon = <JEntry*>k.jbuf, k.jn, k.jcap, True
        ctl_fe_insert(m, ch, t, addr, nb, m.burst_bytes, w, ticket)
        ctl_run_ahead(m, ch, k, ticket)
        return m.target_done
    if k == NULL:             # a keeper for this channel: a free one, else the least recently used
        k = &hw_keep[0]
        for i in range(KEEPERS):
            if hw_keep[i].m == NULL:
                k = &hw_keep[i]
                break
            if hw_keep[i].used < k.used:
                k = &hw_keep[i]
    ctl_settle_one(k)
    # answered from the committed state: commit up to the horizon (and until the front end has
    # room), take the request, then run ahead
    ctl_advance(m, ch, h, 0)
    while c[KH_FE_N] >= m.fes:
        ctl_advance(m, ch, c[KH_CYC] + 1, 0)
    ticket = c[KH_SEQ]
    c[KH_SEQ] = ticket + 1
    if ctl_ceil(m, t) < c[KH_CYC]:
        m.cnt[DC_LATE_ARRIVALS] += 1
    ctl_fe_insert(m, ch, t, addr, nb, m.burst_bytes, w, ticket)
    k.m, k.ch, k.seq, k.cyc, k.fe, k.n, k.jn = <void*>m, ch, ticket + 1, c[KH_CYC], c[KH_FE_N], 0, 0
    k.small = ctl_room(k.small, &k.nsmall, ctl_small_words(m))
    ctl_small_save(m, ch, k.small)
    k.has_saved = m.cache_ch == ch
    if k.has_saved:
        k.saved = ctl_room(k.saved, &k.nsaved, ctl_cache_words(m))
        ctl_cache_save(m, k.saved)
    m.jbuf, m.jn, m.jcap, m.jon = <JEntry*>k.jbuf, 0, k.jcap, True
    ctl_run_ahead(m, ch, k, ticket)
    return m.target_done


cdef int64_t ctl_request(Dram* m, int64_t addr, int64_t t, int64_t nbytes, int w) noexcept nogil:
    cdef int64_t seg = (<int64_t>1) << m.seg_shift
    cdef int64_t done = t, a = addr, n, v
    if seg > nbytes:
        seg = nbytes
    while a < addr + nbytes:
        n = (seg if seg < addr + nbytes - a else addr + nbytes - a) // m.burst_bytes
        v = ctl_segment(m, a, t, n if n > 1 else 1, 1 if w else 0)
        done = v if v > done else done
        a += seg
    return done


# -- binding and the module functions ----------------------------------------------------------
cdef void bind_ctl(Dram* m, const int64_t[::1] d, dict st, str prefix):
    cdef int64_t[::1] banks = st[prefix + "banks"]
    cdef int64_t[::1] bgs = st[prefix + "bankgroups"]
    cdef int64_t[::1] ranks = st[prefix + "ranks"]
    cdef int64_t[::1] chans = st[prefix + "channels"]
    cdef int64_t[::1] refq = st[prefix + "refq"]
    cdef int64_t[::1] cqn = st[prefix + "cmdq_n"]
    cdef int64_t[::1] cq = st[prefix + "cmdq"]
    cdef int64_t[::1] rdq = st[prefix + "rdq"]
    cdef int64_t[::1] wrb = st[prefix + "wrb"]
    cdef int64_t[::1] tx = st[prefix + "tx"]
    cdef int64_t[::1] req = st[prefix + "req"]
    cdef int64_t[::1] pend = st[prefix + "pend"]
    cdef int64_t[::1] fe = st[prefix + "fe"]
    m.k_bank, m.k_bg, m.k_rank, m.k_chan = &banks[0], &bgs[0], &ranks[0], &chans[0]
    m.k_refq, m.k_cqn, m.k_cq, m.k_rdq, m.k_wrb = &refq[0], &cqn[0], &cq[0], &rdq[0], &wrb[0]
    m.k_tx, m.k_req, m.k_pend, m.k_fe = &tx[0], &req[0], &pend[0], &fe[0]
    m.tck, m.n_ch = d[D_T_CK], d[D_N_CH]
    m.nbg = m.n_banks >> m.ba_bits
    m.bgpr = m.nbg // m.n_ranks
    m.bpr_shift = hw_bitlen(m.bpr) - 1
    if m.bpr != (<int64_t>1) << m.bpr_shift:
        raise ValueError(f"detailed DRAM: {m.bpr} banks per rank, not a power of two")
    m.bpg = (<int64_t>1) << m.ba_bits
    m.nq, m.qsize, m.cqsize, m.wb_lo = d[D_N_QUEUES], d[D_Q_SIZE], d[D_CQ_SIZE], d[D_WB_LO]
    m.nw = (m.nq + 63) >> 6
    m.txs, m.hbits, m.fes = d[D_TX_SLOTS], d[D_HASH_BITS], d[D_FE_SLOTS]
    m.ref_mode, m.ref_every = d[D_REF_MODE], d[D_K_REF_EVERY]
    m.row_timeout = d[D_K_TIMEOUT]          # cycles here (the fast model's is ps)
    m.burst_shift, m.line_shift, m.line_bursts, m.seg_shift = d[D_BURST_SHIFT], d[D_LINE_SHIFT], d[D_LINE_BURSTS], d[D_SEG_SHIFT]
    m.per_rank = d[D_PER_RANK] != 0
    m.k_rrl, m.k_rrs, m.k_rro, m.k_r2w, m.k_r2wo = d[D_K_RRL], d[D_K_RRS], d[D_K_RRO], d[D_K_R2W], d[D_K_R2WO]
    m.k_r2p, m.k_rda2a, m.k_rda2f = d[D_K_R2P], d[D_K_RDA2A], d[D_K_RDA2F]
    m.k_w2rl, m.k_w2rs, m.k_w2ro = d[D_K_W2RL], d[D_K_W2RS], d[D_K_W2RO]
    m.k_wwl, m.k_wws, m.k_wwo, m.k_w2p, m.k_wra2a = d[D_K_WWL], d[D_K_WWS], d[D_K_WWO], d[D_K_W2P], d[D_K_WRA2A]
    m.k_a2a, m.k_a2al, m.k_a2as, m.k_a2r, m.k_a2w, m.k_a2p = d[D_K_A2A], d[D_K_A2AL], d[D_K_A2AS], d[D_K_A2R], d[D_K_A2W], d[D_K_A2P]
    m.k_p2a, m.k_faw, m.k_rfc, m.k_rfcb = d[D_K_P2A], d[D_K_FAW], d[D_K_RFC], d[D_K_RFCB]
    m.k_rd_delay, m.k_wr_delay = d[D_K_RD_DELAY], d[D_K_WR_DELAY]


cdef void ctl_check_order(const int64_t[::1] t) except *:
    cdef Py_ssize_t i
    for i in range(1, t.shape[0]):
        if t[i] < t[i - 1]:
            raise ValueError(f"dram_run: request {i} arrives at {t[i]} ps, before request {i - 1} "
                             f"({t[i - 1]} ps): requests must come in time order")


cdef ctl_run(Dram* m, const int64_t[::1] t, const int64_t[::1] addr, const uint8_t[::1] w,
             int64_t[::1] out, int64_t[::1] acc, int64_t until):
    # dram_run for the detailed model (the twin's run)
    cdef Py_ssize_t n = t.shape[0], i
    cdef int64_t ch, b, row, stop
    ctl_check_order(t)
    for ch in range(m.n_ch):
        if KHp(m, ch)[KH_FE_N]:
            raise ValueError("dram_run: the controller holds in-system requests; finish them first (dram_finish)")
    if n and out.shape[0]:
        m.out = &out[0]
    if acc is not None and n:
        m.acc = &acc[0]
    cdef int64_t* idx = NULL
    cdef int64_t* cnt_ch = NULL
    if m.n_ch > 1 and n:
        idx = <int64_t*>malloc(n * sizeof(int64_t))
        cnt_ch = <int64_t*>calloc(m.n_ch + 1, sizeof(int64_t))
        if idx == NULL or cnt_ch == NULL:
            free(idx)
            free(cnt_ch)
            raise MemoryError()
    try:
        if idx != NULL:     # each channel's requests, in order (a counting sort by channel)
            for i in range(n):
                ctl_decode(m, addr[i], &ch, &b, &row)
                cnt_ch[ch + 1] += 1
            for ch in range(m.n_ch):
                cnt_ch[ch + 1] += cnt_ch[ch]
            for i in range(n):
                ctl_decode(m, addr[i], &ch, &b, &row)
                idx[cnt_ch[ch]] = i
                cnt_ch[ch] += 1
            # cnt_ch[ch] is now the end of channel ch's run; its start is the previous end
        stop = ctl_ceil(m, until)
        with nogil:
            for ch in range(m.n_ch):
                m.src.ring = False
                m.src.pos = 0
                if n:
                    m.src.t, m.src.addr, m.src.w = &t[0], &addr[0], &w[0]
                if idx != NULL:
                    m.src.idx = idx + (cnt_ch[ch - 1] if ch else 0)
                    m.src.n = cnt_ch[ch] - (cnt_ch[ch - 1] if ch else 0)
                else:
                    m.src.idx = NULL
                    m.src.n = n
                ctl_advance(m, ch, stop, 2)
    finally:
        free(idx)
        free(cnt_ch)
        m.out = m.acc = NULL


cdef ctl_stream(Dram* m, int64_t ch, const int64_t[::1] t, const int64_t[::1] addr, const uint8_t[::1] w,
                int64_t upto, bint final, int64_t[::1] done, int64_t[::1] acc, int64_t[::1] wr):
    # dram_stream (the twin's stream)
    cdef Py_ssize_t n = t.shape[0], i
    cdef int64_t c2, b, row
    ctl_check_order(t)
    if not 0 <= ch < m.n_ch:
        raise ValueError(f"dram_stream: channel {ch} of {m.n_ch}")
    if addr.shape[0] != n or w.shape[0] != n:
        raise ValueError("dram_stream: t, addr and w differ in length")
    if done.shape[0] != acc.shape[0] or done.shape[0] != wr.shape[0]:
        raise ValueError("dram_stream: done, acc and wr differ in length")
    for i in range(n):
        ctl_decode(m, addr[i], &c2, &b, &row)
        if c2 != ch:
            raise ValueError(f"dram_stream: request {i} is for channel {c2}, not {ch}")
    m.src.ring = False
    m.src.pos = 0
    m.src.idx = NULL
    m.src.n = n
    if n:
        m.src.t, m.src.addr, m.src.w = &t[0], &addr[0], &w[0]
    cdef int64_t live0 = KHp(m, ch)[KH_LIVE]
    if done.shape[0] < n + live0:
        raise ValueError(f"dram_stream: done holds {done.shape[0]} completions; up to {n + live0} may come "
                         f"(the requests given and the {live0} in flight)")
    m.sk_cap = done.shape[0]
    m.sk_n = 0
    if m.sk_cap:
        m.sk_done, m.sk_acc, m.sk_w = &done[0], &acc[0], &wr[0]
    cdef int64_t stop = ctl_ceil(m, upto)
    with nogil:
        ctl_advance(m, ch, stop, 2 if final else 0)
    taken = m.src.pos
    got = m.sk_n
    m.sk_done = m.sk_acc = m.sk_w = NULL
    return taken, got


cdef ctl_finish(Dram* m, int64_t until):
    cdef int64_t ch
    cdef int64_t stop = ctl_ceil(m, until)
    m.src.ring = True
    with nogil:
        for ch in range(m.n_ch):
            ctl_advance(m, ch, stop, 2)


cdef ctl_activity(Dram* m, int64_t h, int64_t[::1] out):
    cdef int64_t r
    cdef int64_t* a
    for r in range(m.n_ch * m.n_ranks):
        a = m.ract + r * DA_W
        if h < a[DA_FRONT]:
            out[r] = -1
        else:
            out[r] = a[DA_ACTIVE] + (h - a[DA_FRONT] if a[DA_NOPEN] > 0 else 0)
