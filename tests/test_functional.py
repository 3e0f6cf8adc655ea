"""Functional mode (core/functional.pxi, its twin core/functional.py), the basis of sampled
simulation (issue 18): after N functional accesses the long-lived state (page table and placement,
victim order, sub-page presence, blade slots and super pages, storage placement, LLC tags and dirty
bits, checkpoint dirty sets) equals the detailed mode's after the same N accesses wherever timing
cannot change it, and the timing-independent counters are the same; compiled == twin exactly.

Where timing can change long-lived state, the systems here keep it out: open-loop timestamps make
control-plane events (checkpoint ticks) fall at the same accesses in both modes."""
import numpy as np
import pytest

from hwmodel import System, _layout as L
from hwmodel.core import growable
from hwmodel.core.engine import Engine, state_digest
from test_golden_digests import SMALL, _small, _small_trace

# state arrays that hold long-lived (timing-independent) state, by the structure they model
STRUCTURES = {
    "page_table": ("pt_dir", "pt_leaf", "frame_page", "set_used"),
    "victim_order": ("lru_prev", "lru_next", "set_head", "set_tail", "set_hand", "ref", "dirty"),
    "blade_slots": ("slot_page", "blade_next", "blade_hand"),
    "super_pages": ("sp_map", "sp_owner"),
    "llc": ("cache_tag", "cache_stamp", "cache_dirty"),
    "checkpoint_sets": ("ck_dirty", "ck_list", "ck_pending", "ck_first"),
}
# counters that do not depend on time
EXACT = ("accesses", "reads", "writes", "local_accesses", "remote_accesses", "faults", "swap_ins", "swap_outs",
         "dirty_victims", "first_touch_local", "first_touch_remote", "first_touch_storage", "cache_hits",
         "cache_misses", "cache_writebacks", "storage_reads", "storage_writes", "blade_evictions", "link_bytes_out",
         "link_bytes_in", "port_bytes_out", "port_bytes_in", "sp_grants", "permission_faults", "checkpoints",
         "ckpt_bytes")


def _system(**sections):
    return _small(**sections)


# one system per structure (small: the reference backend runs them in a second or two)
CASES = {
    "page_table+lru": (_system(hypervisor={"victim": "lru", "placement": "first_touch"}), ("page_table", "victim_order", "blade_slots")),
    "clock": (_system(hypervisor={"victim": "clock", "placement": "low"}), ("page_table", "victim_order", "blade_slots")),
    "fifo": (_system(hypervisor={"victim": "fifo"}), ("page_table", "victim_order")),
    "random": (_system(hypervisor={"victim": "random"}), ("page_table", "victim_order")),
    "subpage": (_system(hypervisor={"policy": "subpage_swap", "victim": "lru"}), ("page_table", "victim_order", "blade_slots")),
    "fgra": (_system(hypervisor={"policy": "fgra"}), ("page_table", "blade_slots", "super_pages")),
    "static": (_system(hypervisor={"policy": "static"}), ("super_pages",)),
    "super_pages_on_demand": (_system(memory_blade={"capacity": "16MiB", "super_page": "64KiB", "allocation": "on_demand"},
                                      hypervisor={"policy": "fgra"}), ("page_table", "super_pages")),
    "storage": (_system(memory_blade={"capacity": "1MiB", "super_page": "1MiB"}, storage={"device": "nvme-gen4"},
                        hypervisor={"victim": "fifo"}), ("page_table", "victim_order", "blade_slots")),
    "storage+random": (_system(memory_blade={"capacity": "1MiB", "super_page": "1MiB"},
                               storage={"device": "sata-ssd", "victim": "random"}, hypervisor={"victim": "random"}),
                       ("page_table", "victim_order", "blade_slots")),
    "llc": (_system(cache={"size": "8KiB", "ways": 4}), ("page_table", "victim_order", "llc")),
    "llc+random": (_system(cache={"size": "8KiB", "ways": 4, "policy": "random"}), ("page_table", "llc")),
    "cow": (_system(service={"regime": "cow", "interval": "40us", "setup": "1us"}), ("page_table", "checkpoint_sets")),
    "incremental+storage": (_system(service={"regime": "incremental", "interval": "50us", "target": "storage"},
                                    storage={"device": "nvme-gen4"}),
                            ("page_table", "checkpoint_sets")),
    "stop_and_copy+peer": (_system(service={"regime": "stop_and_copy", "interval": "500us", "target": "peer"}),
                           ("page_table", "checkpoint_sets")),
    # two compute blades, super pages on demand, permission changes at fixed times (no checkpoints:
    # their copies' link bytes depend on when the copies end)
    "blades": (System.from_dict({
        "compute": [{"name": "cb0", "local_memory": "128KiB", "vms": [{"name": "vm0", "memory": "1MiB", "qos": 1}]},
                    {"name": "cb1", "local_memory": "256KiB", "vms": [{"name": "vm1", "memory": "1MiB"}]}],
        "hypervisor": {"super_page": "64KiB"},
        "memory_blade": {"capacity": "4MiB", "super_page": "256KiB", "allocation": "on_demand",
                         "permissions": [{"at": "30us", "blade": "cb1", "super_page": 0, "access": "revoke"},
                                         {"at": "60us", "blade": "cb1", "super_page": 0, "access": "grant"},
                                         {"at": "90us", "blade": "cb0", "super_page": 1, "access": "release"}]},
        "snic": {"discipline": "wfq", "vms": {"vm0": {"weight": 3}}}, "core": {"window": 4}}),
        ("page_table", "victim_order", "blade_slots", "super_pages")),
    "virtual": (SMALL["virtual+auto"], ("page_table", "victim_order", "blade_slots")),
}


def _trace(n=1500, seed=3, virtual=False, scale=1):
    """Open-loop timestamps (control events fall at the same accesses in both modes), gaps of
    0-400 ns x `scale`."""
    if virtual:
        return _small_trace("virtual+auto")[1:]
    rng = np.random.default_rng(seed)
    addr = rng.integers(0, (1 << 20) // 8, n).astype(np.uint64) * 8
    runs = rng.random(n) < 0.5
    addr[1:][runs[1:]] = np.minimum(addr[:-1][runs[1:]] + 64, (1 << 20) - 64)
    t = np.cumsum(rng.integers(0, 400_000 * scale, n)).astype(np.int64)
    return t, addr, (rng.random(n) < 0.3).astype(np.uint8), rng.integers(0, 2, n).astype(np.uint16)


def _pair(system, backend, timing="timestamp", scale=1):
    virtual = system is SMALL["virtual+auto"]
    cols = _trace(virtual=virtual, scale=scale)
    c = system.compile(timing)
    if virtual:
        cols = (cols[0], cols[1], cols[2], cols[3])
    detailed, functional = Engine(c, backend), Engine(c, backend)
    detailed.run_chunk(*cols)
    detailed.finish()                       # held-back write-backs are carried out
    functional.run_functional(*cols, stall_ps=0, latency_ps=100_000)
    return c, detailed, functional


@pytest.mark.parametrize("case", list(CASES))
def test_functional_state_equals_detailed(case, backend):
    system, structures = CASES[case]
    # checkpoints: a copy's duration is timing (a tick waits for the previous checkpoint to be
    # stored), so the accesses come slowly enough that every checkpoint is stored before the next tick
    c, d, f = _pair(system, backend, scale=20 if "checkpoint_sets" in structures else 1)
    if "checkpoint_sets" in structures:
        assert d.state["counters"][L.C["ckpt_ticks_skipped"]] == 0 and d.state["counters"][L.C["checkpoints"]] > 5
    ds, fs = growable.canonical(d.state, c), growable.canonical(f.state, c)
    for s in structures:
        for name in STRUCTURES[s]:
            assert np.array_equal(ds[name], fs[name]), f"{case}: {s} ({name}) differs"
    for name in EXACT:
        if case == "blades" and name == "permission_faults":
            # timing: the detailed mode sends a victim's write-back when the trace reaches its time,
            # and a permission change in between decides whether the blade refuses it
            continue
        assert d.state["counters"][L.C[name]] == f.state["counters"][L.C[name]], f"{case}: counter {name}"
    # the VMs' messages over the link are timing-independent too
    w = len(L.VM_STAT_NAMES)
    for k in ("accesses", "link_bytes", "link_messages", "writes"):
        i = L.VM_STAT_NAMES.index(k)
        assert np.array_equal(d.state["vm_stats"][i::w], f.state["vm_stats"][i::w]), f"{case}: vm_stats {k}"


@pytest.mark.parametrize("case", ["page_table+lru", "storage+random", "llc+random", "cow", "blades", "virtual"])
def test_functional_compiled_equals_twin(case):
    """The whole state, bit for bit, after detailed, functional and detailed stretches (closed loop,
    so that the stall and latency estimates move the clock)."""
    system = CASES[case][0]
    virtual = system is SMALL["virtual+auto"]
    t, addr, op, vm = _trace(virtual=virtual)
    gaps = np.diff(t, prepend=0) if not virtual else t
    c = system.compile("gap")
    digests = []
    for backend in ("compiled", "reference"):
        e = Engine(c, backend)
        e.run_chunk(gaps[:400], addr[:400], op[:400], vm[:400])
        e.run_functional(gaps[400:1100], addr[400:1100], op[400:1100], vm[400:1100], stall_ps=30_000,
                         latency_ps=250_000, stall_ck_ps=90_000, latency_ck_ps=700_000)
        e.run_chunk(gaps[1100:], addr[1100:], op[1100:], vm[1100:])
        e.finish()
        digests.append(state_digest(e.state, c))
    assert digests[0] == digests[1]


def test_functional_time_while_a_checkpoint_is_copied(backend):
    """While a checkpoint is being copied the functional mode advances time by the estimates for
    that (the copies slow the host): with a slower estimate there, the same accesses take longer."""
    system = CASES["cow"][0]
    t, addr, op, vm = _trace()
    c = system.compile("gap")
    ends = []
    for stall_ck in (10_000, 200_000):
        e = Engine(c, backend)
        e.run_functional(np.full(len(addr), 50_000, np.int64), addr, op, vm, stall_ps=10_000, latency_ps=100_000,
                         stall_ck_ps=stall_ck, latency_ck_ps=100_000)
        ends.append(int(e.state["scalars"][L.S["last_issue_ps"]]))
        assert e.state["counters"][L.C["checkpoints"]] > 0
    assert ends[0] == len(addr) * 60_000 and ends[1] > ends[0]


def test_functional_epochs_and_events_in_order(backend):
    """Time-driven events still fire in a functional stretch, at the estimated times: epoch samples
    are taken and checkpoint ticks happen."""
    system = CASES["cow"][0]
    t, addr, op, vm = _trace()
    c = system.compile("gap", epoch_ps=20_000_000)
    e = Engine(c, backend)
    e.run_functional(np.full(len(addr), 50_000, np.int64), addr, op, vm, stall_ps=50_000, latency_ps=200_000)
    rows = e.epochs()
    assert len(rows) == (len(addr) - 1) * 100_000 // 20_000_000     # arrivals every 100 ns from 100 ns
    assert np.all(np.diff(rows[:, 0]) == 20_000_000)
    assert e.state["counters"][L.C["checkpoints"]] > 0


def test_functional_needs_no_dram():
    """The functional mode never touches a DRAM: its counters and state stay as they were."""
    c, d, f = _pair(CASES["page_table+lru"][0], "compiled")
    for k in f.state:
        if k.endswith("counters") and k != "counters":
            assert not f.state[k].any(), k


@pytest.mark.parametrize("victim", ["lru", "clock", "fifo", "random"])
@pytest.mark.parametrize("timing", ["gap", "timestamp"])
@pytest.mark.parametrize("vms", [1, 2])
def test_functional_common_loop_compiled_equals_twin(victim, timing, vms):
    """The compiled functional mode's loop for the common configuration (paging, one compute
    blade, no LLC, no time-driven events: func_loop_paged, one per victim policy x closed loop x
    one VM) leaves the twin's state bit for bit: run in pieces of many lengths (its counts and
    completion ring are written at the end of each), from a state that starts small (it stops
    for the engine to grow it in the middle of pieces), with swaps from the blade and from storage."""
    from hwmodel.core.engine import new_state
    system = _small(compute={"local_memory": "256KiB", "vms": [{"name": f"vm{i}", "memory": "1MiB"}
                                                                for i in range(vms)]},
                    hypervisor={"victim": victim, "placement": "first_touch"},
                    memory_blade={"capacity": "512KiB", "super_page": "256KiB"}, storage={"device": "nvme-gen4"})
    t, addr, op, vm = _trace(n=3000)
    vm = vm % vms
    cols = (np.diff(t, prepend=0) if timing == "gap" else t, addr, op, vm)
    c = system.compile(timing)
    pieces = [1, 2, 3, 4, 5, 7, 64, 1, 500, 3, 1000]
    digests = []
    for backend in ("compiled", "reference"):
        e = Engine(c, backend, state=new_state(c, growable.SMALL))
        e.run_chunk(*(x[:200] for x in cols))
        a = 200
        for k in pieces:
            e.run_functional(*(x[a:a + k] for x in cols), stall_ps=30_000, latency_ps=250_000)
            a += k
        e.run_functional(*(x[a:2800] for x in cols), stall_ps=7_000, latency_ps=90_000)
        digests.append(state_digest(e.state, c))      # (the detailed stretch after rewrites the ring)
        e.run_chunk(*(x[2800:] for x in cols))
        e.finish()
        s = e.state["counters"]
        assert s[L.C["faults"]] > 100 and s[L.C["storage_reads"]] > 0, "the trace swaps from the blade and storage"
        digests.append(state_digest(e.state, c))
    assert digests[:2] == digests[2:]
