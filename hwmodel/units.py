"""Unit-bearing values: the one place where strings like "4KiB", "13.75ns" or "16GB/s" become numbers.

Internal units: sizes in bytes, times in integer picoseconds (ps), bandwidths in bytes per second.
Every parser takes the parameter path so that an error names where the bad value came from.
Arithmetic is exact (fractions); a time that is not a whole number of picoseconds is rounded to the
nearest picosecond, which is below the resolution of any clock we model.

Bounds: the compiled core adds times in signed 64-bit integers without checking, so every time
that reaches it is at most MAX_TIME_PS (2**60 ps, about 13 days of simulated time): a sum of a few
such times cannot overflow. Sizes are at most MAX_BYTES (8 EiB, the signed 64-bit address space).
A value outside these bounds is an error naming its parameter, never a wrapped number.
"""
from __future__ import annotations

import math
import re
from fractions import Fraction

import numpy as np

MAX_TIME_PS = 1 << 60    # the longest simulated time, and the largest time parameter (~13.3 days)
MAX_BYTES = 1 << 63      # the largest size (8 EiB): machine addresses are signed 64-bit in the core
_MAX_EXPONENT = 40       # '1e999999999ns' would make a billion-digit integer: refuse it at once
_MAX_DIGITS = 40         # digits of a number literal (more carry no meaning at ps resolution)

_NUMBER = r"([-+]?[0-9]*\.?[0-9]+(?:[eE][-+]?[0-9]+)?)"
_SPLIT = re.compile(r"^\s*" + _NUMBER + r"\s*([A-Za-z/]*)\s*$")

SIZE_UNITS = {
    "": 1, "B": 1,
    "KiB": 2**10, "MiB": 2**20, "GiB": 2**30, "TiB": 2**40,
    "KB": 10**3, "kB": 10**3, "MB": 10**6, "GB": 10**9, "TB": 10**12,
}
TIME_UNITS_PS = {
    "ps": Fraction(1), "ns": Fraction(10**3), "us": Fraction(10**6),
    "ms": Fraction(10**9), "s": Fraction(10**12),
}
BANDWIDTH_UNITS = {  # bytes per second
    "B/s": Fraction(1),
    "KB/s": Fraction(10**3), "MB/s": Fraction(10**6), "GB/s": Fraction(10**9), "TB/s": Fraction(10**12),
    "KiB/s": Fraction(2**10), "MiB/s": Fraction(2**20), "GiB/s": Fraction(2**30),
    "bps": Fraction(1, 8), "Kbps": Fraction(10**3, 8), "Mbps": Fraction(10**6, 8),
    "Gbps": Fraction(10**9, 8), "Tbps": Fraction(10**12, 8),
    "Kb/s": Fraction(10**3, 8), "Mb/s": Fraction(10**6, 8), "Gb/s": Fraction(10**9, 8), "Tb/s": Fraction(10**12, 8),
}
FREQ_UNITS = {"Hz": Fraction(1), "kHz": Fraction(10**3), "MHz": Fraction(10**6), "GHz": Fraction(10**9)}


def plural(unit: str) -> str:
    """A trace time unit in the plural, for prose: cycles, instructions; ps and ns stay as they are."""
    return unit if unit in TIME_UNITS_PS else unit + "s"


def show(value, limit: int = 80) -> str:
    """repr of a value for an error message, cut to `limit` characters (a YAML value can be huge)."""
    import reprlib
    r = reprlib.Repr()
    r.maxstring = r.maxother = r.maxlong = limit
    r.maxlist = r.maxdict = r.maxtuple = r.maxset = 6
    r.maxlevel = 3
    text = r.repr(value)
    return text if len(text) <= limit else text[:limit - 3] + "..."


def _number(text: str, path: str, value) -> Fraction:
    """Exact value of a decimal literal, refusing ones whose exponent or length is absurd."""
    mantissa, _, exponent = text.lower().partition("e")
    if len(mantissa.lstrip("+-0.")) > _MAX_DIGITS or (exponent and abs(int(exponent)) > _MAX_EXPONENT):
        raise ValueError(f"{path}: {show(value)} is out of range")
    return Fraction(text)


def _split(value, path: str, units: dict, what: str, default_unit: str | None):
    if isinstance(value, bool):
        raise ValueError(f"{path}: expected a {what}, got {value!r}")
    if isinstance(value, (int, float)):
        if isinstance(value, float) and not math.isfinite(value):
            raise ValueError(f"{path}: {value!r} is not a finite number")
        if default_unit is None:
            raise ValueError(f"{path}: {show(value)} has no unit; write it as e.g. "
                             f"'{show(value)}{next(iter(u for u in units if u))}'")
        if isinstance(value, int):
            return Fraction(value), default_unit
        return _number(str(value), path, value), default_unit
    if not isinstance(value, str):
        raise ValueError(f"{path}: expected a {what} such as '4KiB', got {type(value).__name__} {show(value)}")
    m = _SPLIT.match(value) if len(value) <= 200 else None
    if not m:
        raise ValueError(f"{path}: cannot read {show(value)} as a {what}; allowed units: {', '.join(u for u in units if u)}")
    number, unit = m.groups()
    if unit == "" and default_unit is not None:
        unit = default_unit
    if unit not in units:
        raise ValueError(f"{path}: unknown unit {unit!r} in {value!r}; allowed units: {', '.join(u for u in units if u)}")
    return _number(number, path, value), unit


def parse_size(value, path: str = "size") -> int:
    """Bytes from '4KiB', '16MiB', '64' or an int. Must be a whole, non-negative number of bytes."""
    number, unit = _split(value, path, SIZE_UNITS, "size", "B")
    n = number * SIZE_UNITS[unit]
    if n.denominator != 1 or n < 0:
        raise ValueError(f"{path}: {value!r} is not a whole, non-negative number of bytes")
    if n > MAX_BYTES:
        raise ValueError(f"{path}: {value!r} is more than 8 EiB (2**63 bytes), the largest size modelled")
    return int(n)


def parse_time(value, path: str = "time", default_unit: str | None = None) -> int:
    """Integer picoseconds from '13.75ns', '2us', '500ps'. Bare numbers need `default_unit`."""
    number, unit = _split(value, path, TIME_UNITS_PS, "time", default_unit)
    ps = number * TIME_UNITS_PS[unit]
    if ps < 0:
        raise ValueError(f"{path}: {value!r} is negative; times must be >= 0")
    return checked_ps(round(ps), path, value)


def checked_ps(ps: int, path: str, value=None) -> int:
    """`ps` if it is a time the core can add up (0 <= ps <= MAX_TIME_PS), else an error naming `path`."""
    if not 0 <= ps <= MAX_TIME_PS:
        shown = f"{value!r} ({ps} ps)" if value is not None else f"{ps} ps"
        raise ValueError(f"{path}: {shown} is out of range; times are at most 2**60 ps "
                         f"({MAX_TIME_PS / 10**12 / 86400:.1f} days)")
    return int(ps)


def parse_bandwidth(value, path: str = "bandwidth") -> Fraction:
    """Bytes per second (exact) from '16GB/s', '100Gbps', '25Gb/s'."""
    number, unit = _split(value, path, BANDWIDTH_UNITS, "bandwidth", None)
    bps = number * BANDWIDTH_UNITS[unit]
    if bps <= 0:
        raise ValueError(f"{path}: {value!r} must be > 0")
    return bps


def parse_frequency(value, path: str = "frequency") -> Fraction:
    """Hertz (exact) from '2.4GHz', '800MHz'."""
    number, unit = _split(value, path, FREQ_UNITS, "frequency", None)
    hz = number * FREQ_UNITS[unit]
    if hz <= 0:
        raise ValueError(f"{path}: {value!r} must be > 0")
    return hz


def period_ps(freq_hz: Fraction, path: str = "frequency") -> int:
    """Clock period in integer ps (rounded) of a frequency in Hz."""
    return checked_ps(round(Fraction(10**12) / freq_hz), path)


def transfer_ps(nbytes: int, bytes_per_s: Fraction, path: str = "bandwidth") -> int:
    """Time to move `nbytes` at `bytes_per_s`, rounded up to a whole picosecond; an error naming
    `path` when it exceeds MAX_TIME_PS (a bandwidth too low for the sizes it carries)."""
    t = Fraction(nbytes) * 10**12 / bytes_per_s
    ps = -(-t.numerator // t.denominator)
    if ps > MAX_TIME_PS:
        raise ValueError(f"{path}: moving {format_size(nbytes)} at {float(bytes_per_s):.4g} B/s takes "
                         f"{float(t):.4g} ps, more than 2**60 ps; the bandwidth is too low")
    return int(ps)


def times_to_ps(raw, factor: Fraction, where) -> np.ndarray:
    """int64 ps of a column of trace times in units of `factor` ps (floor of the exact product).

    `raw` must hold non-negative whole numbers (any integer dtype, or floats that are whole);
    `where(i)` names record i (file and line) for the error when one is not, or when its time
    exceeds MAX_TIME_PS. numpy arithmetic wraps silently; here nothing wraps."""
    raw = np.asarray(raw)
    if raw.dtype.kind == "f":
        bad = np.flatnonzero(~np.isfinite(raw) | (raw != np.floor(raw)) | (raw < 0) | (raw >= 2.0**63))
        if len(bad):
            raise ValueError(f"{where(int(bad[0]))}: time {float(raw[bad[0]])!r} is not a whole number >= 0")
        raw = raw.astype(np.int64)
    elif raw.dtype.kind not in "iub":
        raise ValueError(f"{where(0)}: time column of type {raw.dtype} is not numeric")
    if raw.dtype.kind == "u":
        big = np.flatnonzero(raw > np.uint64(MAX_TIME_PS))
        if len(big):
            i = int(big[0])
            raise ValueError(f"{where(i)}: time {int(raw[i])} x {_show_factor(factor)} ps exceeds 2**60 ps "
                             f"(the longest simulated time, about 13 days)")
    raw = raw.astype(np.int64, copy=False)
    if len(raw) == 0:
        return raw.copy()
    bad = np.flatnonzero(raw < 0)
    if len(bad):
        raise ValueError(f"{where(int(bad[0]))}: negative time {int(raw[bad[0]])}")
    num, den = factor.numerator, factor.denominator
    limit = MAX_TIME_PS * den // num if num else MAX_TIME_PS    # largest raw value that fits
    big = np.flatnonzero(raw > limit)
    if len(big):
        i = int(big[0])
        raise ValueError(f"{where(i)}: time {int(raw[i])} x {_show_factor(factor)} ps = "
                         f"{float(int(raw[i]) * factor):.4g} ps exceeds 2**60 ps (the longest simulated time, "
                         f"about 13 days)")
    if den == 1:
        return raw * num
    if num * den < (1 << 63):   # divmod keeps every product below 2**63
        q, r = np.divmod(raw, den)
        return q * num + (r * num) // den
    return np.array([v * num // den for v in raw.tolist()], np.int64)   # exact, for odd factors


def _show_factor(f: Fraction) -> str:
    return str(f.numerator) if f.denominator == 1 else f"{float(f):.6g}"


def log2_exact(n: int, path: str) -> int:
    """Shift of a power of two; a clear error otherwise."""
    if n <= 0 or n & (n - 1):
        raise ValueError(f"{path}: {n} is not a power of two")
    return n.bit_length() - 1


def format_size(n: int) -> str:
    for unit in ("TiB", "GiB", "MiB", "KiB"):
        if n >= SIZE_UNITS[unit] and n % SIZE_UNITS[unit] == 0:
            return f"{n // SIZE_UNITS[unit]}{unit}"
    return f"{n}B"


def format_time(ps: float) -> str:
    """Human-readable time from ps, e.g. '1.25 us'."""
    for unit, scale in (("s", 10**12), ("ms", 10**9), ("us", 10**6), ("ns", 10**3)):
        if abs(ps) >= scale:
            return f"{ps / scale:.4g} {unit}"
    return f"{ps:.4g} ps"
