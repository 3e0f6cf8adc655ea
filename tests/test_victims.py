"""Victim policies against independent textbook models: the swap core must fault exactly when a
plain LRU / FIFO / CLOCK page cache of the same size misses (timing plays no part in the choice)."""
from collections import OrderedDict, deque

import numpy as np
import pytest

from tiny import run, tiny

FRAMES = 4   # tiny(): 16 KiB local memory of 4 KiB pages


def lru_misses(refs, frames):
    cache, misses = OrderedDict(), 0
    for p in refs:
        if p in cache:
            cache.move_to_end(p)
            continue
        misses += 1
        if len(cache) == frames:
            cache.popitem(last=False)
        cache[p] = True
    return misses


def fifo_misses(refs, frames):
    cache, order, misses = set(), deque(), 0
    for p in refs:
        if p in cache:
            continue
        misses += 1
        if len(cache) == frames:
            cache.discard(order.popleft())
        cache.add(p)
        order.append(p)
    return misses


def clock_misses(refs, frames):
    """Second chance: slots in a ring, a hand, a reference bit set on load and on use."""
    slots, ref, where, hand, misses = [None] * frames, [0] * frames, {}, 0, 0
    for p in refs:
        if p in where:
            ref[where[p]] = 1
            continue
        misses += 1
        if None in slots:
            i = slots.index(None)
        else:
            while ref[hand]:
                ref[hand] = 0
                hand = (hand + 1) % frames
            i = hand
            hand = (hand + 1) % frames
            del where[slots[i]]
        slots[i], ref[i], where[p] = p, 1, i
    return misses


@pytest.mark.parametrize("victim,model", [("lru", lru_misses), ("fifo", fifo_misses), ("clock", clock_misses)])
@pytest.mark.parametrize("seed", [1, 2, 3])
def test_faults_equal_independent_model(backend, victim, model, seed):
    rng = np.random.default_rng(seed)
    # a skewed reference string over 16 pages of the 64 KiB VM
    pages = np.minimum(rng.geometric(0.25, 600) - 1, 15)
    times = np.arange(len(pages)) * 20_000_000           # far apart: no swap overlaps another
    r = run(tiny("page_swap", placement="first_touch", victim=victim), times.tolist(),
            (pages * 4096 + 64 * (pages % 3)).tolist(), backend=backend)
    first_touch_local = r.counters["first_touch_local"]
    assert first_touch_local == FRAMES
    assert r.counters["faults"] + first_touch_local == model(pages.tolist(), FRAMES)


def test_random_victims_are_seeded(backend):
    pages = (np.arange(300) * 7) % 13
    a = run(tiny("page_swap", victim="random", seed=5), list(range(0, 300 * 20_000_000, 20_000_000)),
            (pages * 4096).tolist(), backend=backend)
    b = run(tiny("page_swap", victim="random", seed=5), list(range(0, 300 * 20_000_000, 20_000_000)),
            (pages * 4096).tolist(), backend=backend)
    c = run(tiny("page_swap", victim="random", seed=6), list(range(0, 300 * 20_000_000, 20_000_000)),
            (pages * 4096).tolist(), backend=backend)
    assert np.array_equal(a.completions, b.completions)
    assert not np.array_equal(a.completions, c.completions)
