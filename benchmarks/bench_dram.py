"""Requests/s of the DRAM subsystem model alone (`_core.dram_run`, compiled), on 1M-request
random and streaming traces of the DDR4-2400 preset (FR-FCFS, open page, refresh on), for both
fidelity levels (DRAM.model = "detailed", the default, "fast" and "simple"); on the six DRAMsim3
cross-check traces (tests/data/crosscheck, DDR4_8Gb_x8_2400.ini; 'detailed' and 'fast' side by
side: the issue's 5 M requests/s target is the detailed model's here); and of `hwmodel dram` as a
whole process (Python start-up, imports, trace parsing, set-up, model, figures and energy) on a
generated DRAMsim3-format text trace of HWMODEL_BENCH_TRACE_LINES lines (default 4 M).
DRAMsim3 runs 0.18-0.29 M requests/s on this machine class (docs/published.md): 4 M requests take
it 14-22 s; it cannot be fetched here (no internet), so the published figure is the comparison.

    python -m pytest benchmarks/bench_dram.py --benchmark-only -s
"""
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
from conftest import per_second
import pytest

from hwmodel import _dram_layout as L
from hwmodel.dram import DRAM
from hwmodel.memctrl import dram_params

import hwmodel._core as core
N = int(os.environ.get("HWMODEL_BENCH_ACCESSES", 1_000_000))
LINES = int(os.environ.get("HWMODEL_BENCH_TRACE_LINES", 4_000_000))
DRAMSIM3_FASTEST = 0.29e6      # requests/s, docs/published.md
ROOT = Path(__file__).resolve().parent.parent


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


@pytest.mark.parametrize("model", ["detailed", "fast", "simple"])
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


CROSSCHECK = ROOT / "tests" / "data" / "crosscheck"
CROSSCHECK_TRACES = ("stream_read_gap8", "random_read_gap50", "random_rw30_gap12", "hotrows_rw20_gap6",
                     "two_streams_bursty", "random_read_gap2")


@pytest.mark.parametrize("model", ["detailed", "fast"])
def test_crosscheck_traces_requests_per_s(benchmark, model):
    """The six cross-check traces one after another (each on a fresh state), as the cross-check
    test runs them: requests of all six over the time of all six."""
    import gzip
    benchmark.group = "dram crosscheck"
    d = DRAM.from_dramsim3_ini(ROOT / "tests" / "data" / "dramsim3" / "DDR4_8Gb_x8_2400.ini").replace(model=model)
    p = dram_params(d)
    traces = []
    for name in CROSSCHECK_TRACES:
        f = np.array(gzip.decompress((CROSSCHECK / f"{name}.trace.gz").read_bytes()).split()).reshape(-1, 3)
        addr = np.array([int(h, 16) for h in f[:, 0].tolist()], np.int64)
        traces.append((f[:, 2].astype(np.int64) * d.tck_ps, addr, (f[:, 1] == b"WRITE").astype(np.uint8)))
    n = sum(len(t) for t, _, _ in traces)

    def run_all():
        for t, addr, w in traces:
            core.dram_run(p, L.new_dram_state(p), "", t, addr, w, np.zeros(len(t), np.int64))

    benchmark.pedantic(run_all, rounds=3, iterations=1)
    rate = per_second(benchmark, n)
    benchmark.extra_info["requests_per_s"] = rate
    if rate:
        print(f"\ncross-check traces ({model}): {rate / 1e6:.2f} M requests/s")


@pytest.fixture(scope="module")
def dramsim3_traces(tmp_path_factory):
    """LINES-line DRAMsim3 text traces: random (30% writes, one request per 12 cycles, moderate
    load) and streaming (sequential reads, one per 8 cycles)."""
    d = DRAM.preset("DDR4-2400")
    rng = np.random.default_rng(1)
    folder = tmp_path_factory.mktemp("dram_tool")
    out = {}
    for kind in ("random", "streaming"):
        if kind == "random":
            addr = (rng.integers(0, d.capacity_bytes // 64, LINES) * 64).tolist()
            ops = np.where(rng.random(LINES) < 0.3, "WRITE", "READ").tolist()
            cyc = range(0, 12 * LINES, 12)
        else:
            addr, ops, cyc = range(0, 64 * LINES, 64), ["READ"] * LINES, range(0, 8 * LINES, 8)
        path = folder / f"{kind}.trace"
        with open(path, "w") as f:
            f.write("".join(f"{a:#x} {o} {c}\n" for a, o, c in zip(addr, ops, cyc)))
        out[kind] = path
    return out


@pytest.mark.parametrize("model", ["detailed", "fast"])
@pytest.mark.parametrize("kind", ["random", "streaming"])
def test_hwmodel_dram_whole_process(benchmark, dramsim3_traces, kind, model):
    """`python -m hwmodel.cli dram DDR4-2400 TRACE -p model=MODEL --json OUT` in a fresh process
    (detailed is the tool's default)."""
    benchmark.group = "dram tool (whole process)"
    cmd = [sys.executable, "-m", "hwmodel.cli", "dram", "DDR4-2400", str(dramsim3_traces[kind]),
           "-p", f"model={model}", "--json", os.devnull]

    def run():
        subprocess.run(cmd, check=True, cwd=ROOT, stdout=subprocess.DEVNULL)

    benchmark.pedantic(run, rounds=3, iterations=1)
    rate = per_second(benchmark, LINES)
    benchmark.extra_info["requests_per_s"] = rate
    benchmark.extra_info["dramsim3_requests_per_s"] = "0.18-0.29 M"
    if rate:
        benchmark.extra_info["x_dramsim3_fastest"] = rate / DRAMSIM3_FASTEST
        print(f"\nhwmodel dram ({model}), {LINES / 1e6:g} M-line {kind} trace: {LINES / rate:.3f} s "
              f"({rate / 1e6:.1f} M requests/s, {rate / DRAMSIM3_FASTEST:.0f}x DRAMsim3's 0.29 M/s)")
