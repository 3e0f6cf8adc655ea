# cython: language_level=3
"""Compiled link scheduler: one direction of a link, per-queue scheduling, one nogil loop per chunk.

Mirrors `_linksched_reference.py` line for line (read that file for the semantics); the tests
require identical outputs, statistics and state, including the WFQ virtual clock (same double
operations in the same order; the extension is built with -ffp-contract=off so no FMA fuses them).
Inputs are checked here with the GIL held; the loop runs without it.
"""
from libc.stdint cimport int64_t, uint16_t, uint32_t, INT64_MIN, INT64_MAX
from libc.stdlib cimport calloc, free as c_free

include "../_layout.pxi"

cdef extern from *:
    """
    static inline int ls_bitlen(unsigned long long v) { return v ? 64 - __builtin_clzll(v) : 0; }
    static inline long long ls_mul_div_ceil(long long a, long long b, long long c) {
        __int128 p = (__int128)a * b;
        return (long long)((p + c - 1) / c);
    }
    static inline long long ls_mul_div_floor(long long a, long long b, long long c) {
        return (long long)(((__int128)a * b) / c);
    }
    """
    int ls_bitlen(unsigned long long v) noexcept nogil
    int64_t ls_mul_div_ceil(int64_t a, int64_t b, int64_t c) noexcept nogil
    int64_t ls_mul_div_floor(int64_t a, int64_t b, int64_t c) noexcept nogil

# Must equal _layout.SCHED_DISCIPLINES (a test checks it).
DISCIPLINES = {"fifo": 0, "strict_priority": 1, "wrr": 2, "drr": 3, "wfq": 4}

DEF D_FIFO = 0
DEF D_SP = 1
DEF D_WRR = 2
DEF D_DRR = 3
DEF D_WFQ = 4

# scalars
DEF S_FREE = 0
DEF S_QUEUED = 1
DEF S_CAP = 2
DEF S_HORIZON = 3
DEF S_DHEAD = 4
DEF S_DCOUNT = 5
DEF S_DTURN = 6
DEF S_NOW = 8
# per-queue parameters
DEF NQP = 7
DEF Q_PRIO = 0
DEF Q_WEIGHT = 1
DEF Q_QUANTUM = 2
DEF Q_TBN = 3
DEF Q_TBD = 4
DEF Q_TBB = 5
DEF Q_DEPTH = 6
# per-queue stats
DEF NSTAT = 10
DEF T_PK = 0
DEF T_BY = 1
DEF T_LS = 2
DEF T_LM = 3
DEF T_QS = 4
DEF T_QM = 5
DEF T_DR = 6
DEF T_BU = 7
DEF T_AR = 8
DEF T_AB = 9


cdef enum:
    N_HIST = (64 - HIST_SUB_BITS) * (1 << HIST_SUB_BITS) + (1 << HIST_SUB_BITS)

NSTAT_ = NSTAT
NQP_ = NQP
HIST_BINS_ = N_HIST


cdef struct LS:
    int64_t disc, snum, sden, prop, nq, cap, mask
    bint shaped
    const int64_t* qp
    int64_t* sc
    int64_t* q_head
    int64_t* q_len
    int64_t* q_arr
    int64_t* q_bytes
    int64_t* q_seq
    double* q_tag
    int64_t* tat
    int64_t* deficit
    int64_t* dlist
    int64_t* in_list
    double* gps
    double* gps_f
    int64_t* gps_act
    int64_t* stats
    int64_t* hist
    int64_t* ecache       # per queue: eligibility time of its head (valid while non-empty)


cdef inline int64_t hist_bin(int64_t v) noexcept nogil:
    cdef int k = ls_bitlen(<unsigned long long>v)
    if k <= HIST_SUB_BITS + 1:
        return v
    return ((<int64_t>(k - HIST_SUB_BITS - 1)) << HIST_SUB_BITS) + (v >> (k - HIST_SUB_BITS - 1))


cdef inline int64_t tol(LS* s, int64_t q, int64_t nb) noexcept nogil:
    cdef int64_t slack = s.qp[q * NQP + Q_TBB] - nb
    if slack <= 0:
        return 0
    return ls_mul_div_floor(slack, s.qp[q * NQP + Q_TBN], s.qp[q * NQP + Q_TBD])


cdef inline int64_t elig(LS* s, int64_t q) noexcept nogil:
    if s.qp[q * NQP + Q_TBN] <= 0:
        return INT64_MIN
    return s.tat[q] - tol(s, q, s.q_bytes[q * s.cap + s.q_head[q]])


cdef void gps_adv(LS* s, int64_t t) noexcept nogil:
    cdef double v = s.gps[0], tv = s.gps[1], w = s.gps[2]
    cdef double c = (<double>s.sden) / (<double>s.snum)
    cdef double fmin, dt
    cdef bint first
    cdef int64_t j
    while w > 0:
        fmin = 0.0
        first = True
        for j in range(s.nq):
            if s.gps_act[j] and (first or s.gps_f[j] < fmin):
                fmin = s.gps_f[j]
                first = False
        dt = (fmin - v) * w / c
        if tv + dt <= <double>t:
            tv = tv + dt
            v = fmin
            for j in range(s.nq):
                if s.gps_act[j] and s.gps_f[j] <= fmin:
                    s.gps_act[j] = 0
                    w = w - <double>s.qp[j * NQP + Q_WEIGHT]
        else:
            v = v + (<double>t - tv) * c / w
            tv = <double>t
            break
    if w <= 0:
        w = 0.0
        tv = <double>t
    s.gps[0] = v
    s.gps[1] = tv
    s.gps[2] = w


cdef int64_t loop(LS* s, const int64_t* arr, const uint16_t* qid, const uint32_t* nbytes, int64_t n,
                  int64_t seq0, int64_t horizon, int64_t* out_seq, int64_t* out_done) noexcept nogil:
    cdef int64_t nq = s.nq, cap = s.cap, mask = s.mask, disc = s.disc
    cdef int64_t free = s.sc[S_FREE], queued = s.sc[S_QUEUED], now = s.sc[S_NOW]
    cdef int64_t nout = 0, i = 0, t, q, k, nb, a, e, emin, h, cost, best, bkey, key, bseq, sq
    cdef int64_t ser, done, base, st, lat, qd, dc
    cdef double btag, tg, v, fq, start
    cdef bint shaped = s.shaped
    while True:
        if queued == 0:
            if i >= n:
                break
            t = free if free > arr[i] else arr[i]
        else:
            t = free if free > now else now
        while True:
            while i < n and arr[i] <= t:
                # enqueue packet i
                q = qid[i]
                nb = nbytes[i]
                a = arr[i]
                st = q * NSTAT
                s.stats[st + T_AR] += 1
                s.stats[st + T_AB] += nb
                if s.qp[q * NQP + Q_DEPTH] > 0 and s.q_len[q] >= s.qp[q * NQP + Q_DEPTH]:
                    s.stats[st + T_DR] += 1
                    out_seq[nout] = seq0 + i
                    out_done[nout] = -1
                    nout += 1
                    i += 1
                    continue
                k = q * cap + ((s.q_head[q] + s.q_len[q]) & mask)
                s.q_arr[k] = a
                s.q_bytes[k] = nb
                s.q_seq[k] = seq0 + i
                if disc == D_WFQ:
                    gps_adv(s, a)
                    v = s.gps[0]
                    fq = s.gps_f[q]
                    start = v if v > fq else fq
                    fq = start + (<double>nb) / (<double>s.qp[q * NQP + Q_WEIGHT])
                    s.gps_f[q] = fq
                    s.q_tag[k] = fq
                    if not s.gps_act[q]:
                        s.gps_act[q] = 1
                        s.gps[2] = s.gps[2] + <double>s.qp[q * NQP + Q_WEIGHT]
                if (disc == D_WRR or disc == D_DRR) and not s.in_list[q]:
                    dc = s.sc[S_DCOUNT]
                    if dc == 0:
                        s.sc[S_DTURN] = 0
                    s.dlist[(s.sc[S_DHEAD] + dc) % nq] = q
                    s.sc[S_DCOUNT] = dc + 1
                    s.in_list[q] = 1
                s.q_len[q] += 1
                if s.q_len[q] == 1 and shaped:
                    s.ecache[q] = elig(s, q)
                queued += 1
                i += 1
            if not shaped:
                break
            emin = INT64_MAX
            for q in range(nq):
                if s.q_len[q] > 0:
                    e = s.ecache[q]
                    if e < emin:
                        emin = e
            if emin <= t:
                break
            if i < n and arr[i] < emin:
                t = arr[i]
            else:
                t = emin
        if t >= horizon:
            # no decision at or after the horizon; resume from it (arrivals of the next chunk may
            # fall between the horizon and t and change the next decision)
            now = horizon if horizon > now else now
            break
        now = t
        best = -1
        if disc == D_WRR or disc == D_DRR:
            while True:
                h = s.dlist[s.sc[S_DHEAD]]
                if s.q_len[h] > 0 and shaped and s.ecache[h] > t:
                    s.dlist[(s.sc[S_DHEAD] + s.sc[S_DCOUNT]) % nq] = h
                    s.sc[S_DHEAD] = (s.sc[S_DHEAD] + 1) % nq
                    s.sc[S_DTURN] = 0
                    continue
                if not s.sc[S_DTURN]:
                    s.deficit[h] += s.qp[h * NQP + Q_QUANTUM]
                    s.sc[S_DTURN] = 1
                k = h * cap + s.q_head[h]
                cost = s.q_bytes[k] if disc == D_DRR else 1
                if cost <= s.deficit[h]:
                    s.deficit[h] -= cost
                    best = h
                    break
                s.dlist[(s.sc[S_DHEAD] + s.sc[S_DCOUNT]) % nq] = h
                s.sc[S_DHEAD] = (s.sc[S_DHEAD] + 1) % nq
                s.sc[S_DTURN] = 0
        else:
            bkey = 0
            btag = 0.0
            bseq = 0
            for q in range(nq):
                if s.q_len[q] == 0:
                    continue
                if shaped and s.ecache[q] > t:
                    continue
                k = q * cap + s.q_head[q]
                sq = s.q_seq[k]
                if disc == D_SP:
                    key = s.qp[q * NQP + Q_PRIO]
                    if best < 0 or key < bkey or (key == bkey and sq < bseq):
                        best = q
                        bkey = key
                        bseq = sq
                elif disc == D_WFQ:
                    tg = s.q_tag[k]
                    if best < 0 or tg < btag or (tg == btag and sq < bseq):
                        best = q
                        btag = tg
                        bseq = sq
                else:
                    if best < 0 or sq < bseq:
                        best = q
                        bseq = sq
        q = best
        k = q * cap + s.q_head[q]
        a = s.q_arr[k]
        nb = s.q_bytes[k]
        sq = s.q_seq[k]
        s.q_head[q] = (s.q_head[q] + 1) & mask
        s.q_len[q] -= 1
        queued -= 1
        ser = ls_mul_div_ceil(nb, s.snum, s.sden)
        free = t + ser
        done = free + s.prop
        if s.qp[q * NQP + Q_TBN] > 0:
            base = s.tat[q] if s.tat[q] > t else t
            s.tat[q] = base + ls_mul_div_ceil(nb, s.qp[q * NQP + Q_TBN], s.qp[q * NQP + Q_TBD])
        if shaped and s.q_len[q] > 0:
            s.ecache[q] = elig(s, q)
        if (disc == D_WRR or disc == D_DRR) and s.q_len[q] == 0:
            s.deficit[q] = 0
            s.in_list[q] = 0
            s.sc[S_DHEAD] = (s.sc[S_DHEAD] + 1) % nq
            s.sc[S_DCOUNT] = s.sc[S_DCOUNT] - 1
            s.sc[S_DTURN] = 0
        st = q * NSTAT
        lat = done - a
        qd = t - a
        s.stats[st + T_PK] += 1
        s.stats[st + T_BY] += nb
        s.stats[st + T_LS] += lat
        if lat > s.stats[st + T_LM]:
            s.stats[st + T_LM] = lat
        s.stats[st + T_QS] += qd
        if qd > s.stats[st + T_QM]:
            s.stats[st + T_QM] = qd
        s.stats[st + T_BU] += ser
        s.hist[q * N_HIST + hist_bin(lat)] += 1
        out_seq[nout] = sq
        out_done[nout] = done
        nout += 1
    s.sc[S_FREE] = free
    s.sc[S_QUEUED] = queued
    s.sc[S_NOW] = now
    s.sc[S_HORIZON] = horizon
    return nout


cdef void bind(LS* s, const int64_t[::1] g, const int64_t[::1] qp, dict st) except *:
    cdef int64_t[::1] sc = st["scalars"]
    cdef int64_t[::1] q_head = st["q_head"]
    cdef int64_t[::1] q_len = st["q_len"]
    cdef int64_t[::1] q_arr = st["q_arr"]
    cdef int64_t[::1] q_bytes = st["q_bytes"]
    cdef int64_t[::1] q_seq = st["q_seq"]
    cdef double[::1] q_tag = st["q_tag"]
    cdef int64_t[::1] tat = st["tat"]
    cdef int64_t[::1] deficit = st["deficit"]
    cdef int64_t[::1] dlist = st["drr_list"]
    cdef int64_t[::1] in_list = st["in_list"]
    cdef double[::1] gps = st["gps"]
    cdef double[::1] gps_f = st["gps_f"]
    cdef int64_t[::1] gps_act = st["gps_active"]
    cdef int64_t[::1] stats = st["stats"]
    cdef int64_t[::1] hist = st["hist"]
    cdef int64_t nq = q_head.shape[0], q
    if g.shape[0] < 4 or nq < 1 or qp.shape[0] != nq * NQP:
        raise ValueError("linksched: parameter arrays do not match the state")
    cap = sc[S_CAP]
    if (q_arr.shape[0] != nq * cap or q_bytes.shape[0] != nq * cap or q_seq.shape[0] != nq * cap
            or q_tag.shape[0] != nq * cap or q_len.shape[0] != nq or tat.shape[0] != nq
            or deficit.shape[0] != nq or dlist.shape[0] != nq or in_list.shape[0] != nq
            or gps.shape[0] != 3 or gps_f.shape[0] != nq or gps_act.shape[0] != nq
            or stats.shape[0] != nq * NSTAT or hist.shape[0] != nq * N_HIST):
        raise ValueError("linksched: state arrays have the wrong shapes")
    if g[0] < 0 or g[0] > D_WFQ or g[1] <= 0 or g[2] <= 0 or g[3] < 0:
        raise ValueError("linksched: bad link parameters")
    s.shaped = False
    for q in range(nq):
        if qp[q * NQP + Q_WEIGHT] < 1 or qp[q * NQP + Q_QUANTUM] < 1 or qp[q * NQP + Q_TBD] < 1:
            raise ValueError(f"linksched: queue {q}: weight, quantum and bucket denominator must be >= 1")
        if qp[q * NQP + Q_TBN] > 0:
            s.shaped = True
    s.disc = g[0]
    s.snum = g[1]
    s.sden = g[2]
    s.prop = g[3]
    s.nq = nq
    s.cap = cap
    s.mask = cap - 1
    s.qp = &qp[0]
    s.sc = &sc[0]
    s.q_head = &q_head[0]
    s.q_len = &q_len[0]
    s.q_arr = &q_arr[0]
    s.q_bytes = &q_bytes[0]
    s.q_seq = &q_seq[0]
    s.q_tag = &q_tag[0]
    s.tat = &tat[0]
    s.deficit = &deficit[0]
    s.dlist = &dlist[0]
    s.in_list = &in_list[0]
    s.gps = &gps[0]
    s.gps_f = &gps_f[0]
    s.gps_act = &gps_act[0]
    s.stats = &stats[0]
    s.hist = &hist[0]


def run_chunk(const int64_t[::1] g, const int64_t[::1] qp, dict st, const int64_t[::1] arr,
              const uint16_t[::1] qid, const uint32_t[::1] nbytes, int64_t seq0, int64_t horizon,
              int64_t[::1] out_seq, int64_t[::1] out_done):
    """Same contract as `_linksched_reference.run_chunk`."""
    cdef LS s
    bind(&s, g, qp, st)
    cdef Py_ssize_t n = arr.shape[0], i
    if qid.shape[0] != n or nbytes.shape[0] != n:
        raise ValueError("run_chunk: packet columns differ in length")
    if out_seq.shape[0] < n + s.sc[S_QUEUED] or out_done.shape[0] < out_seq.shape[0]:
        raise ValueError("run_chunk: output buffers too small")
    cdef int64_t prev = s.sc[S_HORIZON]
    for i in range(n):
        if arr[i] < prev:
            raise ValueError(f"run_chunk: packet {i}: arrival {arr[i]} ps is before {prev} ps "
                             "(arrivals must be sorted, and >= the previous horizon)")
        prev = arr[i]
        if qid[i] >= s.nq:
            raise ValueError(f"run_chunk: packet {i}: queue {qid[i]} >= {s.nq} queues")
    if horizon < prev:
        raise ValueError(f"run_chunk: horizon {horizon} is before the last arrival {prev}")
    cdef int64_t* cnt = <int64_t*>calloc(s.nq, sizeof(int64_t))
    if cnt == NULL:
        raise MemoryError()
    for i in range(n):
        cnt[qid[i]] += 1
    cdef int64_t q
    try:
        for q in range(s.nq):
            if s.q_len[q] + cnt[q] > s.cap:
                raise ValueError("run_chunk: queue ring too small; call ensure_capacity first")
    finally:
        c_free(cnt)
    cdef int64_t dummy_s = 0, dummy_d = 0
    cdef int64_t* os = &out_seq[0] if out_seq.shape[0] else &dummy_s
    cdef int64_t* od = &out_done[0] if out_done.shape[0] else &dummy_d
    cdef const int64_t* ap = &arr[0] if n else NULL
    cdef const uint16_t* qpp = &qid[0] if n else NULL
    cdef const uint32_t* bp = &nbytes[0] if n else NULL
    cdef int64_t nout
    s.ecache = <int64_t*>calloc(s.nq, sizeof(int64_t))
    if s.ecache == NULL:
        raise MemoryError()
    for q in range(s.nq):
        if s.q_len[q] > 0:
            s.ecache[q] = elig(&s, q)
    try:
        with nogil:
            nout = loop(&s, ap, qpp, bp, n, seq0, horizon, os, od)
    finally:
        c_free(s.ecache)
    return nout


def gps_advance(const int64_t[::1] g, const int64_t[::1] qp, dict st, int64_t t):
    """Same contract as `_linksched_reference.gps_advance`."""
    cdef LS s
    bind(&s, g, qp, st)
    gps_adv(&s, t)
