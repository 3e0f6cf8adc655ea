"""State that grows with what a run touches: the two-level page table, frame and slot rows grown by
the engine, virtual addresses mapped at first touch, `auto`-sized VMs. Growing never changes a
result, both backends grow alike, and declared sizes cost nothing until used."""
import json
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from hwmodel import System
from hwmodel import _layout as L
from hwmodel.core import growable
from hwmodel.cli import main
from hwmodel.core.engine import (Engine, counters, load_state, new_state, page_locations, save_state, state_bytes,
                            state_digest)
from hwmodel.trace import open_trace
from tiny import run, tiny

KIB, MIB, GIB = 1 << 10, 1 << 20, 1 << 30


def system(policy="page_swap", victim="lru", vms=1, memory="1MiB", local="256KiB", blades=1, storage=False,
           placement="first_touch", service="none", cache=False, addresses="auto", capacity="16MiB"):
    """Small systems as tests/test_differential.py builds them, with several blades if asked."""
    def blade(k):
        return {"name": f"cb{k}", "local_memory": local, "dram": {"preset": "DDR4-2400"},
                "vms": [{"name": f"vm{k}{i}", "memory": memory} for i in range(vms)]}
    data = {
        "compute": [blade(k) for k in range(blades)] if blades > 1 else blade(0),
        "hypervisor": {"policy": policy, "victim": victim, "placement": placement, "super_page": "64KiB", "seed": 7},
        "memory_blade": {"capacity": "2MiB" if storage else capacity, "super_page": "1MiB"},
        "storage": {"device": "nvme-gen4", "units": 2, "queue_depth": 4} if storage else {},
        "io_driver": {"buffer_pages": 2},
        "service": {"regime": service, "interval": "50us", "setup": "1us",
                    "target": "storage" if storage and service != "none" else "memory_blade"},
        "core": {"window": 4, "addresses": addresses},
        "cache": {"size": "4KiB", "ways": 2} if cache else {},
    }
    return System.from_dict(data)


def sparse_trace(rng, n, n_vm, pages_per_region=24, virtual=True, span=1 << 40):
    """Accesses to a few regions scattered over a large address range (a program's code, heap,
    libraries and stack), 30% writes, timestamps 0-3 us apart."""
    bases = rng.integers(0, max(span >> 22, 1), 4) << 22   # 4 MiB-aligned regions
    page = rng.integers(0, pages_per_region, n)
    addr = (bases[rng.integers(0, 4, n)] + page * 4096 + rng.integers(0, 64, n) * 64).astype(np.uint64)
    return {"time": np.cumsum(rng.integers(0, 3000, n)).astype(np.int64), "addr": addr,
            "op": (rng.random(n) < 0.3).astype(np.uint8), "vm": rng.integers(0, n_vm, n).astype(np.uint16),
            "timing": "timestamp", "addresses": "virtual" if virtual else "physical"}


def run_engine(s, trace, backend, start=growable.DEFAULT, chunk=None):
    c = s.compile("timestamp", trace_addresses=trace["addresses"])
    e = Engine(c, backend, new_state(c, start))
    cols = [trace[k] for k in ("time", "addr", "op", "vm")]
    n = len(cols[0])
    chunk = chunk or n
    done = [e.run_chunk(*[x[i:i + chunk] for x in cols], want_completions=True) for i in range(0, n, chunk)]
    e.finish()
    return np.concatenate(done), e.state, c


# -- growth changes nothing; both backends grow alike ----------------------------------------
@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(policy=st.sampled_from(["fgra", "page_swap", "subpage_swap"]),
       victim=st.sampled_from(["lru", "clock", "fifo", "random"]), blades=st.integers(1, 3), vms=st.integers(1, 2),
       virtual=st.booleans(), auto=st.booleans(), storage=st.booleans(), cache=st.booleans(),
       service=st.sampled_from(["none", "stop_and_copy", "incremental", "cow"]), placement=st.booleans(),
       seed=st.integers(0, 2**32 - 1), n=st.integers(1, 400), chunk=st.integers(1, 400))
def test_growth_at_any_point_gives_the_results_of_a_state_that_never_grew(policy, victim, blades, vms, virtual, auto,
                                                                        storage, cache, service, placement, seed,
                                                                        n, chunk):
    if policy == "fgra":
        storage = False
    low = placement and not auto    # placement at boot needs every VM's size
    s = system(policy, victim, vms=vms, blades=blades, storage=storage, cache=cache, service=service,
               memory="auto" if auto else "1MiB", placement="low" if low else "first_touch", local="128KiB")
    rng = np.random.default_rng(seed)
    # physical addresses must fall in the VM: 1 MiB declared, or anywhere an auto VM reserves
    trace = sparse_trace(rng, n, blades * vms, virtual=virtual, span=1 << 40 if (virtual or auto) else 1 * MIB)
    if not (virtual or auto):
        trace["addr"] &= np.uint64(MIB - 1)
    d_full, s_full, c = run_engine(s, trace, "compiled", growable.FULL)
    d_small, s_small, _ = run_engine(s, trace, "compiled", growable.SMALL, chunk)
    d_ref, s_ref, _ = run_engine(s, trace, "reference", growable.SMALL, chunk)
    assert np.array_equal(d_full, d_small) and np.array_equal(d_small, d_ref)
    for k in s_small:          # the twin grew at the same accesses to the same sizes
        assert np.array_equal(s_small[k], s_ref[k]), k
    assert state_digest(s_small, c) == state_digest(s_full, c)
    assert (s_small["pt_leaf"][:L.PT_LEAF] == L.UNTOUCHED).all()    # leaf 0 is never written


def test_a_small_start_really_grows_every_structure(backend):
    s = system("subpage_swap", storage=True, memory="4MiB", local="256KiB")
    rng = np.random.default_rng(1)
    trace = sparse_trace(rng, 3000, 1, pages_per_region=256)
    d0, s0, c = run_engine(s, trace, backend, growable.FULL)
    d1, s1, _ = run_engine(s, trace, backend, growable.SMALL, chunk=700)
    assert np.array_equal(d0, d1) and state_digest(s0, c) == state_digest(s1, c)
    start = new_state(c, growable.SMALL)
    for name in ("frame_page", "slot_page", "pt_leaf", "va_key"):
        assert len(s1[name]) > len(start[name]), name
    assert counters(s1)["faults"] > 100 and counters(s1)["first_touch_remote"] > 0


# -- what growable state costs -------------------------------------------------------------
EIGHT_BLADES = Path(__file__).resolve().parent.parent / "examples" / "eight_blades.yaml"


def test_declared_memory_costs_nothing_until_touched():
    s = System.from_yaml(EIGHT_BLADES)    # 8 blades of one 512 GiB VM with 64 GiB local, a 4 TiB blade
    assert [b.vms[0].memory for b in s.blades] == ["512GiB"] * 8 and s.memory_blade.capacity == "4TiB"
    c = s.compile()
    st = new_state(c)
    # 8 x 512 GiB of guest memory, 8 x 64 GiB local, 4 TiB remote: the page-table directory (4 B per
    # 4 MiB of guest memory), the super-page map (4 B per 16 MiB) and start rows, not 4 B a page
    assert state_bytes(st) < 16 * MIB
    assert len(st["pt_dir"]) == 8 * 512 * GIB // 4096 // L.PT_LEAF


def test_a_sparse_physical_footprint_costs_a_leaf_per_range_touched(backend):
    # a 256 GiB VM touched at 3 far-apart places: 3 leaves, not a 256 MiB table
    s = System.from_dict({"compute": {"vms": [{"memory": "256GiB"}]}, "memory_blade": {"capacity": "0B"},
                          "storage": {"device": "nvme-gen4"}})
    addr = np.array([0x1000, 0x3f_0000_0000, 0x3f_ffff_f000, 0x1040], np.uint64)
    r = s.run({"addr": addr}, backend=backend)
    assert r.counters["first_touch_local"] == 3
    c = s.compile()
    e = Engine(c, backend)
    e.run_chunk(np.zeros(4, np.int64), addr, np.zeros(4, np.uint8), np.zeros(4, np.uint16))
    assert e.state["scalars"][L.S["pt_leaves"]] == 1 + 3
    assert page_locations(e.state, addr // 4096).tolist() == [0, 1, 2, 0]


# -- virtual addresses ----------------------------------------------------------------------
def first_touch_order(trace, vm_pages):
    """The guest kernel's mapping, written out: per VM, virtual pages numbered in first-touch order."""
    seen, out = {}, np.empty(len(trace["addr"]), np.uint64)
    for i, (a, v) in enumerate(zip(trace["addr"].tolist(), trace["vm"].tolist())):
        gp = seen.setdefault((v, a >> 12), sum(1 for k in seen if k[0] == v))
        assert gp < vm_pages
        out[i] = gp * 4096 + (a & 4095)
    return out


@pytest.mark.parametrize("policy", ["static", "fgra", "page_swap", "subpage_swap"])
def test_a_virtual_trace_runs_as_its_first_touch_mapping_would_physically(backend, policy):
    s = system(policy, vms=2)
    trace = sparse_trace(np.random.default_rng(4), 2000, 2)
    virt = s.run(trace, backend=backend, completions=True)
    phys = s.run({**trace, "addr": first_touch_order(trace, 256), "addresses": "physical"}, backend=backend,
                 completions=True)
    assert virt.addresses == "virtual" and phys.addresses == "physical"
    assert np.array_equal(virt.completions, phys.completions)
    assert virt.counters == phys.counters


def test_each_vm_maps_its_own_pages_in_first_touch_order(backend):
    s = tiny()          # one 64 KiB VM: 16 guest pages of 4 KiB, 4 local frames
    stack, heap = 0x1fff000000, 0x4000000
    addrs = [stack + 0x40, heap, stack + 0x80, stack - 4096, heap + 8192]
    c = s.compile("timestamp", trace_addresses="virtual")
    e = Engine(c, backend)
    e.run_chunk(np.arange(5, dtype=np.int64) * 10**6, np.array(addrs, np.uint64), np.zeros(5, np.uint8),
                np.zeros(5, np.uint16))
    assert e.state["va_next"].tolist() == [4]              # 4 distinct virtual pages: guest pages 0-3
    assert page_locations(e.state, range(6)).tolist() == [0, 1, 2, 3, -1, -1]
    full = e.state["va_key"] != 0
    got = {int(k - 1) >> 16: int(p) for k, p in zip(e.state["va_key"][full], e.state["va_page"][full])}
    assert got == {stack >> 12: 0, heap >> 12: 1, (stack >> 12) - 1: 2, (heap >> 12) + 2: 3}


def test_a_vm_that_touches_more_pages_than_its_memory_is_an_error(backend):
    s = tiny()          # 16 guest pages
    addr = (np.arange(17, dtype=np.uint64) * np.uint64(1 << 30))
    with pytest.raises(ValueError, match=r"record 16: VM 0 touches more virtual pages than its guest-physical "
                                         r"memory holds \(16 pages of 4096 B, compute.vms.0.memory\)"):
        s.run({"addr": addr, "addresses": "virtual"}, backend=backend)
    auto = System.from_dict({**s.to_dict(), "compute": {**s.to_dict()["compute"], "vms": [{"memory": "auto"}]}})
    r = auto.run({"addr": addr, "addresses": "virtual"}, backend=backend)
    assert r.counters["first_touch_local"] == 4 and r.counters["first_touch_remote"] == 13


def test_an_auto_vm_that_outgrows_its_blade_names_what_to_enlarge(backend):
    s = system(memory="auto", local="64KiB", capacity="1MiB")    # 16 frames + 256 slots
    addr = np.arange(300, dtype=np.uint64) * np.uint64(4096)
    with pytest.raises(ValueError, match="record 272: cb0's VMs touch more pages than its local memory and its "
                                         "share of the memory blade hold .*memory_blade.capacity.*storage.device"):
        s.run({"addr": addr}, backend=backend)
    with_storage = System.from_dict({**s.to_dict(), "storage": {"device": "nvme-gen4"}})
    r = with_storage.run({"addr": addr}, backend=backend)
    assert r.counters["first_touch_storage"] == 300 - 16 - 256


def test_formats_say_whether_their_addresses_are_virtual(reference_dir, tmp_path):
    traces = reference_dir / "traces"
    assert open_trace(traces / "valgrind_lackey_ls.trace").addresses == "virtual"
    for name in ("dramsim3_example.trace", "mase_art_head.trc", "ramulator_cpu.trace", "ramulator_dram.trace"):
        assert open_trace(traces / name).addresses == "physical", name
    champ = tmp_path / "t.champsim"
    rec = np.zeros(4, [("ip", "<u8"), ("x", "u1", 8), ("dst", "<u8", 2), ("src", "<u8", 4)])
    rec["src"][:, 0] = [0x7ffd_0000_1000, 0x40_0000, 0, 0x7ffd_0000_1040]
    champ.write_bytes(rec.tobytes())
    assert open_trace(champ).addresses == "virtual"


def test_core_addresses_overrides_the_format(reference_dir, tmp_path, capsys):
    lackey = str(reference_dir / "traces" / "valgrind_lackey_ls.trace")
    out = tmp_path / "r.json"
    assert main(["run", lackey, "--json", str(out)]) == 0
    d = json.loads(out.read_text())
    assert d["addresses"] == "virtual" and d["counters"]["first_touch_local"] == 7
    # as physical addresses the stack near 0x1fff000000 (128 GiB) is beyond the 4 GiB VM ...
    assert main(["run", lackey, "-p", "core.addresses=physical"]) == 1
    assert "outside VM 0's memory" in capsys.readouterr().err
    # ... unless the VM's memory grows with its footprint
    assert main(["run", lackey, "-p", "core.addresses=physical", "-p", "compute.vms.0.memory=auto",
                 "--json", str(out)]) == 0
    d = json.loads(out.read_text())
    assert d["addresses"] == "physical" and d["counters"]["first_touch_local"] == 7
    with pytest.raises(ValueError, match="core.addresses: 'guest' is not one of 'auto', 'virtual', 'physical'"):
        System.from_dict({"core": {"addresses": "guest"}})


@pytest.mark.parametrize("data,match", [
    ({"hypervisor": {"policy": "static"}, "compute": {"vms": [{"memory": "auto"}]}},
     r"compute.vms\[0\].memory: auto needs the hypervisor's page table"),
    ({"hypervisor": {"placement": "low"}, "compute": {"vms": [{"memory": "auto"}]}},
     "hypervisor.placement: 'low' places every guest page at boot"),
    ({"compute": {"vms": [{"memory": "0B"}]}}, r"compute.vms\[0\].memory: '0B' must be > 0 \(or auto\)"),
])
def test_bad_auto_configurations(data, match):
    with pytest.raises(ValueError, match=match):
        System.from_dict(data)


def test_slowdown_needs_declared_memory():
    s = System.from_dict({"compute": {"vms": [{"memory": "auto"}]}})
    with pytest.raises(ValueError, match=r"slowdown: .*compute.vms\[0\].memory is auto"):
        s.run({"addr": np.zeros(1, np.uint64)}, slowdown=True)


# -- saved states ---------------------------------------------------------------------------
def test_a_grown_state_saves_and_resumes_bit_for_bit(tmp_path, backend):
    s = system("page_swap", vms=2, blades=2, memory="auto", service="cow")
    trace = sparse_trace(np.random.default_rng(9), 3000, 4, pages_per_region=64)
    whole, s_whole, c = run_engine(s, trace, backend, growable.SMALL)
    cols = [trace[k] for k in ("time", "addr", "op", "vm")]
    first = Engine(c, backend, new_state(c, growable.SMALL))
    d1 = first.run_chunk(*[x[:1700] for x in cols], want_completions=True)
    path = tmp_path / "s.npz"
    save_state(path, first.state, c)
    state, _ = load_state(path, c)
    second = Engine(c, backend, state)
    d2 = second.run_chunk(*[x[1700:] for x in cols], want_completions=True)
    second.finish()
    assert np.array_equal(np.concatenate([d1, d2]), whole)
    assert state_digest(second.state) == state_digest(s_whole)


@pytest.mark.parametrize("name,bad", [
    ("pt_leaf", lambda a: a[:-1]),
    ("frame_page", lambda a: np.concatenate([a, a])),
    ("va_key", lambda a: a[:3]),
    ("pt_dir", lambda a: a + 1000),
])
def test_a_state_file_with_malformed_growable_arrays_is_refused(tmp_path, name, bad):
    s = system("page_swap", memory="auto")
    trace = sparse_trace(np.random.default_rng(1), 500, 1)
    _, state, c = run_engine(s, trace, "compiled")
    state[name] = bad(state[name])
    path = tmp_path / "s.npz"
    save_state(path, state, c)
    with pytest.raises(ValueError, match="s.npz: "):
        load_state(path, c)


def test_the_table_of_virtual_pages_rehashes_to_where_the_core_looks():
    rng = np.random.default_rng(3)
    keys = np.unique(rng.integers(1, 1 << 62, 3000))
    size = 8192
    table_k, table_v = growable.rehash(np.concatenate([keys, np.zeros(100, np.int64)]),
                                       np.concatenate([np.arange(len(keys), dtype=np.int32), np.full(100, -1, np.int32)]),
                                       size)
    assert np.count_nonzero(table_k) == len(keys)
    home = growable.va_home(keys, size)
    for i, (k, h) in enumerate(zip(keys.tolist(), home.tolist())):   # linear probing from the home slot
        while table_k[h] != k:
            assert table_k[h] != 0
            h = (h + 1) & (size - 1)
        assert table_v[h] == i


def test_tiny_runs_unchanged_by_the_sparse_layout():
    # hand-derived times of tests/test_policies.py, through a state that starts as small as it can
    from tiny import TRAP
    s = tiny("page_swap", placement="low", critical_block_first=True)
    c = s.compile("timestamp")
    e = Engine(c, "compiled", new_state(c, growable.SMALL))
    done = e.run_chunk(np.zeros(1, np.int64), np.array([0x4000], np.uint64), np.zeros(1, np.uint8),
                       np.zeros(1, np.uint16), want_completions=True)
    assert done.tolist() == run(s, [0], [0x4000]).completions.tolist() and done[0] > TRAP


def test_a_sweep_runs_auto_sized_vms(reference_dir):
    from hwmodel.study import sweep
    rows = sweep({"compute": {"vms": [{"memory": "auto"}]}}, {"hypervisor.policy": ["fgra", "page_swap"]},
                 [str(reference_dir / "traces" / "valgrind_lackey_ls.trace")], executor="serial", progress=False,
                 as_frame=False)
    assert [r["status"] for r in rows] == ["ok", "ok"], [r["error"] for r in rows]
    assert all(r["local_memory_fraction"] is None for r in rows)    # no declared size to divide by
