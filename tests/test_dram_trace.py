"""`--dram-trace`: the requests each DRAM of a system received, written in time order in the
field's formats (issue 14 item 3), the same from both backends."""
import numpy as np
import pytest

from hwmodel import System
from hwmodel.cli import main
from hwmodel.trace import generate, open_trace, read_all, write_trace

SWAP = {"compute": {"local_memory": "256KiB", "vms": [{"name": "vm0", "memory": "2MiB"}]},
        "hypervisor": {"policy": "page_swap"}, "memory_blade": {"capacity": "16MiB", "super_page": "1MiB"}}


def _trace(n=3000, interval=20_000):
    return generate("zipf", n, 2 << 20, read_ratio=0.7, seed=7, interval=interval)


def _read(path):
    """(timing, time unit, all records) of a trace file."""
    r = open_trace(path)
    return r.timing, r.time_unit, read_all(path)


def _run(tmp_path, backend, fmt="dramsim3", config=SWAP, **kw):
    ch = _trace(**kw)
    r = System.from_dict(config).run({"time": ch.time, "addr": ch.addr, "op": ch.op, "timing": "timestamp"},
                                     backend=backend, dram_trace=tmp_path / "out", dram_trace_format=fmt)
    return r


def test_each_dram_gets_a_time_ordered_trace_that_reads_back(tmp_path, backend):
    r = _run(tmp_path, backend, n=3000 if backend == "compiled" else 800)
    c = r.counters
    assert c["faults"] > 0 and c["swap_outs"] > 0          # page swaps: blocks out of time order
    assert set(r.dram_traces) == {"local", "blade"}
    assert f"DRAM traces         local -> {r.dram_traces['local']}, blade -> {r.dram_traces['blade']}" in r.summary()
    timing, unit, local = _read(r.dram_traces["local"])
    blade = read_all(r.dram_traces["blade"])
    assert (timing, unit) == ("timestamp", "cycle")
    for ch in (local, blade):
        assert np.all(np.diff(ch.time) >= 0)              # sorted by arrival, as DRAMsim3 needs
        assert np.all(ch.addr % 64 == 0)
    # every swap unit moved is 4 KiB of lines: fetched from the blade, written back to it
    unit_lines = 4096 // 64
    assert np.count_nonzero(blade.op == 0) == c["swap_ins"] * unit_lines
    assert np.count_nonzero(blade.op == 1) == c["swap_outs"] * unit_lines
    # locally: the demand lines, and per fault the victim's copy out and the fill
    assert len(local) >= c["local_accesses"] + c["swap_ins"] * unit_lines
    # the blade's first request is a page fetch that follows the first fault: after time 0
    assert blade.time[0] > 0


def test_the_log_is_the_same_from_both_backends(tmp_path):
    a, b = tmp_path / "a", tmp_path / "b"
    a.mkdir(), b.mkdir()
    ra = _run(a, "compiled", n=800)
    rb = _run(b, "reference", n=800)
    for name in ("local", "blade"):
        assert (a / f"out.{name}.trace").read_text() == (b / f"out.{name}.trace").read_text()
    assert ra.counters == rb.counters


@pytest.mark.parametrize("fmt,unit", [("text", "ps"), ("ramulator", None)])
def test_formats(tmp_path, fmt, unit):
    r = _run(tmp_path, "compiled", fmt=fmt, n=500)
    timing, time_unit, ch = _read(r.dram_traces["blade"])
    assert len(ch) == r.counters["swap_ins"] * 64 + r.counters["swap_outs"] * 64
    if unit is None:
        assert timing == "none"
    else:
        assert time_unit == unit and np.all(np.diff(ch.time) >= 0)


def test_a_static_trace_reaches_the_dram_at_the_address_it_names(tmp_path):
    """All-local static placement: the local DRAM trace is the input trace, line for line, in
    cycles of its tCK (the DRAMsim3-comparable path)."""
    cfg = {"compute": {"local_memory": "1GiB", "vms": [{"name": "vm0", "memory": "1GiB"}]},
           "hypervisor": {"policy": "static"}, "memory_blade": {"capacity": "0B"}}
    src = tmp_path / "in.trace"
    ch = generate("uniform", 2000, 1 << 30, read_ratio=0.6, seed=3, interval=40)
    write_trace(src, ch, format="dramsim3", timing="timestamp", time_unit="cycle")
    assert main(["run", str(src), "--quiet",
                 "-p", "hypervisor.policy=static", "-p", "compute.local_memory=1GiB", "-p", "compute.vms.0.memory=1GiB",
                 "-p", "memory_blade.capacity=0B", "--dram-trace", str(tmp_path / "o")]) == 0
    assert (tmp_path / "o.local.trace").read_text() == src.read_text()
    assert not (tmp_path / "o.blade.trace").exists()
