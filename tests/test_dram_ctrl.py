"""The detailed DRAM controller (DRAM.model = "detailed", core/dram_ctrl.pxi / core/dram_ctrl.py).

- its event-driven run equals the same rules ticked every cycle (tests/dram_tick.py), on random
  configurations and traces (Hypothesis), on both backends: completions, acceptances, counters and
  rank activity;
- the compiled controller equals its twin, state array for state array;
- hand-derived cases: unloaded latencies, posted writes, forwarding and merging, the R->W rule that
  DRAMsim3 deadlocks on, refresh blocking a rank, closed page;
- in-system answers: a request answered ahead and rolled back leaves the state as it was, and
  answers given in time order are the committed completions.
"""
import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import hwmodel._core as core
import hwmodel.core.dram as ref
from hwmodel import _dram_layout as L
from hwmodel._layout import S, SCALAR_NAMES, DEFER_CAP, DEFER_FIELDS
from hwmodel.dram import DRAM
from hwmodel.memctrl import dram_params
from dram_tick import Tick

BACKENDS = {"compiled": core, "reference": ref}


def run(d, t, addr, w, backend="compiled", until=0, activity=True):
    p = dram_params(d, activity=activity)
    st_ = L.new_dram_state(p)
    t = np.asarray(t, np.int64)
    out = np.zeros(len(t), np.int64)
    acc = np.zeros(len(t), np.int64)
    BACKENDS[backend].dram_run(p, st_, "", t, np.asarray(addr, np.int64), np.asarray(w, np.uint8), out, acc, until)
    return out, acc, st_, dict(zip(L.DRAM_COUNTER_NAMES, st_["counters"].tolist())), p


def address(d, rank=0, bg=0, bank=0, row=0, col=0):
    fb = d.field_bits()
    return (row << fb["ro"][0]) | (rank << fb["ra"][0]) | (bg << fb["bg"][0]) | (bank << fb["ba"][0]) | (col << fb["co"][0])


# -- the event-driven run is the rules ticked cycle by cycle ------------------------------------
configs = st.fixed_dictionaries({
    "refresh_policy": st.sampled_from(["none", "rank_level_staggered", "rank_level_simultaneous", "bank_level_staggered"]),
    "row_policy": st.sampled_from(["open", "closed", "timeout"]),
    "queue_structure": st.sampled_from(["per_bank", "per_rank"]),
    "scheduler": st.sampled_from(["frfcfs", "fcfs"]),
    "trans_queue_size": st.integers(1, 8),
    "cmd_queue_size": st.integers(1, 6),
    "write_low_mark": st.integers(0, 6),
    "row_timeout": st.integers(1, 80),
    "tREFI": st.integers(300, 900),
    "tRFC": st.integers(20, 120),
    "tREFIb": st.integers(60, 200),
    "tRFCb": st.integers(5, 30),
    "ranks": st.sampled_from([1, 2]),
})


@st.composite
def traces(draw):
    n = draw(st.integers(1, 160))
    gaps = draw(st.lists(st.integers(0, 40), min_size=n, max_size=n))
    scale = draw(st.sampled_from([830, 415, 1000, 83]))    # aligned, half cycles, unaligned
    cells = draw(st.lists(st.tuples(st.integers(0, 1), st.integers(0, 3), st.integers(0, 1), st.integers(0, 2),
                                    st.integers(0, 3), st.booleans()), min_size=n, max_size=n))
    wfrac = draw(st.sampled_from([0.0, 0.3, 0.7]))
    return np.cumsum(gaps) * scale, cells, wfrac


@pytest.mark.parametrize("backend_", ["compiled", "reference"])
@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(cfg=configs, tr=traces())
def test_event_driven_run_is_the_rules_ticked_every_cycle(backend_, cfg, tr):
    backend = backend_
    d = DRAM.preset("DDR4-2400", model="detailed", **cfg)
    t, cells, wfrac = tr
    addr = [address(d, ra % d.ranks, bg, ba, row, col) for ra, bg, ba, row, col, _ in cells]
    w = [1 if (k % 10) < wfrac * 10 and wr else 0 for k, (*_, wr) in enumerate(cells)]
    until = int(t[-1]) + 3 * d.tREFI * d.tck_ps
    out, acc, st_, c, p = run(d, t, addr, w, backend, until)
    tk = Tick(p)
    o2, a2, end = tk.run(t, addr, w, until)
    assert out.tolist() == o2 and acc.tolist() == a2
    for k, v in tk.cnt.items():
        assert c[k] == v, k
    act = np.zeros(d.ranks, np.int64)
    BACKENDS[backend].dram_activity(p, st_, "", end * d.tck_ps, act)
    assert act.tolist() == [a * d.tck_ps for a in tk.active]


# -- compiled = twin, state and all --------------------------------------------------------------
@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(cfg=configs, tr=traces(), channels=st.sampled_from([1, 2]))
def test_compiled_equals_its_twin(cfg, tr, channels):
    d = DRAM.preset("DDR4-2400", model="detailed", channels=channels, address_mapping="rorabgbacoch", **cfg)
    t, cells, wfrac = tr
    rng = np.random.default_rng(len(cells))
    addr = (rng.integers(0, 1 << 16, len(cells)) * 64).tolist()
    w = (rng.random(len(cells)) < wfrac).astype(np.uint8)
    assert_backends_agree(d, t, addr, w)


def assert_backends_agree(d, t, addr, w):
    """Completions, acceptances and every state array equal between compiled and twin."""
    a = run(d, t, addr, w, "compiled", int(t[-1]))
    b = run(d, t, addr, w, "reference", int(t[-1]))
    assert a[0].tolist() == b[0].tolist() and a[1].tolist() == b[1].tolist()
    for k in a[2]:
        assert a[2][k].tolist() == b[2][k].tolist(), k


# the compiled controller keeps per-queue masks in 64-bit words and per-queue-entry masks: many
# ranks (64, 128 queues: one word full, two words) and long command queues take their other paths
@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(cfg=configs, tr=traces(), ranks=st.sampled_from([4, 8]), cq=st.sampled_from([2, 70]))
def test_compiled_equals_its_twin_many_queues(cfg, tr, ranks, cq):
    cfg = {**cfg, "ranks": ranks, "cmd_queue_size": cq}
    d = DRAM.preset("DDR4-2400", model="detailed", address_mapping="rorabgbacoch", **cfg)
    t, cells, wfrac = tr
    rng = np.random.default_rng(len(cells))
    addr = [address(d, int(rng.integers(0, ranks)), bg, ba, row, col) for _, bg, ba, row, col, _ in cells]
    w = (rng.random(len(cells)) < wfrac).astype(np.uint8)
    assert_backends_agree(d, t, addr, w)


# -- hand-derived ----------------------------------------------------------------------------------
def test_unloaded_latencies_from_acceptance(backend):
    # a request is taken the cycle after it arrives, moves to its bank's queue that cycle, and its
    # first command issues the next: from acceptance, 1 + [tRP] + [tRCD] + CL + burst cycles
    d = DRAM.preset("DDR4-2400", model="detailed", refresh_policy="none")
    gap = 1000 * d.tck_ps
    t = [0, gap, 2 * gap]
    out, acc, _, c, _ = run(d, t, [0, 64 * 3, address(d, row=5)], [0, 0, 0], backend)
    lat = ((out - acc) // d.tck_ps).tolist()
    one = 1 + d.CL + d.burst_cycles
    assert lat == [one + d.tRCD, one, one + d.tRP + d.tRCD]
    assert ((acc - np.array(t)) // d.tck_ps).tolist() == [1, 1, 1]
    assert (c["row_misses"], c["row_hits"], c["row_conflicts"]) == (1, 1, 1)
    assert (c["act_cmds"], c["pre_cmds"]) == (2, 1)


def test_writes_are_posted_and_forward_and_merge(backend):
    d = DRAM.preset("DDR4-2400", model="detailed", refresh_policy="none")
    tck = d.tck_ps
    # a write, a write to the same line (merges), a read of it (served from the buffer)
    out, acc, _, c, _ = run(d, [0, 10 * tck, 20 * tck], [4096, 4096, 4096], [1, 1, 0], backend)
    assert ((out - acc) // tck).tolist() == [1, 1, 1]
    assert (c["write_merges"], c["read_forwards"], c["write_cmds"], c["read_cmds"]) == (1, 1, 0, 0)


def test_write_drain_starts_above_the_low_mark_with_the_queues_idle(backend):
    d = DRAM.preset("DDR4-2400", model="detailed", refresh_policy="none")
    n = d.write_low_mark
    t = np.arange(n + 1) * 100 * d.tck_ps
    later = int(t[-1]) + 1000 * d.tck_ps      # (the run goes on after the last write is taken)
    _, _, _, c, _ = run(d, t[:n], np.arange(n) * 8192, np.ones(n), backend, until=later)
    assert c["write_cmds"] == 0                # at the mark: still buffered
    _, _, _, c, _ = run(d, t, np.arange(n + 1) * 8192, np.ones(n + 1), backend, until=later)
    assert c["write_cmds"] == n + 1           # one more: the buffer drains


def test_a_drain_waiting_for_a_read_in_the_read_queue_moves_reads(backend):
    # DRAMsim3 deadlocks here: a full write buffer whose first write waits for an older read of
    # its address that sits in the read queue behind reads to a full command queue
    d = DRAM.preset("DDR4-2400", model="detailed", refresh_policy="none", trans_queue_size=4, cmd_queue_size=1)
    tck = d.tck_ps
    same = address(d, bank=1, row=3)
    reqs = [(address(d, row=r), 0) for r in (1, 2)]          # bank 0: one queued, one waiting
    reqs += [(same, 0)]                                        # the read the write depends on
    reqs += [(same, 1)] + [(address(d, bank=2, row=r), 1) for r in range(3)]   # fills the buffer
    t = np.arange(len(reqs)) * tck
    out, _, _, c, _ = run(d, t, [a for a, _ in reqs], [w for _, w in reqs], backend)
    assert (out > 0).all() and c["reads"] == 3 and c["writes"] == 4


def test_refresh_blocks_its_rank_and_precharges_it(backend):
    # rank 0 falls due at tREFI / ranks: its open row is precharged, REF issues, and a read that
    # arrives meanwhile waits for tRFC after it
    d = DRAM.preset("DDR4-2400", model="detailed")
    tck = d.tck_ps
    due = d.tREFI // d.ranks
    out, acc, _, c, _ = run(d, [0, due * tck], [0, 64], [0, 0], backend, until=(due + 2000) * tck)
    assert (c["refreshes"], c["pre_cmds"], c["act_cmds"]) == (1, 1, 2)
    # the read arrives at the due cycle, is taken at due + 1 and moved to its queue; PRE at
    # due (tRAS has passed), REF tRP later, ACT tRFC after the REF
    ref_at = due + d.tRP
    assert out[1] // tck == ref_at + d.tRFC + d.tRCD + d.CL + d.burst_cycles


def test_closed_page_activates_every_access(backend):
    d = DRAM.preset("DDR4-2400", model="detailed", refresh_policy="none", row_policy="closed")
    gap = 1000 * d.tck_ps
    out, acc, _, c, _ = run(d, [0, gap], [0, 64], [0, 0], backend)
    assert ((out - acc) // d.tck_ps).tolist() == [1 + d.tRCD + d.CL + d.burst_cycles] * 2
    assert (c["act_cmds"], c["pre_cmds"], c["row_misses"]) == (2, 0, 2)


def test_bad_order_is_refused(backend):
    d = DRAM.preset("DDR4-2400", model="detailed")
    with pytest.raises(ValueError, match="time order"):
        run(d, [100, 0], [0, 64], [0, 0], backend)


# -- in-system answers --------------------------------------------------------------------------------
class _Clock:
    """A stand-in for the whole-system core's scalars and held-back write-backs."""

    def __init__(self):
        self.sc = np.zeros(len(SCALAR_NAMES), np.int64)
        self.defer = np.zeros(DEFER_CAP * len(DEFER_FIELDS), np.int64)

    def at(self, t):
        self.sc[S["started"]] = 1
        self.sc[S["last_arrival_ps"]] = t


def _in_system(d, t, addr, w, backend):
    """Present requests one by one with the horizon at each one's arrival; the answers."""
    p = dram_params(d)
    st_ = L.new_dram_state(p)
    clock = _Clock()
    st_["scalars"], st_["defer"] = clock.sc, clock.defer
    out = []
    for ti, a, wi in zip(t, addr, w):
        clock.at(int(ti))
        out.append(BACKENDS[backend].dram_answer(p, st_, "", int(a), int(ti), 64, int(wi)))
    return out, st_, p


@pytest.mark.parametrize("name", ["random", "hot"])
def test_an_in_system_answer_sees_the_requests_presented_so_far(backend, name):
    # presented in time order, with the horizon at each arrival: request i's answer is its
    # completion in a run of requests 0 .. i (a later request may still change it: FR-FCFS lets a
    # later row hit go first, and the round robin may give it the command bus)
    d = DRAM.preset("DDR4-2400", model="detailed", tREFI=2000)
    rng = np.random.default_rng(3)
    n = 90
    t = np.cumsum(rng.integers(0, 30, n)) * d.tck_ps
    addr = (rng.integers(0, 1 << 24, n) * 64 if name == "random" else
            rng.integers(0, 4, n) * (1 << d.field_bits()["ro"][0]) + rng.integers(0, 32, n) * 64)
    w = (rng.random(n) < 0.3).astype(np.uint8)
    ans, st_, p = _in_system(d, t, addr, w, backend)
    for i in range(n):
        out, *_ = run(d, t[:i + 1], addr[:i + 1], w[:i + 1], backend)
        assert ans[i] == out[i], i
    # and the committed run, finished, is the run of them all
    BACKENDS[backend].dram_finish(p, st_, "")
    out, _, st2, c2, _ = run(d, t, addr, w, backend, activity=False)
    assert dict(zip(L.DRAM_COUNTER_NAMES, st_["counters"].tolist())) == c2


def test_an_answer_leaves_the_controller_as_it_was(backend):
    d = DRAM.preset("DDR4-2400", model="detailed", tREFI=2000)
    p = dram_params(d)
    st_ = L.new_dram_state(p)
    clock = _Clock()
    st_["scalars"], st_["defer"] = clock.sc, clock.defer
    mod = BACKENDS[backend]
    rng = np.random.default_rng(9)
    t = 0
    for k in range(50):      # requests presented ahead of the horizon pile up in the front end
        t += int(rng.integers(0, 40)) * d.tck_ps
        clock.at(t // 2)
        mod.dram_answer(p, st_, "", int(rng.integers(0, 1 << 20)) * 64, t, 64, int(k % 3 == 0))
    before = {k: v.copy() for k, v in st_.items() if k not in ("scalars", "defer")}
    clock.at(t // 2)
    mod.dram_answer(p, st_, "", 12345 * 64, t + 1000, 64, 0)
    for k, v in before.items():
        if k in ("fe", "channels", "counters"):
            continue         # the new request is held, its ticket taken
        assert st_[k].tolist() == v.tolist(), k


def test_in_system_matches_between_backends():
    d = DRAM.preset("DDR4-2400", model="detailed", tREFI=3000, channels=2, address_mapping="rorabgbacoch")
    rng = np.random.default_rng(4)
    n = 300
    states = []
    for backend in BACKENDS:
        p = dram_params(d)
        st_ = L.new_dram_state(p)
        clock = _Clock()
        st_["scalars"], st_["defer"] = clock.sc, clock.defer
        g = np.random.default_rng(4)
        ans = []
        t = 0
        for k in range(n):   # out of order: each request up to 2 us after a horizon that lags
            t += int(g.integers(0, 50)) * 100
            clock.at(t)
            ahead = int(g.integers(0, 2000)) * 1000
            nbytes = 4096 if k % 17 == 0 else 64
            ans.append(BACKENDS[backend].dram_answer(p, st_, "", int(g.integers(0, 1 << 18)) * 4096 % d.capacity_bytes,
                                                       t + ahead, nbytes, int(k % 4 == 0)))
        BACKENDS[backend].dram_finish(p, st_, "")
        states.append((ans, st_))
    assert states[0][0] == states[1][0]
    for k in states[0][1]:
        assert states[0][1][k].tolist() == states[1][1][k].tolist(), k
