"""Vectorized parsing of whitespace-separated text traces, with an exact per-line fallback.

Speed comes from never touching a line in Python on the common path: a block of bytes (ending at
a newline) is split into tokens with numpy byte comparisons, each column of tokens is converted
as a whole (hex and decimal digits are gathered position by position from the right), and the
records are assembled with array operations.  Any line the fast path does not accept -- a
comment, a blank line, an unexpected field count, a digit it cannot read, a number too wide for
its fast loop -- is handed to the slow path, which parses that single line with plain Python
and either returns its records or raises the precise error.  The slow path is the authority:
the fast path only ever accepts lines that the slow path would accept with the same result.
"""
from __future__ import annotations

import re

import numpy as np

from ._types import COLUMNS, DEFAULT_SIZE, TraceError

_U64 = (1 << 64) - 1
MAX = {"addr": _U64, "time": (1 << 63) - 1, "size": (1 << 32) - 1, "vm": (1 << 16) - 1,
       "wb": _U64, "pc": _U64, "flags": _U64, "atomic": _U64}
WHAT = {"addr": "address", "time": "time", "size": "size", "vm": "vm id", "op": "operation",
        "wb": "write-back address", "pc": "PC", "flags": "flags", "atomic": "atomic flag"}


class BadLine(Exception):
    """Raised by a slow-path parser; the reader adds file, line number and line text."""


# ---------------------------------------------------------------- vectorized field parsers
# Each takes the block `arr` (uint8) and token bounds s, e (int64, end exclusive) and returns
# (values, ok).  ok is False where the token is not accepted; those lines go to the slow path.

PAD = 24  # bytes of padding before each block, so that 8-byte windows never start before it
_U = np.uint64
_L = _U(0x0101010101010101)
_H = _U(0x8080808080808080)
# _KEEP_HI[n]: keep the last n bytes of an 8-byte window (the n digits that end at the token end)
_KEEP_HI = np.array([0] + [((1 << (8 * n)) - 1) << (8 * (8 - n)) for n in range(1, 9)], np.uint64)
# _KEEP_LO[n]: keep the first n bytes of an 8-byte window (a keyword that starts at the token start)
_KEEP_LO = np.array([(1 << (8 * n)) - 1 for n in range(0, 9)], np.uint64)


def _u64(arr):
    """Little-endian 8-byte window starting at every byte position (a zero-copy unaligned view)."""
    return np.ndarray((len(arr) - 7,), "<u8", buffer=arr, offset=0, strides=(1,))


def _ge(t, k):
    """Per byte (all < 0x80): high bit set where byte >= k (SWAR compare, no carries between bytes)."""
    return (t + _U((0x80 - k) * 0x0101010101010101)) & _H


def _hex8(w, keep):
    """Value of up to 8 hex digits right-aligned in window w (bytes outside `keep` ignored) and
    per-window validity."""
    t = (w | _U(0x2020202020202020)) & _U(0x7F7F7F7F7F7F7F7F)
    valid = (_ge(t, 0x30) & ~_ge(t, 0x3A)) | (_ge(t, 0x61) & ~_ge(t, 0x67))
    ok = ((w & _H & keep) == 0) & ((~valid & _H & keep) == 0)
    v = ((t & _U(0x0F0F0F0F0F0F0F0F)) + ((t >> _U(6)) & _L) * _U(9)) & keep
    v = ((v & _U(0x00FF00FF00FF00FF)) << _U(4)) | ((v >> _U(8)) & _U(0x00FF00FF00FF00FF))
    v = ((v & _U(0x0000FFFF0000FFFF)) << _U(8)) | ((v >> _U(16)) & _U(0x0000FFFF0000FFFF))
    return ((v & _U(0xFFFFFFFF)) << _U(16)) | (v >> _U(32)), ok


def _dec8(w, keep):
    """Value of up to 8 decimal digits right-aligned in window w, and per-window validity."""
    ok = ((w & _H & keep) == 0) & ((((~_ge(w & ~_H, 0x30) | _ge(w & ~_H, 0x3A)) & _H & keep) == 0))
    # bytes outside `keep` become '0' first, so that the subtraction cannot borrow across bytes
    v = ((w & keep) | (_U(0x3030303030303030) & ~keep)) - _U(0x3030303030303030)
    v = ((v & _U(0x00FF00FF00FF00FF)) * _U(10)) + ((v >> _U(8)) & _U(0x00FF00FF00FF00FF))
    v = ((v & _U(0x0000FFFF0000FFFF)) * _U(100)) + ((v >> _U(16)) & _U(0x0000FFFF0000FFFF))
    return ((v & _U(0xFFFFFFFF)) * _U(10000)) + (v >> _U(32)), ok


def v_hex(arr, s, e):
    """Hex with optional 0x/0X prefix, at most 16 digits (wider ones go to the slow path)."""
    pre = (e - s > 2) & (arr[s] == 48) & ((arr[s + 1] | 0x20) == 120)
    n = e - (s + 2 * pre)
    ok = (n >= 1) & (n <= 16)
    u = _u64(arr)
    lo_n = np.clip(n, 0, 8)
    val, lok = _hex8(u[e - 8], _KEEP_HI[lo_n])
    ok &= lok
    if (n > 8).any():
        hi_n = np.clip(n - 8, 0, 8)
        hv, hok = _hex8(u[e - 16], _KEEP_HI[hi_n])
        ok &= hok
        val |= hv << _U(32)
    return val, ok


def v_dec(arr, s, e):
    """Unsigned decimal, at most 18 digits here (fits int64; wider ones go to the slow path)."""
    n = e - s
    ok = (n >= 1) & (n <= 18)
    u = _u64(arr)
    val, lok = _dec8(u[e - 8], _KEEP_HI[np.clip(n, 0, 8)])
    ok &= lok
    if (n > 8).any():
        mv, mok = _dec8(u[e - 16], _KEEP_HI[np.clip(n - 8, 0, 8)])
        ok &= mok
        val += mv * _U(100000000)
        if (n > 16).any():
            hv, hok = _dec8(u[e - 24], _KEEP_HI[np.clip(n - 16, 0, 8)])
            ok &= hok
            val += hv * _U(10**16)
    return val.astype(np.int64), ok


def v_auto(arr, s, e):
    """0x-prefixed hex, else decimal (Ramulator reads addresses with base 0)."""
    pre = (e - s > 2) & (arr[s] == 48) & ((arr[s + 1] | 0x20) == 120)
    val = np.zeros(len(s), np.uint64)
    ok = np.zeros(len(s), bool)
    if pre.any():
        val[pre], ok[pre] = v_hex(arr, s[pre], e[pre])
    if not pre.all():
        d, dok = v_dec(arr, s[~pre], e[~pre])
        val[~pre], ok[~pre] = d.astype(np.uint64), dok
    return val, ok


def v_keyword(arr, s, e, words: dict):
    """Map tokens to codes by exact match against `words` (bytes -> code); -1 where unmatched.
    Words are at most 9 bytes: the first 8 are compared as one integer, a 9th separately."""
    n = e - s
    key = _u64(arr)[s] & _KEEP_LO[np.clip(n, 0, 8)]
    code = np.full(len(s), -1, np.int16)
    for w, c in words.items():
        assert 1 <= len(w) <= 9
        m = (n == len(w)) & (key == _U(int.from_bytes(w[:8], "little")))
        if len(w) == 9:
            m &= arr[np.minimum(s + 8, len(arr) - 1)] == w[8]
        code[m] = c
    return code, code >= 0


# ---------------------------------------------------------------- slow-path field parsers
_RE_HEX = re.compile(rb"[0-9a-fA-F]+")
_RE_DEC = re.compile(rb"[0-9]+")


def _show(tok: bytes) -> str:
    return tok.decode("latin-1")


def s_hex(tok: bytes, col: str) -> int:
    t = tok[2:] if tok[:2] in (b"0x", b"0X") else tok
    if not _RE_HEX.fullmatch(t):
        raise BadLine(f"cannot read {WHAT[col]} '{_show(t)}'")
    v = int(t, 16)
    if v > MAX[col]:
        raise BadLine(f"{WHAT[col]} '{_show(tok)}' is wider than {MAX[col].bit_length()} bits")
    return v


def s_dec(tok: bytes, col: str) -> int:
    if not _RE_DEC.fullmatch(tok):
        if tok[:1] == b"-" and _RE_DEC.fullmatch(tok[1:]):
            raise BadLine(f"negative {WHAT[col]} '{_show(tok)}'")
        raise BadLine(f"cannot read {WHAT[col]} '{_show(tok)}'")
    v = int(tok)
    if v > MAX[col]:
        raise BadLine(f"{WHAT[col]} '{_show(tok)}' is out of range (max {MAX[col]})")
    return v


def s_auto(tok: bytes, col: str) -> int:
    return s_hex(tok, col) if tok[:2] in (b"0x", b"0X") else s_dec(tok, col)


# ---------------------------------------------------------------- tokenizer
class Tokens:
    """Token bounds of one block.  The block ends with a newline."""

    def __init__(self, block: bytes, comma: bool):
        block = b" " * PAD + block + b" " * 8  # positions below are in the padded block
        arr = np.frombuffer(block, np.uint8)
        self.block, self.arr = block, arr
        sep = arr <= 32
        if comma:
            sep |= arr == 44
        chg = np.flatnonzero(sep[1:] != sep[:-1]) + 1
        if len(arr) and not sep[0]:
            chg = np.concatenate(([0], chg))
        self.starts, self.ends = chg[0::2], chg[1::2]
        self.nlpos = np.flatnonzero(arr == 10)
        self.nlines = len(self.nlpos)
        # Lines the fast path must not see: comments and control characters other than \t \r.
        bad = []
        if block.find(b"#") >= 0:
            bad.append(np.flatnonzero(arr == 35))
        if np.count_nonzero(arr < 32) != self.nlines:
            bad.append(np.flatnonzero((arr < 32) & (arr != 10) & (arr != 9) & (arr != 13)))
        self.bad_lines = (np.unique(np.searchsorted(self.nlpos, np.concatenate(bad)))
                          if bad else np.empty(0, np.int64))
        self._count = None
        if comma:  # per-line comma count: a stray comma must send its line to the slow path
            cpos = np.flatnonzero(arr == 44)
            self.line_commas = np.bincount(np.searchsorted(self.nlpos, cpos), minlength=self.nlines + 1)

    def regular(self, k: int) -> bool:
        """True if every line holds exactly k tokens (checked without a per-token line index)."""
        L, s, e = self.nlines, self.starts, self.ends
        if len(s) != k * L or len(self.bad_lines) or L == 0:
            return False
        first, last = s[0::k], e[k - 1::k]
        prev_nl = np.concatenate(([-1], self.nlpos[:-1]))
        return bool(np.all(first > prev_nl) and np.all(last <= self.nlpos))

    def counts(self):
        """Per-line token count and index of each line's first token."""
        if self._count is None:
            line_of_tok = np.searchsorted(self.nlpos, self.starts)
            self._count = np.bincount(line_of_tok, minlength=self.nlines)
            self._first = np.cumsum(self._count) - self._count
        return self._count, self._first

    def line_bytes(self, i: int) -> bytes:
        a = self.nlpos[i - 1] + 1 if i else PAD
        return self.block[a:self.nlpos[i]]


def split_line(line: bytes, comma: bool) -> list:
    t = line.replace(b"\t", b" ").replace(b"\r", b" ")
    if comma:
        t = t.replace(b",", b" ")
    return [x for x in t.split(b" ") if x]


# ---------------------------------------------------------------- line formats
class LineFormat:
    """A line-oriented text format described by its field layouts.

    layouts: {field count: [(column, kind, arg), ...]} with kind one of
      "hex", "dec", "auto" (numbers into `column`), "kw" (arg: {bytes: code}, code None = a
      valid record that is not a memory access: counted in ignored_records, not emitted),
      "skip" (a field that is read by the kind in arg but not kept).
    Columns not in the layout get their defaults (time 0, size 64, vm 0).
    """
    name = ""
    timing = "none"
    addresses = "physical"   # what the format's producers record: physical | virtual (core.addresses: auto)
    time_unit = "cycle"
    syntax = ""
    layouts: dict = {}
    comma = False          # commas separate fields too (gem5, lackey)
    comma_exact = False    # ... and then exactly one comma must sit between those fields
    detect: re.Pattern = None  # a data line of this format matches this (bytes regex)
    ignore_line: re.Pattern = None  # lines that carry no record and are not errors

    def __init__(self, **options):
        self.ignored_records = 0

    # -- fast path: returns (ok mask, columns for ok lines, records per ok line or None for 1)
    def fast(self, arr, S, E, k, ok):
        """ok: lines still eligible (a copy is modified).  Returns (ok, columns of the ok lines,
        records per ok line or None for one each)."""
        layout = self.layouts[k]
        ok = ok.copy()
        cols = {}
        keep = None
        for j, (col, kind, arg) in enumerate(layout):
            s, e = S[:, j], E[:, j]
            if kind == "skip" and arg is None:  # any token
                continue
            if kind == "kw":
                code, fok = v_keyword(arr, s, e, {w: (-2 if c is None else c) for w, c in arg.items()})
                fok = code != -1
                if any(c is None for c in arg.values()):
                    keep = code != -2
                v = code.clip(0)
            else:
                v, fok = (v_hex if (kind == "hex" or arg == "hex") else
                          v_auto if (kind == "auto" or arg == "auto") else v_dec)(arr, s, e)
                if col in ("time", "size", "vm"):  # narrower than the parsed integer
                    fok &= v <= MAX[col]
            ok &= fok
            if kind != "skip":
                cols[col] = v
        if self.comma_exact:
            for j in range(k - 1):
                ok &= (S[:, j + 1] == E[:, j] + 1) & (arr[E[:, j]] == 44)
        if keep is not None:
            drop = ok & ~keep
            self.ignored_records += int(np.count_nonzero(drop))
            cnt = keep[ok].astype(np.int64)
            return ok, {c: v[ok & keep] for c, v in cols.items()}, cnt
        return ok, {c: v[ok] for c, v in cols.items()}, None

    def commas(self, k: int) -> int:
        """Commas a line of k fields holds (formats with comma = True)."""
        return k - 1

    # -- slow path: one line -> list of records (dicts), or BadLine
    def slow(self, toks: list, line: bytes) -> list:
        layout = self.layouts.get(len(toks))
        if layout is None:
            counts = " or ".join(str(k) for k in sorted(self.layouts))
            raise BadLine(f"expected {counts} fields ({self.syntax}), found {len(toks)}")
        if self.comma_exact and re.search(rb",\s*,|^\s*,|,\s*$", line.strip()):
            raise BadLine("empty field")
        rec = {}
        for tok, (col, kind, arg) in zip(toks, layout):
            if kind == "kw":
                if tok not in arg:
                    raise BadLine(f"unknown {WHAT.get(col, col)} '{_show(tok)}' "
                                  f"(expected {' or '.join(w.decode() for w in arg)}){self.hint(tok)}")
                if arg[tok] is None:
                    self.ignored_records += 1
                    return []
                rec[col] = arg[tok]
            elif kind == "skip" and arg is None:
                continue
            else:
                f = {"hex": s_hex, "dec": s_dec, "auto": s_auto}[arg if kind == "skip" else kind]
                v = f(tok, col)
                if kind != "skip":
                    rec[col] = v
        return [rec]

    def hint(self, tok: bytes) -> str:
        return ""

    def post(self, cols: dict, rec_line: np.ndarray):
        """Per-block hook after assembly (lackey turns instruction fetches into gaps)."""
        return cols, rec_line

    def is_ignorable(self, line: bytes) -> bool:
        s = line.strip()
        return not s or s.startswith(b"#") or bool(self.ignore_line and self.ignore_line.match(line))


def parse_block(fmt: LineFormat, block: bytes, first_line: int, name: str, skip_bad: bool, skipped: list):
    """Parse one newline-terminated block.  Returns (columns dict, line number of each record,
    number of lines in the block).

    `skipped` collects (line number, message) of lines skipped when skip_bad is set."""
    tk = Tokens(block, fmt.comma)
    arr, L = tk.arr, tk.nlines
    primary = next(iter(fmt.layouts))
    if tk.regular(primary):
        S, E = tk.starts.reshape(L, primary), tk.ends.reshape(L, primary)
        ok0 = np.ones(L, bool) if not fmt.comma else tk.line_commas[:L] == fmt.commas(primary)
        ok, cols, cnt = fmt.fast(arr, S, E, primary, ok0)
        if cnt is None and ok.all():  # the common case: one record per line, no fallback
            return (*_finish(fmt, cols, len(ok), first_line + np.arange(L, dtype=np.int64)), L)
        groups = [(np.arange(L), ok, cols, cnt)]
        slow_lines = np.flatnonzero(~ok)
    else:
        count, first = tk.counts()
        groups, slow_mask = [], count > 0
        slow_mask[tk.bad_lines] = True
        for k in fmt.layouts:
            lines = np.flatnonzero(count == k)
            if len(tk.bad_lines):
                lines = np.setdiff1d(lines, tk.bad_lines, assume_unique=True)
            if not len(lines):
                continue
            idx = first[lines][:, None] + np.arange(k)
            ok0 = np.ones(len(lines), bool) if not fmt.comma else tk.line_commas[lines] == fmt.commas(k)
            ok, cols, cnt = fmt.fast(arr, tk.starts[idx], tk.ends[idx], k, ok0)
            groups.append((lines, ok, cols, cnt))
            slow_mask[lines[ok]] = False
        slow_lines = np.flatnonzero(slow_mask)

    # Per-line record counts: fast groups, then the slow lines one by one.
    nrec = np.zeros(L, np.int64)
    for lines, ok, cols, cnt in groups:
        nrec[lines[ok]] = 1 if cnt is None else cnt
    slow_recs = {}
    for i in slow_lines.tolist():
        line = tk.line_bytes(i)
        if fmt.is_ignorable(line):
            continue
        try:
            recs = fmt.slow(split_line(line, fmt.comma), line)
        except BadLine as err:
            text = line.rstrip(b"\r").decode("latin-1")
            if len(text) > 200:
                text = text[:200] + "..."
            msg = f"{name}:{first_line + i}: {err} in line '{text}'"
            if not skip_bad:
                raise TraceError(msg) from None
            skipped.append((first_line + i, msg))
            continue
        slow_recs[i] = recs
        nrec[i] = len(recs)
    offs = np.cumsum(nrec) - nrec
    total = int(nrec.sum())
    out = {c: np.zeros(total, np.uint64 if c == "addr" else np.int64) for c in COLUMNS}
    out["size"][:] = DEFAULT_SIZE
    for lines, ok, cols, cnt in groups:
        sel = lines[ok]
        if cnt is None:
            dest = offs[sel]
        else:  # several (or no) records per line, in line order
            dest = np.repeat(offs[sel] - (np.cumsum(cnt) - cnt), cnt) + np.arange(int(cnt.sum()))
        for c, v in cols.items():
            out[c][dest] = v
    for i, recs in slow_recs.items():
        for j, r in enumerate(recs):
            for c, v in r.items():
                out[c][offs[i] + j] = v
    rec_line = np.repeat(np.arange(L, dtype=np.int64) + first_line, nrec)
    return (*_finish(fmt, out, total, rec_line), L)


def _finish(fmt, cols, n, rec_line):
    out = {}
    for c, dt in COLUMNS.items():
        v = cols.get(c)
        if v is None:
            out[c] = np.full(n, DEFAULT_SIZE if c == "size" else 0, dt)
        else:
            out[c] = v.astype(dt, copy=False)
    return fmt.post(out, rec_line)
