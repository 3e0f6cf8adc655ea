"""Requests/s of the DRAM subsystem model alone (`_core.dram_run`, compiled), on 1M-request
random and streaming traces of the DDR4-2400 preset (FR-FCFS, open page, refresh on), for both
fidelity levels (DRAM.model = "detailed", the default, and "simple").
DRAMsim3 runs 0.18-0.29 M requests/s on this machine class (docs/published.md).

    python -m pytest benchmarks/bench_dram.py --benchmark-only
"""
import os

import numpy as np
from conftest import per_second
import pytest

from hwmodel import _dram_layout as L
from hwmodel.dram import DRAM
from hwmodel.memctrl import dram_params

import hwmodel._core as core
N = int(os.environ.get("HWMODEL_BENCH_ACCESSES", 1_000_000))


def _trace(kind, model="detailed"):
    rng = np.random.default_rng(1)
    d = DRAM.preset("DDR4-2400", model=model)
    if kind == "random":   # 30% writes, one request per 12 cycles (moderate load)
        addr = rng.integers(0, d.capacity_bytes // 64, N) * 64
        t = np.arange(N, dtype=np.int64) * 12 * d.tck_ps
        w = (rng.random(N) < 0.3).astype(np.uint8)
    else:                  # sequential reads, one per 8 cycles
        addr = np.arange(N, dtype=np.int64) * 64
        t = np.arange(N, dtype=np.int64) * 8 * d.tck_ps
        w = np.zeros(N, np.uint8)
    return d, t, addr.astype(np.int64), w


@pytest.mark.parametrize("model", ["detailed", "simple"])
@pytest.mark.parametrize("kind", ["random", "streaming"])
def test_dram_run_requests_per_s(benchmark, kind, model):
    benchmark.group = "dram"
    d, t, addr, w = _trace(kind, model)
    p = dram_params(d)
    out = np.zeros(N, np.int64)

    def setup():
        return (p, L.new_dram_state(p), "", t, addr, w, out), {}

    benchmark.pedantic(core.dram_run, setup=setup, rounds=5, iterations=1)
    rate = per_second(benchmark, N)
    benchmark.extra_info["requests_per_s"] = rate
    benchmark.extra_info["dramsim3_requests_per_s"] = "0.18-0.29 M"
    if rate:
        print(f"\n{kind} ({model}): {rate / 1e6:.1f} M requests/s")
