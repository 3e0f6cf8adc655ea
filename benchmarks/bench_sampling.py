"""Sampled simulation (issue 18) beside the full detailed run, on bench_core's zipf page_swap
workload (10 M accesses over a 4 GiB VM, 1 GiB local, LRU, 'low' placement, untimed closed loop):

    python -m pytest benchmarks/bench_sampling.py --benchmark-only --benchmark-group-by=group \\
        --benchmark-columns=min,mean,rounds

- `full`: every access in the detailed mode (System.run, as a user runs it);
- `sampled`: 1% measured in detail (units of N / 10,000 accesses, one in 100, after a fifth of a
  unit of detailed warming: 1.2% of the accesses in detail), the rest functional. extra_info holds
  accesses/s, and the estimate's error against the full run's simulated time and mean read
  latency with the 95% interval the run stated;
- `functional`: the functional mode alone over the whole trace (Engine.run_functional).

HWMODEL_BENCH_ACCESSES sets the size (CI runs a quick pass with a small one, timing off).
"""
import os

import pytest
from conftest import per_second

from hwmodel import System
from hwmodel.core.engine import Engine
from hwmodel.core.sampler import Sampling
from hwmodel.trace import generate

N = int(os.environ.get("HWMODEL_BENCH_ACCESSES", 10_000_000))
UNIT = max(N // 10_000, 10)
SAMPLING = Sampling(enabled=True, unit=UNIT, period=100, warmup=UNIT // 5, seed=0)
SYSTEM = {"compute": {"local_memory": "1GiB", "vms": [{"memory": "4GiB"}]},
          "hypervisor": {"policy": "page_swap", "victim": "lru", "placement": "low"}}


@pytest.fixture(scope="module")
def trace():
    w = generate("zipf", N, 4 << 30, read_ratio=0.7, seed=1)
    return {"addr": w.addr, "op": w.op, "vm": w.vm}


@pytest.fixture(scope="module")
def full(trace):
    """The full detailed run's result, the truth the sampled estimates are held against."""
    return System.from_dict(SYSTEM).run(trace, backend="compiled", progress=False)


def test_full(benchmark, trace):
    system = System.from_dict(SYSTEM)
    benchmark.group = "sampling-zipf-page_swap"
    r = benchmark.pedantic(lambda: system.run(trace, backend="compiled", progress=False), rounds=1, iterations=1)
    assert r.accesses == N
    benchmark.extra_info["accesses_per_s"] = per_second(benchmark, N)


def test_sampled(benchmark, trace, full):
    system = System.from_dict({**SYSTEM, "sampling": {k: getattr(SAMPLING, k) for k in
                                                      ("unit", "period", "warmup", "seed")}})
    benchmark.group = "sampling-zipf-page_swap"
    r = benchmark.pedantic(lambda: system.run(trace, backend="compiled", progress=False), rounds=3, iterations=1)
    sm = r.sampling
    assert r.accesses == N and sm["units_measured"] > 0
    info = benchmark.extra_info
    info["accesses_per_s"] = per_second(benchmark, N)
    info["detailed_fraction"] = sm["detailed_accesses"] / N
    info["units_measured"] = sm["units_measured"]
    for metric, truth in (("sim_time_ns", full.sim_time_ps / 1000),
                          ("read_latency_mean_ns", full.latency_ns("read")["mean"])):
        e = sm["estimates"][metric]
        info[f"{metric}_error"] = e["value"] / truth - 1
        info[f"{metric}_ci95_rel"] = e["rel"]
        info[f"{metric}_covered"] = bool(e["ci95"][0] <= truth <= e["ci95"][1])


def test_functional(benchmark, trace):
    c = System.from_dict(SYSTEM).compile("none")
    import numpy as np
    t = np.zeros(N, np.int64)
    engines = []

    def setup():
        engines.append(Engine(c, "compiled"))
        return (engines[-1],), {}

    def run(engine):
        engine.run_functional(t, trace["addr"], trace["op"], trace["vm"], 0, 0)

    benchmark.group = "sampling-zipf-page_swap"
    benchmark.pedantic(run, setup=setup, rounds=3, iterations=1)
    assert engines[-1].state["counters"][0] == N
    benchmark.extra_info["accesses_per_s"] = per_second(benchmark, N)
