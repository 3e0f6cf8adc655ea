"""S6: service-processor checkpointing and rollback, on both backends."""
import numpy as np
import pytest

from hwmodel import System

PAGE = 4096
INTERVAL = 200_000_000        # 200 us, in ps
N_PAGES = 1024                # 4 MiB VM, all local (fgra never moves pages)


def system(regime="incremental", target="memory_blade", fail_at="", interval="200us"):
    return System.from_dict({
        "compute": {"local_memory": "4MiB", "vms": [{"memory": "4MiB"}]},
        "hypervisor": {"policy": "fgra", "placement": "first_touch"},
        "memory_blade": {"capacity": "16MiB", "super_page": "1MiB"},
        "service": {"regime": regime, "interval": interval, "target": target, "fail_at": fail_at},
        **({"storage": {"device": "nvme-gen4"}, "hypervisor": {"policy": "page_swap"}} if target == "storage" else {}),
    })


def workload(n=20_000, seed=3, writes=0.05):
    """n accesses over 2 ms to a 4 MiB VM; ~50 writes per 200 us interval at the default."""
    rng = np.random.default_rng(seed)
    t = np.sort(rng.integers(0, 2_000_000_000, n)).astype(np.int64)   # 2 ms
    pages = rng.integers(0, N_PAGES, n)
    return {"time": t, "addr": (pages * PAGE + rng.integers(0, 64, n) * 64).astype(np.uint64),
            "op": (rng.random(n) < writes).astype(np.uint8), "timing": "timestamp"}


def ticks(trace, interval=INTERVAL):
    """Checkpoint ticks that some access reaches (a tick runs when the first access at or after it arrives)."""
    first = int(trace["time"][0])
    last = int(trace["time"][-1])
    return [first + k * interval for k in range(1, (last - first) // interval + 1)]


def dirty_per_interval(trace, interval=INTERVAL):
    """Distinct pages written in each interval that ended with a checkpoint."""
    t, pages, w = trace["time"], trace["addr"] // PAGE, trace["op"] == 1
    edges = [int(t[0])] + ticks(trace, interval)
    return [len(np.unique(pages[w & (t >= a) & (t < b)])) for a, b in zip(edges, edges[1:])]


def resident_at_ticks(trace, interval):
    """Pages touched (first touch gives them a frame) before each tick."""
    t, pages = trace["time"], trace["addr"] // PAGE
    return [len(np.unique(pages[t < tick])) for tick in ticks(trace, interval)]


@pytest.mark.parametrize("regime", ["incremental", "cow"])
def test_copied_bytes_equal_the_dirty_footprint_of_each_interval(backend, regime):
    trace = workload()
    r = system(regime).run(trace, backend=backend)
    c = r.counters
    assert c["checkpoints"] == len(ticks(trace))
    assert c["ckpt_bytes"] == PAGE * sum(dirty_per_interval(trace))
    assert c["link_bytes_out"] >= c["ckpt_bytes"]       # checkpoints travel to the blade


def windows(trace, result_busy_us):
    """Accesses arriving while a checkpoint is being copied, and well clear of any."""
    t = trace["time"]
    inside = np.zeros(len(t), bool)
    near = np.zeros(len(t), bool)
    for tick in ticks(trace):
        inside |= (t >= tick) & (t < tick + result_busy_us * 1_000_000)
        near |= (t >= tick - 5_000_000) & (t < tick + 3 * result_busy_us * 1_000_000)
    return inside, ~near


def test_host_latency_rises_during_concurrent_checkpoints(backend):
    trace = workload(40_000)
    base = system("none").run(trace, backend=backend, completions=True)
    ck = system("cow").run(trace, backend=backend, completions=True)
    busy_us = ck.counters["ckpt_busy_ps"] / ck.counters["checkpoints"] / 1e6
    inside, clear = windows(trace, busy_us)
    reads = trace["op"] == 0
    lat_base = (base.completions - trace["time"])[reads]
    lat_ck = (ck.completions - trace["time"])[reads]
    inside, clear = inside[reads], clear[reads]
    # the service processor's copies hold the banks and the data bus: reads wait behind them
    assert lat_ck[inside].mean() > 1.1 * lat_base[inside].mean()
    assert abs(lat_ck[clear].mean() / lat_base[clear].mean() - 1) < 0.02
    assert ck.counters["ckpt_stall_ps"] == 0


def test_stopping_regimes_stop_the_host(backend):
    trace = workload()
    full = system("stop_and_copy", interval="1ms").run(trace, backend=backend, completions=True)
    inc = system("incremental", interval="1ms").run(trace, backend=backend, completions=True)
    for r in (full, inc):
        assert r.counters["ckpt_stall_ps"] > 0 and r.counters["cow_wait_ps"] == 0
    # stop_and_copy copies every resident page, incremental only those written since the last tick
    ms = 1_000_000_000
    assert full.counters["ckpt_bytes"] == PAGE * sum(resident_at_ticks(trace, ms))
    assert inc.counters["ckpt_bytes"] == PAGE * sum(dirty_per_interval(trace, ms))
    assert full.counters["ckpt_stall_ps"] > inc.counters["ckpt_stall_ps"]
    # an access arriving at a tick waits for the whole stop
    t = trace["time"]
    first_after = np.searchsorted(t, ticks(trace, ms)[0])
    assert full.completions[first_after] - t[first_after] >= full.counters["ckpt_stall_ps"] // full.counters["checkpoints"] - ms // 1000


def test_copy_on_write_makes_early_writes_wait(backend):
    trace = workload()
    r = system("cow").run(trace, backend=backend)
    assert r.counters["cow_wait_ps"] > 0
    assert r.counters["ckpt_bytes"] == PAGE * sum(dirty_per_interval(trace))


def test_rollback_restores_the_last_complete_checkpoint(backend):
    trace = workload()
    tk = ticks(trace)
    # the failure strikes 1 ns after the third checkpoint starts: that checkpoint is incomplete,
    # so the second one is restored and the work since its tick is lost
    fail = tk[2] + 1_000
    r = system("incremental", fail_at=f"{fail}ps").run(trace, backend=backend)
    c = r.counters
    assert c["failures"] == 1
    assert c["lost_work_ps"] == fail - tk[1]
    t, pages, w = trace["time"], trace["addr"] // PAGE, trace["op"] == 1
    restored_pages = len(np.unique(pages[w & (t < tk[1])]))     # union of checkpoints 1 and 2
    assert c["restored_bytes"] == PAGE * restored_pages
    assert c["recovery_ps"] > 0


def test_failure_without_checkpoints_loses_everything(backend):
    trace = workload(2000)
    fail = int(trace["time"][1000])
    r = system("none", fail_at=f"{fail}ps").run(trace, backend=backend)
    assert r.counters["lost_work_ps"] == fail - int(trace["time"][0])
    assert r.counters["restored_bytes"] == 0


def test_checkpoints_to_storage(backend):
    trace = workload(5000)
    r = system("incremental", target="storage").run(trace, backend=backend)
    assert r.counters["storage_writes"] * PAGE >= r.counters["ckpt_bytes"] > 0


@pytest.mark.parametrize("data,match", [
    ({"service": {"regime": "snapshot"}}, "service.regime: 'snapshot' is not one of"),
    ({"service": {"regime": "incremental", "interval": "0us"}}, "service.interval"),
    ({"service": {"regime": "incremental", "target": "storage"}}, "needs a storage device"),
    ({"service": {"regime": "incremental"}, "hypervisor": {"policy": "static"}}, "has none"),
    ({"service": {"regime": "incremental"}, "compute": {"vms": [{"memory": "64GiB"}]},
      "memory_blade": {"capacity": "63GiB"}}, "checkpoints of local memory need"),   # 63 GiB remote fill it
])
def test_bad_service_configs(data, match):
    with pytest.raises(ValueError, match=match):
        System.from_dict(data)


def test_checkpoints_longer_than_the_interval_skip_ticks(backend):
    # copying the whole 4 MiB image takes ~1 ms at 4 GB/s, five times the 200 us interval: the
    # ticks that fall during a checkpoint are skipped (and counted) instead of queueing without end
    trace = workload(5000)
    r = system("stop_and_copy").run(trace, backend=backend)
    c = r.counters
    assert c["ckpt_ticks_skipped"] > 0
    assert c["checkpoints"] + c["ckpt_ticks_skipped"] >= len(ticks(trace)) - 1
    assert c["accesses"] == 5000


def test_host_slowdown_relative_to_the_same_run_without_checkpoints(backend):
    trace = workload()
    r = system("stop_and_copy", interval="1ms").run(trace, backend=backend, slowdown="no_checkpoints")
    assert r.baseline_kind == "no_checkpoints" and r.baseline.counters["checkpoints"] == 0
    assert r.slowdown()["mean_read_latency"] > 1
    assert "slowdown vs no-checkpoints" in r.summary()
    with pytest.raises(ValueError, match="slowdown: 'magic' is not one of"):
        system().run(trace, slowdown="magic")


def test_checkpoints_to_a_peer_node_over_the_link(backend):
    trace = workload()
    s = System.from_dict({**system().to_dict(), "service": {"regime": "cow", "interval": "200us", "target": "peer",
                                                           "peer_latency": "1us"}})
    r = s.run(trace, backend=backend)
    c = r.counters
    assert c["ckpt_bytes"] == PAGE * sum(dirty_per_interval(trace))
    assert c["peer_dram_bytes"] == c["ckpt_bytes"]          # they land in the peer's memory
    assert c["link_bytes_out"] >= c["ckpt_bytes"]           # after crossing the link
    assert c["blade_dram_bytes"] == 0                       # fgra with all pages local: no blade use
    # rollback fetches the last complete checkpoint back from the peer
    tk = ticks(trace)
    f = System.from_dict({**s.to_dict(), "service": {**s.to_dict()["service"], "fail_at": f"{tk[3] + 1000}ps"}})
    rb = f.run(trace, backend=backend).counters
    assert rb["restored_bytes"] > 0 and rb["link_bytes_in"] >= rb["restored_bytes"]
    with pytest.raises(ValueError, match="service.peer_dram: 16GiB cannot hold"):
        System.from_dict({"compute": {"local_memory": "32GiB", "vms": [{"memory": "32GiB"}],
                                      "dram": {"preset": "DDR4-2400", "channels": 4}},
                          "service": {"regime": "cow", "target": "peer"}})
