"""Line requests for the DRAM tool (hwmodel.dramsim) from a trace file of any supported format.

A record is one request per 64 B line it touches (almost always one); its arrival in ps comes from
the trace's timing: cycle-stamped (one trace cycle = one tCK, or `cycle_ps`), ns/ps-stamped,
untimed (every request at 0) or instruction gaps (`cycle_ps` per instruction). Timestamps must not
decrease, and an address beyond the DRAM's capacity is an error (or, with `ignore_high_bits`,
loses its high bits as in DRAMsim3); errors name the file and line.

Text in the simplest formats (`ADDR OP [TIME]`: DRAMsim3, DRAMSim2, Ramulator) goes through the
compiled scanner (hwmodel._dramtool) into reused buffers, with no per-request Python; everything
else, and whatever that scanner does not take, through hwmodel.trace's readers, the authority.
"""
from __future__ import annotations

import queue
import threading
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from .dram import DRAM
from .memctrl import LINE_BYTES
from .units import plural

BLOCK_BYTES = 4 << 20     # text read and scanned per step (a pipeline stage)
PIECE = 1 << 18           # requests per piece the scanner fills (buffers are reused)
POOL = 5                  # piece buffers in rotation: one filling, two queued, one in the model, one spare


@dataclass
class Requests:
    """Requests in arrival order: t (ps, int64), addr (int64), w (uint8, 1 = write)."""
    t: np.ndarray
    addr: np.ndarray
    w: np.ndarray


class RequestStream:
    """Reads a trace file (or takes a Chunk) and yields Requests in time order,
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

    def __iter__(self):
        scan = self._scanner() if self.fast and self.chunk is None else None
        pieces = self._scan_text(*scan) if scan else (self._convert(*r) for r in self._records())
        for piece in pieces:
            if piece is None or not len(piece.t):
                continue
            if self.horizon is not None and piece.t[-1] >= self.horizon:
                k = int(np.searchsorted(piece.t, self.horizon, "left"))
                if k:
                    yield Requests(piece.t[:k], piece.addr[:k], piece.w[:k])
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
        return Requests(t, addr.astype(np.int64), (op != 0).astype(np.uint8))

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
            raise ValueError(f"{self.path}:{line[i]}: time {time[i]} {plural(self.time_unit)} is beyond what the model holds")
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
                        yield Requests(t[:n], a[:n], w[:n])
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


def prefetched(it, depth=2):
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
