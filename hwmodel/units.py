"""Unit-bearing values: the one place where strings like "4KiB", "13.75ns" or "16GB/s" become numbers.

Internal units: sizes in bytes, times in integer picoseconds (ps), bandwidths in bytes per second.
Every parser takes the parameter path so that an error names where the bad value came from.
Arithmetic is exact (fractions); a time that is not a whole number of picoseconds is rounded to the
nearest picosecond, which is below the resolution of any clock we model.
"""
from __future__ import annotations

import re
from fractions import Fraction

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


def _split(value, path: str, units: dict, what: str, default_unit: str | None):
    if isinstance(value, bool):
        raise ValueError(f"{path}: expected a {what}, got {value!r}")
    if isinstance(value, (int, float)):
        if default_unit is None:
            raise ValueError(f"{path}: {value!r} has no unit; write it as e.g. '{value}{next(iter(u for u in units if u))}'")
        return Fraction(str(value)), default_unit
    if not isinstance(value, str):
        raise ValueError(f"{path}: expected a {what} such as '4KiB', got {type(value).__name__} {value!r}")
    m = _SPLIT.match(value)
    if not m:
        raise ValueError(f"{path}: cannot read {value!r} as a {what}; allowed units: {', '.join(u for u in units if u)}")
    number, unit = m.groups()
    if unit == "" and default_unit is not None:
        unit = default_unit
    if unit not in units:
        raise ValueError(f"{path}: unknown unit {unit!r} in {value!r}; allowed units: {', '.join(u for u in units if u)}")
    return Fraction(number), unit


def parse_size(value, path: str = "size") -> int:
    """Bytes from '4KiB', '16MiB', '64' or an int. Must be a whole, non-negative number of bytes."""
    number, unit = _split(value, path, SIZE_UNITS, "size", "B")
    n = number * SIZE_UNITS[unit]
    if n.denominator != 1 or n < 0:
        raise ValueError(f"{path}: {value!r} is not a whole, non-negative number of bytes")
    return int(n)


def parse_time(value, path: str = "time", default_unit: str | None = None) -> int:
    """Integer picoseconds from '13.75ns', '2us', '500ps'. Bare numbers need `default_unit`."""
    number, unit = _split(value, path, TIME_UNITS_PS, "time", default_unit)
    ps = number * TIME_UNITS_PS[unit]
    if ps < 0:
        raise ValueError(f"{path}: {value!r} is negative; times must be >= 0")
    return int(round(ps))


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


def period_ps(freq_hz: Fraction) -> int:
    """Clock period in integer ps (rounded) of a frequency in Hz."""
    return int(round(Fraction(10**12) / freq_hz))


def transfer_ps(nbytes: int, bytes_per_s: Fraction) -> int:
    """Time to move `nbytes` at `bytes_per_s`, rounded up to a whole picosecond."""
    t = Fraction(nbytes) * 10**12 / bytes_per_s
    return int(-(-t.numerator // t.denominator))


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
