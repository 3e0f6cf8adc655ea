"""Sampled simulation (issue 18, hwmodel/core/sampler.py): the schedule, the configuration and its
errors, both backends alike, exact counters, save/resume, the intervals in every output.

The accuracy of the estimates on the benchmark systems is checked in test_sampling_validation.py."""
import dataclasses
import json
import math

import numpy as np
import pytest

from hwmodel import System
from hwmodel.cli import main
from hwmodel.core.sampler import EXACT_COUNTERS, Sampler, Sampling, t95
from hwmodel.study.compare import compare_table, format_table
from hwmodel.trace import generate, write_trace


def _system(**sampling):
    """A small page_swap system: 256 KiB local for a 2 MiB VM (most of it remote), window 8."""
    return System.from_dict({"compute": {"local_memory": "256KiB", "vms": [{"name": "vm0", "memory": "2MiB"}]},
                             "hypervisor": {"super_page": "64KiB", "victim": "lru"},
                             "memory_blade": {"capacity": "16MiB", "super_page": "1MiB"},
                             "core": {"window": 8},
                             **({"sampling": sampling} if sampling else {})})


def _trace(n=20_000, seed=5):
    c = generate("hotcold", n, 2 << 20, read_ratio=0.7, seed=seed)
    return {"addr": c.addr, "op": c.op, "vm": c.vm}


# -- configuration -----------------------------------------------------------------------------
def test_a_sampling_section_turns_sampling_on_with_defaults():
    assert not System().sampling.enabled
    s = System.from_dict({"sampling": {"unit": 500}}).sampling
    assert s.enabled and (s.unit, s.period, s.warmup, s.seed) == (500, 100, 100, 0)    # warmup: a fifth
    assert Sampling().warmup == 2000
    assert System.from_dict({}, ["sampling.period=7"]).sampling == Sampling(enabled=True, period=7)
    assert not System.from_dict({"sampling": {"enabled": False, "unit": 500}}).sampling.enabled
    # round trip through YAML keeps it
    sys2 = System.from_dict({"sampling": {"unit": 5000, "period": 10, "warmup": 100, "seed": 3}})
    import yaml
    assert System.from_dict(yaml.safe_load(sys2.to_yaml())).sampling == sys2.sampling


@pytest.mark.parametrize("override, message", [
    ("sampling.unit=0", "sampling.unit: 0 must be >= 1"),
    ("sampling.period=0", "sampling.period: 0 must be >= 1"),
    ("sampling.warmup=10000", "sampling.warmup: 10000 must be >= 0 and less than sampling.unit"),
    ("sampling.warmup=-1", "sampling.warmup: -1 must be >= 0"),
    ("sampling.unit=1.5", "sampling.unit: 1.5 is not a whole number"),
    ("sampling.seed=-2", "sampling.seed: -2 must be >= 0"),
    ("sampling.enabled=maybe", "sampling.enabled: 'maybe' is not true or false"),
    ("sampling.stride=3", "sampling.stride: unknown parameter"),
])
def test_bad_sampling_is_named_and_the_cli_exits_1_without_a_traceback(override, message, capsys):
    with pytest.raises(ValueError, match=message.replace("(", r"\(").replace(")", r"\)")):
        System.from_dict({}, [override])
    assert main(["run", "--sample", "-p", override, "--quiet"]) == 1
    err = capsys.readouterr().err
    assert message in err and "Traceback" not in err


def test_schedule_measures_one_unit_in_period_after_its_warmup():
    class E:    # the schedule needs no engine state beyond these
        state = {"hist": np.zeros(4, np.int64), "vm_hist": np.zeros(1, np.int64), "vm_stats": np.zeros(7, np.int64)}
        c = type("C", (), {"param": staticmethod(lambda name: 1)})()
    cfg = Sampling(enabled=True, unit=100, period=5, warmup=30, seed=11)
    s = Sampler(cfg, E(), closed=True)
    off = cfg.offset
    assert 0 <= off < 5 and off == Sampling(enabled=True, unit=100, period=5, warmup=30, seed=11).offset
    modes = [s.mode(i) for i in range(2000)]
    for i, m in enumerate(modes):
        k = i // 100
        if k % 5 == off:
            assert m == "measure"
        elif i < 30 or ((k + 1) % 5 == off and i % 100 >= 70):
            assert m == "warm"
        else:
            assert m == "func"
    # segments tile any chunk and agree with mode(); a measured unit stays whole within a chunk
    for start, n in ((0, 2000), (37, 555), (1234, 1), (99, 2)):
        segs = s.segments(start, n)
        assert segs[0][1] == 0 and segs[-1][2] == n and all(a[2] == b[1] for a, b in zip(segs, segs[1:]))
        for m, a, b in segs:
            assert all(s.mode(start + j) == m for j in range(a, b))
            if m == "measure":
                assert (start + a) // 100 == (start + b - 1) // 100
    seeds = {Sampling(enabled=True, period=5, seed=x).offset for x in range(40)}
    assert seeds == set(range(5))       # the seed draws every offset


def test_t_quantiles():
    assert t95(1) == pytest.approx(12.706) and t95(30) == pytest.approx(2.042)
    assert t95(31) == pytest.approx(2.0395, abs=2e-3) and t95(1000) == pytest.approx(1.9623, abs=1e-3)
    assert t95(0) == math.inf


# -- runs ------------------------------------------------------------------------------------------
def test_both_backends_give_the_same_sampled_run():
    tr = _trace(6000)
    sysd = _system(unit=500, period=4, warmup=100, seed=1)
    a = sysd.run(tr, backend="compiled", progress=False)
    b = sysd.run(tr, backend="reference", progress=False)
    assert a.counters == b.counters
    assert json.dumps(a.to_dict()["sampling"], sort_keys=True) == json.dumps(b.to_dict()["sampling"], sort_keys=True)


def test_exact_counters_equal_the_full_run_and_estimates_come_with_intervals(backend):
    tr = _trace(12_000 if backend == "compiled" else 6000)
    full = _system().run(tr, backend=backend, progress=False)
    r = _system(unit=200, period=4, warmup=50, seed=2).run(tr, backend=backend, progress=False)
    sm = r.sampling
    assert sm["exact"] == list(EXACT_COUNTERS)
    for k in EXACT_COUNTERS:
        assert r.counters[k] == full.counters[k], k
    assert sm["functional_accesses"] > 0.5 * r.accesses
    assert sm["units_measured"] == len([k for k in range(len(tr["addr"]) // 200) if k % 4 == Sampling(period=4, seed=2).offset])
    e = sm["estimates"]
    for name in ("sim_time_ns", "read_latency_mean_ns", "read_latency_p99_ns", "write_latency_mean_ns",
                 "simulated_throughput_maccess_per_s", "row_hit_rate_local", "dram_GBps_blade", "link_GBps_out"):
        lo, hi = e[name]["ci95"]
        assert lo <= e[name]["value"] <= hi and e[name]["half_width"] > 0, name
    # the result's own figures are the estimates
    assert r.sim_time_ps / 1000 == pytest.approx(e["sim_time_ns"]["value"], rel=1e-9, abs=1)
    assert r.latency_ns("read")["mean"] == pytest.approx(e["read_latency_mean_ns"]["value"], rel=1e-6)
    # ... and near the full run's (loosely here: test_sampling_validation checks the accuracy)
    assert r.sim_time_ps == pytest.approx(full.sim_time_ps, rel=0.25)
    assert r.latency_ns("read")["mean"] == pytest.approx(full.latency_ns("read")["mean"], rel=0.25)


def test_period_1_without_warmup_is_the_full_run(backend):
    """Every unit measured, nothing functional: a census, the full run's figures with no error."""
    tr = _trace(3000)
    full = _system().run(tr, backend=backend, progress=False)
    r = _system(unit=250, period=1, warmup=0).run(tr, backend=backend, progress=False)
    assert r.counters == full.counters and np.array_equal(r.hist, full.hist)
    assert r.sampling["functional_accesses"] == 0 and r.sampling["units_measured"] == 12
    for name, e in r.sampling["estimates"].items():
        assert e["half_width"] == 0 or math.isnan(e["value"]), name
    assert r.sampling["estimates"]["sim_time_ns"]["value"] == full.sim_time_ps / 1000


def test_open_loop_trace_is_sampled_too(backend):
    c = generate("hotcold", 4000, 2 << 20, read_ratio=0.7, seed=9, interval=1_000_000)   # 1 us apart: it keeps up
    tr = {"time": c.time, "addr": c.addr, "op": c.op, "vm": c.vm, "time_unit": "ps"}
    full = _system().run(tr, backend=backend, progress=False)
    r = _system(unit=100, period=5, warmup=20).run(tr, backend=backend, progress=False)
    assert r.timing == "open" and r.sampling["units_measured"] == 8
    for k in EXACT_COUNTERS:
        assert r.counters[k] == full.counters[k], k
    assert r.counters["first_arrival_ps"] == full.counters["first_arrival_ps"]
    # the system keeps up with this trace: the estimates hold, and no warning about a backlog
    assert r.sampling["backlog_growth"] < 0.05 and "falls behind" not in r.sampling["advice"]
    assert r.sim_time_ps == pytest.approx(full.sim_time_ps, rel=0.02)
    lo, hi = r.sampling["estimates"]["read_latency_mean_ns"]["ci95"]
    assert lo <= full.latency_ns("read")["mean"] <= hi


def test_a_system_that_falls_behind_an_open_loop_trace_is_flagged(backend):
    """Arrivals faster than the system serves them: the backlog builds over the whole run, which
    the functional stretches cannot carry; the sampled run says its time estimates are too low."""
    c = generate("uniform", 3000, 2 << 20, read_ratio=0.7, seed=9, interval=20)
    tr = {"time": c.time, "addr": c.addr, "op": c.op, "vm": c.vm, "time_unit": "ps"}
    full = _system().run(tr, backend=backend, progress=False)
    r = _system(unit=100, period=5, warmup=20).run(tr, backend=backend, progress=False)
    assert r.sampling["backlog_growth"] > 1
    assert r.sampling["advice"].startswith("sampling: the system falls behind this open-loop trace")
    assert r.sim_time_ps < 0.8 * full.sim_time_ps      # what the warning is about
    assert "WARNING             sampling: the system falls behind" in r.summary()


def test_too_small_a_sample_says_how_to_fix_it():
    seed = next(x for x in range(100) if Sampling(period=10, seed=x).offset < 8)      # one unit measured
    r = _system(unit=1000, period=10, warmup=100, seed=seed).run(_trace(8000), progress=False)
    assert r.sampling["units_measured"] == 1
    assert "only 1 measured unit" in r.sampling["advice"] and "sampling.unit" in r.sampling["advice"]
    assert r.sampling["estimates"]["sim_time_ns"]["half_width"] == math.inf
    d = json.loads(r.to_json())      # no inf in JSON: null
    assert d["sampling"]["estimates"]["sim_time_ns"]["half_width"] is None
    assert "WARNING             sampling: only 1 measured unit" in r.summary()
    big = _system(unit=100, period=2, warmup=10).run(_trace(8000), progress=False)
    assert big.sampling["units_measured"] == 40
    seed = next(x for x in range(100) if Sampling(period=10, seed=x).offset >= 8)     # none
    with pytest.raises(ValueError, match=r"sampling: the trace \(8,000 accesses\) ended before the first measured unit"):
        _system(unit=1000, period=10, warmup=100, seed=seed).run(_trace(8000), progress=False)


def test_save_and_resume_a_sampled_run(tmp_path, backend):
    """A sampled run saved after every chunk and resumed from a mid-run state ends as the
    uninterrupted run does (the sampler's record travels in the state's header)."""
    n = 8000 if backend == "compiled" else 4000
    chunk = generate("hotcold", n, 2 << 20, read_ratio=0.7, seed=4)
    trace = tmp_path / "t.npz"
    write_trace(trace, chunk, format="native", timing="none")
    sysd = _system(unit=300, period=3, warmup=60, seed=5)
    whole = sysd.run(str(trace), backend=backend, progress=False, chunk_records=1000)
    state = tmp_path / "s.npz"
    # run the first half of the chunks only, saving after each, then resume the whole trace from there
    from hwmodel.core import runner
    src = runner.as_source(str(trace), 1000)
    cut = runner._Source(src.name, src.timing, src.time_unit,
                         lambda: (x for i, x in enumerate(src.chunks()) if i < n // 2000), src.reopen, src.reader)
    sysd.run(cut, backend=backend, progress=False, save_state_to=str(state))
    resumed = sysd.run(str(trace), backend=backend, progress=False, chunk_records=1000, resume_from=str(state))
    assert resumed.counters == whole.counters
    assert json.dumps(resumed.to_dict()["sampling"], sort_keys=True) == json.dumps(whole.to_dict()["sampling"],
                                                                                  sort_keys=True)
    # a different sampling, or none, refuses the state
    other = dataclasses.replace(sysd, sampling=Sampling(enabled=True, unit=300, period=3, warmup=60, seed=6))
    with pytest.raises(ValueError, match="sampled with unit, period, warmup, seed"):
        other.run(str(trace), backend=backend, progress=False, resume_from=str(state))
    with pytest.raises(ValueError, match="saved by a sampled run"):
        _system().run(str(trace), backend=backend, progress=False, resume_from=str(state))


def test_sampling_refuses_what_needs_every_access_in_detail(tmp_path):
    with pytest.raises(ValueError, match="sampling: a sampled run has no completion time"):
        _system(unit=100).run(_trace(500), completions=True, progress=False)
    with pytest.raises(ValueError, match="sampling: a DRAM trace needs every access"):
        _system(unit=100).run(_trace(500), dram_trace=str(tmp_path / "d"), progress=False)


# -- outputs ---------------------------------------------------------------------------------------
def test_cli_sample_summary_json_and_compare(tmp_path, capsys):
    trace = tmp_path / "t.npz"
    c = generate("hotcold", 20_000, 64 << 20, read_ratio=0.7, seed=3)
    write_trace(trace, c, format="native", timing="none")
    cfg = tmp_path / "s.yaml"
    cfg.write_text("compute:\n  local_memory: 16MiB\n  vms:\n    - {name: vm0, memory: 64MiB}\n")
    out = tmp_path / "r.json"
    assert main(["run", str(cfg), str(trace), "--sample", "-p", "sampling.unit=500", "-p", "sampling.period=4",
                 "-p", "sampling.warmup=100", "--json", str(out), "--quiet"]) == 0
    text = capsys.readouterr().out
    assert "sampled             10 units of 500 accesses measured" in text and "estimates, 95% CI" in text
    assert "simulated time" in text and "+-" in text and "exact  " in text
    d = json.loads(out.read_text())
    assert d["sampling"]["config"] == {"unit": 500, "period": 4, "warmup": 100, "seed": 0,
                                       "offset": Sampling(period=4).offset}
    assert d["config"]["sampling"]["enabled"] is True
    e = d["sampling"]["estimates"]["read_latency_mean_ns"]
    assert e["ci95"][0] < d["latency_ns"]["read"]["mean"] < e["ci95"][1]
    # compare: sampled columns carry their intervals; exact counters none
    sampled = System.from_yaml(cfg, ["sampling.unit=500", "sampling.period=4", "sampling.warmup=100"])
    r1 = sampled.run(str(trace), progress=False)
    r2 = System.from_yaml(cfg).run(str(trace), progress=False)
    rows = compare_table([r1, r2], ["sampled", "full"])
    by = {r["key"]: r for r in rows}
    assert by["sim_time_ns"]["ci95_half"]["sampled"] > 0 and "full" not in by["sim_time_ns"]["ci95_half"]
    assert by["counters.faults"]["ci95_half"]["sampled"] == 0
    table = format_table(rows, ["sampled", "full"])
    assert "+-" in table.splitlines()[2]
    # a sweep's row carries the intervals (flattened)
    from hwmodel.study.sweeps import result_row
    row = result_row(r1)
    assert row["sampling.estimates.sim_time_ns.half_width"] > 0 and row["sampling.units_measured"] == 10
