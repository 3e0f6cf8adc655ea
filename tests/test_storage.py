"""S1: the storage tier behind the I/O driver. A page that goes down to storage and is touched
again costs the storage path, and every page is in exactly one place at any time."""
import numpy as np
import pytest

from hwmodel import System
from hwmodel._layout import ON_STORAGE, UNTOUCHED
from hwmodel.core.engine import Engine, page_locations
from tiny import TRAP, run, tiny

DEVICE = {"device": "custom", "read_latency": "10us", "write_latency": "5us", "bandwidth": "1GB/s",
          "units": 1, "queue_depth": 1}
READ, XFER, OVERHEAD = 10_000_000, 4_096_000, 1_000_000   # ps; 4 KiB at 1 GB/s


def with_storage(system, blade="0B", device=DEVICE, victim="fifo", buffers=4):
    return System.from_dict({**system.to_dict(),
                             "memory_blade": {**system.to_dict()["memory_blade"], "capacity": blade},
                             "storage": {**device, "victim": victim},
                             "io_driver": {"buffer_pages": buffers, "overhead": "1us"}})


def test_fault_from_storage_costs_trap_driver_device_and_transfer(backend):
    # no memory blade (swap to disk): 4 local frames, page 4 starts on storage
    system = with_storage(tiny("page_swap", placement="low", critical_block_first=True))
    r = run(system, [0], [0x4000], backend=backend)
    # the page arrives in the driver buffer after trap, driver overhead, device access, transfer
    assert r.completions.tolist() == [TRAP + OVERHEAD + READ + XFER]
    c = r.counters
    assert (c["faults"], c["storage_reads"], c["storage_writes"], c["swap_outs"]) == (1, 1, 1, 1)
    assert c["link_bytes_out"] == 0 and c["link_bytes_in"] == 0   # no blade, no link traffic
    assert c["storage_fault_ps"] == TRAP + OVERHEAD + READ + XFER and c["blade_fault_ps"] == 0


def test_one_device_unit_serializes_requests(backend):
    system = with_storage(tiny("page_swap", placement="low", critical_block_first=True))
    r = run(system, [0, 0], [0x4000, 0x5000], backend=backend)
    first = TRAP + OVERHEAD + READ + XFER
    # the second read waits for the first read and for the first victim's write (QD 1, 1 unit)
    assert r.completions[1] > first + READ + XFER
    assert r.counters["storage_wait_ps"] > 0


def test_blade_full_pushes_pages_down_and_they_come_back(backend):
    # 16 KiB local, 16 KiB... the smallest blade: one 1 MiB super page = 256 slots; use a 64 KiB
    # blade page-count by giving the VM more memory than local + blade
    system = System.from_dict({**tiny("page_swap", placement="low", vm="2MiB").to_dict(),
                               "memory_blade": {**tiny().to_dict()["memory_blade"], "capacity": "1MiB"},
                               "storage": DEVICE})
    e = Engine(system.compile("timestamp"), backend)
    pages = 512                     # 4 local + 256 blade + 252 on storage
    st = e.state
    assert (page_locations(st, np.arange(pages)) == ON_STORAGE).sum() == pages - 4 - 256
    order = np.random.default_rng(1).permutation(pages)
    t = np.arange(pages, dtype=np.int64) * 50_000_000
    e.run_chunk(t, (order * 4096).astype(np.uint64), np.zeros(pages, np.uint8), np.zeros(pages, np.uint16))
    c = dict(zip(__import__("hwmodel")._layout.COUNTER_NAMES, st["counters"].tolist()))
    assert c["storage_reads"] > 0 and c["blade_evictions"] > 0
    # a page touched from storage paid the storage path: its fault took at least the device time
    assert c["storage_fault_ps"] >= c["storage_reads"] * (READ + XFER)
    assert_balanced(st, pages)


def assert_balanced(st, pages):
    """Every touched page is in exactly one place, and the maps agree both ways."""
    loc = page_locations(st, np.arange(pages))
    local = np.flatnonzero(loc >= 0)
    blade = np.flatnonzero((loc <= -2) & (loc != ON_STORAGE))
    storage = np.flatnonzero(loc == ON_STORAGE)
    untouched = np.flatnonzero(loc == UNTOUCHED)
    assert len(local) + len(blade) + len(storage) + len(untouched) == pages
    assert np.array_equal(st["frame_page"][loc[local]], local)          # frame -> page -> frame
    slots = -2 - loc[blade]
    assert len(np.unique(slots)) == len(slots)                          # no slot holds two pages
    assert np.array_equal(st["slot_page"][slots], blade)                 # slot -> page -> slot
    held = np.flatnonzero(st["slot_page"] >= 0)
    assert len(held) == len(blade)                                       # no stale slot owners


@pytest.mark.parametrize("victim", ["fifo", "random"])
@pytest.mark.parametrize("placement", ["low", "first_touch"])
@pytest.mark.parametrize("policy", ["page_swap", "subpage_swap"])
def test_random_workload_keeps_every_page_in_one_place(backend, victim, placement, policy):
    base = tiny(policy, placement=placement, vm="4MiB")
    system = System.from_dict({**base.to_dict(),
                               "memory_blade": {**base.to_dict()["memory_blade"], "capacity": "1MiB"},
                               "storage": {**DEVICE, "victim": victim, "units": 4, "queue_depth": 8},
                               "io_driver": {"buffer_pages": 2}})
    rng = np.random.default_rng(7)
    n = 3000
    addr = (rng.integers(0, 1024, n) * 4096 + rng.integers(0, 64, n) * 64).astype(np.uint64)
    e = Engine(system.compile("timestamp"), backend)
    e.run_chunk(np.arange(n, dtype=np.int64) * 3_000_000, addr, (rng.random(n) < 0.3).astype(np.uint8),
                np.zeros(n, np.uint16))
    assert_balanced(e.state, 1024)
    c = dict(zip(__import__("hwmodel")._layout.COUNTER_NAMES, e.state["counters"].tolist()))
    on_storage = int((page_locations(e.state, np.arange(1024)) == ON_STORAGE).sum())
    initially = 1024 - 4 - 256 if placement == "low" else 0
    # pages on storage now = those that started there or were born there, plus writes, minus reads
    assert on_storage == initially + c["first_touch_storage"] + c["storage_writes"] - c["storage_reads"]
    assert c["swap_ins"] == c["faults"]


def test_storage_needs_a_swapping_policy():
    with pytest.raises(ValueError, match="storage.device: a storage tier needs hypervisor.policy page_swap"):
        System.from_dict({"hypervisor": {"policy": "fgra"}, "storage": {"device": "nvme-gen4"}})
    with pytest.raises(ValueError, match="storage.device: 'floppy' is not one of"):
        System.from_dict({"storage": {"device": "floppy"}})
    with pytest.raises(ValueError, match="storage.write_latency: a custom device needs a value"):
        System.from_dict({"storage": {"device": "custom", "read_latency": "1us"}})


def test_without_storage_the_blade_must_hold_the_remote_part():
    with pytest.raises(ValueError, match="add a storage device"):
        System.from_dict({"memory_blade": {"capacity": "0B"}})


def test_presets_order_by_speed():
    lat = {}
    for dev in ("optane", "nvme-gen4", "sata-ssd", "hdd"):
        s = System.from_dict({"memory_blade": {"capacity": "0B"}, "storage": {"device": dev},
                              "hypervisor": {"critical_block_first": True, "placement": "low"}})
        r = s.run({"addr": np.array([3 << 30], np.uint64)})
        lat[dev] = r.latency_ns()["max"]
    assert lat["optane"] < lat["nvme-gen4"] < lat["sata-ssd"] < lat["hdd"]
    assert 40_000 < lat["nvme-gen4"] < 70_000          # ~50 us device + trap + driver, in ns


def test_slowdown_baseline_of_a_system_with_storage_and_checkpoints(backend):
    system = System.from_dict({"memory_blade": {"capacity": "0B"}, "storage": {"device": "optane"},
                               "compute": {"local_memory": "16MiB", "vms": [{"memory": "64MiB"}]},
                               "service": {"regime": "cow", "target": "storage"}})
    rng = np.random.default_rng(0)
    r = system.run({"addr": (rng.integers(0, 64 << 20, 20000) & ~63).astype(np.uint64)}, backend=backend,
                   slowdown=True)
    assert r.counters["storage_reads"] > 0
    assert r.slowdown()["sim_time"] > 2
    b = r.baseline.counters
    assert b["storage_reads"] == b["faults"] == b["checkpoints"] == 0


def test_the_summary_counts_first_touches_on_storage():
    # more distinct pages than local memory and the blade hold: the rest are first touched on storage
    from hwmodel.trace import generate
    system = System.from_dict({"compute": {"local_memory": "1MiB", "vms": [{"memory": "64MiB"}]},
                               "memory_blade": {"capacity": "16MiB"}, "storage": {"device": "nvme-gen4"}})
    r = system.run(generate("uniform", 40000, 64 << 20, seed=1), backend="compiled")   # (what the summary says)
    n = r.counters["first_touch_storage"]
    assert n > 0 and f" / {n:,} storage" in r.summary()
