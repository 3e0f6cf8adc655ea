"""The compiled core and its Python twin agree exactly, and state survives save/restore."""
import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from hwmodel import System
from hwmodel.core.engine import Engine, counters, load_state, save_state, state_digest


def small_system(policy, victim, placement, cbf=False, timing="auto", window=4, vms=1, xor=False,
                 row_policy="open", cache=None, service="none", fail_at="", storage=False,
                 ck_target="memory_blade", snic=None, buffers=1):
    return System.from_dict({
        "compute": {"local_memory": "256KiB", "vms": [{"name": f"vm{i}", "memory": "1MiB"} for i in range(vms)],
                    "dram": {"preset": "DDR4-2400", "bank_xor": xor, "row_policy": row_policy}},
        "hypervisor": {"policy": policy, "victim": victim, "placement": placement,
                       "critical_block_first": cbf, "super_page": "64KiB", "seed": 7},
        "memory_blade": {"capacity": "2MiB" if storage else "16MiB", "super_page": "1MiB",
                         "buffers": [{"queue_depth": 3 * (buffers - 1), "latency": "5ns"}] * buffers},
        "storage": {"device": "nvme-gen4", "units": 2, "queue_depth": 4} if storage else {},
        "io_driver": {"buffer_pages": 2},
        "service": {"regime": service, "interval": "50us", "setup": "1us", "fail_at": fail_at,
                    "target": "storage" if storage and service != "none" else ck_target},
        "core": {"timing": timing, "window": window},
        "cache": dict(zip(("size", "ways", "policy"), cache)) if cache else {},
        "snic": snic or {},
    })


# SNIC link QoS variants: (discipline, SLA of vm0 / vm1 / background, SLA changes at run time)
SNICS = [
    None,
    {"discipline": "strict_priority", "vms": {"vm0": {"priority": 1}, "vm1": {"priority": 0}}},
    {"discipline": "strict_priority", "vms": {"vm0": {"cap": "2GB/s", "burst": "8KiB"}},
     "background": {"priority": 0}, "instructions": [{"at": "30us", "vm": "vm0", "priority": 3, "uncap": True},
                                                     {"at": "60us", "vm": "background", "cap": "1GB/s"}]},
    {"discipline": "wfq", "vms": {"vm0": {"weight": 3}, "vm2": {"weight": 2, "cap": "3Gbps"}}},
    {"discipline": "drr", "vms": {"vm1": {"weight": 5}},
     "instructions": [{"at": "20us", "vm": "vm0", "weight": 7, "cap": "1GB/s", "burst": "16KiB"}]},
    {"discipline": "fifo", "vms": {"vm0": {"cap": "700MB/s", "burst": "5KiB"}}},
]


def random_trace(rng, n, vms=1, footprint=1 << 20, timed=True):
    addr = rng.integers(0, footprint // 8, n).astype(np.uint64) * 8
    # mix in page-local runs so row hits and local reuse happen
    runs = rng.random(n) < 0.5
    addr[1:][runs[1:]] = np.minimum(addr[:-1][runs[1:]] + 64, footprint - 64)
    t = np.cumsum(rng.integers(0, 3000, n)).astype(np.int64) if timed else rng.integers(0, 500, n).astype(np.int64)
    return {"time": t, "addr": addr, "op": (rng.random(n) < 0.3).astype(np.uint8),
            "vm": rng.integers(0, vms, n).astype(np.uint16), "timing": "timestamp" if timed else "gap"}


def both(system, trace):
    out = []
    for backend in ("compiled", "reference"):
        e = Engine(system.compile(trace["timing"]), backend)
        done = e.run_chunk(trace["time"], trace["addr"], trace["op"], trace["vm"], want_completions=True)
        out.append((done, e.state))
    return out


POLICIES = ["static", "fgra", "page_swap", "subpage_swap"]
VICTIMS = ["lru", "clock", "fifo", "random"]


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(policy=st.sampled_from(POLICIES), victim=st.sampled_from(VICTIMS),
       placement=st.sampled_from(["low", "first_touch"]), cbf=st.booleans(), timed=st.booleans(),
       window=st.integers(1, 8), vms=st.integers(1, 3), xor=st.booleans(),
       row_policy=st.sampled_from(["open", "closed", "timeout"]), seed=st.integers(0, 2**32 - 1),
       n=st.integers(1, 400), cache=st.sampled_from([None, ("4KiB", 2, "lru"), ("8KiB", 4, "random")]),
       service=st.sampled_from(["none", "stop_and_copy", "incremental", "cow"]),
       fail_at=st.sampled_from(["", "100us", "300us"]), storage=st.booleans(), snic=st.sampled_from(SNICS),
       ck_target=st.sampled_from(["memory_blade", "peer"]), buffers=st.integers(1, 3))
def test_backends_identical(policy, victim, placement, cbf, timed, window, vms, xor, row_policy, seed, n, cache,
                            service, fail_at, storage, snic, ck_target, buffers):
    if policy == "static":
        service, fail_at = "none", ""      # checkpoints need the hypervisor's page table
    if policy in ("static", "fgra"):
        storage = False                    # the storage tier needs a swapping policy
    if snic is not None:   # SLAs name VMs: keep those of VMs this system has
        names = {f"vm{i}" for i in range(vms)} | {"background"}
        snic = {**snic, "vms": {k: v for k, v in snic["vms"].items() if k in names},
                "instructions": [x for x in snic.get("instructions", []) if x["vm"] in names]}
    system = small_system(policy, victim, placement, cbf, window=window, vms=vms, xor=xor,
                          row_policy=row_policy, cache=cache, service=service, fail_at=fail_at, storage=storage,
                          snic=snic, ck_target=ck_target, buffers=buffers)
    trace = random_trace(np.random.default_rng(seed), n, vms, timed=timed)
    (d1, s1), (d2, s2) = both(system, trace)
    assert np.array_equal(d1, d2)
    for k in s1:
        assert np.array_equal(s1[k], s2[k]), k


@pytest.mark.parametrize("policy", POLICIES)
def test_thrashing_workload_identical(policy):
    # many faults: a footprint 4x local memory, uniform random
    system = small_system(policy, "lru", "low")
    trace = random_trace(np.random.default_rng(3), 5000)
    (d1, s1), (d2, s2) = both(system, trace)
    assert np.array_equal(d1, d2)
    assert state_digest(s1) == state_digest(s2)
    if policy in ("page_swap", "subpage_swap"):
        assert s1["counters"][5] > 1000   # faults: the swap path is really exercised


def test_swap_units_of_4gib_are_identical():
    # 1 << 32 in the core once overflowed a C int: the unit size and line offsets need 64-bit shifts
    # (simple DRAM models: the twin moves the page in 8 KiB row runs, 2^19 of them per copy)
    simple = {"model": "simple"}
    system = System.from_dict({"compute": {"local_memory": "8GiB", "page_size": "4GiB", "vms": [{"memory": "16GiB"}],
                                           "dram": simple},
                               "memory_blade": {"super_page": "4GiB", "capacity": "16GiB", "dram": simple}})
    addr = np.array([12345, (5 << 30) + 64, (9 << 30) + 128], np.int64)
    trace = {"time": np.zeros(3, np.int64), "addr": addr.astype(np.uint64), "op": np.zeros(3, np.uint8),
             "vm": np.zeros(3, np.uint16), "timing": "none"}
    (d1, s1), (d2, s2) = both(system, trace)
    assert np.array_equal(d1, d2)
    assert state_digest(s1) == state_digest(s2)
    assert s1["counters"][5] == 1   # the fault moved one 4 GiB page


def test_4gib_units_pushed_from_a_full_blade_to_storage_are_identical():
    # the I/O driver's path: a full blade (one 4 GiB slot) sends its page down to make room
    simple = {"model": "simple"}
    system = System.from_dict({"compute": {"local_memory": "4GiB", "page_size": "4GiB", "vms": [{"memory": "12GiB"}],
                                           "dram": simple},
                               "memory_blade": {"super_page": "4GiB", "capacity": "4GiB", "dram": simple},
                               "storage": {"device": "nvme-gen4"}})
    addr = np.array([64, (4 << 30) + 64, (8 << 30) + 64], np.uint64)
    trace = {"time": np.zeros(3, np.int64), "addr": addr, "op": np.zeros(3, np.uint8),
             "vm": np.zeros(3, np.uint16), "timing": "none"}
    (d1, s1), (d2, s2) = both(system, trace)
    assert np.array_equal(d1, d2)
    assert state_digest(s1) == state_digest(s2)
    assert counters(s1)["storage_writes"] == 1


@pytest.mark.parametrize("backend", ["compiled", "reference"])
@pytest.mark.parametrize("policy,timed", [("page_swap", True), ("subpage_swap", False), ("fgra", True),
                                          ("static", False)])
@pytest.mark.parametrize("snic", [None, 2, 3])
def test_run_n_save_restore_run_m_equals_run_n_plus_m(tmp_path, backend, policy, timed, snic):
    if snic is None:
        system = small_system(policy, "random", "first_touch")
    else:   # with link QoS, three VMs and (where there is a page table) background checkpoint copies
        system = small_system(policy, "random", "first_touch", vms=3, snic=SNICS[snic],
                              service="none" if policy == "static" else "cow")
    trace = random_trace(np.random.default_rng(11), 3000, vms=1 if snic is None else 3, timed=timed)
    c = system.compile(trace["timing"])
    cols = [trace[k] for k in ("time", "addr", "op", "vm")]

    whole = Engine(c, backend)
    done_whole = whole.run_chunk(*cols, want_completions=True)

    first = Engine(c, backend)
    d1 = first.run_chunk(*[x[:1234] for x in cols], want_completions=True)
    path = tmp_path / "state.npz"
    save_state(path, first.state, c, {"records_done": 1234})
    state, extra = load_state(path, c)
    assert extra == {"records_done": 1234}
    second = Engine(c, backend, state)
    d2 = second.run_chunk(*[x[1234:] for x in cols], want_completions=True)
    assert np.array_equal(np.concatenate([d1, d2]), done_whole)
    assert state_digest(second.state) == state_digest(whole.state)


def test_saved_state_refuses_another_system(tmp_path):
    a = small_system("page_swap", "lru", "low")
    b = small_system("page_swap", "fifo", "low")
    path = tmp_path / "s.npz"
    save_state(path, Engine(a.compile()).state, a.compile())
    with pytest.raises(ValueError, match="different system"):
        load_state(path, b.compile())


def test_state_file_is_not_unpickled(tmp_path):
    path = tmp_path / "evil.npz"
    np.savez(path, __header__=np.array([object()], dtype=object))
    with pytest.raises(ValueError, match="not a hwmodel state file"):
        load_state(path, small_system("static", "lru", "low").compile())


def test_chunking_does_not_change_results(backend):
    system = small_system("page_swap", "clock", "first_touch")
    trace = random_trace(np.random.default_rng(5), 2000)
    one = system.run(trace, backend=backend, completions=True, chunk_records=10**6)
    many = system.run(trace, backend=backend, completions=True, chunk_records=97)
    assert one.counters == many.counters
    assert np.array_equal(one.completions, many.completions)


def detailed_system(policy, row_policy="open", refresh="rank_level_staggered", queues="per_bank"):
    """A small system whose local and blade DRAMs are the detailed controller (DRAM.model)."""
    dram = {"preset": "DDR4-2400", "model": "detailed", "row_policy": row_policy, "refresh_policy": refresh,
            "queue_structure": queues}
    return System.from_dict({
        "compute": {"local_memory": "256KiB", "vms": [{"name": "vm0", "memory": "1MiB"}], "dram": dram},
        "hypervisor": {"policy": policy, "victim": "random", "placement": "first_touch", "super_page": "64KiB",
                       "seed": 7},
        "memory_blade": {"capacity": "16MiB", "super_page": "1MiB", "dram": {**dram, "channels": 2}},
        "core": {"window": 4},
    })


# The detailed controller in the whole system: both backends equal, and a run saved and resumed
# equals the run in one piece (its arrays: held requests, queues, slots). Every request is
# answered by simulating ahead through the requests held past the core's horizon; page swaps hold
# hundreds, which the reference backend takes minutes over: that case runs compiled only.
@pytest.mark.parametrize("policy,row_policy,refresh,queues,backends", [
    ("fgra", "open", "rank_level_staggered", "per_bank", ("compiled", "reference")),
    ("static", "timeout", "rank_level_simultaneous", "per_rank", ("compiled", "reference")),
    ("page_swap", "closed", "bank_level_staggered", "per_rank", ("compiled",))])
def test_detailed_dram_in_the_system_backends_agree_and_resume(tmp_path, policy, row_policy, refresh, queues,
                                                                backends):
    system = detailed_system(policy, row_policy, refresh, queues)
    trace = random_trace(np.random.default_rng(5), 600)
    c = system.compile(trace["timing"])
    cols = [trace[k] for k in ("time", "addr", "op", "vm")]
    runs = {}
    for backend in backends:
        whole = Engine(c, backend)
        done = whole.run_chunk(*cols, want_completions=True)
        whole.finish()
        runs[backend] = (done, state_digest(whole.state), counters(whole.state))
        first = Engine(c, backend)
        k = len(cols[0]) // 3
        d1 = first.run_chunk(*[x[:k] for x in cols], want_completions=True)
        path = tmp_path / f"{backend}.npz"
        save_state(path, first.state, c)
        state, _ = load_state(path, c)
        second = Engine(c, backend, state)
        d2 = second.run_chunk(*[x[k:] for x in cols], want_completions=True)
        second.finish()
        assert np.array_equal(np.concatenate([d1, d2]), done), backend
        assert state_digest(second.state) == runs[backend][1], backend
    if "reference" in runs:
        assert np.array_equal(runs["compiled"][0], runs["reference"][0])
        assert runs["compiled"][1:] == runs["reference"][1:]
    cnt = runs["compiled"][2]
    assert cnt["local_read_cmds"] > 0 and (policy == "static" or cnt["blade_read_cmds"] + cnt["blade_write_cmds"] > 0)


# The compiled core keeps an answer's run-ahead when the next request to that channel cannot change
# it (core/dram_ctrl.pxi, ctl_segment); the twin always rolls back. Keeping must not change a
# thing: checked against the compiled core rolling back, on page swaps (two DRAMs alternate, two
# blade channels) the twin is too slow for, in chunks, with epochs (each epoch row settles the runs).
@pytest.mark.parametrize("policy", ["page_swap", "subpage_swap", "fgra"])
def test_kept_run_aheads_change_nothing(policy):
    from hwmodel import _core
    system = detailed_system(policy)
    trace = random_trace(np.random.default_rng(11), 3000, timed=False)     # closed loop: not overloaded
    c = system.compile(trace["timing"], epoch_ps=2_000_000)
    cols = [trace[k] for k in ("time", "addr", "op", "vm")]
    runs = []
    try:
        for keep in (True, False):
            _core._keep_runs(keep)
            e = Engine(c, "compiled")
            done = np.concatenate([e.run_chunk(*[x[a:a + 700] for x in cols], want_completions=True)
                                   for a in range(0, len(cols[0]), 700)])
            e.finish()
            runs.append((done, state_digest(e.state), counters(e.state), np.concatenate(e.epoch_rows)))
    finally:
        _core._keep_runs(True)
    assert np.array_equal(runs[0][0], runs[1][0]) and np.array_equal(runs[0][3], runs[1][3])
    assert runs[0][1:3] == runs[1][1:3]
    assert runs[0][2]["blade_read_cmds"] > 0 and len(runs[0][3]) > 10
