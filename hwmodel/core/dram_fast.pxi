# The one-pass DRAM models (DRAM.model "fast" and "simple"), included by core/dram.pxi: one memory
# controller with its channels, banks, rows, data-bus calendar, queues, write buffer and refresh,
# answered request by request. Semantics (and what is approximated) are defined by
# core/dram_fast.py: keep the two identical, line for line.
# Parameter/counter indices come from _dram_layout.py through the generated _layout.pxi; the
# record fields below mirror BANK_FIELDS / RANK_FIELDS / CHAN_FIELDS there (a test checks them).

cdef int64_t FAR_PS = (<int64_t>1) << 62     # a time no run reaches (the twin's _FAR)


cdef inline int64_t imax(int64_t a, int64_t b) noexcept nogil:
    return a if a > b else b


cdef inline void dram_decode(Dram* m, int64_t addr, int64_t* ch, int64_t* b, int64_t* row) noexcept nogil:
    cdef const int64_t* d = m.d
    cdef int64_t c = (addr >> d[D_CH_SHIFT]) & d[D_CH_MASK]
    cdef int64_t bg = (addr >> d[D_BG_SHIFT]) & d[D_BG_MASK]
    cdef int64_t ba = (addr >> d[D_BA_SHIFT]) & d[D_BA_MASK]
    if m.bank_xor:
        bg ^= (addr >> d[D_BG_XSHIFT]) & d[D_BG_XMASK]
        ba ^= (addr >> d[D_BA_XSHIFT]) & d[D_BA_XMASK]
    cdef int64_t bank = (((((addr >> d[D_RA_SHIFT]) & d[D_RA_MASK]) << d[D_BG_BITS]) | bg) << d[D_BA_BITS]) | ba
    ch[0] = c
    b[0] = c * d[D_N_BANKS] + bank
    row[0] = (addr >> d[D_RO_SHIFT]) & d[D_RO_MASK]


# -- rank activity (the twin's _ra_* methods) ------------------------------------------------
cdef inline int64_t ra_timeout_close(Dram* m, int64_t b) noexcept nogil:
    # when open bank b closes by the timeout policy if no request comes first
    cdef int64_t pre
    if m.simple:
        return m.bank[b] + m.row_timeout
    pre = m.bank[b * DB_N + DB_COL_FREE] - m.t_train + m.row_timeout
    return imax(pre, m.bank[b * DB_N + DB_PRE_OK])


cdef inline int64_t ra_close_by(Dram* m, int64_t b, int64_t h) noexcept nogil:
    # when open bank b closes if no request arrives before h: timeout or the PRE before a due refresh
    cdef int64_t c = ra_timeout_close(m, b) if m.row_timeout else FAR_PS
    cdef int64_t due, v
    if not m.simple:
        due = m.rank[(b // m.bpr) * DR_N + DR_REF_DUE]
        if due < h:
            v = imax(due, m.bank[b * DB_N + DB_PRE_OK])
            c = v if v < c else c
    return c


cdef int64_t ra_bound(Dram* m, int64_t r) noexcept nogil:
    # no event of rank r still to come can be earlier (the twin's _ra_bound)
    cdef int64_t v, b, c, f
    if m.simple:
        v = FAR_PS
        for b in range(r * m.bpr, (r + 1) * m.bpr):
            f = m.bank[b]
            c = imax(f, m.now)
            if m.row_timeout and m.open_row[b] >= 0 and f + m.row_timeout < c:
                c = f + m.row_timeout
            v = c if c < v else v
        return v
    v = imax(m.now, m.chan[(r // m.n_ranks) * DH_N + DH_BLOCKED])
    if m.rank[r * DR_N + DR_REF_DUE] < v:
        v = m.rank[r * DR_N + DR_REF_DUE]
    if m.row_timeout:
        for b in range(r * m.bpr, (r + 1) * m.bpr):
            if m.open_row[b] >= 0:
                c = ra_timeout_close(m, b)
                v = c if c < v else v
    return v


cdef inline int64_t ra_span(Dram* m, int64_t r, int64_t front, int64_t t, int64_t nopen,
                            int64_t act) noexcept nogil:
    # active ps up to t, from `act` at `front`; writes the marks in (front, t] crossed on the way
    cdef int64_t* a = m.ract + r * DA_W
    cdef int64_t mk, k, nxt
    while a[DA_MARK] <= t:
        mk = a[DA_MARK]
        k = a[DA_MARK_N]
        if k < RA_MARKS:
            m.rmk[r * RA_MARKS + k] = act + (mk - front if nopen > 0 else 0)
        a[DA_MARK_N] = k + 1
        if mk >= a[DA_MARK_END]:
            a[DA_MARK] = FAR_PS
        else:                      # (mk < MARK_END <= NO_MARK: the sum cannot overflow)
            nxt = mk + a[DA_MARK_PS]
            a[DA_MARK] = nxt if nxt < a[DA_MARK_END] else a[DA_MARK_END]
    return act + (t - front if nopen > 0 else 0)


cdef inline void ra_sort(int64_t* ev, int64_t n) noexcept nogil:
    # insertion sort: the events come nearly in time order (1.6 places out on random traffic)
    cdef int64_t i, k, v
    for i in range(1, n):
        v = ev[i]
        k = i
        while k > 0 and ev[k - 1] > v:
            ev[k] = ev[k - 1]
            k -= 1
        ev[k] = v


cdef void ra_fold(Dram* m, int64_t r, int64_t upto, int64_t limit) noexcept nogil:
    # the twin's _ra_fold
    cdef int64_t* a = m.ract + r * DA_W
    cdef int64_t* ev = m.rev + r * m.ra_slots
    cdef int64_t front = a[DA_FRONT], nopen = a[DA_NOPEN], act = a[DA_ACTIVE], n = a[DA_N]
    cdef int64_t mark = a[DA_MARK]
    cdef int64_t v, t, i
    cdef int64_t popped = 0
    cdef int64_t most = limit if limit < n else n
    ra_sort(ev, n)
    while popped < most:
        v = ev[popped]
        t = v >> 1
        if t >= upto:
            break
        if t >= mark:
            act = ra_span(m, r, front, t, nopen, act)
            mark = a[DA_MARK]
        else:
            act += (t - front) * (nopen > 0)
        front = t
        nopen += ((v & 1) << 1) - 1
        popped += 1
    if popped:
        for i in range(n - popped):
            ev[i] = ev[i + popped]
    if popped < limit and upto > front:     # (a forced fold stops at its one event)
        act = ra_span(m, r, front, upto, nopen, act)
        front = upto
    a[DA_FRONT], a[DA_NOPEN], a[DA_ACTIVE], a[DA_N] = front, nopen, act, n - popped


cdef inline void ra_event(Dram* m, int64_t r, int64_t t, int64_t opens) noexcept nogil:
    # a bank of rank r opens (ACT) or closes (PRE) at t: append the event (the twin's _ra_event)
    if not m.activity:
        return
    cdef int64_t* a = m.ract + r * DA_W
    if a[DA_N] == m.ra_slots:
        ra_make_room(m, r)
    if t < a[DA_FRONT]:
        t = a[DA_FRONT]
    m.rev[r * m.ra_slots + a[DA_N]] = (t << 1) | opens
    a[DA_N] += 1


cdef inline void ra_switch(Dram* m, int64_t r, int64_t pre, int64_t act) noexcept nogil:
    # a row switch: the bank closes at `pre` and opens at `act`
    ra_event(m, r, pre, 0)
    ra_event(m, r, act, 1)


cdef void ra_make_room(Dram* m, int64_t r) noexcept nogil:
    # the events are full: fold what is final; if nothing is, fold the earliest event anyway
    cdef int64_t* a = m.ract + r * DA_W
    ra_fold(m, r, ra_bound(m, r), m.ra_slots + 1)
    if a[DA_N] == m.ra_slots:
        ra_fold(m, r, ((m.rev + r * m.ra_slots)[0] >> 1) + 1, 1)


cdef inline int64_t dram_gap(const int64_t* d, int64_t p, int64_t q) noexcept nogil:
    # data-bus gap between a burst tagged p and a following burst tagged q (the twin's _gap);
    # bind_dram tabulates it in Dram.gt
    if (p >> 1) == (q >> 1):
        if (p & 1) == (q & 1):
            return d[D_G_CCDL]
        return d[D_G_RW] if (q & 1) else d[D_G_WTRL]
    if (p >> (1 + d[D_BG_BITS])) == (q >> (1 + d[D_BG_BITS])):
        if (p & 1) == (q & 1):
            return d[D_G_CCDS]
        return d[D_G_RW] if (q & 1) else d[D_G_WTRS]
    return d[D_G_WWO] if (p & q & 1) else d[D_G_RTRS]


cdef inline int64_t dram_bus(Dram* m, int64_t ch, int64_t s, int64_t dur, int64_t tag, int64_t now) noexcept nogil:
    cdef int64_t K = m.bus_slots
    cdef int64_t mask = K - 1
    cdef int64_t* bus = m.bus + ch * K * 3
    cdef int64_t* chan = m.chan + ch * DH_N
    cdef const int64_t* gt = m.gt
    cdef int64_t head = chan[DH_BUS_HEAD]
    cdef int64_t n = chan[DH_BUS_N]
    cdef int64_t floor = chan[DH_BUS_FLOOR]
    cdef int64_t* bend = bus + 3 * K
    cdef int64_t e, x, pos, k, j, after, p, c
    cdef int64_t* slot
    cdef int64_t* src
    # drop reservations over by `now`, and the oldest one if the calendar is full
    while n > 0:
        e = bus[3 * head + 1]
        if e > now and n != K:
            break
        if e > floor:
            floor = e
        head = (head + 1) & mask
        n -= 1
    chan[DH_BUS_FLOOR] = floor
    x = s if s > floor else floor
    pos = n
    if n > 0 and x + dur + m.gmin > bus[3 * ((head + n - 1) & mask)]:
        # Exact early-out: the burst cannot fit before any reservation (x only grows, every gap
        # before a reservation is >= gmin and the last reservation starts latest), so the scan below would only raise x to
        # max(end + gap(p, tag)) and insert at the end. Ends are ascending (reservations are
        # sorted and disjoint), so scan back until end + gmax cannot raise x any more.
        after = x
        j = (head + n - 1) & mask
        for k in range(n):
            slot = bus + 3 * j
            if slot[1] + m.gmax <= after:
                break
            p = slot[2]
            c = slot[1] + gt[((p ^ tag) << 1) | (p & 1)]
            if c > after:
                after = c
            j = (j - 1) & mask
        x = after
        slot = bus + 3 * ((head + n) & mask)
        slot[0] = x
        slot[1] = x + dur
        slot[2] = tag
        chan[DH_BUS_HEAD] = head
        chan[DH_BUS_N] = n + 1
        return x
    j = head
    for k in range(n):
        slot = bus + 3 * j
        j = (j + 1) & mask
        p = slot[2]
        c = (((p ^ tag) << 1) | (p & 1))            # gap(p, tag) = gt[c], gap(tag, p) = gt[c ^ ((p ^ tag) & 1)]
        after = slot[1] + gt[c]
        # the twin's "x >= after: continue; fits before: stop; else x = after", with one branch
        if (x < after) & (x + dur + gt[c ^ ((p ^ tag) & 1)] <= slot[0]):
            pos = k
            break
        x = after if after > x else x
    # insert at pos, moving the later ones one place on
    slot = bus + 3 * ((head + n) & mask)
    for k in range(n - pos):
        src = slot - 3 if slot != bus else bend - 3
        slot[0] = src[0]
        slot[1] = src[1]
        slot[2] = src[2]
        slot = src
    slot[0] = x
    slot[1] = x + dur
    slot[2] = tag
    chan[DH_BUS_HEAD] = head
    chan[DH_BUS_N] = n + 1
    return x


cdef void dram_refresh(Dram* m, int64_t r, int64_t b0, int64_t s) noexcept nogil:
    cdef const int64_t* d = m.d
    cdef int64_t* rk = m.rank + r * DR_N
    cdef int64_t refi = d[D_T_REFI]
    cdef int64_t due = rk[DR_REF_DUE]
    cdef int64_t k, b, at, end, c, v
    # each open bank closes (a PRE) when the refresh falls due and it may precharge, or at its
    # timeout if that is earlier
    for b in range(b0, b0 + m.bpr):
        if m.open_row[b] >= 0:
            c = imax(due, m.bank[b * DB_N + DB_PRE_OK])
            if m.row_timeout:
                v = ra_timeout_close(m, b)
                c = v if v < c else c
            ra_event(m, r, c, 0)
            m.cnt[DC_PRE_CMDS] += 1
    if s >= due + refi:
        k = (s - due) // refi
        m.cnt[DC_REFRESHES] += k
        due += k * refi
    at = due if due > rk[DR_READY] else rk[DR_READY]
    end = at + d[D_T_RFC]
    rk[DR_READY] = end
    for b in range(b0, b0 + d[D_N_BANKS] // d[D_N_RANKS]):
        m.open_row[b] = -1
        m.bank[b * DB_N + DB_PREV_ROW] = -1
        m.bank[b * DB_N + DB_ACT_OK] = end
    rk[DR_REF_DUE] = due + refi
    m.cnt[DC_REFRESHES] += 1


cdef inline int64_t dram_act_window(Dram* m, int64_t r, int64_t rb, int64_t act) noexcept nogil:
    # written branch-free (conditional moves): these tests are data dependent on random traffic
    cdef const int64_t* d = m.d
    cdef int64_t* rk = m.rank + r * DR_N
    cdef int64_t last = rk[DR_LAST_ACT]
    cdef int64_t v = last + d[D_T_RRD_S]
    act += (v - act) * <int64_t>((last <= act) & (v > act))
    last = m.bg_act[rb]
    v = last + d[D_T_RRD_L]
    act += (v - act) * <int64_t>((last <= act) & (v > act))
    # tFAW: if the four most recent ACTs all lie in (act - tFAW, act], wait for the oldest
    cdef int64_t faw = d[D_T_FAW]
    cdef int64_t lo = act - faw
    cdef int64_t f0 = rk[DR_FAW0], f1 = rk[DR_FAW0 + 1], f2 = rk[DR_FAW0 + 2], f3 = rk[DR_FAW0 + 3]
    cdef bint inside = ((f0 <= act) & (f0 > lo) & (f1 <= act) & (f1 > lo)
                        & (f2 <= act) & (f2 > lo) & (f3 <= act) & (f3 > lo))
    cdef int64_t a = f0 if f0 < f1 else f1
    cdef int64_t b = f2 if f2 < f3 else f3
    a = a if a < b else b
    return a + faw if inside else act


cdef inline void dram_ready(int64_t* rk, int64_t v) noexcept nogil:
    # a bank of rank rk is next free for a refresh at v: READY keeps the latest such time
    if v > rk[DR_READY]:
        rk[DR_READY] = v


cdef inline void dram_precharge(Dram* m, int64_t b, int64_t* bk, int64_t* rk, int64_t r,
                                int64_t pre) noexcept nogil:
    # bank b (of rank r) closes its row with a PRE at `pre` (closed page, timeout): next ACT after
    # tRP and tRC
    ra_event(m, r, pre, 0)
    cdef int64_t v = bk[DB_ACT_T] + m.t_rc
    v = pre + m.t_rp if pre + m.t_rp > v else v
    bk[DB_ACT_OK] = v
    m.open_row[b] = -1
    bk[DB_PREV_ROW] = -1
    dram_ready(rk, v)


cdef inline int64_t dram_retire(Dram* m, int64_t ch, int64_t b, int64_t col, int64_t done,
                                int64_t nb, int w) noexcept nogil:
    cdef int64_t* bk = m.bank + b * DB_N
    cdef int64_t C = m.cq_size
    cdef int64_t k = bk[DB_CQ_IDX]
    m.cq[b * C + k] = col
    bk[DB_CQ_IDX] = k + 1 if k + 1 < C else 0
    cdef int64_t* chan = m.chan + ch * DH_N
    chan[DH_LAST_COL] = col if col > chan[DH_LAST_COL] else chan[DH_LAST_COL]
    m.cnt[DC_READ_CMDS + w] += 1          # DC_WRITE_CMDS follows DC_READ_CMDS
    m.cnt[DC_DRAM_BYTES] += nb * m.burst_bytes
    return done


cdef int64_t dram_issue(Dram* m, int64_t ch, int64_t b, int64_t row, int64_t e, int64_t nb, int w,
                        int64_t now) noexcept nogil:
    # the twin's _issue; parameters come from the Dram's derived fields (bind_dram), read once
    cdef int64_t* bk = m.bank + b * DB_N
    cdef int64_t* cnt = m.cnt
    cdef int64_t rbl = (b - ch * m.n_banks) >> m.ba_bits     # rank and bank group within the channel
    cdef int64_t rl = rbl >> m.bg_bits
    cdef int64_t r = ch * m.n_ranks + rl
    cdef int64_t rb = ch * m.n_rbg + rbl
    cdef int64_t tag = (rbl << 1) | w
    cdef int64_t cas = m.cas[w]
    cdef int64_t t_train = m.t_train
    cdef int64_t span = (nb - 1) * t_train      # first to last column command of the train
    cdef int64_t train = m.t_burst + span
    cdef int64_t tail = m.tail[w]
    cdef int64_t* rk = m.rank + r * DR_N
    cdef int64_t col0, x, col, last, shift, orow, act, pre, s, v
    cdef int kind
    if (m.frfcfs and row == bk[DB_PREV_ROW] and row != m.open_row[b]
            and e <= bk[DB_PREV_PRE]):
        col0 = e if e > bk[DB_PREV_COL] else bk[DB_PREV_COL]
        if rk[DR_REF_DUE] > col0:     # no refresh due (REF_DUE is NO_REFRESH without refresh)
            x = dram_bus(m, ch, col0 + cas, train, tag, now)
            col = x - cas
            last = col + span
            shift = last + tail - bk[DB_PREV_PRE]
            if shift > 0:
                # the old row closes later and the new one opens later by `shift`
                ra_event(m, r, bk[DB_PREV_PRE], 1)
                ra_event(m, r, bk[DB_PREV_PRE] + shift, 0)
                ra_event(m, r, bk[DB_ACT_T], 0)
                ra_event(m, r, bk[DB_ACT_T] + shift, 1)
                bk[DB_PREV_PRE] += shift
                bk[DB_ACT_T] += shift
                bk[DB_COL_FREE] += shift
                bk[DB_PRE_OK] += shift
                dram_ready(rk, bk[DB_PRE_OK] + m.t_rp)
            bk[DB_PREV_COL] = last + t_train
            cnt[DC_ROW_HITS] += 1
            cnt[DC_BYPASS_HITS] += 1
            cnt[DC_READ_ROW_HITS + w] += 1        # DC_WRITE_ROW_HITS follows DC_READ_ROW_HITS
            return dram_retire(m, ch, b, col, x + train, nb, w)
    while True:
        orow = m.open_row[b]
        if m.row_timeout and orow >= 0:
            # timeout policy: idle past the timeout (and free to precharge), the row was closed
            pre = bk[DB_COL_FREE] - t_train + m.row_timeout
            if pre < bk[DB_PRE_OK]:
                pre = bk[DB_PRE_OK]
            if pre < e:
                dram_precharge(m, b, bk, rk, r, pre)
                cnt[DC_PRE_CMDS] += 1
                orow = -1
        act = 0
        pre = 0
        if orow == row:
            kind = 0
            col0 = e if e > bk[DB_COL_FREE] else bk[DB_COL_FREE]
            s = col0
        else:
            if orow < 0:
                kind = 1
                act = e if e > bk[DB_ACT_OK] else bk[DB_ACT_OK]
                s = act
            else:
                kind = 2
                pre = e if e > bk[DB_PRE_OK] else bk[DB_PRE_OK]
                s = pre
                act = pre + m.t_rp
                v = bk[DB_ACT_T] + m.t_rc
                if v > act:
                    act = v
            act = dram_act_window(m, r, rb, act)
            col0 = act + m.rcd[w]
        if rk[DR_REF_DUE] <= s:
            dram_refresh(m, r, ch * m.n_banks + rl * (m.n_banks // m.n_ranks), s)
            continue
        break
    if not m.frfcfs:
        v = m.chan[ch * DH_N + DH_LAST_COL]
        if v > col0:
            col0 = v
    x = dram_bus(m, ch, col0 + cas, train, tag, now)
    col = x - cas
    last = col + span
    if kind == 0:
        cnt[DC_ROW_HITS] += 1
        cnt[DC_READ_ROW_HITS + w] += 1
    else:
        if kind == 2:
            cnt[DC_ROW_CONFLICTS] += 1
            bk[DB_PREV_ROW] = orow
            bk[DB_PREV_PRE] = pre
            bk[DB_PREV_COL] = bk[DB_COL_FREE]
            ra_switch(m, r, pre, act)
            cnt[DC_PRE_CMDS] += 1
        else:
            cnt[DC_ROW_MISSES] += 1
            bk[DB_PREV_ROW] = -1
            ra_event(m, r, act, 1)
        cnt[DC_ACT_CMDS] += 1
        m.open_row[b] = row
        bk[DB_ACT_T] = act
        bk[DB_PRE_OK] = act + m.t_ras
        rk[DR_LAST_ACT] = act if act > rk[DR_LAST_ACT] else rk[DR_LAST_ACT]
        m.bg_act[rb] = act if act > m.bg_act[rb] else m.bg_act[rb]
        rk[DR_FAW0 + rk[DR_FAW_IDX]] = act
        rk[DR_FAW_IDX] = (rk[DR_FAW_IDX] + 1) & 3
    bk[DB_COL_FREE] = last + t_train
    v = last + tail
    if v > bk[DB_PRE_OK]:
        bk[DB_PRE_OK] = v
    if m.closed:
        dram_precharge(m, b, bk, rk, r, bk[DB_PRE_OK])
    else:
        dram_ready(rk, bk[DB_PRE_OK] + m.t_rp)
    return dram_retire(m, ch, b, col, x + train, nb, w)


cdef inline int64_t dram_cmdq(Dram* m, int64_t b, int64_t adm) noexcept nogil:
    cdef int64_t C = m.cq_size
    cdef int64_t v = m.cq[b * C + m.bank[b * DB_N + DB_CQ_IDX]]
    return adm if adm > v else v


cdef inline int64_t dram_bloom(int64_t line) noexcept nogil:
    return (<int64_t>1) << ((line ^ (line >> 6) ^ (line >> 12)) & 31)


cdef inline bint dram_wb_find(Dram* m, int64_t ch, int64_t line) noexcept nogil:
    cdef int64_t* wb = m.wb + ch * m.d[D_WB_HI] * 2
    cdef int64_t i
    for i in range(m.chan[ch * DH_N + DH_WB_N]):
        if wb[2 * i] == line:
            return True
    return False


cdef inline uint64_t dram_key_bit(int64_t key) noexcept nogil:
    # one of 64 bits for a write buffer key (bank << 32 | row)
    return (<uint64_t>1) << ((key ^ (key >> 32)) & 63)


cdef void dram_drain(Dram* m, int64_t ch, int64_t td) noexcept nogil:
    cdef const int64_t* d = m.d
    cdef int64_t* chan = m.chan + ch * DH_N
    cdef int64_t n = chan[DH_WB_N]
    cdef int64_t* wb = m.wb + ch * d[D_WB_HI] * 2
    cdef int64_t nb = d[D_LINE_BURSTS]
    cdef int64_t i, k, key, b, row
    chan[DH_WB_N] = 0
    chan[DH_WB_BLOOM] = 0
    # writes go out grouped by bank and row, groups in order of first appearance; a key whose hash
    # bit no other write sets is alone in its group, so the scan for the rest of it stops at once
    cdef uint64_t once = 0, twice = 0, bit
    cdef int64_t end
    for i in range(n):
        bit = dram_key_bit(wb[2 * i + 1])
        twice |= once & bit
        once |= bit
    for i in range(n):
        key = wb[2 * i + 1]
        if key < 0:
            continue
        end = n if twice & dram_key_bit(key) else i + 1
        for k in range(i, end):
            if wb[2 * k + 1] == key:
                wb[2 * k + 1] = -1
                b = key >> 32            # the key is bank << 32 | row (rows < 2^32: memctrl checks)
                row = key & ((<int64_t>1 << 32) - 1)
                dram_issue(m, ch, b, row, dram_cmdq(m, b, td), nb, 1, td)
    m.cnt[DC_WRITE_DRAINS] += 1


cdef int64_t dram_request(Dram* m, int64_t addr, int64_t t, int64_t nbursts, int w, bint posted) noexcept nogil:
    cdef const int64_t* d = m.d
    cdef int64_t* cnt = m.cnt
    cdef int64_t ch, b, row, n, bit, tqi, e, done
    dram_decode(m, addr, &ch, &b, &row)
    cdef int64_t* chan = m.chan + ch * DH_N
    cdef int64_t adm = t if t > chan[DH_BLOCKED] else chan[DH_BLOCKED]
    cdef int64_t line = addr >> d[D_LINE_SHIFT]
    m.now = t
    m.adm = adm
    cdef int64_t* wb
    if w:
        cnt[DC_WRITES] += 1
        cnt[DC_WRITE_QUEUE_WAIT_PS] += adm - t
        if posted and nbursts <= d[D_LINE_BURSTS]:
            bit = dram_bloom(line)
            if (chan[DH_WB_BLOOM] & bit) and dram_wb_find(m, ch, line):
                cnt[DC_WRITE_MERGES] += 1
                return adm
            n = chan[DH_WB_N]
            wb = m.wb + ch * d[D_WB_HI] * 2
            wb[2 * n] = line
            wb[2 * n + 1] = (b << 32) | row
            chan[DH_WB_N] = n + 1
            chan[DH_WB_BLOOM] |= bit
            if n + 1 >= d[D_WB_HI] or (n + 1 >= d[D_WB_LO] and chan[DH_LAST_RD_LEAVE] <= adm):
                dram_drain(m, ch, adm)
            return adm
        return dram_issue(m, ch, b, row, dram_cmdq(m, b, adm), nbursts, 1, adm)
    cnt[DC_READS] += 1
    if chan[DH_WB_N]:
        if nbursts <= d[D_LINE_BURSTS] and (chan[DH_WB_BLOOM] & dram_bloom(line)) \
                and dram_wb_find(m, ch, line):
            cnt[DC_READ_FORWARDS] += 1
            done = adm + d[D_T_CK]
            cnt[DC_READ_QUEUE_WAIT_PS] += adm - t
            cnt[DC_READ_LATENCY_SUM_PS] += done - t
            return done
        if chan[DH_WB_N] >= d[D_WB_LO] and chan[DH_LAST_RD_LEAVE] <= adm:
            dram_drain(m, ch, adm)
    tqi = ch * d[D_Q_SIZE] + chan[DH_TQ_IDX]
    if m.tq[tqi] > adm:
        adm = m.tq[tqi]
        chan[DH_BLOCKED] = adm
        m.adm = adm
    e = dram_cmdq(m, b, adm)
    m.tq[tqi] = e
    chan[DH_TQ_IDX] = chan[DH_TQ_IDX] + 1 if chan[DH_TQ_IDX] + 1 < d[D_Q_SIZE] else 0
    if e > chan[DH_LAST_RD_LEAVE]:
        chan[DH_LAST_RD_LEAVE] = e
    done = dram_issue(m, ch, b, row, e, nbursts, 0, adm)
    cnt[DC_READ_QUEUE_WAIT_PS] += adm - t
    cnt[DC_READ_LATENCY_SUM_PS] += done - t
    return done


cdef inline int64_t dram_simple(Dram* m, int64_t addr, int64_t t, int64_t nbursts, int w) noexcept nogil:
    # the simple model (SimpleDram.access in the twin)
    cdef const int64_t* d = m.d
    cdef int64_t* cnt = m.cnt
    cdef int64_t ch, b, row, lat, orow
    dram_decode(m, addr, &ch, &b, &row)
    cdef int64_t r = b // m.bpr
    m.now = t
    m.adm = t
    cdef int64_t start = imax(t, m.bank[b])
    cdef int64_t cas = d[D_T_CWL] if w else d[D_T_CL]
    orow = m.open_row[b]
    if d[D_ROW_TIMEOUT] and orow >= 0 and m.bank[b] + d[D_ROW_TIMEOUT] < t:
        orow = -1        # timeout policy: closed after the bank's last access, then precharged
        ra_event(m, r, m.bank[b] + d[D_ROW_TIMEOUT], 0)
        cnt[DC_PRE_CMDS] += 1
        start = imax(start, m.bank[b] + d[D_ROW_TIMEOUT] + d[D_T_RP])
    if orow == row:
        lat = cas
        cnt[DC_ROW_HITS] += 1
        cnt[DC_READ_ROW_HITS + w] += 1
    elif orow < 0:
        lat = d[D_T_RCD] + cas
        cnt[DC_ROW_MISSES] += 1
        ra_event(m, r, start, 1)
        cnt[DC_ACT_CMDS] += 1
    else:
        lat = d[D_T_RP] + d[D_T_RCD] + cas
        cnt[DC_ROW_CONFLICTS] += 1
        ra_event(m, r, start, 0)
        cnt[DC_PRE_CMDS] += 1
        ra_event(m, r, start + d[D_T_RP], 1)
        cnt[DC_ACT_CMDS] += 1
    cdef int64_t data = imax(start + lat, m.chan[ch])
    cdef int64_t busy = nbursts * d[D_T_BURST]
    cdef int64_t done = data + busy
    m.chan[ch] = done
    if d[D_CLOSED]:
        m.open_row[b] = -1
        m.bank[b] = done + d[D_T_RP]
        ra_event(m, r, done, 0)      # auto-precharge: not a PRE command
    else:
        m.open_row[b] = row
        m.bank[b] = data - cas + busy
    cnt[DC_READS + w] += 1
    cnt[DC_READ_CMDS + w] += 1
    cnt[DC_DRAM_BYTES] += nbursts * d[D_BURST_BYTES]
    if not w:
        cnt[DC_READ_LATENCY_SUM_PS] += done - t
    return done


cdef void bind_fast(Dram* m, const int64_t[::1] d, dict st, str prefix):
    # the fast and simple models' arrays and derived fields (bind_dram did the common ones)
    cdef int64_t[::1] open_row = st[prefix + "open_row"]
    cdef int64_t[::1] bank = st[prefix + "bank"]
    cdef int64_t[::1] cq = st[prefix + "cq"]
    cdef int64_t[::1] bg_act = st[prefix + "bg_act"]
    cdef int64_t[::1] rank = st[prefix + "rank"]
    cdef int64_t[::1] chan = st[prefix + "chan"]
    cdef int64_t[::1] bus = st[prefix + "bus"]
    cdef int64_t[::1] tq = st[prefix + "tq"]
    cdef int64_t[::1] wb = st[prefix + "wb"]
    cdef int64_t[::1] rev = st[prefix + "rev"]
    m.rev = &rev[0]
    m.now = 0
    m.adm = 0
    m.ra_slots = d[D_RA_SLOTS]
    m.open_row = &open_row[0]
    m.bank = &bank[0]
    m.cq = &cq[0]
    m.bg_act = &bg_act[0]
    m.rank = &rank[0]
    m.chan = &chan[0]
    m.bus = &bus[0]
    m.tq = &tq[0]
    m.wb = &wb[0]
    cdef int64_t i, pd
    for i in range(4 * MAX_RANK_BG):
        pd = i & 1
        m.gt[i] = dram_gap(&d[0], pd, (i >> 1) ^ pd)
    m.bus_slots = d[D_BUS_SLOTS]
    m.cas[0], m.cas[1] = d[D_T_CL], d[D_T_CWL]
    m.rcd[0], m.rcd[1] = d[D_T_RCD], d[D_T_RCDWR]
    m.tail[0], m.tail[1] = d[D_T_RTP], d[D_T_CWL] + d[D_T_BURST] + d[D_T_WR]
    m.n_rbg = d[D_N_BANKS] >> d[D_BA_BITS]
    m.t_burst, m.t_train, m.t_rp, m.t_rc, m.t_ras = d[D_T_BURST], d[D_T_TRAIN], d[D_T_RP], d[D_T_RC], d[D_T_RAS]
    m.cq_size = d[D_CQ_SIZE]
    m.gmin = d[D_G_CCDL]
    m.gmax = d[D_G_CCDL]
    for i in (D_G_CCDS, D_G_RW, D_G_WTRL, D_G_WTRS, D_G_RTRS, D_G_WWO):
        m.gmin = d[i] if d[i] < m.gmin else m.gmin
        m.gmax = d[i] if d[i] > m.gmax else m.gmax


cdef fast_activity(Dram* mp, int64_t h, int64_t[::1] out):
    # the fast and simple models' dram_activity (see core.dram_fast.Dram.activity)
    cdef Dram m = mp[0]
    cdef int64_t nr = m.d[D_N_CH] * m.d[D_N_RANKS]
    cdef int64_t r, k, b, c, i, j, n, v, t, front, nopen, act, nc
    cdef int64_t K = m.ra_slots
    cdef int64_t* a
    cdef int64_t* ev
    cdef int64_t* closes = <int64_t*>malloc((max(m.bpr, 1) + K) * sizeof(int64_t))
    if closes == NULL:
        raise MemoryError()
    cdef int64_t* held = closes + max(m.bpr, 1)
    try:
        for r in range(nr):
            a = m.ract + r * DA_W
            ev = m.rev + r * K
            front, nopen, act = a[DA_FRONT], a[DA_NOPEN], a[DA_ACTIVE]
            if h < front:        # folded past h (the caller has its mark at h, if it set one)
                out[r] = -1
                continue
            nc = 0
            for b in range(r * m.bpr, (r + 1) * m.bpr):
                if m.open_row[b] >= 0:
                    c = ra_close_by(&m, b, h)
                    if c < h:
                        v = imax(c, front) << 1
                        j = nc           # insertion sort: at most banks-per-rank entries
                        while j > 0 and closes[j - 1] > v:
                            closes[j] = closes[j - 1]
                            j -= 1
                        closes[j] = v
                        nc += 1
            # merge the held events before h (sorted, in a copy) with the closes, in time order
            n = a[DA_N]
            for i in range(n):
                held[i] = ev[i]
            ra_sort(held, n)
            i = 0
            j = 0
            while True:
                if i < n and (held[i] >> 1) < h and (j >= nc or held[i] <= closes[j]):
                    v = held[i]
                    i += 1
                elif j < nc:
                    v = closes[j]
                    j += 1
                else:
                    break
                t = v >> 1
                if nopen > 0:
                    act += t - front
                front = t
                nopen += 1 if v & 1 else -1
            if nopen > 0:
                act += h - front
            out[r] = act
    finally:
        free(closes)
