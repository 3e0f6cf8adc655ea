"""Epoch statistics: counters sampled at every multiple of the epoch give a time series whose
per-epoch values add up to the run's totals, on both backends, however often the buffer drains."""
import numpy as np
import pytest

from hwmodel import System
from hwmodel.core.engine import EPOCH_COLUMNS, Engine


def system():
    return System.from_dict({"compute": {"local_memory": "1MiB", "vms": [{"memory": "8MiB"}]},
                             "memory_blade": {"capacity": "16MiB", "super_page": "1MiB"}})


def trace(n=6000, seed=2):
    rng = np.random.default_rng(seed)
    return {"time": np.cumsum(rng.integers(0, 200_000, n)).astype(np.int64),
            "addr": (rng.integers(0, 8 << 20, n) & ~63).astype(np.uint64),
            "op": (rng.random(n) < 0.3).astype(np.uint8), "timing": "timestamp"}


def test_time_series_adds_up_to_the_totals(backend):
    r = system().run(trace(), backend=backend, epoch="50us")
    ts = r.time_series()
    c = r.counters
    assert ts["accesses"].sum() == c["accesses"]
    assert ts["faults"].sum() == c["faults"]
    assert np.all(np.diff(ts["time_ns"]) > 0)
    assert ts["time_ns"][-1] == r.sim_time_ps / 1000
    # link bytes per epoch x epoch length add back up to the total
    span_ns = np.diff(np.concatenate([[0], ts["time_ns"]]))
    assert abs((ts["link_in_GBps"] * span_ns).sum() - c["link_bytes_in"]) < 1e-6 * c["link_bytes_in"] + 1
    assert len(r.to_dict()["time_series"]["time_ns"]) == len(ts["time_ns"])


@pytest.mark.parametrize("rows", [1, 3, 4096])
def test_draining_the_buffer_changes_nothing(backend, rows):
    s, tr = system(), trace(3000)
    e = Engine(s.compile("timestamp", epoch_ps=20_000_000, epoch_rows=rows), backend)
    done = e.run_chunk(tr["time"], tr["addr"], tr["op"], np.zeros(3000, np.uint16), want_completions=True)
    ref = Engine(s.compile("timestamp"), backend)
    done_ref = ref.run_chunk(tr["time"], tr["addr"], tr["op"], np.zeros(3000, np.uint16), want_completions=True)
    assert np.array_equal(done, done_ref)
    ep = e.epochs()
    assert ep.shape[1] == len(EPOCH_COLUMNS)
    assert np.array_equal(ep[:, 0], 20_000_000 * np.arange(1, len(ep) + 1))
    assert np.all(np.diff(ep[:, 1 + EPOCH_COLUMNS.index("accesses") - 1]) >= 0)


def test_backends_give_the_same_series():
    a = system().run(trace(2000), backend="compiled", epoch="30us").epochs
    b = system().run(trace(2000), backend="reference", epoch="30us").epochs
    assert np.array_equal(a, b)


def test_no_series_without_epochs():
    r = system().run(trace(100))
    with pytest.raises(ValueError, match="run with epoch"):
        r.time_series()
    with pytest.raises(ValueError, match="epoch: '0ns' must be > 0"):
        system().run(trace(100), epoch="0ns")
