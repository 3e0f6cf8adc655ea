"""Synthetic generators and trace_info."""
import numpy as np
import pytest

from hwmodel.trace import generate, trace_info, write_trace
from hwmodel.trace.gen import KINDS, _bijection

FP = 1 << 20  # 1 MiB = 16384 lines


@pytest.mark.parametrize("kind", [k for k in KINDS if k != "mix"])
def test_generate_basic(kind):
    a = generate(kind, 50_000, FP, seed=7)
    b = generate(kind, 50_000, FP, seed=7)
    assert a.equals(b) and len(a) == 50_000
    assert np.all(a.addr % 64 == 0) and np.all(a.addr < FP)
    assert np.all(a.size == 64) and not a.time.any()
    if kind != "stream":
        assert not a.equals(generate(kind, 50_000, FP, seed=8))


def test_read_ratio_and_interval():
    ch = generate("uniform", 100_000, FP, read_ratio=0.25, seed=1, interval=3, base=1 << 30, vm=2)
    assert abs(np.mean(ch.op == 0) - 0.25) < 0.01
    assert np.array_equal(ch.time, 3 * np.arange(100_000))
    assert ch.addr.min() >= 1 << 30 and np.all(ch.vm == 2)
    assert np.all(generate("pointer_chase", 100, FP).op == 0)


def test_stream_and_strided_patterns():
    assert np.array_equal(generate("stream", 20, 640).addr, (np.arange(20) % 10) * 64)
    s = generate("strided", 16384, FP, stride=4096)
    assert s.addr[1] - s.addr[0] == 4096
    assert len(np.unique(s.addr)) == 16384  # every line, although the stride divides the footprint


def test_pointer_chase_visits_every_line_once_per_cycle():
    nl = FP // 64
    ch = generate("pointer_chase", 2 * nl, FP, seed=4)
    first = ch.addr[:nl]
    assert len(np.unique(first)) == nl and np.array_equal(first, ch.addr[nl:])
    x = _bijection(np.arange(1000, dtype=np.uint64), 1000, 9)
    assert np.array_equal(np.sort(x), np.arange(1000))


def test_hotcold_and_zipf_skew():
    ch = generate("hotcold", 200_000, FP, hot_fraction=0.1, hot_access=0.9, seed=2)
    hot = ch.addr < (FP // 64 // 10) * 64
    assert abs(hot.mean() - 0.9) < 0.01
    z = generate("zipf", 200_000, FP, alpha=1.2, seed=2)
    counts = np.sort(np.unique(z.addr, return_counts=True)[1])[::-1]
    assert counts[0] > 20 * np.median(counts)      # a few lines are very hot
    assert counts[:164].sum() / len(z) > 0.5         # top 1 % of lines take most accesses


def test_mix_phases():
    ch = generate("mix", 1000, FP, seed=1, interval=2,
                  phases=[("stream", 0.5), ("uniform", 0.5, {"read_ratio": 0.0})])
    assert len(ch) == 1000
    assert np.array_equal(ch.addr[:500], np.arange(500) * 64)
    assert np.all(ch.op[500:] == 1)
    assert np.array_equal(ch.time, 2 * np.arange(1000))


def test_bad_arguments():
    with pytest.raises(ValueError, match="unknown generator kind"):
        generate("nope", 10, FP)
    with pytest.raises(ValueError, match="unknown keyword"):
        generate("uniform", 10, FP, stride=3)
    with pytest.raises(ValueError):
        generate("uniform", 10, 32)


def test_trace_info(tmp_path):
    ch = generate("stream", 10_000, 64 * 5000, read_ratio=0.6, seed=3, interval=4, base=0x1000)
    p = tmp_path / "t.trace.gz"
    write_trace(p, ch, format="dramsim3", timing="timestamp", time_unit="cycle")
    info = trace_info(p)
    assert info["format"] == "dramsim3" and info["compression"] == "gzip"
    assert info["records"] == 10_000 and info["reads"] + info["writes"] == 10_000
    assert info["reads"] == int(np.count_nonzero(ch.op == 0))
    assert info["footprint_bytes"] == 5000 * 64
    assert info["distinct_pages"] == len(np.unique(ch.addr // 4096))
    assert (info["addr_min"], info["addr_max"]) == (0x1000, 0x1000 + 64 * 4999)
    assert info["duration"] == 4 * 9999 and info["time_unit"] == "cycle"
