"""One memory controller driven by a trace, as DRAMsim3 users run theirs (`hwmodel dram`).

    run_dram(config, trace, cycles=None, cycle=None, epoch=None, overrides=()) -> DramResult

The trace address is the physical address (no hypervisor, no placement). Arrivals:
- cycle-stamped formats (dramsim3, dramsim2, prospero): open loop, one trace cycle = one tCK of
  the configuration unless `cycle` says what a trace cycle is ("0.5ns");
- ns- or ps-stamped formats (text, gem5): as they say;
- untimed formats (ramulator, ramulator2, ...): every request arrives at 0 and the controller
  takes them back to back as fast as it accepts them (Ramulator's trace mode);
- instruction-gap formats (usimm, lackey, ramulator_cpu, champsim): `cycle` gives the time of
  one instruction, and a request arrives its gap after the previous one.
A record of `size` bytes is one request per 64 B line it touches (almost always one).

`cycles` stops at cycle N as DRAMsim3's `-c` does: requests arriving at or after N are not
offered, only what completed by N is done, and rates are over N cycles, idle tail included.
Commands (and their energy) are counted for every request offered, including commands the
backlog issues after N. Without `cycles` the run ends when the last request completes. Writes
are posted: done when the controller accepts them; writes still buffered at the end are never
issued (as in DRAMsim3). Read latency is measured from the controller's acceptance (DRAMsim3's
added_cycle) to the last data beat, in whole cycles rounded up.

Figures come per channel and in total under DRAMsim3's JSON keys (hwmodel.dram_energy for the
energy), with `epoch` the same per epoch: commands by the epoch their request arrived in,
completions by the epoch they completed in, rank activity and refreshes by time.
"""
from __future__ import annotations

import json
import math
import re
import threading
import queue
from dataclasses import dataclass, field, fields
from pathlib import Path

import numpy as np

from . import _dram_layout as L
from .dram import DRAM, POWER, TIMINGS, _TIMING_ALIASES
from .dram_energy import channel_energy, notes, to_units
from .memctrl import LINE_BYTES, dram_params
from .units import parse_time

__all__ = ["run_dram", "resolve_dram", "DramResult"]

CONFIG_SUFFIXES = (".yaml", ".yml")
BLOCK_BYTES = 4 << 20           # text read and scanned per step (a pipeline stage)
MAX_EPOCHS = 100_000            # epochs one run may report
HIST_BINS = ((0, 200, 10),)     # DRAMsim3's read_latency histogram: 0..200 cycles in 10 bins
HIST_CYCLES = 4096              # read latencies the compiled tally counts; longer ones are rare
_INT = re.compile(r"^[+-]?(0[xX][0-9a-fA-F]+|\d+)$")
_REAL = re.compile(r"^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$")


# -- configuration -------------------------------------------------------------------------------
def resolve_dram(config, overrides=()) -> DRAM:
    """A DRAM from a DRAM, a preset name ("DDR4-2400"), a DRAMsim3 .ini, a YAML file holding a
    DRAM mapping ({preset: ..., tRCD: 20} or {ini: path, ...}; a relative ini path is read from
    the YAML file's folder) or such a mapping; then `overrides` ("key=value") replace fields.
    Timings may be cycles (20) or times ("13.75ns")."""
    if isinstance(config, DRAM):
        d = config
    elif isinstance(config, dict):
        d = _from_mapping(config, "dram", Path("."))
    elif isinstance(config, (str, Path)):
        text = str(config)
        path = Path(text)
        if path.suffix.lower() == ".ini" or (path.is_file() and path.suffix.lower() not in CONFIG_SUFFIXES):
            d = DRAM.from_dramsim3_ini(path)
        elif path.suffix.lower() in CONFIG_SUFFIXES:
            d = _from_mapping(_load_yaml(path), str(path), path.parent)
        elif "/" in text or "\\" in text:
            raise ValueError(f"{text}: no such configuration file")
        else:
            d = DRAM.preset(text)
    else:
        raise ValueError(f"dram: expected a preset name, an .ini or .yaml path, a mapping or a DRAM, got {config!r}")
    changes = {}
    for item in overrides or ():
        if "=" not in str(item):
            raise ValueError(f"-p {item!r}: expected key=value, e.g. -p row_policy=closed")
        key, raw = str(item).split("=", 1)
        changes[key.strip()] = _scalar(raw.strip())
    if changes:
        try:
            d = _apply(d, changes)
        except ValueError as e:
            raise ValueError(f"-p: {e}") from None
    return d


def _load_yaml(path: Path) -> dict:
    import yaml
    try:
        data = yaml.safe_load(path.read_text())
    except OSError as e:
        raise ValueError(f"{path}: cannot read configuration: {e.strerror}") from None
    except yaml.YAMLError as e:
        raise ValueError(f"{path}: not valid YAML: {e}") from None
    if isinstance(data, dict) and set(data) == {"dram"}:
        data = data["dram"]
    if isinstance(data, str):
        data = {"preset": data}
    if not isinstance(data, dict):
        raise ValueError(f"{path}: expected a DRAM mapping such as {{preset: DDR4-2400, tRCD: 20}}, "
                         f"got {type(data).__name__}")
    return data


def _from_mapping(data: dict, where: str, base: Path) -> DRAM:
    data = dict(data)
    preset, ini = data.pop("preset", None), data.pop("ini", None)
    try:
        if preset is not None and ini is not None:
            raise ValueError("dram: give either preset or ini, not both")
        if ini is not None:
            p = Path(ini)
            d = DRAM.from_dramsim3_ini(p if p.is_absolute() else base / p)
        else:
            d = DRAM.preset(preset) if preset is not None else DRAM()
        return _apply(d, data)
    except ValueError as e:
        msg = str(e)
        raise ValueError(f"{where}: {msg}" if where != "dram" else msg) from None


def _apply(d: DRAM, changes: dict) -> DRAM:
    """Field changes; timings given as times ("13.75ns") go through DRAM.with_ns."""
    known = {f.name for f in fields(DRAM)}
    times, plain = {}, {}
    for k, v in changes.items():
        name = _TIMING_ALIASES.get(k, k)
        if (name in TIMINGS or k in ("tCK", "tck")) and isinstance(v, str):
            times[k] = v
        elif k in ("tCK", "tck") and isinstance(v, (int, float)) and not isinstance(v, bool):
            times[k] = f"{v}ns"          # a bare tCK is in ns, as in DRAMsim3's files
        elif name not in known:
            raise ValueError(f"dram.{k}: no such parameter; parameters: {', '.join(sorted(known))}")
        else:
            plain[name] = float(v) if name in POWER and isinstance(v, int) and not isinstance(v, bool) else v
    if "tCK" in times or "tck" in times:
        d = d.with_ns(**{k: times.pop(k) for k in ("tCK", "tck") if k in times})
    return d.replace(**plain).with_ns(**times) if times else d.replace(**plain)


def _scalar(raw: str):
    """A -p value: an integer, a number, true/false, or text (a policy name, a time "13.75ns")."""
    if _INT.match(raw):
        return int(raw, 0) if raw.lower().startswith(("0x", "+0x", "-0x")) else int(raw)
    if _REAL.match(raw):
        return float(raw)
    if raw.lower() in ("true", "false"):
        return raw.lower() == "true"
    return raw


# -- trace input ---------------------------------------------------------------------------------
@dataclass
class _Piece:
    """Requests in arrival order: t (ps, int64), addr (int64), w (uint8, 1 = write)."""
    t: np.ndarray
    addr: np.ndarray
    w: np.ndarray


PIECE = 1 << 18           # requests per piece the scanner fills (buffers are reused)
POOL = 5                  # piece buffers in rotation: one filling, two queued, one in the model, one spare


class _Trace:
    """Reads a trace file (or takes a Chunk) and yields _Pieces of line requests in time order,
    checking order, capacity and timing. Text in the simplest formats goes through the compiled
    scanner (hwmodel._dramtool) into reused buffers; everything else through hwmodel.trace."""

    def __init__(self, trace, d: DRAM, cycle_ps, horizon_ps, format, skip_bad_lines, ignore_high_bits,
                 time_unit, fast):
        from .trace import Chunk
        self.d, self.horizon, self.fast = d, horizon_ps, fast
        self.capacity = d.capacity_bytes
        self.ignore_high_bits = ignore_high_bits
        self.skip_bad_lines = skip_bad_lines
        self.skipped_lines = 0
        self.prev_t, self.gap_t = None, 0
        if isinstance(trace, Chunk):
            self.path, self.reader, self.chunk = "<chunk>", None, trace
            timing = "none" if time_unit is None else "timestamp"
            unit = time_unit
            self.format = "arrays"
        else:
            from .trace import open_trace
            self.path = str(trace)
            if not Path(self.path).exists():
                raise ValueError(f"{self.path}: no such trace file")
            self.reader = open_trace(self.path, format=format, skip_bad_lines=skip_bad_lines)
            self.chunk = None
            timing, unit = self.reader.timing, self.reader.time_unit
            self.format = self.reader.format
        self.timing, self.time_unit = timing, unit
        if timing == "timestamp" and unit == "cycle":
            self.scale = cycle_ps if cycle_ps is not None else d.tck_ps
        elif timing == "gap":
            if cycle_ps is None:
                raise ValueError(f"{self.path}: {self.format} traces give each request's gap in "
                                 f"instructions, not a time; pass --cycle TIME (the time of one "
                                 f"instruction), or run it through a core model with `hwmodel run`")
            self.scale = cycle_ps
        elif cycle_ps is not None:
            what = "untimed" if timing == "none" else f"stamped in {unit}"
            raise ValueError(f"--cycle: {self.path} is {what}; --cycle says what one trace cycle is")
        else:
            self.scale = {"ns": 1000, "ps": 1}.get(unit, 0) if timing == "timestamp" else 0
        if timing == "timestamp" and unit not in ("cycle", "ns", "ps"):
            raise ValueError(f"{self.path}: timestamps in {unit} are not supported")

    @property
    def timed(self) -> bool:
        return self.timing != "none"

    def __iter__(self):
        scan = self._scanner() if self.fast and self.chunk is None else None
        pieces = self._scan_text(*scan) if scan else (self._convert(*r) for r in self._records())
        for piece in pieces:
            if piece is None or not len(piece.t):
                continue
            if self.horizon is not None and piece.t[-1] >= self.horizon:
                k = int(np.searchsorted(piece.t, self.horizon, "left"))
                if k:
                    yield _Piece(piece.t[:k], piece.addr[:k], piece.w[:k])
                return          # later requests arrive at or after the horizon: stop reading
            yield piece

    # -- records of any format, through hwmodel.trace: (time, addr, op, size, line) in file order
    def _records(self):
        if self.chunk is not None:
            c = self.chunk
            yield c.time.astype(np.int64), c.addr, c.op, c.size, c.first_line + np.arange(len(c))
            return
        for c in self.reader:
            yield c.time, c.addr, c.op, c.size, c.first_line + np.arange(len(c), dtype=np.int64)
        self.skipped_lines = self.reader.skipped_lines

    def _convert(self, time, addr, op, size, line):
        """Records to requests: one per 64 B line, arrival in ps, order and capacity checked."""
        if not len(addr):
            return None
        addr = addr.astype(np.uint64, copy=False)
        if size is not None and (np.any(size > LINE_BYTES) or np.any((addr % LINE_BYTES) + size > LINE_BYTES)):
            time, addr, op, line = _split_lines(time, addr, op, size, line)
        bad = np.flatnonzero(addr >= np.uint64(self.capacity))
        if len(bad):
            if not self.ignore_high_bits:
                i = bad[0]
                raise ValueError(f"{self.path}:{line[i]}: address {int(addr[i]):#x} is beyond the "
                                 f"{self.capacity / 2**30:g} GiB of the DRAM ({self.d.name}); pass "
                                 f"--ignore-high-bits to drop the bits above, as DRAMsim3 does")
            addr = addr & np.uint64(self.capacity - 1)
        t = self._arrivals(np.asarray(time, np.int64), line)
        return _Piece(t, addr.astype(np.int64), (op != 0).astype(np.uint8))

    def _arrivals(self, time, line):
        if self.timing == "none":
            return np.zeros(len(time), np.int64)
        if self.timing == "gap":
            t = np.cumsum(time) * self.scale + self.gap_t
            self.gap_t = int(t[-1])
            return t
        limit = (1 << 62) // self.scale
        if time.max() > limit:
            i = int(np.argmax(time > limit))
            raise ValueError(f"{self.path}:{line[i]}: time {time[i]} {self.time_unit}s is beyond what the model holds")
        t = time * self.scale
        prev = np.empty_like(t)
        prev[1:] = t[:-1]
        prev[0] = t[0] if self.prev_t is None else self.prev_t
        back = np.flatnonzero(t < prev)
        if len(back):
            i = back[0]
            raise ValueError(f"{self.path}:{line[i]}: time {time[i]} goes backwards (after "
                             f"{prev[i] // self.scale}); a timestamped trace must be sorted by time")
        self.prev_t = int(t[-1])
        return t

    # -- the compiled fast path for `ADDR OP [TIME]` text
    def _scanner(self):
        """(scan_lines, format, keywords, ncols) when this format's main layout is
        `ADDR OP [TIME]`, else None (the trace package reads it)."""
        from .trace.formats import TEXT_FORMATS
        if self.format not in TEXT_FORMATS or self.format == "text":
            return None               # (text takes its field count from a header: the reader's job)
        try:
            from . import _dramtool
        except ImportError:
            return None
        fmt = TEXT_FORMATS[self.format]()
        layout = fmt.layouts[next(iter(fmt.layouts))]
        kinds = [(col, kind) for col, kind, _ in layout]
        if kinds not in ([("addr", "hex"), ("op", "kw")], [("addr", "hex"), ("op", "kw"), ("time", "dec")]):
            return None
        words = layout[1][2]
        if any(c not in (0, 1) for c in words.values()) or fmt.comma:
            return None
        if (len(layout) == 3) != (self.timing == "timestamp"):
            return None
        return _dramtool, fmt, tuple(words.items()), len(layout)

    def _scan_text(self, tool, fmt, keywords, ncols):
        from .trace._io import TraceStream, sniff_compression
        from .trace._textparse import parse_block
        with open(self.path, "rb") as f:
            plain = sniff_compression(f.read(8)) is None
        stream = open(self.path, "rb") if plain else TraceStream(self.path)
        buf = bytearray(2 * BLOCK_BYTES + 1)
        view = memoryview(buf)
        pool = [(np.empty(PIECE, np.int64), np.empty(PIECE, np.int64), np.empty(PIECE, np.uint8))
                for _ in range(POOL)]
        turn = 0
        have, lineno, eof = 0, 1, False
        skipped = []
        scale = self.scale if ncols == 3 else 0
        try:
            while not eof:
                if plain:
                    got = stream.readinto(view[have:have + BLOCK_BYTES])
                else:
                    data = stream.read(BLOCK_BYTES)
                    got = len(data)
                    view[have:have + got] = data
                eof = got == 0
                end = have + got
                cut = buf.rfind(b"\n", 0, end)
                if eof:
                    if end == 0:
                        break
                    if cut != end - 1:          # a last line without its newline
                        buf[end] = 10
                        end += 1
                    cut = end - 1
                elif cut < 0:
                    if end > BLOCK_BYTES:
                        raise ValueError(f"{self.path}:{lineno}: line longer than {BLOCK_BYTES} bytes; "
                                         f"not a {self.format} trace")
                    have = end
                    continue
                stop, pos = cut + 1, 0
                while pos < stop:
                    t, a, w = pool[turn]
                    prev = self.prev_t if self.prev_t is not None else -1
                    n, pos, status = tool.scan_lines(view, pos, stop, keywords, ncols, scale, prev,
                                                     self.capacity, self.ignore_high_bits, t, a, w)
                    if n:
                        turn = (turn + 1) % POOL
                        if scale:
                            self.prev_t = int(t[n - 1])
                        lineno += n
                        yield _Piece(t[:n], a[:n], w[:n])
                    if status in (tool.SCAN_DONE, tool.SCAN_FULL):
                        continue
                    # the authority reads the rest of the block: comments, blank or unusual lines,
                    # and it reports a bad line, an address or a time out of order, with its line
                    cols, rec_line, nlines = parse_block(fmt, bytes(view[pos:stop]), lineno, self.path,
                                                         self.skip_bad_lines, skipped)
                    self.skipped_lines += len(skipped)
                    skipped.clear()
                    lineno += nlines
                    yield self._convert(cols["time"], cols["addr"], cols["op"], None, rec_line)
                    pos = stop
                rest = end - stop
                buf[:rest] = buf[stop:end]
                have = rest
        finally:
            stream.close()


def _split_lines(time, addr, op, size, line):
    """Records larger than a line (or crossing one) become one request per 64 B line."""
    size = np.maximum(size.astype(np.uint64), 1)
    first = addr // np.uint64(LINE_BYTES)
    count = ((addr + size - np.uint64(1)) // np.uint64(LINE_BYTES) - first + np.uint64(1)).astype(np.int64)
    rep = np.repeat(np.arange(len(addr)), count)
    within = np.arange(int(count.sum())) - np.repeat(np.cumsum(count) - count, count)
    a = np.where(within == 0, addr[rep], (first[rep] + within.astype(np.uint64)) * np.uint64(LINE_BYTES))
    return time[rep], a, op[rep], line[rep]


def _prefetched(it, depth=2):
    """Iterate `it` in a thread, `depth` items ahead: the scanner and the model (both without the
    GIL) then use the machine's two cores."""
    q = queue.Queue(depth)
    stop = threading.Event()

    def work():
        try:
            for x in it:
                while not stop.is_set():
                    try:
                        q.put(("item", x), timeout=0.1)
                        break
                    except queue.Full:
                        continue
                if stop.is_set():
                    return
            q.put(("end", None))
        except BaseException as e:   # handed to the consumer, which raises it
            q.put(("error", e))

    th = threading.Thread(target=work, daemon=True)
    th.start()
    try:
        while True:
            kind, x = q.get()
            if kind == "end":
                return
            if kind == "error":
                raise x
            yield x
    finally:
        stop.set()
        th.join()


# -- figures -------------------------------------------------------------------------------------
class _Window:
    """Completion-side figures of one channel over one window (the run or an epoch)."""

    def __init__(self):
        self.reads = self.writes = 0
        self.lat_sum_ps = 0
        self.hist = np.zeros(0, np.int64)    # reads by latency in whole cycles (rounded up)

    def add_reads(self, lat_ps, tck):
        if not len(lat_ps):
            return
        self.reads += len(lat_ps)
        self.lat_sum_ps += int(lat_ps.sum())
        self._count(np.bincount(-(-lat_ps // tck)))

    def _count(self, c):
        if len(c) > len(self.hist):
            c[:len(self.hist)] += self.hist
            self.hist = c
        else:
            self.hist[:len(c)] += c

    def tally(self, out, acc, w, horizon, tck):
        """add_reads (and writes) of a run piece, in compiled code (hwmodel._dramtool)."""
        from ._dramtool import tally_reads
        if len(self.hist) < HIST_CYCLES:
            self._count(np.zeros(HIST_CYCLES, np.int64))
        reads, writes, lat_sum, longest = tally_reads(out, acc, w, -1 if horizon is None else horizon,
                                                      tck, self.hist)
        if longest >= len(self.hist):     # the few reads longer than the histogram: count them here
            done = np.ones(len(out), bool) if horizon is None else out <= horizon
            c = -(-(out - acc)[done & (w == 0)] // tck)
            c = c[c >= len(self.hist)]
            self._count(np.bincount(c, minlength=len(self.hist)) * (np.arange(int(c.max()) + 1) >= len(self.hist)))
        self.reads += reads
        self.writes += writes
        self.lat_sum_ps += lat_sum


class _Channel:
    """Running figures of one channel: counter totals, completions, the last acceptance."""

    def __init__(self):
        self.counters = np.zeros(len(L.DRAM_COUNTER_NAMES), np.int64)
        self.run = _Window()
        self.last_acc_ps = 0
        self.accepted = 0
        self.pending = {}                  # epoch -> _Window of completions not yet final


def _percentile(hist, q):
    """Nearest-rank percentile (cycles) of a histogram of counts by whole cycles."""
    n = int(hist.sum())
    if n == 0:
        return None
    return int(np.searchsorted(np.cumsum(hist), math.ceil(q * n)))


def _binned(hist) -> dict:
    """DRAMsim3's read_latency[...] bins: [-0], [0-19] ... [180-199], [200-]."""
    lo, hi, nbins = HIST_BINS[0]
    width = (hi - lo) // nbins
    out = {f"read_latency[-{lo}]": 0}
    for i in range(nbins):
        a, b = lo + i * width, lo + (i + 1) * width
        out[f"read_latency[{a}-{b - 1}]"] = int(hist[a:b].sum())
    out[f"read_latency[{hi}-]"] = int(hist[hi:].sum())
    return out


@dataclass
class DramResult:
    """The figures of one `run_dram`: per channel and in total, DRAMsim3's keys and units beside
    labelled ones (ns, GB/s, pJ, mW); `epochs` the same per epoch when asked."""
    dram: DRAM
    trace: str
    model: str
    backend: str
    cycles: int                          # num_cycles: the run's length in tCK
    channels: list                       # one dict per channel (DRAMsim3 keys + labelled figures)
    total: dict
    epochs: list = field(default_factory=list)
    info: dict = field(default_factory=dict)

    def to_dict(self) -> dict:
        """DRAMsim3's JSON layout: one object per channel ("0", "1", ...), plus "total" and, with
        epochs, "epochs" (a list, one such layout per epoch)."""
        out = {str(i): c for i, c in enumerate(self.channels)}
        out["total"] = self.total
        if self.epochs:
            out["epochs"] = self.epochs
        return out

    def to_json(self, path=None, indent=1) -> str:
        text = json.dumps(self.to_dict(), indent=indent)
        if path is not None:
            Path(path).write_text(text + "\n")
        return text

    def summary(self) -> str:
        d = self.dram
        lines = [f"hwmodel dram: {self.trace} on {d.name} ({d.protocol}, {d.channels} ch x {d.ranks} rank, "
                 f"tCK {d.tck_ps / 1000:g} ns, {d.row_policy} page, {d.scheduler}, model {self.model})",
                 f"run: {self.cycles:,} cycles = {self.cycles * d.tck_ps / 1e6:,.3f} us"
                 + (f"; {self.info['skipped_lines']} malformed line(s) skipped" if self.info.get("skipped_lines") else "")]
        cols = [("total", self.total)] + ([(f"ch {i}", c) for i, c in enumerate(self.channels)]
                                          if len(self.channels) > 1 else [])
        rows = [
            ("reads done", lambda c: f"{c['num_reads_done']:,}"),
            ("writes done", lambda c: f"{c['num_writes_done']:,}"),
            ("read row hits", lambda c: f"{c['num_read_row_hits']:,} / {c['num_read_cmds']:,} ({_pct(c['read_row_hit_rate'])})"),
            ("write row hits", lambda c: f"{c['num_write_row_hits']:,} / {c['num_write_cmds']:,} ({_pct(c['write_row_hit_rate'])})"),
            ("ACT / PRE / REF commands", lambda c: f"{c['num_act_cmds']:,} / {c['num_pre_cmds']:,} / {c['num_ref_cmds']:,}"),
            ("read latency mean (cycles / ns)", lambda c: "-" if not c["num_reads_done"] else
             f"{c['average_read_latency']:.2f} / {c['average_read_latency_ns']:.2f}"),
            ("read latency p50/p95/p99 (cycles)", lambda c: _pcts(c["read_latency_percentiles_cycles"])),
            ("read latency p50/p95/p99 (ns)", lambda c: _pcts(c["read_latency_percentiles_ns"], 1)),
            ("bandwidth (GB/s)", lambda c: f"{c['average_bandwidth']:.3f}"),
            ("rank active / idle (cycles)", lambda c: f"{sum(c['rank_active_cycles'].values()):,} / "
                                                      f"{sum(c['all_bank_idle_cycles'].values()):,}"),
            ("energy (nJ)", lambda c: f"{c['total_energy_nJ']:,.1f}"),
            *((f"  {label} (nJ)", lambda c, k=k: f"{c['energy_pJ'][k] / 1000:,.1f}")
              for label, k in (("activate", "act"), ("read", "read"), ("write", "write"), ("refresh", "ref"),
                               ("active standby", "act_stb"), ("precharge standby", "pre_stb"))),
            ("average power (mW)", lambda c: f"{c['average_power_mW']:,.1f}"),
        ]
        width = max(len(r[0]) for r in rows) + 2
        cells = [[fmt(c) for _, c in cols] for _, fmt in rows]
        w = [max(len(name), *(len(r[i]) for r in cells)) + 3 for i, (name, _) in enumerate(cols)]
        lines.append(" " * width + "".join(f"{name:>{w[i]}}" for i, (name, _) in enumerate(cols)))
        for (label, _), row in zip(rows, cells):
            lines.append(f"{label:<{width}}" + "".join(f"{x:>{w[i]}}" for i, x in enumerate(row)))
        lines.append("read latency histogram (cycles: reads): " + ", ".join(
            f"{k[len('read_latency'):]}: {v:,}" for k, v in self.total.items()
            if k.startswith("read_latency[") and v))
        if self.epochs:
            lines.append(f"epochs: {len(self.epochs)} of {self.info['epoch_cycles']:,} cycles "
                         f"(per-epoch figures in --json)")
        lines += [f"note: {n}" for n in self.info.get("notes", ())]
        return "\n".join(lines)


def _pct(x):
    return "-" if x is None else f"{100 * x:.1f}%"


def _pcts(p, nd=0):
    return " / ".join("-" if p[k] is None else f"{p[k]:.{nd}f}" for k in ("p50", "p95", "p99"))


def _figures(d: DRAM, cnt: np.ndarray, win: _Window, refreshes: int, active_ps, cycles: int,
             accepted: int = 0, last_acc_ps: int = 0, channel: int = 0, epoch: int = 0) -> dict:
    """One channel's (or the total's) dict: DRAMsim3 keys, then labelled figures."""
    c = dict(zip(L.DRAM_COUNTER_NAMES, map(int, cnt)))
    tck = d.tck_ps
    active = [int(round(a / tck)) for a in active_ps]
    idle = [cycles - a for a in active]
    req_bytes = max(1, LINE_BYTES // d.burst_bytes) * d.burst_bytes    # bus bytes of one line request
    done = win.reads + win.writes
    bw = done * req_bytes / (cycles * tck * 1e-3) if cycles else 0.0
    lat = win.lat_sum_ps / win.reads / tck if win.reads else 0.0
    e = channel_energy(d, c["act_cmds"], c["read_cmds"], c["write_cmds"], refreshes, active, idle, cycles)
    pct = {f"p{q}": _percentile(win.hist, q / 100) for q in (50, 95, 99)}
    out = {
        "channel": channel, "epoch_num": epoch, "num_cycles": cycles,
        "num_reads_done": win.reads, "num_writes_done": win.writes,
        "num_write_buf_hits": c["read_forwards"],
        "num_read_row_hits": c["read_row_hits"], "num_write_row_hits": c["write_row_hits"],
        "num_read_cmds": c["read_cmds"], "num_write_cmds": c["write_cmds"],
        "num_act_cmds": c["act_cmds"], "num_pre_cmds": c["pre_cmds"],
        "num_ondemand_pres": c["row_conflicts"], "num_ref_cmds": refreshes,
        "num_refb_cmds": 0, "num_srefe_cmds": 0, "num_srefx_cmds": 0, "hbm_dual_cmds": 0,
        "average_bandwidth": bw, "average_read_latency": lat,
        "average_interarrival": last_acc_ps / tck / accepted if accepted else 0.0,
        "rank_active_cycles": {str(r): a for r, a in enumerate(active)},
        "all_bank_idle_cycles": {str(r): i for r, i in enumerate(idle)},
        "sref_cycles": {str(r): 0 for r in range(len(active))},
        **e,
        "read_latency": {str(k): int(v) for k, v in enumerate(win.hist) if v},
        **_binned(win.hist),
        # labelled figures (hwmodel's, beyond DRAMsim3's keys)
        "time_ns": cycles * tck / 1000,
        "bandwidth_GBps": bw,
        "average_read_latency_ns": lat * tck / 1000,
        "read_latency_percentiles_cycles": pct,
        "read_latency_percentiles_ns": {k: None if v is None else v * tck / 1000 for k, v in pct.items()},
        "read_row_hit_rate": c["read_row_hits"] / c["read_cmds"] if c["read_cmds"] else None,
        "write_row_hit_rate": c["write_row_hits"] / c["write_cmds"] if c["write_cmds"] else None,
        "reads_offered": c["reads"], "writes_offered": c["writes"],
        "reads_forwarded": c["read_forwards"], "dram_bytes": c["dram_bytes"],
        **to_units(d, e),
    }
    return out


def _total(d: DRAM, chans: list, cycles: int) -> dict:
    """The total over channels: sums; rates over the run; ranks numbered channel by channel."""
    t = {"channel": "total", "epoch_num": chans[0]["epoch_num"], "num_cycles": cycles}
    for k, v in chans[0].items():
        if k in t or isinstance(v, (str,)):
            continue
        if isinstance(v, dict) and k.startswith(("rank_", "all_bank", "sref_cycles", "act_stb", "pre_stb", "sref_energy")):
            t[k] = {str(i * len(v) + int(r)): c[k][r] for i, c in enumerate(chans) for r in v}
        elif isinstance(v, (int, float)) and not isinstance(v, bool) and v is not None:
            t[k] = sum(c[k] for c in chans)
    hist = {}
    for c in chans:
        for k, v in c["read_latency"].items():
            hist[int(k)] = hist.get(int(k), 0) + v
    h = np.zeros(max(hist) + 1 if hist else 0, np.int64)
    for k, v in hist.items():
        h[k] = v
    reads = t["num_reads_done"]
    lat_sum = sum(c["average_read_latency"] * c["num_reads_done"] for c in chans)
    t["average_read_latency"] = lat_sum / reads if reads else 0.0
    t["average_read_latency_ns"] = t["average_read_latency"] * d.tck_ps / 1000
    t["average_interarrival"] = max(c["average_interarrival"] * (c["reads_offered"] + c["writes_offered"])
                                    for c in chans) / max(1, t["reads_offered"] + t["writes_offered"])
    t["average_power"] = t["total_energy"] / cycles if cycles else 0.0
    t["average_power_mW"] = t["average_power"]
    t["time_ns"] = cycles * d.tck_ps / 1000
    t["read_latency"] = {str(k): int(v) for k, v in enumerate(h) if v}
    t.update(_binned(h))
    pct = {f"p{q}": _percentile(h, q / 100) for q in (50, 95, 99)}
    t["read_latency_percentiles_cycles"] = pct
    t["read_latency_percentiles_ns"] = {k: None if v is None else v * d.tck_ps / 1000 for k, v in pct.items()}
    t["read_row_hit_rate"] = t["num_read_row_hits"] / t["num_read_cmds"] if t["num_read_cmds"] else None
    t["write_row_hit_rate"] = t["num_write_row_hits"] / t["num_write_cmds"] if t["num_write_cmds"] else None
    t["energy_pJ"] = {k: sum(c["energy_pJ"][k] for c in chans) for k in chans[0]["energy_pJ"]}
    return t


# -- the run -------------------------------------------------------------------------------------
def _refreshes_before(p: np.ndarray, h: int) -> np.ndarray:
    """REF commands due before h (ps) per rank (channel-major), from the refresh schedule (the
    model applies each when its rank is next used, or counts it when the rank was idle)."""
    n_ch, n_r = int(p[L.D["N_CH"]]), int(p[L.D["N_RANKS"]])
    mode, refi, stagger = int(p[L.D["REF_MODE"]]), int(p[L.D["T_REFI"]]), int(p[L.D["REF_STAGGER"]])
    out = np.zeros(n_ch * n_r, np.int64)
    if mode == 0 or refi <= 0:
        return out
    for r in range(n_ch * n_r):
        first = (r % n_r + 1) * stagger if mode == 1 else refi
        out[r] = 0 if h <= first else (h - first - 1) // refi + 1
    return out


def run_dram(config, trace, cycles=None, cycle=None, epoch=None, overrides=(), *, format=None,
             backend=None, skip_bad_lines=False, ignore_high_bits=False, time_unit=None,
             fast=True) -> DramResult:
    """Drive the DRAM of `config` (see resolve_dram) with `trace` (a file of any supported format,
    or a hwmodel.trace.Chunk whose times are in `time_unit`: "cycle", "ns", "ps" or None for
    untimed) and return its figures. cycles: stop at cycle N (DRAMsim3's -c); cycle: the time of
    one trace cycle ("0.5ns"); epoch: per-epoch figures every N cycles (an int) or a time
    ("1us"); overrides: "key=value" DRAM fields. `fast` lets the compiled text scanner read the
    simplest formats (results are the same either way)."""
    from .engine import select_backend
    d = resolve_dram(config, overrides)
    core = select_backend(backend, compiled="_core", reference="_dram_reference")
    backend_name = "reference" if core.__name__.endswith("_reference") else "compiled"
    tck = d.tck_ps
    n_cycles = _count("--cycles", cycles)
    horizon = None if n_cycles is None else n_cycles * tck
    cycle_ps = None if cycle is None else _time("--cycle", cycle, tck, cycles_ok=False)
    epoch_ps = None if epoch is None else _time("--epoch", epoch, tck, cycles_ok=True)
    if epoch_ps is not None and epoch_ps % tck:
        raise ValueError(f"--epoch {epoch}: {epoch_ps} ps is not a whole number of tCK ({tck} ps)")
    if epoch_ps is not None and horizon is not None and horizon // epoch_ps > MAX_EPOCHS:
        raise ValueError(f"--epoch {epoch}: {horizon // epoch_ps:,} epochs; at most {MAX_EPOCHS:,}")

    p = dram_params(d, activity=True)
    st = L.new_dram_state(p)
    n_ch, n_r = d.channels, d.ranks
    nranks = n_ch * n_r
    if epoch_ps is not None:
        L.set_marks(st, epoch_ps, epoch_ps, horizon if horizon is not None else L.NO_MARK)
    elif horizon is not None:
        L.set_marks(st, horizon, L.NO_MARK, horizon)
    src = _Trace(trace, d, cycle_ps, horizon, format, skip_bad_lines, ignore_high_bits, time_unit, fast)
    chans = [_Channel() for _ in range(n_ch)]
    marks = [[] for _ in range(nranks)]      # active ps at each mark crossed, per rank
    ch_shift, ch_mask = int(p[L.D["CH_SHIFT"]]), int(p[L.D["CH_MASK"]])

    def mark_index(b):   # which mark a boundary b is, in the order the ranks record them
        if epoch_ps is None:
            return 0
        return b // epoch_ps - 1 if b % epoch_ps == 0 else b // epoch_ps

    def activity_at(b):
        out = np.zeros(nranks, np.int64)
        if b > 0:
            core.dram_activity(p, st, "", int(b), out)
        k = mark_index(b)
        for r in range(nranks):
            if out[r] < 0:
                if k >= len(marks[r]):
                    raise AssertionError(f"rank {r}: activity at {b} ps is folded and was not marked")
                out[r] = marks[r][k]
        return out

    ep = _Epochs(d, p, epoch_ps, chans) if epoch_ps is not None else None
    last_done = 0
    out_buf = acc_buf = np.empty(0, np.int64)     # completion and acceptance times, reused
    compiled = backend_name == "compiled" and _have_tool()
    pieces = _prefetched(iter(src)) if fast and backend_name == "compiled" else iter(src)
    for piece in pieces:
        for part in (ep.split(piece) if ep else (piece,)):
            if ep:
                ep.close_until(int(part.t[0]), activity_at)
            for c, (t, a, w) in enumerate(_by_channel(part, n_ch, ch_shift, ch_mask)):
                if not len(t):
                    continue
                ch = chans[c]
                before = st["counters"].copy()
                if len(t) > len(out_buf):
                    out_buf, acc_buf = np.empty(len(t), np.int64), np.empty(len(t), np.int64)
                out, acc = out_buf[:len(t)], acc_buf[:len(t)]
                core.dram_run(p, st, "", t, a, w, out, acc)
                cnt = st["counters"] - before
                ch.counters += cnt
                if ep:
                    ep.counters[c] += cnt
                last_done = max(last_done, int(out.max()))
                ch.accepted += len(t)
                ch.last_acc_ps = max(ch.last_acc_ps, int(acc.max()))
                _complete(ch, t, w, out, acc, horizon, tck, ep, compiled)
            try:
                taken = L.take_marks(st)
            except ValueError as e:
                raise ValueError(f"--epoch {epoch}: the controller's backlog runs more than "
                                 f"{L.RA_MARKS} epochs ahead of the trace ({e}); use a longer epoch") from None
            for r, got in enumerate(taken):
                marks[r] += got
    src_skipped = src.skipped_lines
    # the run's end: cycle N, or the last completion (or the last bank event folded, if later)
    fronts = st["ract"].reshape(nranks, len(L.ACT_FIELDS))[:, L.DA["FRONT"]]
    end_ps = horizon if horizon is not None else max(last_done, int(fronts.max()) if nranks else 0)
    num_cycles = n_cycles if n_cycles is not None else -(-end_ps // tck)
    end_ps = num_cycles * tck
    if ep:
        ep.close_until(end_ps, activity_at, final=True)
    active = activity_at(end_ps)
    refs = _refreshes_before(p, end_ps)
    per = []
    for c, ch in enumerate(chans):
        rs = slice(c * n_r, (c + 1) * n_r)
        per.append(_figures(d, ch.counters, ch.run, int(refs[rs].sum()), active[rs].tolist(), num_cycles,
                            ch.accepted, ch.last_acc_ps, channel=c))
    total = _total(d, per, num_cycles)
    epochs = ep.rows if ep else []
    info = {"format": src.format, "timing": src.timing, "time_unit": src.time_unit,
            "skipped_lines": src_skipped, "tck_ps": tck,
            "epoch_cycles": epoch_ps // tck if epoch_ps else None, "notes": notes(d)}
    from . import __version__
    total["hwmodel"] = {"version": __version__, "dram": d.name, "trace": src.path, "model": d.model,
                        "backend": backend_name, **info}
    return DramResult(d, src.path, d.model, backend_name, num_cycles, per, total, epochs, info)


def _have_tool() -> bool:
    try:
        from . import _dramtool  # noqa: F401
    except ImportError:
        return False
    return True


def _count(what, v):
    if v is None:
        return None
    if isinstance(v, str) and _INT.match(v.strip()):
        v = int(v.strip(), 0)
    if not isinstance(v, int) or isinstance(v, bool) or v <= 0:
        raise ValueError(f"{what} {v}: expected a positive whole number of cycles")
    return v


def _time(what, v, tck, cycles_ok):
    """ps of a time ("0.5ns", "1us"), or, where cycles_ok, of a whole number of tCK cycles."""
    if isinstance(v, str) and _INT.match(v.strip()):
        v = int(v.strip(), 0)
    if isinstance(v, int) and not isinstance(v, bool):
        if not cycles_ok:
            raise ValueError(f"{what} {v}: give a time with its unit, e.g. 0.5ns")
        if v <= 0:
            raise ValueError(f"{what} {v}: must be > 0")
        return v * tck
    if isinstance(v, (float, str)) and _REAL.match(str(v).strip()):
        raise ValueError(f"{what} {v}: give " + ("a whole number of cycles (1000) or " if cycles_ok else "")
                         + "a time with its unit (0.5ns, 1us)")
    try:
        ps = parse_time(v, what)
    except ValueError as e:
        raise ValueError(f"{e} (e.g. {'1000 cycles or ' if cycles_ok else ''}0.5ns)") from None
    if ps <= 0:
        raise ValueError(f"{what} {v!r}: must be > 0")
    return ps


def _by_channel(part: _Piece, n_ch, shift, mask):
    """The part's requests per channel, each in arrival order (channels are independent)."""
    if n_ch == 1:
        return [(part.t, part.addr, part.w)]
    ch = (part.addr >> shift) & mask
    order = np.argsort(ch, kind="stable")
    counts = np.bincount(ch, minlength=n_ch)
    out, i = [], 0
    for n in counts:
        o = order[i:i + n]
        out.append((part.t[o], part.addr[o], part.w[o]))
        i += n
    return out


def _complete(ch: _Channel, t, w, out, acc, horizon, tck, ep, compiled):
    """Completion-side figures of a run piece: done by the horizon, read latency from acceptance."""
    if compiled and not ep:
        ch.run.tally(out, acc, w, horizon, tck)
        return
    done = np.ones(len(t), bool) if horizon is None else out <= horizon
    rd = done & (w == 0)
    wr = done & (w != 0)
    lat = out[rd] - acc[rd]
    ch.run.add_reads(lat, tck)
    ch.run.writes += int(np.count_nonzero(wr))
    if ep:
        ep.completions(ch, out[rd], lat, out[wr])


class _Epochs:
    """Per-epoch figures: commands by the epoch their request arrived in, completions by the
    epoch they completed in, rank activity (from the ranks' marks) and refreshes by time."""

    def __init__(self, d, p, e, chans):
        self.d, self.p, self.e, self.chans = d, p, e, chans
        self.counters = [np.zeros(len(L.DRAM_COUNTER_NAMES), np.int64) for _ in chans]
        self.next = 0                     # the next epoch to close
        self.prev_active = np.zeros(d.channels * d.ranks, np.int64)
        self.prev_refs = np.zeros(d.channels * d.ranks, np.int64)
        self.rows = []

    def split(self, piece):
        k = piece.t // self.e
        cuts = np.flatnonzero(k[1:] != k[:-1]) + 1
        if not len(cuts):
            return [piece]
        return [_Piece(piece.t[a:b], piece.addr[a:b], piece.w[a:b])
                for a, b in zip(np.r_[0, cuts], np.r_[cuts, len(k)])]

    def completions(self, ch, rd_done, lat, wr_done):
        # a completion at a boundary belongs to the epoch it ends (done by N includes N)
        for k, lat_k in _group(np.maximum(rd_done - 1, 0) // self.e, lat):
            ch.pending.setdefault(k, _Window()).add_reads(lat_k, self.d.tck_ps)
        for k, n in zip(*np.unique(np.maximum(wr_done - 1, 0) // self.e, return_counts=True)):
            ch.pending.setdefault(int(k), _Window()).writes += int(n)

    def close_until(self, t, activity_at, final=False):
        """Close every epoch that ends at or before t (final: the epoch t falls in too)."""
        last = t // self.e if not final else -(-t // self.e)
        if last - self.next > MAX_EPOCHS or (final and last > MAX_EPOCHS):
            raise ValueError(f"--epoch: the run spans more than {MAX_EPOCHS:,} epochs of "
                             f"{self.e // self.d.tck_ps:,} cycles")
        while self.next < last:
            k = self.next
            end = min((k + 1) * self.e, t) if final else (k + 1) * self.e
            self._close(k, end, activity_at)
            self.next += 1

    def _close(self, k, end, activity_at):
        d, n_r = self.d, self.d.ranks
        start = k * self.e
        cycles = (end - start) // d.tck_ps
        active = activity_at(end)
        refs = _refreshes_before(self.p, end)
        per = []
        for c, ch in enumerate(self.chans):
            rs = slice(c * n_r, (c + 1) * n_r)
            win = ch.pending.pop(k, _Window())
            per.append(_figures(d, self.counters[c], win, int((refs[rs] - self.prev_refs[rs]).sum()),
                                (active[rs] - self.prev_active[rs]).tolist(), cycles, channel=c, epoch=k))
            self.counters[c] = np.zeros_like(self.counters[c])
        self.prev_active, self.prev_refs = active, refs
        row = {"epoch_num": k, "start_cycle": start // d.tck_ps, "end_cycle": end // d.tck_ps}
        row.update({str(c): f for c, f in enumerate(per)})
        row["total"] = _total(d, per, cycles)
        self.rows.append(row)


def _group(keys, values):
    """(key, values with that key) for sorted-or-not integer keys."""
    if not len(keys):
        return []
    order = np.argsort(keys, kind="stable")
    ks, vs = keys[order], values[order]
    cuts = np.flatnonzero(ks[1:] != ks[:-1]) + 1
    return [(int(ks[a]), vs[a:b]) for a, b in zip(np.r_[0, cuts], np.r_[cuts, len(ks)])]
