"""Plain-Python twin of `_linksched.pyx`: one direction of a link with per-queue scheduling.

This file is the specification; the compiled module mirrors it line for line and the tests require
bit-identical outputs, statistics and state (including the floating-point GPS virtual clock of WFQ:
both backends do the same IEEE-754 double operations in the same order).

Model
-----
A single server (the link direction) of `SER_NUM/SER_DEN` ps per byte serializes one packet at a
time, non-preemptively, then the packet propagates for `PROP` ps. Packets arrive in time order,
each into one queue (a VM's SNIC queue); a queue is FIFO. Whenever the link is free and at least
one queue head is *eligible* (arrived, and its token bucket holds enough tokens), the discipline
picks one eligible head and starts it at once (work conserving among eligible packets):

- fifo: the earliest arrival (lowest sequence number);
- strict_priority: the lowest PRIO value (0 = most important); FIFO inside a level;
- wrr: weighted round robin, WEIGHT packets per turn (deficit counting in packets);
- drr: deficit round robin (Shreedhar and Varghese 1995), QUANTUM bytes added per turn;
- wfq: packet-by-packet GPS (Parekh and Gallager): smallest virtual finish tag, where
  F = max(V(a), F_prev) + L / WEIGHT and V is the GPS virtual clock, dV/dt = C / sum of the weights
  of the flows GPS-backlogged at t (simulated exactly in event order, in doubles).

Token bucket (any discipline): a queue with TB_NUM > 0 is shaped at 1e12 * TB_DEN / TB_NUM bytes/s
with depth TB_BURST bytes, kept as a theoretical arrival time TAT (GCRA): a head of L bytes is
eligible at TAT - floor((BURST - L) * TB_NUM / TB_DEN); sending it at s sets
TAT = max(TAT, s) + ceil(L * TB_NUM / TB_DEN). Rounding is conservative, so any interval of start
times [s_i, s_j] carries at most BURST + rate * (s_j - s_i) bytes. A packet larger than BURST waits
for a full bucket and then goes (the bucket goes into debt).

Queue depth (DEPTH > 0): an arrival that finds DEPTH packets waiting (the one on the wire does not
count) is dropped: its output time is -1 and it counts in `drops`.

Chunks and the horizon
----------------------
`run_chunk(..., horizon)` takes every arrival of the chunk and makes every scheduling decision at a
time t < horizon; packets still waiting stay in the state. The next chunk's arrivals must be
>= horizon (default horizon: the chunk's last arrival). Decisions depend only on the state and the
arrivals up to their time, so any cut gives the same result; a final call with no packets and
horizon = INT64_MAX drains the queues. `gps_advance(t)` settles the WFQ clock at t (the network
manager calls it at a control event, before weights change).

Outputs go to (out_seq, out_done) pairs in decision order: the packet's global sequence number and
its delivery time at the far end (start + serialization + propagation), or -1 for a drop.
"""
from __future__ import annotations

import numpy as np

from .._layout import HIST_BINS, SCHED_DISCIPLINES as DISCIPLINES, hist_bin   # noqa: F401 (DISCIPLINES: the codes)

G_NAMES = ("DISC", "SER_NUM", "SER_DEN", "PROP")
G = {n: i for i, n in enumerate(G_NAMES)}
QP_NAMES = ("PRIO", "WEIGHT", "QUANTUM", "TB_NUM", "TB_DEN", "TB_BURST", "DEPTH")
QP = {n: i for i, n in enumerate(QP_NAMES)}
NQP = len(QP_NAMES)
SC_NAMES = ("FREE", "QUEUED", "CAP", "HORIZON", "DRR_HEAD", "DRR_COUNT", "DRR_TURN", "NEXT_SEQ",
            "NOW")   # NOW: the scheduler clock; no decision is taken before it
SC = {n: i for i, n in enumerate(SC_NAMES)}
STAT_NAMES = ("packets", "bytes", "latency_sum_ps", "latency_max_ps", "qdelay_sum_ps", "qdelay_max_ps",
              "drops", "busy_ps", "arrivals", "arrival_bytes")
ST = {n: i for i, n in enumerate(STAT_NAMES)}
NSTAT = len(STAT_NAMES)
INT64_MAX = 2**63 - 1
INT64_MIN = -2**63

# scalar indices
_FREE, _QUEUED, _CAP, _HORIZON, _DHEAD, _DCOUNT, _DTURN = range(7)
_PRIO, _WEIGHT, _QUANTUM, _TBN, _TBD, _TBB, _DEPTH = range(7)
_PK, _BY, _LS, _LM, _QS, _QM, _DR, _BU, _AR, _AB = range(10)


def new_state(nq: int, cap: int = 64) -> dict:
    """Fresh state for `nq` queues; ring capacity `cap` (a power of two) per queue, grown on demand."""
    cap = max(1, 1 << (max(1, cap) - 1).bit_length())
    sc = np.zeros(len(SC_NAMES), np.int64)
    sc[_CAP] = cap
    sc[_HORIZON] = INT64_MIN
    sc[SC["NOW"]] = INT64_MIN
    return {
        "scalars": sc,
        "q_head": np.zeros(nq, np.int64),
        "q_len": np.zeros(nq, np.int64),
        "q_arr": np.zeros(nq * cap, np.int64),
        "q_bytes": np.zeros(nq * cap, np.int64),
        "q_seq": np.zeros(nq * cap, np.int64),
        "q_tag": np.zeros(nq * cap, np.float64),
        "tat": np.zeros(nq, np.int64),
        "deficit": np.zeros(nq, np.int64),
        "drr_list": np.zeros(nq, np.int64),
        "in_list": np.zeros(nq, np.int64),
        "gps": np.zeros(3, np.float64),            # V, time of V (ps), sum of active weights
        "gps_f": np.zeros(nq, np.float64),          # last virtual finish tag per queue
        "gps_active": np.zeros(nq, np.int64),
        "stats": np.zeros(nq * NSTAT, np.int64),
        "hist": np.zeros(nq * HIST_BINS, np.int64),
    }


def ensure_capacity(st: dict, need: int) -> None:
    """Grow every queue's ring to hold `need` packets (shared by both backends, run with the GIL)."""
    cap = int(st["scalars"][_CAP])
    if need <= cap:
        return
    new = 1 << (need - 1).bit_length()
    nq = len(st["q_head"])
    for key in ("q_arr", "q_bytes", "q_seq", "q_tag"):
        old = st[key]
        arr = np.zeros(nq * new, old.dtype)
        for q in range(nq):
            h, n = int(st["q_head"][q]), int(st["q_len"][q])
            idx = q * cap + (h + np.arange(n)) % cap
            arr[q * new:q * new + n] = old[idx]
        st[key] = arr
    st["q_head"][:] = 0
    st["scalars"][_CAP] = new


def mul_div_ceil(a: int, b: int, c: int) -> int:
    return -(-(a * b) // c)


def _tol(qp, q, nb):
    slack = int(qp[q, _TBB]) - nb
    if slack <= 0:
        return 0
    return (slack * int(qp[q, _TBN])) // int(qp[q, _TBD])


def gps_advance(g, qp, st, t: int) -> None:
    """Advance the GPS virtual clock to time t (ps), ending the GPS busy periods it passes."""
    gps, f, act = st["gps"], st["gps_f"], st["gps_active"]
    nq = len(f)
    v, tv, w = float(gps[0]), float(gps[1]), float(gps[2])
    c = int(g[2]) / int(g[1])       # link rate, bytes per ps
    while w > 0:
        fmin = 0.0
        first = True
        for j in range(nq):
            if act[j] and (first or f[j] < fmin):
                fmin = float(f[j])
                first = False
        dt = (fmin - v) * w / c
        if tv + dt <= t:
            tv = tv + dt
            v = fmin
            for j in range(nq):
                if act[j] and f[j] <= fmin:
                    act[j] = 0
                    w = w - float(int(qp[j, _WEIGHT]))
        else:
            v = v + (t - tv) * c / w
            tv = float(t)
            break
    if w <= 0:
        w = 0.0
        tv = float(t)
    gps[0], gps[1], gps[2] = v, tv, w


def run_chunk(g, qp, st, arr, qid, nbytes, seq0: int, horizon: int, out_seq, out_done) -> int:
    """Advance the state over one chunk (see the module docstring); returns how many outputs were
    written to out_seq/out_done (which must hold n + the packets queued before the call)."""
    qp = np.asarray(qp).reshape(-1, NQP)
    nq = qp.shape[0]
    n = len(arr)
    if len(qid) != n or len(nbytes) != n:
        raise ValueError("run_chunk: packet columns differ in length")
    sc = st["scalars"]
    if len(out_seq) < n + int(sc[_QUEUED]) or len(out_done) < len(out_seq):
        raise ValueError("run_chunk: output buffers too small")
    prev = int(sc[_HORIZON])
    for i in range(n):
        if int(arr[i]) < prev:
            raise ValueError(f"run_chunk: packet {i}: arrival {int(arr[i])} ps is before {prev} ps "
                             "(arrivals must be sorted, and >= the previous horizon)")
        prev = int(arr[i])
        if int(qid[i]) >= nq:
            raise ValueError(f"run_chunk: packet {i}: queue {int(qid[i])} >= {nq} queues")
    if horizon < prev:
        raise ValueError(f"run_chunk: horizon {horizon} is before the last arrival {prev}")
    cnt = np.bincount(np.asarray(qid, np.int64), minlength=nq) if n else np.zeros(nq, np.int64)
    if np.any(st["q_len"] + cnt > int(sc[_CAP])):
        raise ValueError("run_chunk: queue ring too small; call ensure_capacity first")
    disc, snum, sden, prop = int(g[0]), int(g[1]), int(g[2]), int(g[3])
    q_head, q_len = st["q_head"], st["q_len"]
    q_arr, q_bytes, q_seq, q_tag = st["q_arr"], st["q_bytes"], st["q_seq"], st["q_tag"]
    tat, deficit, dlist, in_list = st["tat"], st["deficit"], st["drr_list"], st["in_list"]
    gps, gps_f, gps_act = st["gps"], st["gps_f"], st["gps_active"]
    stats, hist = st["stats"], st["hist"]
    cap = int(sc[_CAP])
    mask = cap - 1
    shaped = any(int(qp[q, _TBN]) > 0 for q in range(nq))
    free = int(sc[_FREE])
    queued = int(sc[_QUEUED])
    now = int(sc[SC["NOW"]])
    nout = 0
    i = 0

    def enqueue(i):
        nonlocal queued, nout
        q = int(qid[i])
        nb = int(nbytes[i])
        a = int(arr[i])
        s = q * NSTAT
        stats[s + _AR] += 1
        stats[s + _AB] += nb
        if qp[q, _DEPTH] > 0 and q_len[q] >= qp[q, _DEPTH]:
            stats[s + _DR] += 1
            out_seq[nout] = seq0 + i
            out_done[nout] = -1
            nout += 1
            return
        k = q * cap + ((int(q_head[q]) + int(q_len[q])) & mask)
        q_arr[k] = a
        q_bytes[k] = nb
        q_seq[k] = seq0 + i
        if disc == 4:
            gps_advance(g, qp, st, a)
            v = float(gps[0])
            fq = float(gps_f[q])
            start = v if v > fq else fq
            fq = start + nb / int(qp[q, _WEIGHT])
            gps_f[q] = fq
            q_tag[k] = fq
            if not gps_act[q]:
                gps_act[q] = 1
                gps[2] = float(gps[2]) + float(int(qp[q, _WEIGHT]))
        if (disc == 2 or disc == 3) and not in_list[q]:
            dc = int(sc[_DCOUNT])
            if dc == 0:
                sc[_DTURN] = 0
            dlist[(int(sc[_DHEAD]) + dc) % nq] = q
            sc[_DCOUNT] = dc + 1
            in_list[q] = 1
        q_len[q] += 1
        queued += 1

    def elig(q, t):
        """Eligibility time of queue q's head (INT64_MIN if unshaped)."""
        if qp[q, _TBN] <= 0:
            return INT64_MIN
        k = q * cap + int(q_head[q])
        return int(tat[q]) - _tol(qp, q, int(q_bytes[k]))

    while True:
        if queued == 0:
            if i >= n:
                break
            t = free if free > int(arr[i]) else int(arr[i])
        else:
            t = free if free > now else now
        while True:
            while i < n and int(arr[i]) <= t:
                enqueue(i)
                i += 1
            if not shaped:
                break
            emin = INT64_MAX
            for q in range(nq):
                if q_len[q] > 0:
                    e = elig(q, t)
                    if e < emin:
                        emin = e
            if emin <= t:
                break
            if i < n and int(arr[i]) < emin:
                t = int(arr[i])
            else:
                t = emin
        if t >= horizon:
            # no decision at or after the horizon; resume from it (arrivals of the next chunk may
            # fall between the horizon and t and change the next decision)
            now = horizon if horizon > now else now
            break
        now = t
        # pick a queue
        best = -1
        if disc == 2 or disc == 3:
            while True:
                h = int(dlist[int(sc[_DHEAD])])
                if q_len[h] > 0 and shaped and elig(h, t) > t:
                    dlist[(int(sc[_DHEAD]) + int(sc[_DCOUNT])) % nq] = h
                    sc[_DHEAD] = (int(sc[_DHEAD]) + 1) % nq
                    sc[_DTURN] = 0
                    continue
                if not sc[_DTURN]:
                    deficit[h] += qp[h, _QUANTUM]
                    sc[_DTURN] = 1
                k = h * cap + int(q_head[h])
                cost = int(q_bytes[k]) if disc == 3 else 1
                if cost <= deficit[h]:
                    deficit[h] -= cost
                    best = h
                    break
                dlist[(int(sc[_DHEAD]) + int(sc[_DCOUNT])) % nq] = h
                sc[_DHEAD] = (int(sc[_DHEAD]) + 1) % nq
                sc[_DTURN] = 0
        else:
            bkey = 0
            btag = 0.0
            bseq = 0
            for q in range(nq):
                if q_len[q] == 0:
                    continue
                if shaped and elig(q, t) > t:
                    continue
                k = q * cap + int(q_head[q])
                sq = int(q_seq[k])
                if disc == 1:
                    key = int(qp[q, _PRIO])
                    if best < 0 or key < bkey or (key == bkey and sq < bseq):
                        best, bkey, bseq = q, key, sq
                elif disc == 4:
                    tg = float(q_tag[k])
                    if best < 0 or tg < btag or (tg == btag and sq < bseq):
                        best, btag, bseq = q, tg, sq
                else:
                    if best < 0 or sq < bseq:
                        best, bseq = q, sq
        q = best
        k = q * cap + int(q_head[q])
        a, nb, sq = int(q_arr[k]), int(q_bytes[k]), int(q_seq[k])
        q_head[q] = (int(q_head[q]) + 1) & mask
        q_len[q] -= 1
        queued -= 1
        ser = mul_div_ceil(nb, snum, sden)
        free = t + ser
        done = free + prop
        if qp[q, _TBN] > 0:
            base = int(tat[q]) if int(tat[q]) > t else t
            tat[q] = base + mul_div_ceil(nb, int(qp[q, _TBN]), int(qp[q, _TBD]))
        if (disc == 2 or disc == 3) and q_len[q] == 0:
            deficit[q] = 0
            in_list[q] = 0
            sc[_DHEAD] = (int(sc[_DHEAD]) + 1) % nq
            sc[_DCOUNT] = int(sc[_DCOUNT]) - 1
            sc[_DTURN] = 0
        s = q * NSTAT
        lat = done - a
        qd = t - a
        stats[s + _PK] += 1
        stats[s + _BY] += nb
        stats[s + _LS] += lat
        if lat > stats[s + _LM]:
            stats[s + _LM] = lat
        stats[s + _QS] += qd
        if qd > stats[s + _QM]:
            stats[s + _QM] = qd
        stats[s + _BU] += ser
        hist[q * HIST_BINS + hist_bin(int(lat))] += 1
        out_seq[nout] = sq
        out_done[nout] = done
        nout += 1
    sc[_FREE] = free
    sc[_QUEUED] = queued
    sc[SC["NOW"]] = now
    sc[_HORIZON] = horizon
    return nout
