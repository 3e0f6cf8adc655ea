"""Streaming a trace through a system: chunks in, arrival times converted, state carried along."""
from __future__ import annotations

import os
import sys
import time
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path
from typing import Callable, Iterator

import numpy as np

from .. import _layout as L
from .engine import Engine, counters, load_state, save_state
from ..stats import Result

# records per chunk of a run: the core's per-call cost is amortized long before, and a text trace's
# chunk costs ~60 bytes per record while the reader cuts it (a 4 M-access run stays under 150 MB)
CHUNK_RECORDS = 1 << 18


@dataclass
class _Source:
    """A trace as the runner needs it: its timing, time unit and chunks of columns."""
    name: str
    timing: str                 # timestamp | gap | none
    time_unit: str
    chunks: Callable[[], Iterator]   # yields (time, addr, op, vm, where(i) -> str)
    reopen: Callable[[], "_Source"]
    reader: object = None            # the file reader, for its skipped-line count and progress
    records: int | None = None       # length, when known without reading it
    addresses: str = "physical"      # what the trace's addresses are: physical | virtual


def _from_arrays(data: dict, chunk_records: int, name="(arrays)") -> _Source:
    """Columns in memory. Without an explicit `timing`, a time column that is all zero (or
    missing) means an untimed trace, anything else timestamps in `time_unit` (default ps).
    Addresses are physical unless `addresses` says virtual."""
    addr = np.asarray(data["addr"])
    n = len(addr)
    op = np.asarray(data.get("op", np.zeros(n, np.uint8)))
    vm = np.asarray(data.get("vm", np.zeros(n, np.uint16)))
    time = np.asarray(data["time"]) if data.get("time") is not None else np.zeros(n, np.int64)
    # no time column: untimed (its zeros are not read)
    timing = data.get("timing") or ("timestamp" if data.get("time") is not None and np.any(time) else "none")
    unit = data.get("time_unit") or "ps"
    addresses = data.get("addresses") or "physical"
    if addresses not in ("physical", "virtual"):
        raise ValueError(f"{name}: addresses {addresses!r} is not one of 'physical', 'virtual'")

    def chunks():
        from ..trace._types import checked_column
        for s in range(0, n, chunk_records):
            e = min(n, s + chunk_records)
            where = lambda i, s=s: f"{name}: record {s + i}"
            # the core takes uint64 / uint8 / uint16 columns: a value that does not fit is an error,
            # not a wrapped or truncated number (time: checked in _times)
            yield (time[s:e], checked_column(addr[s:e], "addr", where), checked_column(op[s:e], "op", where),
                   checked_column(vm[s:e], "vm", where), where)

    return _Source(name, timing, unit, chunks, lambda: _from_arrays(data, chunk_records, name), records=n,
                   addresses=addresses)


def _from_reader_factory(open_reader, name) -> _Source:
    reader = open_reader()

    def chunks():
        r = reader
        try:
            for ch in r:
                first = getattr(ch, "first_line", None)
                where = getattr(ch, "where", None) or ((lambda i, f=first: f"{name}:{f + i}") if first else
                                                       (lambda i: f"{name}: record {i}"))
                yield ch.time, ch.addr, ch.op, ch.vm, where
        finally:
            close = getattr(r, "close", None)
            if close:
                close()

    return _Source(name, reader.timing, reader.time_unit, chunks, lambda: _from_reader_factory(open_reader, name),
                   reader, addresses=getattr(reader, "addresses", "physical"))


def as_source(trace, chunk_records=CHUNK_RECORDS, format=None, timing=None, time_unit=None,
              skip_bad_lines=False) -> _Source:
    if isinstance(trace, _Source):
        return trace
    if isinstance(trace, dict) and (timing or time_unit):
        trace = {**trace, **({"timing": timing} if timing else {}), **({"time_unit": time_unit} if time_unit else {})}
    if isinstance(trace, (str, Path)):
        from ..trace import open_trace
        path = str(trace)
        return _from_reader_factory(lambda: open_trace(path, format=format, chunk_records=chunk_records,
                                                       skip_bad_lines=skip_bad_lines), path)
    if isinstance(trace, dict):
        return _from_arrays(trace, chunk_records)
    if hasattr(trace, "addr") and hasattr(trace, "time"):   # a trace.Chunk
        return _from_arrays({"time": trace.time, "addr": trace.addr, "op": trace.op, "vm": trace.vm,
                             "timing": timing or getattr(trace, "timing", None),
                             "time_unit": time_unit or getattr(trace, "time_unit", None)}, chunk_records)
    if hasattr(trace, "timing") and hasattr(trace, "__iter__"):   # an open trace reader
        # iterating a reader again reads its file(s) again (the slowdown baseline does)
        return _from_reader_factory(lambda: trace, getattr(trace, "path", "(reader)"))
    raise TypeError(f"cannot run {type(trace).__name__}: give a trace path, a trace Chunk or reader, "
                    f"or a dict of arrays (time, addr, op, vm)")


def _times(source: _Source, factor: Fraction, closed: bool, core, carry: list):
    """Convert one chunk's time column to ps: arrivals (open loop) or issue gaps (closed loop).

    `f(raw, n, where)`: every conversion is checked (units.times_to_ps): a time that is not a whole
    number >= 0, or that exceeds MAX_TIME_PS in ps, is an error naming `where(i)` (file and line).
    Closed loop, the issue times the gaps add up to are bounded the same way, so the core's clock
    cannot run past MAX_TIME_PS on the trace's account."""
    from ..units import MAX_TIME_PS, parse_time, times_to_ps
    gap_ps = parse_time(core.gap, "core.gap") if source.timing == "none" else 0
    state = {"issue": 0}    # closed loop: the sum of the gaps so far (the earliest issue time)
    untimed = {}            # untimed: the column of n gaps (the same for every chunk of n; read-only)

    def f(raw, n, where=None):
        where = where or (lambda i: f"{source.name}: record {i}")
        if source.timing == "none":
            t = untimed.get(n)
            if t is None:
                t = np.full(n, gap_ps, np.int64)
                t.flags.writeable = False
                untimed.clear()
                untimed[n] = t
            if closed and n and state["issue"] + gap_ps * n <= MAX_TIME_PS:
                state["issue"] += gap_ps * n     # its max times n, and its sum, as below
                return t
        else:
            t = times_to_ps(raw, factor, where)
            if closed and source.timing == "timestamp":   # gaps from consecutive timestamps
                prev = np.empty_like(t)
                prev[0] = carry[0] if carry else (t[0] if n else 0)
                prev[1:] = t[:-1]
                if n:
                    carry[:] = [int(t[-1])]
                t = np.maximum(t - prev, 0)
        if closed and n and state["issue"] + int(t.max()) * n <= MAX_TIME_PS:
            state["issue"] += int(t.sum())  # bounded by MAX_TIME_PS: no record can pass it (the common case)
        elif closed and n:
            # an int64 running sum is exact below 2**63; the float one finds where it could pass
            # 2**61, and everything before that index is summed exactly
            rough = np.flatnonzero(state["issue"] + np.cumsum(t, dtype=np.float64) > 2.0**61)
            k = int(rough[0]) if len(rough) else n
            issue = state["issue"] + np.cumsum(t[:k])
            over = np.flatnonzero(issue > MAX_TIME_PS)
            if len(over) or k < n:
                i = int(over[0]) if len(over) else k
                raise ValueError(f"{where(i)}: the issue gaps up to this record add up to more than 2**60 ps "
                                 f"(the longest simulated time, about 13 days)")
            state["issue"] = int(issue[-1])
        return t
    f.constant = gap_ps if source.timing == "none" else None   # every time f returns is this value
    return f


def run_system(system, trace, *, backend=None, completions=False, slowdown=False,
               chunk_records=CHUNK_RECORDS, progress=False, save_state_to=None, resume_from=None, format=None,
               timing=None, time_unit=None, skip_bad_lines=False, epoch=None, cycle=None, dram_trace=None,
               dram_trace_format="dramsim3", ps_per_unit=None):
    """`System.run` (see there). `ps_per_unit` imposes the trace's time scale (compare: every
    column replays the arrivals of the first); `progress` None = a bar when stderr is a terminal."""
    wall0 = time.perf_counter()
    if slowdown and slowdown is not True and slowdown not in system.BASELINES:
        raise ValueError(f"slowdown: {slowdown!r} is not one of {', '.join(map(repr, system.BASELINES))}")
    source = as_source(trace, chunk_records, format, timing, time_unit, skip_bad_lines)
    from ..units import parse_time
    epoch_ps = parse_time(epoch, "epoch") if epoch else 0
    if epoch and epoch_ps == 0:
        raise ValueError(f"epoch: {epoch!r} must be > 0")
    compiled = system.compile(source.timing, epoch_ps, trace_addresses=source.addresses)
    closed = compiled.param("TIMING") == L.TIMINGS["closed"]
    if source.timing == "none":
        factor = Fraction(1)
    else:
        factor = Fraction(ps_per_unit) if ps_per_unit is not None else system.ps_per_trace_unit(source.time_unit, cycle)
    sampling = system.sampling if system.sampling.enabled else None
    if sampling is not None and completions:
        raise ValueError("sampling: a sampled run has no completion time for the accesses it runs functionally; "
                         "run without sampling for completions")
    if sampling is not None and dram_trace is not None:
        raise ValueError("sampling: a DRAM trace needs every access run in detail; run without sampling "
                         "(sampling.enabled: false) to write one")
    state, skip, extra = None, 0, {}
    if resume_from is not None:
        state, extra = load_state(resume_from, compiled)
        if extra.get("trace") != source.name:
            raise ValueError(f"{resume_from}: saved while running trace {extra.get('trace')!r}, not {source.name!r}")
        if ("sampling" in extra) != (sampling is not None):
            raise ValueError(f"{resume_from}: saved by a {'sampled' if 'sampling' in extra else 'detailed'} run; "
                             f"resume it {'with' if 'sampling' in extra else 'without'} the same sampling settings")
        skip = int(extra.get("records_done", 0))
    engine = Engine(compiled, backend, state)
    sampler = None
    if sampling is not None:
        from .sampler import Sampler
        try:
            sampler = Sampler(sampling, engine, closed, extra.get("sampling"))
        except ValueError as e:
            raise ValueError(f"{resume_from}: {e}") from None
    to_ps = _times(source, factor, closed, system.core, [])
    done_parts = []
    log = None
    if dram_trace is not None:
        from .dram_trace import DramTraceWriter
        log = DramTraceWriter(dram_trace, system, dram_trace_format)
    bar = _Progress(progress, source)
    records = 0
    try:
        for t, addr, op, vm, where in source.chunks():
            n = len(addr)
            if records + n <= skip:     # finished before the state was saved
                to_ps(t, n, where)      # keeps the gap carry right
                records += n
                bar.update(n)
                continue
            if records < skip:
                cut = skip - records
                to_ps(t[:cut], cut, where)
                t, addr, op, vm = t[cut:], addr[cut:], op[cut:], vm[cut:]
                base, where = records + cut, (lambda i, w=where, c=cut: w(i + c))
                records, n = base, len(addr)
            logs = [] if log is not None else None
            if sampler is not None:
                out = sampler.run_chunk(to_ps(t, n, where), addr, op, vm, where, records, to_ps.constant)
            else:
                out = engine.run_chunk(to_ps(t, n, where), addr, op, vm, want_completions=completions, where=where,
                                       first_record=records, dram_log=logs, t_const=to_ps.constant)
            if log is not None:
                log.add(logs, engine.log_horizon())
            if completions:
                done_parts.append(out)
            records += n
            if save_state_to is not None:
                header = {"trace": source.name, "records_done": records}
                if sampler is not None:
                    header["sampling"] = sampler.to_json()
                save_state(save_state_to, engine.state, compiled, header)
            bar.update(n)
        logs = [] if log is not None else None
        engine.finish(logs)
        if log is not None:
            log.add(logs, 1 << 62)
    finally:
        bar.close()
        if log is not None:
            log.close()
    result = make_result(system, engine, source, closed)
    if sampler is not None:
        c = compiled
        sampler.finish(result, bool(c.param("CK_REGIME") or c.param("FAIL_AT_PS") >= 0 or c.param("QOS_NEV")
                                    or c.param("PERM_NEV")))
    result.skipped_lines = int(getattr(source.reader, "skipped_lines", 0) or 0)
    result.trace_format = getattr(source.reader, "format", "") or ""
    result.trace_time_unit = source.time_unit if source.timing != "none" else ""
    result.addresses = "virtual" if compiled.param("VIRTUAL") else "physical"
    result.ps_per_trace_unit = float(factor) if source.timing != "none" else 0.0
    if log is not None:
        result.dram_traces = {name: str(log.path(name)) for name in log.files}
    if epoch_ps:
        result.epochs = engine.epochs()
    if completions:
        result.completions = np.concatenate(done_parts) if done_parts else np.zeros(0, np.int64)
    if slowdown:
        kind = "all_local" if slowdown is True else slowdown
        result.baseline = run_system(system.baseline(kind), source.reopen(), backend=backend,
                                     chunk_records=chunk_records, progress=False, ps_per_unit=factor)
        result.baseline_kind = kind
    result.wall_s = time.perf_counter() - wall0
    return result


def make_result(system, engine: Engine, source: _Source, closed: bool) -> Result:
    st = engine.state
    from .._dram_layout import DRAM_COUNTER_NAMES
    from .._layout import local_prefix
    from ..units import parse_bandwidth
    sw = system.effective_switch()
    return Result(
        counters=counters(st),
        hist=st["hist"].reshape(2, -1).copy(),
        vm_names=[vm.name for vm in system.vms],
        vm_class=[vm.qos for vm in system.vms],
        vm_stats=st["vm_stats"].copy(),
        config=system.to_dict(),
        trace=source.name,
        timing="closed" if closed else "open",
        backend=engine.backend,
        unit_bytes=1 << engine.c.param("UNIT_SHIFT"),
        link_bytes_per_s=float(parse_bandwidth(system.effective_link().bandwidth)) * len(system.blades),
        blade_names=system.blade_names,
        vm_blade=system.vm_blade(),
        blade_dram=[dict(zip(DRAM_COUNTER_NAMES, map(int, st[local_prefix(k) + "counters"])))
                    for k in range(len(system.blades))],
        port_bytes_per_s=float(parse_bandwidth(sw.port_bandwidth)) if sw is not None else 0.0,
        vm_hist=st["vm_hist"].reshape(len(system.vms), 2, -1).copy() if engine.c.param("VM_HIST") else None,
        last_arrival_ps=int(st["scalars"][L.S["last_arrival_ps"]]),
    )


class _Progress:
    """A tqdm bar over a run (progress None: only when stderr is a terminal): records when the
    trace's length is known (arrays, native files), else the file's bytes read (text traces,
    compressed or not), so that it shows a total and an ETA."""

    def __init__(self, progress, source):
        self.bar = None
        if progress is None:
            progress = sys.stderr.isatty()
        if not progress:
            return
        try:
            from tqdm import tqdm
        except ImportError:   # tqdm comes with hwmodel; a stripped install runs without a bar
            return
        reader = source.reader
        self.reader = reader if reader is not None and getattr(reader, "records", None) is None else None
        if self.reader is not None:
            total = os.path.getsize(reader.path) if os.path.isfile(reader.path) else None
            self.bar = tqdm(desc=Path(source.name).name, total=total, unit="B", unit_scale=True, unit_divisor=1024)
        else:
            total = getattr(reader, "records", None) if reader is not None else source.records
            self.bar = tqdm(desc=Path(source.name).name, total=total, unit=" acc", unit_scale=True)

    def update(self, n: int) -> None:
        if self.bar is None:
            return
        if self.reader is not None:
            self.bar.update(self.reader.bytes_read() - self.bar.n)
        else:
            self.bar.update(n)

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()
