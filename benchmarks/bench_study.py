"""Sweep throughput: points/s of `hwmodel.study.sweep` on a local process pool of 1 and 2 workers
(and inline, the serial executor, as the no-overhead reference).

    pytest benchmarks/bench_study.py --benchmark-only
    HWMODEL_BENCH_SWEEP_ACCESSES=1000000 pytest benchmarks/bench_study.py --benchmark-only

The sweep is 16 configurations (policy x local memory x link latency) times 2 zipf traces of
HWMODEL_BENCH_SWEEP_ACCESSES accesses each (default 2,000,000: ~0.1 s per point, so that
the numbers measure running points rather than pool start-up). Each round is a whole sweep with no
results file to resume from, pool start-up included, as a user would time `hwmodel sweep`.
extra_info reports points/s and ms per point.
"""
import os

import pytest
from conftest import per_second

from hwmodel.study import expand_grid, sweep
from hwmodel.trace import generate, write_trace

N = int(os.environ.get("HWMODEL_BENCH_SWEEP_ACCESSES", 2_000_000))
BASE = {"compute": {"local_memory": "64MiB", "vms": [{"name": "vm0", "memory": "128MiB"}]}}
GRID = {"hypervisor.policy": ["static", "fgra", "page_swap", "subpage_swap"],
        "compute.local_memory": ["32MiB", "64MiB"],
        "link.latency": ["250ns", "500ns"]}


@pytest.fixture(scope="module")
def traces(tmp_path_factory):
    d = tmp_path_factory.mktemp("bench_study")
    out = []
    for seed in (1, 2):
        write_trace(d / f"t{seed}.npz", generate("zipf", N, 128 << 20, seed=seed, interval=2000))
        out.append(str(d / f"t{seed}.npz"))
    return out


@pytest.mark.parametrize("executor,workers", [("serial", 1), ("process", 1), ("process", 2)])
def test_sweep_points_per_s(benchmark, traces, executor, workers):
    n_points = len(expand_grid(GRID)) * len(traces)

    def run():
        rows = sweep(BASE, GRID, traces, executor=executor, workers=workers, progress=False, as_frame=False)
        assert len(rows) == n_points and all(r["status"] == "ok" for r in rows), rows[0].get("error")

    benchmark.pedantic(run, rounds=3, iterations=1, warmup_rounds=0)
    rate = per_second(benchmark, n_points, "mean")
    benchmark.extra_info.update(points=n_points, accesses_per_point=N, workers=workers,
                                points_per_s=rate and round(rate, 2))
