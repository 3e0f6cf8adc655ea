"""The last-level cache filter, the twin of core/cache.pxi: set-associative, write-back,
write-allocate; LRU by use stamp or seeded random."""
from __future__ import annotations

from .._layout import C, P, S
from .state import splitmix64


class LLC:
    """Methods of the twin's `Core` (state in its attributes: core/state.py)."""

    def cache_access(self, arr, m, w):
        """A hit ends here after the hit latency; a miss evicts a way (a dirty victim is written
        back to memory off the critical path) and fetches the line with a read after the tag check."""
        p, sc, cnt = self.p, self.sc, self.cnt
        tag, stamp, dirty = self.cache_tag, self.cache_stamp, self.cache_dirty
        ways = self.cache_ways
        line = m >> p[P["LINE_SHIFT"]]
        base = (line & (self.cache_sets - 1)) * ways
        sc[S["cache_clock"]] += 1
        for k in range(base, base + ways):
            if tag[k] == line:
                stamp[k] = sc[S["cache_clock"]]
                if w:
                    dirty[k] = 1
                cnt[C["cache_hits"]] += 1
                return arr + p[P["CACHE_HIT_PS"]]
        cnt[C["cache_misses"]] += 1
        v = next((k for k in range(base, base + ways) if tag[k] < 0), -1)
        if v < 0:
            if p[P["CACHE_POLICY"]] == 0:
                v = min(range(base, base + ways), key=lambda k: stamp[k])
            else:
                self.rng, r = splitmix64(self.rng)
                v = base + r % ways
            if dirty[v]:
                cnt[C["cache_writebacks"]] += 1
                self.memory_access(arr, tag[v] << p[P["LINE_SHIFT"]], 1)
        tag[v] = line
        stamp[v] = sc[S["cache_clock"]]
        dirty[v] = w
        return self.memory_access(arr + p[P["CACHE_HIT_PS"]], m, 0)
