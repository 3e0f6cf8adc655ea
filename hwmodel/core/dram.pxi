# The DRAM subsystem behind one memory controller, included into _core.pyx: the Dram the core
# holds, and by DRAM.model the model that answers it: "detailed" (core/dram_ctrl.pxi, DRAMsim3's
# controller simulated where anything happens), "fast" and "simple" (core/dram_fast.pxi, one pass).
# The plain-Python twin is core/dram.py (which dispatches the same way); each model's
# twin module defines its semantics, and the compiled code matches it bit for bit.
# Parameter/counter indices come from _dram_layout.py through the generated _layout.pxi; the
# record fields of the models' state arrays are generated there too (a test checks the rest).
from libc.stdlib cimport abort, calloc
from libc.stdio cimport fprintf, stderr
from libc.string cimport memset

# the fast model's record fields (_dram_layout.BANK_FIELDS, RANK_FIELDS, CHAN_FIELDS, ACT_FIELDS)

cdef enum:
    DB_ACT_T = 0
    DB_COL_FREE = 1
    DB_PRE_OK = 2
    DB_ACT_OK = 3
    DB_PREV_ROW = 4
    DB_PREV_PRE = 5
    DB_PREV_COL = 6
    DB_CQ_IDX = 7
    DB_N = 8
    DR_LAST_ACT = 0
    DR_FAW_IDX = 1
    DR_FAW0 = 2
    DR_REF_DUE = 6
    DR_READY = 7
    DR_N = 8
    DH_BUS_HEAD = 0
    DH_BUS_N = 1
    DH_BUS_FLOOR = 2
    DH_TQ_IDX = 3
    DH_BLOCKED = 4
    DH_WB_N = 5
    DH_WB_BLOOM = 6
    DH_LAST_RD_LEAVE = 7
    DH_LAST_COL = 8
    DH_N = 10
    DA_FRONT = 0
    DA_NOPEN = 1
    DA_ACTIVE = 2
    DA_N = 3
    DA_MARK = 4
    DA_MARK_PS = 5
    DA_MARK_END = 6
    DA_MARK_N = 7
    DA_W = 8                 # fields of a rank activity record (ACT_FIELDS)
    RA_MARKS = 256           # marks per rank (_dram_layout.RA_MARKS)
    MAX_RANK_BG = 64         # ranks x bank groups per channel (memctrl.MAX_RANK_BG)


cdef enum:
    MODEL_DETAILED = 0       # D_MODEL values: _dram_layout.MODELS (a test checks them)
    MODEL_SIMPLE = 1
    MODEL_FAST = 2
    CTL_MAX_QUEUES = 256     # command queues per channel (memctrl.MAX_QUEUES)
    CTL_QWORDS = 4           # 64-bit words of a mask of CTL_MAX_QUEUES queues


cdef struct JEntry:
    # one state write of an in-system answer's run ahead: where, and the value it replaced
    int64_t* p
    int64_t old


cdef struct Src:
    # where a channel's front end takes requests from: arrays (dram_run, dram_stream) or the
    # channel's held requests in state "fe" (in-system)
    const int64_t* t
    const int64_t* addr
    const uint8_t* w
    const int64_t* idx       # the channel's requests among the arrays, in order (NULL: all)
    int64_t n, pos
    bint ring


cdef struct Dram:
    const int64_t* d       # parameters (D_* indices)
    int64_t* cnt           # DC_* counters of this DRAM
    int64_t* ract          # per rank: DA_* activity record
    int64_t* rmk           # per rank: RA_MARKS active ps up to each mark crossed
    int model              # D_MODEL
    bint simple            # D_MODEL == MODEL_SIMPLE: bank = next-column time per bank, chan = bus free per channel
    bint detailed          # D_MODEL == MODEL_DETAILED
    bint bank_xor          # XOR bank hashing (D_BG_XMASK or D_BA_XMASK set)
    bint activity          # D_ACTIVITY: account rank activity
    bint frfcfs, closed
    int64_t n_banks, n_ranks, ba_bits, bg_bits, bpr, burst_bytes   # per channel: banks, ranks; banks per rank
    int64_t row_timeout    # D_ROW_TIMEOUT (0 = open or closed page)
    # -- fast / simple (core/dram_fast.pxi) --
    int64_t* open_row      # per bank (channel-major): open row, -1 = precharged
    int64_t* bank          # per bank: DB_* record
    int64_t* cq            # per bank: ring of CQ_SIZE column-command times
    int64_t* bg_act        # per (rank, bank group): last ACT
    int64_t* rank          # per rank: DR_* record
    int64_t* chan          # per channel: DH_* record
    int64_t* bus           # per channel: calendar ring of BUS_SLOTS (start, end, tag)
    int64_t* tq            # per channel: ring of Q_SIZE read queue-leave times
    int64_t* wb            # per channel: WB_HI buffered writes (line, bank << 32 | row)
    int64_t* rev           # per rank: RA_SLOTS bank open/close events, (time << 1) | opens, as made
    int64_t now            # arrival of the request being answered (no later event can precede it)
    int64_t adm            # when the controller accepted that request
    int64_t gt[4 * MAX_RANK_BG]   # dram_gap(p, q) at ((p ^ q) << 1) | (p & 1) (it depends on nothing else)
    int64_t bus_slots      # D_BUS_SLOTS
    int64_t gmin, gmax     # smallest / largest data-bus gap (dram_bus's early-out)
    int64_t cas[2]         # by w: CL, CWL
    int64_t rcd[2]         # by w: tRCD, tRCDWR
    int64_t tail[2]        # by w: last column command to precharge: tRTP; CWL + tBURST + tWR
    int64_t n_rbg          # per channel: rank-bank groups
    int64_t t_burst, t_train, t_rp, t_rc, t_ras, cq_size
    int64_t ra_slots       # D_RA_SLOTS
    # -- detailed (core/dram_ctrl.pxi): state arrays (the CB/CG/CR/CH/TX/RQ/FE_* records) --
    int64_t* k_bank        # per bank: CB_* record
    int64_t* k_bg          # per (rank, bank group): CG_* record
    int64_t* k_rank        # per rank: CR_* record
    int64_t* k_chan        # per channel: CH_* record
    int64_t* k_refq        # per channel: refresh targets waiting (ring of n_banks)
    int64_t* k_cqn         # per command queue: commands held
    int64_t* k_cq          # per command queue: transaction slots, oldest first
    int64_t* k_rdq         # per channel: read queue
    int64_t* k_wrb         # per channel: write buffer
    int64_t* k_tx          # per channel: TX_* per transaction slot
    int64_t* k_req         # per channel: RQ_* per request slot
    int64_t* k_pend        # per channel: pending-address table (key, slot)
    int64_t* k_fe          # per channel: FE_* per held request
    # derived (detailed)
    int64_t tck, n_ch, nbg, bgpr, bpg, nq, qsize, cqsize, wb_lo, txs, hbits, fes, ref_mode, ref_every
    int64_t burst_shift, line_shift, line_bursts, seg_shift
    bint per_rank
    int64_t bpr_shift      # log2 of bpr (a power of two: ranks, bank groups and banks are)
    int64_t nw             # 64-bit words of a mask of nq queues
    int64_t k_rrl, k_rrs, k_rro, k_r2w, k_r2wo, k_r2p, k_rda2a, k_rda2f, k_w2rl, k_w2rs, k_w2ro
    int64_t k_wwl, k_wws, k_wwo, k_w2p, k_wra2a, k_a2a, k_a2al, k_a2as, k_a2r, k_a2w, k_a2p
    int64_t k_p2a, k_faw, k_rfc, k_rfcb, k_rd_delay, k_wr_delay
    # the whole-system core's clock (the horizon), NULL for the DRAM alone
    const int64_t* sc      # core scalars (S_*)
    const int64_t* defer   # core's held-back write-backs (DEFER_CAP rows of 4, sorted by time)
    # what the running call wants
    Src src
    int64_t* out           # dram_run: completion ps by ticket (NULL: none)
    int64_t* acc           # dram_run: acceptance ps by ticket (NULL: none)
    int64_t* sk_done       # dram_stream: completions (done ps, acc ps, write) in order
    int64_t* sk_acc
    int64_t* sk_w
    int64_t sk_n, sk_cap
    int64_t target, target_done   # in-system: the ticket being answered and its completion
    # readiness caches of the channel being simulated (compiled only, rebuilt when it changes):
    # per command queue the earliest cycle its READ / WRITE / PRE / ACT candidate may issue
    # (CTL_FAR: none), exact for every queue not marked dirty; masks of queues with each candidate
    int64_t cache_ch
    int64_t qrd[CTL_MAX_QUEUES]
    int64_t qwr[CTL_MAX_QUEUES]
    int64_t qpre[CTL_MAX_QUEUES]
    int64_t qact[CTL_MAX_QUEUES]
    int64_t qmin[CTL_MAX_QUEUES]     # the earliest of the four
    uint64_t qdirty[CTL_QWORDS]
    uint64_t qrdm[CTL_QWORDS]
    uint64_t qwrm[CTL_QWORDS]
    uint64_t qactm[CTL_QWORDS]
    uint64_t qne[CTL_QWORDS]         # queues holding commands
    uint64_t qblk[CTL_QWORDS]        # queues skipped while a refresh of their bank (or rank) waits
    int64_t wait_rd[CTL_MAX_QUEUES]  # per command queue: reads in the read queue for it
    int64_t wait_wr[CTL_MAX_QUEUES]  # per command queue: writes in the write buffer for it
    int64_t movable_rd, movable_wr   # reads / writes whose command queue has room (the scheduler's work)
    int64_t skip_rd, skip_wr         # leading read-queue / write-buffer entries known to wait for full
    #                                  command queues (0 whenever a command queue gets room)
    int64_t tq_dirty, tfe_dirty      # t_q / t_fe need recomputing
    int64_t q_dirty                  # a qdirty bit may be set (False: none is)
    int64_t t_q                      # earliest cycle a queued command may be ready (not blocked)
    int64_t t_qq                     # the queue round robin would try first at t_q (-1: not known)
    int64_t t_fe                     # cycle the front end's next transaction arrives, CTL_FAR: no room
    # the channel being simulated: its records' first entries
    int64_t* b_chan
    int64_t* b_bank
    int64_t* b_bg
    int64_t* b_rank
    int64_t* b_tx
    int64_t* b_req
    int64_t* b_cq
    int64_t* b_cqn
    int64_t rdq_q[CTL_MAX_QUEUES]    # the command queue each read-queue entry waits for (in order)
    int64_t wrb_q[CTL_MAX_QUEUES]    # the command queue each write-buffer entry waits for
    # undo journal (in-system answers run ahead, then roll back)
    JEntry* jbuf           # (a per-thread buffer that outlives the Dram: the core keeps no hook to free it)
    int64_t jn, jcap
    bint jon


include "dram_fast.pxi"
include "dram_ctrl.pxi"


cdef inline int64_t dram_line(Dram* m, int64_t addr, int64_t t, int w) noexcept nogil:
    if m.detailed:
        return ctl_request(m, addr & ~((<int64_t>1 << m.line_shift) - 1), t, (<int64_t>1) << m.line_shift, w)
    if m.simple:
        return dram_simple(m, addr, t, m.d[D_LINE_BURSTS], w)
    return dram_request(m, addr, t, m.d[D_LINE_BURSTS], w, True)


cdef int64_t dram_block(Dram* m, int64_t addr, int64_t nbytes, int64_t t, int w) noexcept nogil:
    if m.detailed:
        return ctl_request(m, addr, t, nbytes, w)
    cdef int64_t seg = (<int64_t>1) << m.d[D_SEG_SHIFT]
    if seg > nbytes:
        seg = nbytes
    cdef int64_t nb = seg >> m.d[D_BURST_SHIFT]
    if nb < 1:
        nb = 1
    cdef int64_t done = t
    cdef int64_t a = addr
    while a < addr + nbytes:
        done = imax(done, dram_simple(m, a, t, nb, w) if m.simple else dram_request(m, a, t, nb, w, False))
        a += seg
    return done


cdef void bind_dram(Dram* m, const int64_t[::1] d, dict st, str prefix):
    cdef int64_t[::1] cnt = st[prefix + "counters"]
    cdef int64_t[::1] ract = st[prefix + "ract"]
    cdef int64_t[::1] rmk = st[prefix + "rmk"]
    cdef int64_t[::1] sc, defer
    memset(m, 0, sizeof(Dram))
    m.d = &d[0]
    m.cnt = &cnt[0]
    m.ract = &ract[0]
    m.rmk = &rmk[0]
    m.model = <int>d[D_MODEL]
    m.simple = m.model == MODEL_SIMPLE
    m.detailed = m.model == MODEL_DETAILED
    m.bank_xor = d[D_BG_XMASK] != 0 or d[D_BA_XMASK] != 0
    m.activity = d[D_ACTIVITY] != 0
    m.frfcfs, m.closed = d[D_FRFCFS] != 0, d[D_CLOSED] != 0
    m.n_banks, m.n_ranks = d[D_N_BANKS], d[D_N_RANKS]
    m.ba_bits, m.bg_bits = d[D_BA_BITS], d[D_BG_BITS]
    m.bpr = d[D_N_BANKS] // d[D_N_RANKS]
    m.burst_bytes = d[D_BURST_BYTES]
    m.row_timeout = d[D_ROW_TIMEOUT]
    m.target = -1
    m.cache_ch = -1
    if m.detailed:
        bind_ctl(m, d, st, prefix)
        if "scalars" in st and "defer" in st:   # in the whole-system core: its clock gives the horizon
            sc = st["scalars"]
            defer = st["defer"]
            m.sc = &sc[0]
            m.defer = &defer[0]
    else:
        bind_fast(m, d, st, prefix)


def dram_run(const int64_t[::1] d, dict st, str prefix, const int64_t[::1] t, const int64_t[::1] addr,
             const uint8_t[::1] w, int64_t[::1] out, int64_t[::1] acc=None, int64_t until=0):
    """Run line requests (arrays t, addr, w) through one DRAM (state `st[prefix + name]`); the
    completion times go to `out`, and if given, the times the controller accepted them to `acc`.
    The detailed model needs the requests in time order and runs until all are done (and at
    least to `until` ps). Same contract as `core.dram.dram_run`. Runs without the GIL."""
    cdef Py_ssize_t n = t.shape[0]
    if addr.shape[0] != n or w.shape[0] != n or out.shape[0] != n or (acc is not None and acc.shape[0] != n):
        raise ValueError("dram_run: t, addr, w, out and acc differ in length")
    cdef Dram m
    bind_dram(&m, d, st, prefix)
    if m.detailed:
        ctl_run(&m, t, addr, w, out, acc, until)
        return
    if n == 0:
        return
    cdef Py_ssize_t i
    cdef bint want_acc = acc is not None
    cdef int64_t* pacc = &acc[0] if want_acc else NULL
    with nogil:
        if want_acc:
            for i in range(n):
                out[i] = dram_line(&m, addr[i], t[i], w[i])
                pacc[i] = m.adm
        else:
            for i in range(n):
                out[i] = dram_line(&m, addr[i], t[i], w[i])


def dram_stream(const int64_t[::1] d, dict st, str prefix, int64_t ch, const int64_t[::1] t,
                const int64_t[::1] addr, const uint8_t[::1] w, int64_t upto, bint final,
                int64_t[::1] done, int64_t[::1] acc, int64_t[::1] wr):
    """The detailed model fed in pieces (hwmodel dram): requests to channel ch in time order,
    taken as its front end accepts them, simulating every cycle before ceil(upto / tCK) (final:
    until all are done, and at least that far). Completions of any request go to done, acc, wr
    in completion order. Returns (requests taken, completions written). Same contract as
    `core.dram.dram_stream`."""
    cdef Dram m
    bind_dram(&m, d, st, prefix)
    if not m.detailed:
        raise ValueError("dram_stream: the detailed model only (the others answer in dram_run)")
    return ctl_stream(&m, ch, t, addr, w, upto, final, done, acc, wr)


def dram_answer(const int64_t[::1] d, dict st, str prefix, int64_t addr, int64_t t, int64_t nbytes, int w):
    """One in-system request (tests): the DRAM bound as the core binds it (st["scalars"] and
    st["defer"] give the horizon), a request of nbytes at addr presented at t; its completion.
    Same contract as `core.dram.dram_answer`."""
    cdef Dram m
    bind_dram(&m, d, st, prefix)
    cdef int64_t done
    with nogil:
        if nbytes == (<int64_t>1) << d[D_LINE_SHIFT]:
            done = dram_line(&m, addr, t, w)
        else:
            done = dram_block(&m, addr, nbytes, t, w)
        ctl_settle()          # m lives for this call only: no run-ahead may be kept past it
    return done


def dram_finish(const int64_t[::1] d, dict st, str prefix, int64_t until=0):
    """End of a whole-system run: the detailed model commits every request it holds (and runs at
    least to `until` ps); the others have nothing to do."""
    cdef Dram m
    if int(d[D_MODEL]) != MODEL_DETAILED:
        return
    bind_dram(&m, d, st, prefix)
    ctl_finish(&m, until)


def dram_activity(const int64_t[::1] d, dict st, str prefix, int64_t h, int64_t[::1] out):
    """Per rank (channel-major), ps with at least one bank open in [0, h) into `out` (-1: known
    past h only through the marks); the state is not changed. Same contract as
    `core.dram.dram_activity`."""
    cdef Dram m
    bind_dram(&m, d, st, prefix)
    cdef int64_t nr = d[D_N_CH] * d[D_N_RANKS]
    if out.shape[0] != nr:
        raise ValueError(f"dram_activity: out holds {out.shape[0]} ranks, the DRAM has {nr}")
    if not m.activity:
        raise ValueError("rank activity is not accounted: compile the DRAM with dram_params(d, activity=True)")
    if m.detailed:
        ctl_activity(&m, h, out)
    else:
        fast_activity(&m, h, out)
