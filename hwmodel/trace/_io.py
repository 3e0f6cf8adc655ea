"""Opening trace files: compression detected by magic bytes, truncation reported as an error.

gzip, xz, bzip2 and zstd are recognised from the first bytes of the file (the suffix is not
trusted).  A compressed stream that ends before its end-of-stream marker raises TraceError:
a truncated download must not pass for a shorter trace.  So does anything after the last stream
that is not another stream (a damaged second stream, trailing garbage), in every format.  `zstandard` is imported only when a
zstd file is met.
"""
from __future__ import annotations

import bz2
import gzip
import io
import lzma
import os
import zlib

from ._types import TraceError

MAGIC = {
    b"\x1f\x8b": "gzip",
    b"\xfd7zXZ\x00": "xz",
    b"BZh": "bz2",
    b"\x28\xb5\x2f\xfd": "zstd",
}
MAGIC_OF = {kind: magic for magic, kind in MAGIC.items()}
SUFFIX = {".gz": "gzip", ".xz": "xz", ".bz2": "bz2", ".zst": "zstd", ".zstd": "zstd"}
_RAW_BLOCK = 1 << 20


def sniff_compression(head: bytes) -> str | None:
    for magic, name in MAGIC.items():
        if head.startswith(magic):
            return name
    return None


def _zstandard():
    try:
        import zstandard
    except ImportError:
        raise TraceError("reading or writing a .zst trace needs the zstandard module: "
                         "pip install zstandard") from None
    return zstandard


class _Decompressing(io.RawIOBase):
    """A raw reader over a compressed file: `_fill()` decompresses the next block into `_buf`
    (False at the end); reads are served from it."""
    _buf = b""

    def readable(self):
        return True

    def _fill(self) -> bool:
        raise NotImplementedError

    def readinto(self, b):
        while not self._buf:
            if not self._fill():
                return 0
        n = min(len(b), len(self._buf))
        b[:n] = self._buf[:n]
        self._buf = self._buf[n:]
        return n

    def close(self):
        self._fh.close()
        super().close()


class _ZstdReader(_Decompressing):
    """Streaming zstd decompression that, unlike zstandard's stream_reader, notices truncation."""

    def __init__(self, fh, name):
        self._fh, self._name = fh, name
        self._zstd = _zstandard()
        self._obj = self._zstd.ZstdDecompressor().decompressobj()
        self._buf = b""
        self._fed_since_eof = False

    def _fill(self) -> bool:
        raw = self._fh.read(_RAW_BLOCK)
        if not raw:
            if self._fed_since_eof and not self._obj.eof:
                raise EOFError("zstd stream ended before the end of its frame")
            return False
        while raw:
            if self._obj.eof:  # a new frame follows the previous one
                self._obj = self._zstd.ZstdDecompressor().decompressobj()
            self._fed_since_eof = True
            try:
                self._buf += self._obj.decompress(raw)
            except self._zstd.ZstdError as e:
                raise EOFError(f"corrupt zstd data ({e})") from None
            raw = self._obj.unused_data if self._obj.eof else b""
            if self._obj.eof:
                self._fed_since_eof = bool(raw)
        return True



class _MultiStreamReader(_Decompressing):
    """Streaming xz or bzip2 decompression of one or more concatenated streams that, unlike
    lzma.LZMAFile and bz2.BZ2File, refuses what follows the last stream unless it is another
    stream (xz: after stream padding, NUL bytes in multiples of four): those drop a damaged second
    stream or trailing garbage silently."""

    def __init__(self, fh, kind):
        self._fh, self._kind = fh, kind
        self._new = (lambda: lzma.LZMADecompressor(format=lzma.FORMAT_XZ)) if kind == "xz" else bz2.BZ2Decompressor
        self._magic = MAGIC_OF[kind]
        self._obj = self._new()
        self._buf = b""
        self._pending = b""      # compressed bytes not yet fed: after a stream, before the next
        self._in_stream = False  # fed bytes of a stream that has not ended
        self._streams = 0
        self._pad = 0            # xz: NUL bytes of stream padding since the last stream

    def _between_streams(self, data: bytes) -> bytes:
        """Bytes after a complete stream: padding (xz) skipped and counted; '' when more must be
        read first."""
        if self._kind == "xz":
            stripped = data.lstrip(b"\0")
            self._pad += len(data) - len(stripped)
            data = stripped
            if data:
                self._check_padding()
        if data and len(data) >= len(self._magic) and not data.startswith(self._magic):
            raise EOFError(f"trailing data that is not a {self._kind} stream after stream {self._streams}")
        return data

    def _check_padding(self):
        if self._pad % 4:
            raise EOFError(f"xz stream padding of {self._pad} bytes is not a multiple of 4")
        self._pad = 0

    def _fill(self) -> bool:
        raw = self._fh.read(_RAW_BLOCK)
        data = self._pending + raw
        self._pending = b""
        if not raw:
            if self._in_stream:
                raise EOFError(f"{self._kind} stream {self._streams + 1} ended before its end-of-stream marker")
            if data:   # a few bytes after the last stream, too short to start one
                raise EOFError(f"trailing data that is not a {self._kind} stream after stream {self._streams}")
            if self._kind == "xz":
                self._check_padding()
            return False
        while data:
            if not self._in_stream:
                data = self._between_streams(data)
                if len(data) < len(self._magic):   # not enough to tell: wait for more
                    self._pending = data
                    return True
                self._obj = self._new()
                self._in_stream = True
            try:
                self._buf += self._obj.decompress(data)
            except (lzma.LZMAError, OSError) as e:
                raise EOFError(f"corrupt {self._kind} data in stream {self._streams + 1} ({e})") from None
            if self._obj.eof:
                self._streams += 1
                self._in_stream = False
                data = self._obj.unused_data
            else:
                data = b""
        return True



class TraceStream:
    """Binary reader over a possibly compressed file; read() errors become TraceError(path)."""

    def __init__(self, path):
        self.path = os.fspath(path)
        self.name = os.path.basename(self.path)
        try:
            raw = open(self.path, "rb")
        except OSError as e:
            raise TraceError(f"{self.path}: cannot open trace: {e.strerror}") from None
        head = raw.read(8)
        raw.seek(0)
        self.compression = sniff_compression(head)
        if self.compression == "gzip":
            self._fh = gzip.GzipFile(fileobj=raw, mode="rb")
        elif self.compression in ("xz", "bz2"):
            self._fh = io.BufferedReader(_MultiStreamReader(raw, self.compression), buffer_size=_RAW_BLOCK)
        elif self.compression == "zstd":
            self._fh = io.BufferedReader(_ZstdReader(raw, self.path), buffer_size=_RAW_BLOCK)
        else:
            self._fh = raw
        self._raw = raw

    def read(self, n: int = -1) -> bytes:
        try:
            return self._fh.read(n)
        except (EOFError, zlib.error, lzma.LZMAError, OSError) as e:
            kind = self.compression or "file"
            raise TraceError(f"{self.path}: truncated or corrupt {kind} data: {e}") from None

    def seekable(self) -> bool:
        return self.compression is None

    def position(self) -> int:
        """Bytes of the file as stored (compressed) read so far, for progress."""
        try:
            return self._raw.tell()
        except (OSError, ValueError):   # closed
            return 0

    def close(self):
        try:
            self._fh.close()
        finally:
            self._raw.close()


def open_output(path, name_for_suffix=None):
    """Binary writer to `path`, compressed by the suffix (.gz, .xz, .bz2, .zst) of
    `name_for_suffix` (default: path itself)."""
    path = os.fspath(path)
    kind = SUFFIX.get(os.path.splitext(os.fspath(name_for_suffix or path))[1].lower())
    if kind == "gzip":
        return gzip.open(path, "wb", compresslevel=6)
    if kind == "xz":
        return lzma.open(path, "wb")
    if kind == "bz2":
        return bz2.open(path, "wb")
    if kind == "zstd":
        zstd = _zstandard()
        return zstd.ZstdCompressor().stream_writer(open(path, "wb"), closefd=True)
    return open(path, "wb")
