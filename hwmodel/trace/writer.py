"""write_trace(): native .npz or one of the text formats, compressed by the path's suffix.

A text format that has no place for a column (no time, no size, no VM id) refuses to drop
information unless lossy=True: a timed trace written as `ramulator` loses its timing, a trace
with 32-byte accesses written as `dramsim3` loses its sizes.
"""
from __future__ import annotations

import os

import numpy as np

from . import native
from ._io import open_output
from ..units import plural
from ._types import DEFAULT_SIZE, TIME_UNITS, TIMINGS, Chunk, TraceError

# how to accept the loss, in the Python API and on the command line (trace convert, merge, gen)
_LOSSY = "pass lossy=True, --lossy on the command line,"
# format: (the timing it holds, the units it holds) -- None: holds any
WRITABLE = {
    "native": None,
    "text": None,
    "dramsim3": ("timestamp", ("cycle",)),
    "dramsim2": ("timestamp", ("cycle",)),
    "ramulator": ("none", None),
    "ramulator2": ("none", None),
    "usimm": ("gap", ("instruction",)),
    "ramulator_cpu": ("gap", ("instruction",)),
    "gem5": ("timestamp", ("ps",)),
    "prospero": ("timestamp", ("cycle",)),
}


def _lines(fmt, ch: Chunk, ncols: int) -> str:
    t, a, o, s, v = (x.tolist() for x in (ch.time, ch.addr, ch.op, ch.size, ch.vm))
    if fmt == "text":
        rw = ("R", "W")
        if ncols == 2:
            return "".join(f"0x{x:X} {rw[y]}\n" for x, y in zip(a, o))
        if ncols == 3:
            return "".join(f"0x{x:X} {rw[y]} {z}\n" for x, y, z in zip(a, o, t))
        return "".join(f"0x{x:X} {rw[y]} {z} {w} {u}\n" for x, y, z, w, u in zip(a, o, t, s, v))
    if fmt in ("dramsim3", "dramsim2"):
        rw = ("READ", "WRITE")
        return "".join(f"0x{x:X} {rw[y]} {z}\n" for x, y, z in zip(a, o, t))
    if fmt == "ramulator":
        return "".join(f"0x{x:X} {'RW'[y]}\n" for x, y in zip(a, o))
    if fmt == "ramulator2":
        return "".join(f"{('LD', 'ST')[y]} 0x{x:X}\n" for x, y in zip(a, o))
    if fmt == "usimm":
        return "".join(f"{z} {'RW'[y]} 0x{x:X}\n" for x, y, z in zip(a, o, t))
    if fmt == "gem5":
        return "".join(f"{'rw'[y]},{x},{w},{z}\n" for x, y, z, w in zip(a, o, t, s))
    if fmt == "prospero":
        return "".join(f"{z} {'RW'[y]} {x} {w}\n" for x, y, z, w in zip(a, o, t, s))
    raise AssertionError(fmt)


def _ramulator_cpu_lines(ch: Chunk) -> str:
    """Each read becomes `bubbles addr`; a write with gap 0 right after a read becomes its
    write-back field.  Any other write cannot be expressed in this format."""
    out, t, a, o = [], ch.time.tolist(), ch.addr.tolist(), ch.op.tolist()
    i, n = 0, len(a)
    while i < n:
        if o[i] != 0:
            raise TraceError(f"record {ch.first_line + i}: ramulator_cpu holds a write only as the "
                             f"write-back of the read before it (gap 0)")
        if i + 1 < n and o[i + 1] == 1 and t[i + 1] == 0:
            out.append(f"{t[i]} {a[i]} {a[i + 1]}\n")
            i += 2
        else:
            out.append(f"{t[i]} {a[i]}\n")
            i += 1
    return "".join(out)


def write_trace(path, chunks_or_chunk, format="native", timing=None, time_unit=None, lossy=False):
    """Write a Chunk, an iterable of Chunks, or a TraceReader to `path`; returns the record count.

    timing/time_unit describe the time column of the chunks (taken from a TraceReader when one is
    given; default "timestamp"/"ps").  The text formats are compressed by suffix (.gz .xz .bz2 .zst).
    """
    src = chunks_or_chunk
    timing = timing or getattr(src, "timing", None) or "timestamp"
    time_unit = time_unit or getattr(src, "time_unit", None) or "ps"
    if timing not in TIMINGS or time_unit not in TIME_UNITS:
        raise TraceError(f"timing must be one of {TIMINGS} and time_unit one of {TIME_UNITS}; "
                         f"got {timing!r}, {time_unit!r}")
    if format not in WRITABLE:
        raise TraceError(f"cannot write format {format!r}; writable formats: {', '.join(WRITABLE)}")
    chunks = [src] if isinstance(src, Chunk) else src
    if format == "native":
        return native.write_npz(path, chunks, timing, time_unit)
    rule = WRITABLE[format]
    if rule and not lossy:
        need_timing, units = rule
        if need_timing == "none" and timing != "none":
            raise TraceError(f"format {format!r} has no time column: the {timing} times would be lost "
                             f"({_LOSSY} to drop them)")
        if need_timing != "none" and (timing != need_timing or time_unit not in units):
            raise TraceError(f"format {format!r} holds {need_timing}s in {plural(units[0])}; these chunks have "
                             f"timing={timing!r} time_unit={time_unit!r} (hwmodel trace convert --cycle TIME turns ps/ns times "
                             f"into cycles; or {_LOSSY[:-1]})")
    holds_size = format in ("text", "gem5", "prospero")
    n = 0
    tmp = os.fspath(path) + ".part"
    try:
        with open_output(tmp, name_for_suffix=path) as out:
            ncols = None
            for ch in chunks:
                if not lossy:
                    if not holds_size and np.any(ch.size != DEFAULT_SIZE):
                        raise TraceError(f"format {format!r} has no size column and these accesses are not "
                                         f"all {DEFAULT_SIZE} B ({_LOSSY} to drop the sizes)")
                    if format != "text" and np.any(ch.vm != 0):
                        raise TraceError(f"format {format!r} has no VM column and the VM ids are not all 0 "
                                         f"({_LOSSY} to drop them)")
                if format == "text":
                    extra = bool(np.any(ch.size != DEFAULT_SIZE) or np.any(ch.vm != 0))
                    if ncols is None:
                        ncols = 5 if extra else (2 if timing == "none" else 3)
                        out.write(_text_header(timing, time_unit, ncols))
                    elif ncols < 5 and extra:
                        raise TraceError("text: size/vm columns appear after the first chunk was written "
                                         "without them; write from a single Chunk or a reader")
                text = _ramulator_cpu_lines(ch) if format == "ramulator_cpu" else _lines(format, ch, ncols or 0)
                out.write(text.encode())
                n += len(ch)
            if format == "text" and ncols is None:
                out.write(_text_header(timing, time_unit, 2 if timing == "none" else 3))
    except BaseException:
        if os.path.exists(tmp):
            os.remove(tmp)
        raise
    os.replace(tmp, path)
    return n


def _text_header(timing, time_unit, ncols) -> bytes:
    return f"# hwmodel-trace text v1 timing={timing} time_unit={time_unit} fields={ncols}\n".encode()
