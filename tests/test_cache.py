"""The LLC filter: exact LRU hit/miss/write-back counts against an independent model, and timing."""
from collections import OrderedDict

import numpy as np
import pytest

from hwmodel import Cache, System
from tiny import BURST, CL, RCD, run, tiny


def model_lru(lines, writes, sets, ways):
    """Plain set-associative write-back write-allocate LRU: (hits, misses, dirty evictions)."""
    cache = [OrderedDict() for _ in range(sets)]   # line -> dirty, least recent first
    hits = misses = wb = 0
    for line, w in zip(lines, writes):
        s = cache[line % sets]
        if line in s:
            hits += 1
            s.move_to_end(line)
            s[line] = s[line] or bool(w)
            continue
        misses += 1
        if len(s) == ways:
            _, dirty = s.popitem(last=False)
            wb += dirty
        s[line] = bool(w)
    return hits, misses, wb


def cached_system(size="8KiB", ways=4, policy="lru"):
    return System.from_dict({"compute": {"local_memory": "1MiB", "vms": [{"memory": "4MiB"}]},
                             "memory_blade": {"capacity": "16MiB", "super_page": "1MiB"},
                             "cache": {"size": size, "ways": ways, "policy": policy}})


@pytest.mark.parametrize("seed", [0, 1])
@pytest.mark.parametrize("size,ways", [("8KiB", 4), ("4KiB", 1), ("16KiB", 16)])
def test_lru_counts_are_exact(backend, seed, size, ways):
    rng = np.random.default_rng(seed)
    n = 4000
    lines = np.where(rng.random(n) < 0.7, rng.integers(0, 300, n), rng.integers(0, 60000, n))
    writes = (rng.random(n) < 0.3).astype(np.uint8)
    r = cached_system(size, ways).run({"addr": (lines * 64).astype(np.uint64), "op": writes}, backend=backend)
    sets = Cache(size=size, ways=ways).sets
    hits, misses, wb = model_lru(lines.tolist(), writes.tolist(), sets, ways)
    c = r.counters
    assert (c["cache_hits"], c["cache_misses"], c["cache_writebacks"]) == (hits, misses, wb)
    # misses and write-backs, and nothing else, reach memory
    assert c["local_accesses"] + c["remote_accesses"] + c["faults"] == misses + wb
    assert c["accesses"] == n


def test_hit_and_miss_timing(backend):
    system = tiny("static").replace(cache=Cache(size="4KiB", ways=4, hit_latency="10ns"))
    r = run(system, [0, 1_000_000], [0, 0], backend=backend)
    # miss: tag check, then a local read to a closed row; hit: the hit latency only
    assert r.completions.tolist() == [10_000 + RCD + CL + BURST, 1_000_000 + 10_000]


def test_random_replacement_is_seeded_and_differs_from_lru(backend):
    rng = np.random.default_rng(4)
    addr = (rng.integers(0, 2000, 5000) * 64).astype(np.uint64)
    a = cached_system(policy="random").run({"addr": addr}, backend=backend)
    b = cached_system(policy="random").run({"addr": addr}, backend=backend)
    lru = cached_system(policy="lru").run({"addr": addr}, backend=backend)
    assert a.counters == b.counters
    assert a.counters["cache_hits"] != lru.counters["cache_hits"]


@pytest.mark.parametrize("bad,match", [
    ({"size": "12KiB", "ways": 4}, "sets"),
    ({"size": "8KiB", "line": "128B"}, "only 64B lines"),
    ({"size": "8KiB", "policy": "plru"}, "cache.policy"),
    ({"size": "8KiB", "ways": 0}, "cache.ways"),
])
def test_bad_cache_configs(bad, match):
    with pytest.raises(ValueError, match=match):
        System.from_dict({"cache": bad})
