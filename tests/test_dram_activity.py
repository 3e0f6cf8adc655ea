"""What energy needs from the DRAM model: ACT and PRE commands, and per rank the time with at least
one bank open (DRAMsim3's rank_active_cycles), on both backends bit for bit.

The one-pass model answers requests out of time order, so each rank keeps its banks' open and close
events in a sorted ring and folds them into its active time up to a frontier no later event can
precede (core.dram's docstring). Checked here: hand-derived cases, the fold against a
brute-force union of every event, and the compiled core against its twin (Hypothesis)."""
import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import hwmodel.core.dram as ref
import hwmodel.core.dram_fast as fast_ref   # the one-pass models (fast, simple), whose events a test logs
from hwmodel import _dram_layout as L
from hwmodel.dram import DRAM
from hwmodel.memctrl import dram_params
from dram_helpers import activity, row_stride, run


def cycles(d, ps_list):
    return [v // d.tck_ps if v >= 0 else v for v in ps_list]


# -- hand-derived -------------------------------------------------------------------------------
def test_open_page_keeps_a_bank_open(backend):
    d = DRAM.preset("DDR4-2400", refresh_policy="none")
    _, st_, c = run(d, [0], [0], backend=backend, activity=True)
    assert (c["act_cmds"], c["pre_cmds"]) == (1, 0)
    h = 10_000 * d.tck_ps
    assert cycles(d, activity(d, st_, h, backend)) == [10_000, 0]    # ACT at 0, open ever after


def test_closed_page_closes_at_the_auto_precharge(backend):
    # ACT at 0, READ at tRCD, auto-precharge when it may: max(tRAS, tRCD + tRTP) = 39; not a PRE command
    d = DRAM.preset("DDR4-2400", refresh_policy="none", row_policy="closed")
    _, st_, c = run(d, [0, 1000 * 830], [0, 64], backend=backend, activity=True)
    assert (c["act_cmds"], c["pre_cmds"]) == (2, 0)
    assert cycles(d, activity(d, st_, 5000 * d.tck_ps, backend)) == [2 * d.tRAS, 0]


def test_timeout_closes_after_the_timeout(backend):
    # READ at tRCD = 17; the row closes 50 cycles after it (past tRAS): open 0 .. 67; a PRE command
    d = DRAM.preset("DDR4-2400", refresh_policy="none", row_policy="timeout", row_timeout=50)
    _, st_, c = run(d, [0, 1000 * 830], [0, row_stride(d)], backend=backend, activity=True)
    assert (c["act_cmds"], c["pre_cmds"]) == (2, 1)
    assert cycles(d, activity(d, st_, 2000 * d.tck_ps, backend)) == [2 * (d.tRCD + 50), 0]


def test_refresh_closes_the_banks_of_its_rank(backend):
    # rank 0's first refresh is due at tREFI / ranks = 4680: its open bank closes then (a PRE)
    d = DRAM.preset("DDR4-2400")
    rank1 = 1 << d.field_bits()["ra"][0]
    _, st_, c = run(d, [0, 100 * 830], [0, rank1], backend=backend, activity=True)
    h = 20_000 * d.tck_ps
    assert cycles(d, activity(d, st_, h, backend)) == [4680, 9360 - 100]
    # a refresh (and the PREs before it) is applied when its rank is next used: rank 0 at 15,000
    # (refreshes due at 4,680 and 14,040), rank 1 not yet (its activity above closes it anyway)
    _, st_, c = run(d, [0, 100 * 830, 15_000 * 830], [0, rank1, 64], backend=backend, activity=True)
    assert (c["act_cmds"], c["pre_cmds"], c["refreshes"]) == (3, 1, 2)
    assert cycles(d, activity(d, st_, h, backend)) == [4680 + (20_000 - 15_000), 9360 - 100]


def test_a_row_switch_is_a_pre_and_an_act(backend):
    d = DRAM.preset("DDR4-2400", refresh_policy="none")
    _, st_, c = run(d, [0, 1000 * 830], [0, row_stride(d)], backend=backend, activity=True)
    assert (c["act_cmds"], c["pre_cmds"], c["row_conflicts"]) == (2, 1, 1)
    # closed for tRP between the PRE at 1000 and the ACT
    assert cycles(d, activity(d, st_, 3000 * d.tck_ps, backend)) == [3000 - d.tRP, 0]


def test_acts_are_row_misses_plus_conflicts(backend):
    for cfg in (dict(), dict(row_policy="closed"), dict(model="simple"), dict(row_policy="timeout")):
        d = DRAM.preset("DDR4-2400", **cfg)
        rng = np.random.default_rng(1)
        n = 3000
        t = np.cumsum(rng.integers(0, 30, n)) * 830
        addr = rng.integers(0, 1 << 22, n) * 64
        _, _, c = run(d, t, addr, (rng.random(n) < 0.3).astype(np.uint8), backend=backend, activity=True)
        assert c["act_cmds"] == c["row_misses"] + c["row_conflicts"], cfg


def test_activity_off_costs_nothing_and_says_so():
    d = DRAM.preset("DDR4-2400")
    _, st_, c = run(d, [0], [0])
    assert st_["rev"].sum() == 0 and c["act_cmds"] == 1       # commands are counted either way
    import hwmodel._core as core
    for m in (core, ref):
        with pytest.raises(ValueError, match="rank activity is not accounted"):
            m.dram_activity(dram_params(d), st_, "", 1000, np.zeros(2, np.int64))


# -- the fold against a brute-force union of all events ------------------------------------------
class _Logged:
    """Mixin: record every bank open/close event as the model makes it."""
    def _ra_event(self, r, t, opens):
        self.log.append((r, t, opens))
        super()._ra_event(r, t, opens)


def _union(events, h):
    n = front = act = 0
    for t, opens in sorted((t, o) for t, o in events):
        if t >= h:
            break
        if n > 0:
            act += t - front
        front = t
        n += 1 if opens else -1
        assert n >= 0
    return act + (h - front if n > 0 else 0)


@pytest.mark.parametrize("cfg, load", [(dict(), 12), (dict(), 2), (dict(row_policy="timeout"), 6),
                                       (dict(row_policy="closed"), 4), (dict(model="simple"), 3),
                                       (dict(refresh_policy="rank_level_simultaneous"), 5)])
def test_fold_equals_the_union_of_every_event(cfg, load):
    d = DRAM.preset("DDR4-2400", **cfg)
    p = dram_params(d, activity=True)
    st_ = L.new_dram_state(p)
    period = 3000 * d.tck_ps
    L.set_marks(st_, period, period, L.NO_MARK)
    base = fast_ref.SimpleDram if d.model == "simple" else fast_ref.Dram
    m = type("M", (_Logged, base), {})(p, st_, "")
    m.log = []
    rng = np.random.default_rng(load)
    n = 12_000
    hot = rng.integers(0, 1 << 20, 32) * 64
    addr = np.where(rng.random(n) < 0.5, hot[rng.integers(0, 32, n)], rng.integers(0, 1 << 28, n) * 64)
    t = np.cumsum(rng.integers(0, 2 * load, n)) * d.tck_ps
    w = rng.random(n) < 0.3
    for i in range(n):
        m.line(int(addr[i]), int(t[i]), int(w[i]))
    m.save()
    marks = L.take_marks(st_)
    ranks = d.channels * d.ranks
    for r in range(ranks):
        ev = [(tt, o) for rr, tt, o in m.log if rr == r]
        assert marks[r], "no mark crossed: the test would not test them"
        assert marks[r] == [_union(ev, (k + 1) * period) for k in range(len(marks[r]))]
        for h in (int(t[-1]), int(t[-1]) + 10**8):
            got = m.activity(h)[r]
            if got >= 0:     # closes that are certain before h complete the union
                closes = [(m._close_by(b, h), 0) for b in range(r * m.bpr, (r + 1) * m.bpr)
                          if m.open_row[b] >= 0 and m._close_by(b, h) < h]
                assert got == _union(ev + closes, h)


# -- compiled == reference -----------------------------------------------------------------------
def _both(d, t, addr, w, marks=None):
    res = []
    for backend in ("compiled", "reference"):
        p = dram_params(d, activity=True)
        st_ = L.new_dram_state(p)
        if marks:
            L.set_marks(st_, *marks)
        out, st_, c = run(d, t, addr, w, backend, st_, activity=True)
        hs = [int(t[-1]) // 2, int(t[-1]), int(out.max()) + 10**7]
        res.append((out.tolist(), c, {k: v.tolist() for k, v in st_.items()},
                    [activity(d, st_, h, backend) for h in hs]))
    return res


CONFIGS = [dict(), dict(row_policy="closed"), dict(row_policy="timeout", row_timeout=20),
           dict(scheduler="fcfs"), dict(channels=2, ranks=1, bank_xor=True),
           dict(refresh_policy="rank_level_simultaneous", trans_queue_size=8, cmd_queue_size=2),
           dict(model="simple"), dict(model="simple", row_policy="timeout")]


@pytest.mark.parametrize("cfg", range(len(CONFIGS)))
def test_compiled_equals_reference_with_activity(cfg):
    d = DRAM.preset("DDR4-2400", **CONFIGS[cfg])
    rng = np.random.default_rng(cfg)
    n = 6000
    t = np.cumsum(rng.integers(0, 30, n)) * 830 + rng.integers(0, 830, n)
    t[::50] -= 3000                                   # a little out of order, as swap traffic is
    t = np.maximum(t, 0)
    hot = rng.integers(0, 1 << 20, 16) * 64
    addr = np.where(rng.random(n) < 0.5, hot[rng.integers(0, 16, n)], rng.integers(0, d.capacity_bytes // 64, n) * 64)
    w = (rng.random(n) < 0.3).astype(np.uint8)
    a, b = _both(d, t, addr, w, marks=(200_000, 700_000, L.NO_MARK))
    assert a == b


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(policy=st.sampled_from(["open", "closed", "timeout"]), model=st.sampled_from(["detailed", "simple"]),
       refresh=st.sampled_from(["rank_level_staggered", "rank_level_simultaneous", "none"]),
       ranks=st.sampled_from([1, 2, 4]), queue=st.sampled_from([2, 8, 32]), gap=st.integers(0, 40),
       n=st.integers(1, 1500), seed=st.integers(0, 2**31), period=st.integers(1, 5000))
def test_backends_identical_on_random_drams(policy, model, refresh, ranks, queue, gap, n, seed, period):
    d = DRAM.preset("DDR4-2400", row_policy=policy, model=model, refresh_policy=refresh, ranks=ranks,
                    trans_queue_size=queue, cmd_queue_size=max(2, queue // 4), row_timeout=17, tREFI=2000)
    rng = np.random.default_rng(seed)
    t = np.cumsum(rng.integers(0, gap + 1, n)) * d.tck_ps
    hot = rng.integers(0, 1 << 16, 8) * 64
    addr = np.where(rng.random(n) < 0.6, hot[rng.integers(0, 8, n)], rng.integers(0, d.capacity_bytes // 64, n) * 64)
    w = (rng.random(n) < 0.3).astype(np.uint8)
    ps = period * d.tck_ps
    a, b = _both(d, t, addr, w, marks=(ps, ps, 40 * ps))
    assert a == b


def test_a_tiny_ring_folds_early_and_stays_consistent():
    # with too few slots the ring folds its earliest event before it is final; later events
    # before the frontier are moved onto it: an approximation, identical on both backends, that
    # never loses an event (open counts stay between 0 and the banks of the rank)
    d = DRAM.preset("DDR4-2400")
    res = []
    for backend in ("compiled", "reference"):
        p = dram_params(d, activity=True)
        p[L.D["RA_SLOTS"]] = 8
        st_ = L.new_dram_state(p)
        rng = np.random.default_rng(4)
        n = 5000
        t = np.arange(n, dtype=np.int64) * 2 * 830
        addr = rng.integers(0, 1 << 26, n) * 64
        out = np.zeros(n, np.int64)
        (__import__("hwmodel._core", fromlist=["x"]) if backend == "compiled" else ref).dram_run(
            p, st_, "", t, addr, np.zeros(n, np.uint8), out)
        ract = st_["ract"].reshape(-1, len(L.ACT_FIELDS))
        assert ((0 <= ract[:, L.DA["NOPEN"]]) & (ract[:, L.DA["NOPEN"]] <= 16)).all()
        res.append({k: v.tolist() for k, v in st_.items()})
    assert res[0] == res[1]


def test_record_fields_in_the_pxi_match_the_layout():
    import re
    from pathlib import Path
    text = (Path(L.__file__).parent / "core" / "dram.pxi").read_text()
    enums = {m.group(1): int(m.group(2)) for m in re.finditer(r"^\s+(DA_\w+|RA_MARKS) = (\d+)", text, re.M)}
    assert enums["DA_W"] == len(L.ACT_FIELDS) and enums["RA_MARKS"] == L.RA_MARKS
    for i, name in enumerate(L.ACT_FIELDS):
        assert enums["DA_" + name] == i, name
