"""The last-level cache in front of memory: a filter for CPU-level traces."""
from __future__ import annotations

from dataclasses import dataclass

from .._layout import CACHE_POLICIES
from ..units import log2_exact, parse_size, parse_time


@dataclass(frozen=True)
class Cache:
    """A set-associative, write-back, write-allocate last-level cache (size 0 = none).

    A hit costs `hit_latency` and ends there. A miss pays the tag check, evicts a way (LRU by last
    use, or seeded random) and fetches the line from memory with a read; a dirty victim is written
    back to memory at the same time, off the critical path. Lines are the 64 B memory line.
    """
    SECTION = "cache"
    size: str = "0B"          # total capacity; 0 disables the filter (memory-level traces)
    ways: int = 16            # associativity
    line: str = "64B"         # line size (the memory line; only 64B)
    hit_latency: str = "10ns"
    policy: str = "lru"       # lru | random

    def __post_init__(self):
        size = parse_size(self.size, "cache.size")
        if self.line_bytes != 64:
            raise ValueError(f"cache.line: {self.line!r}; only 64B lines (the memory line) are modelled")
        if not isinstance(self.ways, int) or isinstance(self.ways, bool) or not 1 <= self.ways <= 1024:
            raise ValueError(f"cache.ways: {self.ways!r} must be an integer from 1 to 1024")
        if size:
            if size % (self.line_bytes * self.ways):
                raise ValueError(f"cache.size: {self.size} is not a whole number of sets of "
                                 f"{self.ways} x {self.line}")
            log2_exact(self.sets, "cache.size / (ways x line) = sets")
        parse_time(self.hit_latency, "cache.hit_latency")
        if self.policy not in CACHE_POLICIES:
            raise ValueError(f"cache.policy: {self.policy!r} is not one of {', '.join(map(repr, CACHE_POLICIES))}")

    @property
    def line_bytes(self) -> int:
        return parse_size(self.line, "cache.line")

    @property
    def sets(self) -> int:
        """Number of sets; 0 when the cache is disabled."""
        return parse_size(self.size, "cache.size") // (self.line_bytes * self.ways)

    @property
    def hit_ps(self) -> int:
        return parse_time(self.hit_latency, "cache.hit_latency")
