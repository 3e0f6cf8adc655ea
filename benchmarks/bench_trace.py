"""Trace reader throughput, one benchmark group per format.

    pytest benchmarks/bench_trace.py --benchmark-only [--benchmark-group-by=group]
    HWMODEL_BENCH_TRACE_LINES=10000000 pytest benchmarks/bench_trace.py --benchmark-only

Each benchmark reads a whole generated trace (uniform random addresses over 16 GiB, 30 % writes)
through open_trace and reports lines/s (input lines; records/s for the binary formats) in
extra_info.  Files are written once per session into a temporary directory.
"""
import lzma
import os

import numpy as np
import pytest

from conftest import per_second
from hwmodel.trace import generate, open_trace, write_trace

N = int(os.environ.get("HWMODEL_BENCH_TRACE_LINES", 1_000_000))


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    d = tmp_path_factory.mktemp("bench_trace")
    ch = generate("uniform", N, 16 << 30, read_ratio=0.7, seed=1, interval=3)
    out = {}
    for fmt, name, timing, unit in [
        ("dramsim3", "t.dramsim3", "timestamp", "cycle"),
        ("dramsim3", "t.dramsim3.gz", "timestamp", "cycle"),
        ("dramsim3", "t.dramsim3.zst", "timestamp", "cycle"),
        ("text", "t.txt", "timestamp", "ns"),
        ("usimm", "t.usimm", "gap", "instruction"),
        ("gem5", "t.gem5", "timestamp", "ps"),
        ("prospero", "t.prospero", "timestamp", "cycle"),
        ("native", "t.npz", "timestamp", "cycle"),
    ]:
        if name.endswith(".zst"):
            try:
                __import__("zstandard")
            except ImportError:
                continue
        write_trace(d / name, ch, format=fmt, timing=timing, time_unit=unit)
        out[name] = (d / name, N)
    untimed = generate("uniform", N, 16 << 30, read_ratio=0.7, seed=1)
    write_trace(d / "t.ramulator", untimed, format="ramulator", timing="none")
    out["t.ramulator"] = (d / "t.ramulator", N)
    write_trace(d / "t.ramulator_cpu", ch.__class__(ch.time % 7, ch.addr, np.zeros(N, np.uint8), ch.size, ch.vm),
                format="ramulator_cpu", timing="gap", time_unit="instruction")
    out["t.ramulator_cpu"] = (d / "t.ramulator_cpu", N)
    # lackey: every data access preceded by two instruction fetches
    with open(d / "t.lackey", "w") as f:
        kinds = np.where(ch.op == 1, " S", " L").tolist()
        f.write("".join(f"I  {0x400000 + 4 * i:08x},4\n{k} {a:x},8\n"
                        for i, (k, a) in enumerate(zip(kinds, ch.addr.tolist()))))
    out["t.lackey"] = (d / "t.lackey", 2 * N)
    from hwmodel.trace.champsim import RECORD
    rec = np.zeros(N, RECORD)
    rec["src_mem"][ch.op == 0, 0] = ch.addr[ch.op == 0]
    rec["dst_mem"][ch.op == 1, 0] = ch.addr[ch.op == 1]
    with lzma.open(d / "t.champsim.xz", "wb", preset=1) as f:
        f.write(rec.tobytes())
    out["t.champsim.xz"] = (d / "t.champsim.xz", N)
    return out


CASES = ["t.dramsim3", "t.dramsim3.gz", "t.dramsim3.zst", "t.ramulator", "t.text", "t.usimm", "t.gem5",
         "t.prospero", "t.ramulator_cpu", "t.lackey", "t.npz", "t.champsim.xz"]


@pytest.mark.parametrize("name", CASES)
def test_read(benchmark, files, name):
    name = "t.txt" if name == "t.text" else name
    path, lines = files[name]
    benchmark.group = "trace-read-" + name[2:]

    def read():
        n = 0
        for ch in open_trace(path):
            n += len(ch)
        return n

    n = benchmark.pedantic(read, rounds=3, iterations=1)
    assert n > 0
    benchmark.extra_info["lines"] = lines
    benchmark.extra_info["records"] = n
    benchmark.extra_info["lines_per_s"] = per_second(benchmark, lines)


def test_merge(benchmark, tmp_path_factory):
    """Four timestamped native traces merged by time (each its own VM), records/s."""
    from hwmodel.trace import merge_traces
    d = tmp_path_factory.mktemp("bench_merge")
    paths = []
    for k in range(4):
        ch = generate("uniform", N // 4, 1 << 30, read_ratio=0.7, seed=k, interval=3 + k)
        write_trace(d / f"m{k}.npz", ch, format="native", timing="timestamp", time_unit="cycle")
        paths.append(d / f"m{k}.npz")
    benchmark.group = "trace-merge-4-native"

    def merge():
        return sum(len(ch) for ch in merge_traces(paths))

    n = benchmark.pedantic(merge, rounds=3, iterations=1)
    assert n == 4 * (N // 4)
    benchmark.extra_info["records_per_s"] = per_second(benchmark, n)
