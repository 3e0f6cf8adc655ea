"""open_trace(): format detection and chunked, constant-memory reading of any supported trace.

Text is read in blocks of BLOCK_BYTES ending at a newline and parsed with numpy (see
_textparse); records are then re-cut into Chunks of exactly `chunk_records` rows (the last one
shorter).  Memory is bounded by the block size and the chunk size, not by the trace length.
"""
from __future__ import annotations

import os
import warnings

import numpy as np

from . import champsim as _champsim
from . import native as _native
from ._io import TraceStream
from ._textparse import parse_block
from ._types import COLUMNS, TIME_UNITS, TIMINGS, Chunk, TraceError, concat
from .formats import DETECT_ORDER, TEXT_FORMATS, Text

BLOCK_BYTES = 2 << 20          # text bytes parsed per numpy pass (its temporaries take ~30 bytes per byte)
MAX_LINE = 1 << 20             # a longer "line" means the file is not a text trace
DETECT_LINES = 64              # data lines looked at to detect the format
HEAD_BYTES = 256 << 10         # decompressed bytes read to detect the format

FORMATS = {"native": "hwmodel .npz of columns time,addr,op,size,vm + JSON header (or a structured .npy)"}
FORMATS.update({name: cls.syntax for name, cls in TEXT_FORMATS.items()})
FORMATS["champsim"] = "ChampSim binary input_instr records, 64 bytes each"
ALIASES = {"npz": "native", "npy": "native", "mase": "dramsim2", "k6": "dramsim2_k6", "misc": "dramsim2_misc",
           "ramulator2_inst": "ramulator_cpu", "simpleo3": "ramulator_cpu", "valgrind": "lackey",
           "hwmodel": "text"}


def _canonical(format):
    if format is None:
        return None
    name = ALIASES.get(str(format).lower(), str(format).lower())
    if name not in FORMATS:
        raise TraceError(f"unknown trace format {format!r}; known formats: {', '.join(FORMATS)}")
    return name


def _is_binary(head: bytes) -> bool:
    return b"\0" in head[:4096]


def _data_lines(head: bytes, limit: int):
    """First `limit` lines that may hold records (not blank, not comments, not valgrind notes)."""
    out, lineno = [], 0
    for line in head.split(b"\n")[:-1] if b"\n" in head else [head]:
        lineno += 1
        s = line.strip()
        if not s or s.startswith(b"#") or TEXT_FORMATS["lackey"].ignore_line.match(line):
            continue
        out.append((lineno, line.rstrip(b"\r")))
        if len(out) >= limit:
            break
    return out


def detect_text_format(head: bytes, path: str) -> str:
    """Name of the text format whose syntax every one of the first data lines follows."""
    if Text.HEADER.search(head[:4096]):
        return "text"
    sample = _data_lines(head, DETECT_LINES)
    if not sample:
        raise TraceError(f"{path}: no trace records in the first {len(head)} bytes; cannot detect the format "
                         f"(pass format=, one of {', '.join(FORMATS)})")
    for name in DETECT_ORDER:
        cls = TEXT_FORMATS[name]
        strip = (lambda l: l.rstrip()) if name == "lackey" else (lambda l: l.strip())
        if all(cls.detect.fullmatch(strip(l)) for _, l in sample):
            needs = getattr(cls, "detect_needs", None)
            if needs is None or any(needs in l for _, l in sample):
                return name
    # Name the first line that no format accepts on its own.
    for lineno, l in sample:
        if not any(TEXT_FORMATS[n].detect.fullmatch(l.strip()) or TEXT_FORMATS[n].detect.fullmatch(l.rstrip())
                   for n in DETECT_ORDER):
            break
    else:
        lineno, l = sample[0]
    raise TraceError(f"{path}:{lineno}: cannot detect the trace format from line '{l.decode('latin-1')[:200]}' "
                     f"(first data lines fit no single known syntax); pass format=, one of {', '.join(FORMATS)}")


def _text_options(head: bytes, path: str) -> dict:
    """Text format: timing/unit from its header, field count from its first data line."""
    m = Text.HEADER.search(head[:4096])
    opts = {}
    if m:
        opts["timing"], opts["time_unit"] = m.group(1).decode(), m.group(2).decode()
        if opts["timing"] not in TIMINGS or opts["time_unit"] not in TIME_UNITS:
            raise TraceError(f"{path}: header names timing={opts['timing']} time_unit={opts['time_unit']}; "
                             f"expected timing in {TIMINGS} and time_unit in {TIME_UNITS}")
    sample = _data_lines(head, 1)
    n = len(sample[0][1].split()) if sample else 3
    opts["ncols"] = n if 2 <= n <= 5 else 3
    if m and m.group(3):
        opts["ncols"] = int(m.group(3))
    return opts


class TraceReader:
    """Iterable of Chunk over one trace file; a context manager.  Iterating again re-reads the file.

    path, format; timing: "timestamp" | "gap" | "none"; time_unit: "ps" | "ns" | "cycle" |
    "instruction"; addresses: "physical" | "virtual" (what the format's producers record);
    compression: None | "gzip" | "xz" | "bz2" | "zstd".
    After (or during) iteration: skipped_lines (bad lines skipped with skip_bad_lines=True),
    skipped_examples (their messages, first 10), ignored_records (valid records that are not
    memory accesses, e.g. gem5 'u' packets), instruction_fetches (lackey 'I' lines, ChampSim
    instructions).
    """

    def __init__(self, path, format=None, chunk_records=1 << 20, skip_bad_lines=False):
        if int(chunk_records) < 1:
            raise ValueError(f"chunk_records must be >= 1, got {chunk_records}")
        self.path = os.fspath(path)
        self.chunk_records = int(chunk_records)
        self.skip_bad_lines = bool(skip_bad_lines)
        self.skipped_lines = 0
        self.skipped_examples = []
        self.ignored_records = 0
        self.instruction_fetches = 0
        fmt = _canonical(format)
        stream = TraceStream(self.path)
        try:
            head = stream.read(HEAD_BYTES)
        finally:
            stream.close()
        self.compression = stream.compression
        self._kind, self._text_opts = None, {}
        if head.startswith(b"PK\x03\x04") or head.startswith(b"\x93NUMPY"):
            if fmt not in (None, "native"):
                raise TraceError(f"{self.path}: the content is a numpy file, not format {fmt!r}")
            fmt = "native"
            if head.startswith(b"PK"):
                if self.compression:
                    raise TraceError(f"{self.path}: a .npz inside {self.compression} cannot be streamed; "
                                     f"decompress it first")
                self._kind = "npz"
            else:
                self._kind = "npy"
        elif fmt == "native":
            raise TraceError(f"{self.path}: format 'native' expects a .npz or .npy file; this is neither")
        elif fmt == "champsim" or (fmt is None and _is_binary(head)):
            if fmt is None and not _champsim.looks_like_champsim(head):
                raise TraceError(f"{self.path}: binary content that is neither numpy nor a ChampSim trace")
            fmt, self._kind = "champsim", "champsim"
        else:
            if fmt is None:
                fmt = detect_text_format(head, self.path)
            self._kind = "text"
            if fmt == "text":
                self._text_opts = _text_options(head, self.path)
        self.format = fmt
        probe = self._open_source()
        self.timing, self.time_unit = probe.timing, probe.time_unit
        self.addresses = getattr(probe, "addresses", "physical")   # physical | virtual
        self.records = getattr(probe, "records", None)   # known for native files (progress totals)
        self._close_source(probe)
        self._src = None

    # -- sources: each iteration opens its own, so state (counters, carries) starts afresh
    def _open_source(self):
        if self._kind == "npz":
            return _native.NpzReader(self.path, self.chunk_records)
        if self._kind in ("npy", "champsim"):
            stream = TraceStream(self.path)
            head = stream.read(0)
            src = (_native.NpyReader(stream, head, self.chunk_records) if self._kind == "npy"
                   else _champsim.ChampSimReader(stream, head, self.chunk_records))
            src._stream = stream
            return src
        fmt = TEXT_FORMATS[self.format](**self._text_opts)
        fmt._stream = TraceStream(self.path)
        return fmt

    @staticmethod
    def _close_source(src):
        if hasattr(src, "_stream"):
            src._stream.close()
        if hasattr(src, "close"):
            src.close()

    def _text_blocks(self, fmt):
        stream, carry, lineno, skipped = fmt._stream, b"", 1, []
        while True:
            data = stream.read(BLOCK_BYTES)
            if not data:
                if not carry:
                    break
                block, carry = carry + b"\n", b""
            else:
                buf = carry + data
                cut = buf.rfind(b"\n")
                if cut < 0:
                    if len(buf) > MAX_LINE:
                        raise TraceError(f"{self.path}:{lineno}: line longer than {MAX_LINE} bytes; "
                                         f"not a {self.format} text trace")
                    carry = buf
                    continue
                block, carry = buf[:cut + 1], buf[cut + 1:]
            cols, line, nlines = parse_block(fmt, block, lineno, self.path, self.skip_bad_lines, skipped)
            lineno += nlines
            if skipped:
                self.skipped_lines += len(skipped)
                self.skipped_examples += [m for _, m in skipped[:10 - len(self.skipped_examples)]]
                skipped.clear()
            self.ignored_records = fmt.ignored_records
            self.instruction_fetches = getattr(fmt, "instruction_fetches", 0)
            yield cols, line

    def _blocks(self, src):
        if self._kind == "text":
            yield from self._text_blocks(src)
        elif self._kind == "champsim":
            for cols, line in src.blocks():
                self.instruction_fetches = src.instructions
                yield cols, line

    def __iter__(self):
        self.skipped_lines, self.skipped_examples = 0, []
        self.ignored_records = self.instruction_fetches = 0
        src = self._src = self._open_source()
        try:
            if self._kind in ("npz", "npy"):
                yield from src   # already cut to chunk_records
                return
            yield from self._cut(self._blocks(src))
        finally:
            self._close_source(src)
        if self.skipped_lines:
            warnings.warn(f"{self.path}: skipped {self.skipped_lines} malformed line(s); first: "
                          f"{self.skipped_examples[0]}", stacklevel=2)

    def _cut(self, blocks):
        """Re-cut variable-size parsed blocks into Chunks of exactly chunk_records rows."""
        cr = self.chunk_records
        pend, pend_n = [], 0
        for cols, line in blocks:
            if len(line) == 0:
                continue
            pend.append((cols, line))
            pend_n += len(line)
            if pend_n < cr:
                continue
            cols, line = _merge(pend)
            i = 0
            while pend_n - i >= cr:
                yield _chunk(cols, line, i, i + cr)
                i += cr
            pend = [({c: v[i:] for c, v in cols.items()}, line[i:])] if i < pend_n else []
            pend_n -= i
        if pend_n:
            cols, line = _merge(pend)
            yield _chunk(cols, line, 0, pend_n)

    def bytes_read(self) -> int:
        """Bytes of the file as stored read so far by the iteration under way (0 for .npz)."""
        stream = getattr(self._src, "_stream", None)
        return stream.position() if stream is not None else 0

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False

    def close(self):
        pass

    def __repr__(self):
        return (f"TraceReader({self.path!r}, format={self.format!r}, timing={self.timing!r}, "
                f"time_unit={self.time_unit!r})")


def _merge(pend):
    if len(pend) == 1:
        return pend[0]
    return ({c: np.concatenate([p[0][c] for p in pend]) for c in COLUMNS},
            np.concatenate([p[1] for p in pend]))


def _chunk(cols, line, a, b):
    return Chunk(*(cols[c][a:b].astype(dt, copy=False) for c, dt in COLUMNS.items()), first_line=int(line[a]))


def open_trace(path, format=None, chunk_records=1 << 20, skip_bad_lines=False) -> TraceReader:
    """Open a trace of any supported format (detected from its content unless `format` is given)."""
    return TraceReader(path, format=format, chunk_records=chunk_records, skip_bad_lines=skip_bad_lines)


def read_all(path, format=None, **kw) -> Chunk:
    """The whole trace as one Chunk (for small traces and tests)."""
    return concat(list(open_trace(path, format=format, chunk_records=kw.pop("chunk_records", 1 << 22), **kw)))
