"""hwmodel's native columnar trace: an uncompressed `.npz` (a zip of .npy members).

Members: time.npy (int64), addr.npy (uint64), op.npy (uint8), size.npy (uint32), vm.npy (uint16),
and header.npy, a uint8 array holding UTF-8 JSON:
    {"format": "hwmodel-trace", "version": 1, "timing": ..., "time_unit": ..., "records": n}
No member is ever unpickled (allow_pickle=False).

Streaming: each member is read through its own zip stream, `chunk_records` rows at a time, so
memory stays bounded whatever the trace length (a compressed npz, as np.savez_compressed makes,
streams the same way).  The writer spools each column to a temporary file and then copies the
columns into the zip, so writing from a chunk iterator is also bounded in memory.

A plain `.npy` structured array with fields addr, op [, time, size, vm] is accepted too; it has no
header, so its time column is taken as timestamps in ps (and timing "none" without a time field).
"""
from __future__ import annotations

import json
import os
import shutil
import tempfile
import tokenize
import zipfile
import zlib

import numpy as np

from ._types import COLUMNS, TIME_UNITS, TIMINGS, Chunk, TraceError

FORMAT_TAG = "hwmodel-trace"
VERSION = 1


# what reading a damaged zip member raises (NotImplementedError: an unknown compression method)
_ZIP_ERRORS = (zipfile.BadZipFile, zlib.error, EOFError, OSError, NotImplementedError)


def _read_npy_header(fp, where):
    try:
        version = np.lib.format.read_magic(fp)
        if version == (1, 0):
            shape, fortran, dtype = np.lib.format.read_array_header_1_0(fp)
        else:
            shape, fortran, dtype = np.lib.format.read_array_header_2_0(fp)
    except (ValueError, SyntaxError, tokenize.TokenError, RecursionError) + _ZIP_ERRORS as e:
        raise TraceError(f"{where}: not a valid .npy array: {e}") from None
    if dtype.hasobject:
        raise TraceError(f"{where}: object arrays are not accepted (no pickled data)")
    if len(shape) != 1 or fortran:
        raise TraceError(f"{where}: expected a 1-D array, got shape {shape}")
    return shape[0], dtype


_READ_BLOCK = 16 << 20


def _read_exact(fp, nbytes, where):
    """Exactly `nbytes` (in blocks: a header may claim more than the file holds, and we do not
    allocate what it claims); a short or corrupt member is a TraceError naming `where`."""
    buf = bytearray()
    try:
        while len(buf) < nbytes:
            block = fp.read(min(_READ_BLOCK, nbytes - len(buf)))
            if not block:
                break
            buf += block
    except _ZIP_ERRORS as e:
        raise TraceError(f"{where}: corrupt data ({type(e).__name__}: {e})") from None
    if len(buf) != nbytes:
        raise TraceError(f"{where}: truncated ({len(buf)} of {nbytes} bytes)")
    return buf


def read_npz_arrays(path, names, where=None) -> dict:
    """The 1-D arrays `names` of an .npz, read safely: headers checked first, data read as it
    arrives (never what a header claims), damaged members a TraceError naming `where`."""
    where = where or os.fspath(path)
    out = {}
    try:
        zf = zipfile.ZipFile(path)
    except (zipfile.BadZipFile, OSError, ValueError) as e:
        raise TraceError(f"{where}: not a readable .npz: {e}") from None
    with zf:
        have = set(zf.namelist())
        missing = [n for n in names if n + ".npy" not in have]
        if missing:
            raise TraceError(f"{where}: lacks array(s) {', '.join(missing)}")
        for n in names:
            w = f"{where}[{n}.npy]"
            try:
                with zf.open(n + ".npy") as fp:
                    length, dtype = _read_npy_header(fp, w)
                    if dtype.names:
                        raise TraceError(f"{w}: a structured array, expected plain numbers")
                    out[n] = np.frombuffer(_read_exact(fp, length * dtype.itemsize, w), dtype)
            except _ZIP_ERRORS as e:
                raise TraceError(f"{w}: unreadable member ({type(e).__name__}: {e})") from None
    return out


class NpzReader:
    """Iterates Chunks of a native .npz; see the module docstring."""

    def __init__(self, path, chunk_records):
        self.path = os.fspath(path)
        self.chunk_records = chunk_records
        try:
            self._zf = zipfile.ZipFile(self.path)
        except (zipfile.BadZipFile, OSError) as e:
            raise TraceError(f"{self.path}: not a readable .npz: {e}") from None
        names = set(self._zf.namelist())
        missing = [c + ".npy" for c in ("addr", "op") if c + ".npy" not in names]
        if missing:
            raise TraceError(f"{self.path}: missing member(s) {', '.join(missing)} of a hwmodel trace")
        header = {}
        if "header.npy" in names:
            where = f"{self.path}[header.npy]"
            try:
                with self._zf.open("header.npy") as fp:
                    length, dtype = _read_npy_header(fp, where)
                    if dtype.kind not in "iub" or length * dtype.itemsize > 1 << 20:
                        raise TraceError(f"{where}: not a JSON header (an array of {length} {dtype})")
                    raw = np.frombuffer(_read_exact(fp, length * dtype.itemsize, where), dtype)
                header = json.loads(bytes(raw.astype(np.uint8)).decode("utf-8"))
            except (ValueError, UnicodeDecodeError, RecursionError) + _ZIP_ERRORS as e:
                if isinstance(e, TraceError):
                    raise
                raise TraceError(f"{where}: unreadable header: {e}") from None
            if not isinstance(header, dict):
                raise TraceError(f"{where}: the header is not a JSON mapping")
            if header.get("format") != FORMAT_TAG or header.get("version") != VERSION:
                raise TraceError(f"{self.path}: header says format {header.get('format')!r} version "
                                 f"{header.get('version')!r}; this reader knows {FORMAT_TAG!r} v{VERSION}")
        self.timing = header.get("timing", "timestamp" if "time.npy" in names else "none")
        self.time_unit = header.get("time_unit", "ps")
        if self.timing not in TIMINGS or self.time_unit not in TIME_UNITS:
            raise TraceError(f"{self.path}: header timing {self.timing!r} / time_unit {self.time_unit!r} "
                             f"not among {TIMINGS} / {TIME_UNITS}")
        self._members = {}
        n = None
        for c, dt in COLUMNS.items():
            if c + ".npy" not in names:
                continue
            where = f"{self.path}[{c}.npy]"
            try:
                fp = self._zf.open(c + ".npy")
                length, dtype = _read_npy_header(fp, where)
            except _ZIP_ERRORS as e:
                raise TraceError(f"{where}: unreadable member ({type(e).__name__}: {e})") from None
            # any integer type is read (values are checked when read: checked_column); hwmodel
            # writes the exact column types
            if dtype.kind not in ("iub" if c == "op" else "iu"):
                raise TraceError(f"{where}: dtype {dtype}, expected integers ({np.dtype(dt)})")
            if n is not None and length != n:
                raise TraceError(f"{where}: {length} rows, other columns have {n}")
            n = length
            self._members[c] = (fp, dtype, where)
        self.records = n

    def __iter__(self):
        done = 0
        while done < self.records:
            m = min(self.chunk_records, self.records - done)
            # bytearray: chunks are writable like those of the text readers
            cols = {c: np.frombuffer(_read_exact(fp, m * dt.itemsize, where), dtype=dt)
                    for c, (fp, dt, where) in self._members.items()}
            ch = Chunk.from_arrays(first_line=done + 1, **cols,
                                   where=lambda i, d=done: f"{self.path}: record {d + i + 1}")
            done += m
            yield ch

    def close(self):
        for fp, _, _ in self._members.values():
            fp.close()
        self._zf.close()


class NpyReader:
    """A structured .npy (fields addr, op [, time, size, vm]) from a stream, chunk by chunk."""

    def __init__(self, stream, head: bytes, chunk_records):
        self.path, self.chunk_records = stream.path, chunk_records
        self._fp = _Prefixed(head, stream)
        self.records, self.dtype = _read_npy_header(self._fp, self.path)
        if self.dtype.itemsize > 4096:
            raise TraceError(f"{self.path}: records of {self.dtype.itemsize} bytes are not a trace's")
        names = self.dtype.names or ()
        if "addr" not in names or "op" not in names:
            raise TraceError(f"{self.path}: a .npy trace must be a structured array with fields addr and op "
                             f"(and optionally time, size, vm); found {names or self.dtype}")
        self.timing = "timestamp" if "time" in names else "none"
        self.time_unit = "ps"

    def __iter__(self):
        done = 0
        while done < self.records:
            m = min(self.chunk_records, self.records - done)
            rec = np.frombuffer(_read_exact(self._fp, m * self.dtype.itemsize, self.path), dtype=self.dtype)
            names = self.dtype.names
            cols = {c: np.array(rec[c]) for c in COLUMNS if c in names}
            # field types are the writer's choice: each value must fit its column (no silent cast)
            ch = Chunk.from_arrays(first_line=done + 1, **cols,
                                   where=lambda i, d=done: f"{self.path}: record {d + i + 1}")
            done += m
            yield ch

    def close(self):
        pass


class _Prefixed:
    """A read-only stream that first returns bytes already consumed for format detection."""

    def __init__(self, head, stream):
        self._head, self._stream = head, stream

    def read(self, n=-1):
        if self._head:
            if n < 0:
                out, self._head = self._head + self._stream.read(), b""
                return out
            out, self._head = self._head[:n], self._head[n:]
            if len(out) < n:
                out += self._stream.read(n - len(out))
            return out
        return self._stream.read(n)


def write_npz(path, chunks, timing, time_unit):
    """Write chunks as a native .npz (uncompressed members, bounded memory); returns record count."""
    path = os.fspath(path)
    tmpdir = tempfile.mkdtemp(prefix="hwmodel-trace-", dir=os.path.dirname(os.path.abspath(path)))
    try:
        spools = {c: open(os.path.join(tmpdir, c), "wb") for c in COLUMNS}
        n = 0
        for ch in chunks:
            for c, dt in COLUMNS.items():
                spools[c].write(np.ascontiguousarray(getattr(ch, c), dtype=dt).tobytes())
            n += len(ch)
        for f in spools.values():
            f.close()
        header = json.dumps({"format": FORMAT_TAG, "version": VERSION, "timing": timing,
                             "time_unit": time_unit, "records": n}).encode()
        tmp = os.path.join(tmpdir, "out.npz")
        with zipfile.ZipFile(tmp, "w", zipfile.ZIP_STORED, allowZip64=True) as zf:
            for c, dt in COLUMNS.items():
                with zf.open(c + ".npy", "w", force_zip64=True) as out, open(os.path.join(tmpdir, c), "rb") as src:
                    np.lib.format.write_array_header_2_0(
                        out, {"descr": np.lib.format.dtype_to_descr(np.dtype(dt)), "fortran_order": False, "shape": (n,)})
                    shutil.copyfileobj(src, out, 1 << 22)
            with zf.open("header.npy", "w") as out:
                np.lib.format.write_array(out, np.frombuffer(header, np.uint8), allow_pickle=False)
        os.replace(tmp, path)
        return n
    finally:
        shutil.rmtree(tmpdir, ignore_errors=True)
