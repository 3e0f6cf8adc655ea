"""Several compute blades sharing one memory blade (S3, S4): the switch port and the protocol agent
as shared resources, the address-mapping module's super pages (at boot, on demand), permission
faults. Times are hand-derived on the tiny system (tests/tiny.py); every test runs on both backends."""
import dataclasses

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from hwmodel import System
from hwmodel import _layout as L
from hwmodel.core.engine import Engine, PermissionFault, load_state, save_state, state_digest
from tiny import AGENT, BURST, BYTE, CL, HDR, PROP, RCD, RP, TINY_DRAM, run

REMOTE_READ = (HDR * BYTE + PROP) + AGENT + (RCD + CL + BURST) + ((64 + HDR) * BYTE + PROP)
POSTED_WRITE = ((64 + HDR) * BYTE + PROP) + AGENT + (HDR * BYTE + PROP)   # data out, agent, completion back
SW_LAT = 40_000                  # switch traversal, ps
PORT_BYTE = 500                  # port at 2 GB/s: ps per wire byte
MIB = 1 << 20


def blades(n=2, policy="static", local="16KiB", vm="64KiB", switch=True, **mb):
    """n tiny compute blades (one VM each, vm0..), a tiny memory blade with 1 MiB super pages."""
    return System.from_dict({
        "compute": [{"name": f"cb{k}", "local_memory": local, "page_size": "4KiB", "dram": TINY_DRAM,
                     "vms": [{"name": f"vm{k}", "memory": vm}]} for k in range(n)],
        "hypervisor": {"policy": policy, "trap": "1us", "map_update": "100ns", "super_page": "16KiB"},
        "memory_blade": {"capacity": "8MiB", "super_page": "1MiB", "agent_latency": "50ns", "dram": TINY_DRAM,
                         **mb},
        "link": {"bandwidth": "1GB/s", "latency": "100ns", "header_bytes": HDR, "max_payload": "4KiB"},
        **({"switch": {"latency": "40ns", "port_bandwidth": "2GB/s"}} if switch else {}),
    })


def go(system, times, addrs, vms, ops=None, backend="compiled", **kw):
    ops = ops if ops is not None else [0] * len(addrs)
    return system.run({"time": times, "addr": addrs, "op": ops, "vm": vms, "timing": "timestamp"},
                      backend=backend, completions=True, **kw)


def test_switch_adds_its_latency_and_the_port_serialization(backend):
    r = go(blades(1), [0], [16384], [0], backend=backend)
    port = HDR * PORT_BYTE + (64 + HDR) * PORT_BYTE
    assert r.completions.tolist() == [REMOTE_READ + 2 * SW_LAT + port]
    c = r.counters
    assert (c["port_bytes_out"], c["port_bytes_in"], c["port_queue_ps"]) == (HDR, 64 + HDR, 0)


def test_no_switch_for_one_blade_by_default():
    r = go(blades(1, switch=False), [0], [16384], [0])
    assert r.completions.tolist() == [REMOTE_READ]
    assert r.counters["port_bytes_out"] == 0


def test_two_blades_contend_at_the_switch_port(backend):
    # two posted writes leave their own links at the same time; the port takes them one after the
    # other: the second waits one 72-byte serialization (36 ns); their completions do not collide
    r = go(blades(2), [0, 0], [16384, 16384 + 8192], [0, 1], [1, 1], backend=backend)
    alone = POSTED_WRITE + 2 * SW_LAT + (64 + HDR) * PORT_BYTE + HDR * PORT_BYTE
    wait = (64 + HDR) * PORT_BYTE
    assert r.completions.tolist() == [alone, alone + wait]
    assert r.counters["port_queue_ps"] == wait
    per = {b["blade"]: b for b in r.per_blade()}
    assert per["cb0"]["accesses"] == per["cb1"]["accesses"] == 1
    assert per["cb1"]["write_latency_ns"]["mean"] - per["cb0"]["write_latency_ns"]["mean"] == wait / 1000


def test_each_blade_has_its_own_link():
    # without a switch port in the way (a very fast one), the two blades' links never queue each other
    s = blades(2)
    s = dataclasses.replace(s, switch=dataclasses.replace(s.switch, port_bandwidth="1000TB/s", latency="0ns"))
    r = go(s, [0, 0], [16384, 16384 + 8192], [0, 1], [1, 1])
    assert r.completions[1] - r.completions[0] == 1          # 72 bytes at 1000 TB/s: 1 ps, rounded up
    assert r.per_vm()[0]["link_queue_ns"] == r.per_vm()[1]["link_queue_ns"] == 0


def test_agent_occupancy_serializes_requests(backend):
    # three blades' writes reach the agent 36 ns apart (port); it takes one per 100 ns
    occ, gap = 100_000, (64 + HDR) * PORT_BYTE
    r = go(blades(3, agent_occupancy="100ns"), [0, 0, 0], [16384, 16384 + 8192, 16384], [0, 1, 2], [1, 1, 1],
           backend=backend)
    assert r.counters["agent_wait_ps"] == (occ - gap) + (2 * occ - 2 * gap)
    done = r.completions.tolist()
    assert done[1] - done[0] == occ and done[2] - done[0] == 2 * occ


def test_a_blade_alone_in_a_shared_system_runs_as_on_its_own(backend):
    # blade 1 idle: blade 0's trace gives the same times as a one-blade system with the same switch
    rng = np.random.default_rng(5)
    n = 300
    times = np.cumsum(rng.integers(0, 5000, n)).tolist()
    addrs = (rng.integers(0, 64 * 1024 // 64, n) * 64).tolist()
    ops = (rng.random(n) < 0.3).astype(int).tolist()
    for policy in ("static", "fgra", "page_swap", "subpage_swap"):
        two = go(blades(2, policy), times, addrs, [0] * n, ops, backend=backend)
        one = go(blades(1, policy), times, addrs, [0] * n, ops, backend=backend)
        assert two.completions.tolist() == one.completions.tolist(), policy


def test_boot_allocation_gives_each_blade_consecutive_super_pages():
    s = blades(3, "page_swap", vm="3MiB", capacity="16MiB")   # 3 MiB - 16 KiB remote: 3 super pages each
    e = Engine(s.compile())
    assert e.state["sp_map"].tolist() == list(range(9))
    assert e.state["sp_owner"].tolist() == [1, 1, 1, 2, 2, 2, 3, 3, 3] + [0] * 7


def test_on_demand_allocation_costs_one_round_trip_per_super_page(backend):
    s = blades(1, switch=False, vm="4MiB", allocation="on_demand")
    # remote blade addresses 0 and 64 (one super page), then 1 MiB + 8 KiB (the next one)
    base = 16384
    r = go(s, [0, 10**6, 2 * 10**6], [base, base + 64, base + MIB + 8192], [0, 0, 0], backend=backend)
    grant = 2 * (HDR * BYTE + PROP) + AGENT
    lat = (r.completions - np.array([0, 10**6, 2 * 10**6])).tolist()
    assert lat[0] == grant + REMOTE_READ
    assert lat[1] == REMOTE_READ - RCD        # same row, now open: a row hit
    assert lat[2] == grant + REMOTE_READ
    assert r.counters["sp_grants"] == 2


def test_on_demand_super_pages_interleave_between_blades(backend):
    s = blades(2, vm="4MiB", allocation="on_demand")
    base = 16384
    assert (Engine(s.compile()).state["sp_map"] == -1).all()    # nothing handed out before the run
    st_ = _state_after(s, [0, 10**6, 2 * 10**6, 3 * 10**6], [base, base, base + MIB, base + 2 * MIB], [0, 1, 0, 1],
                       backend)
    # blade 0 touched its super pages 0 and 1, blade 1 its 0 and 2: physical 0..3 in touch order
    assert st_["counters"][list(L.COUNTER_NAMES).index("sp_grants")] == 4
    assert st_["sp_owner"][:5].tolist() == [1, 2, 1, 2, 0]
    rows = s.compile().blade_rows()
    m0 = st_["sp_map"][rows[0]["VSP_OFF"]:rows[0]["VSP_OFF"] + 2].tolist()
    m1 = st_["sp_map"][rows[1]["VSP_OFF"]:rows[1]["VSP_OFF"] + 3].tolist()
    assert (m0, m1) == ([0, 2], [1, -1, 3])


def _state_after(system, times, addrs, vms, backend, ops=None):
    e = Engine(system.compile("timestamp"), backend)
    n = len(addrs)
    e.run_chunk(np.array(times, np.int64), np.array(addrs, np.uint64),
                np.array(ops or [0] * n, np.uint8), np.array(vms, np.uint16))
    return e.state


def test_out_of_super_pages_is_an_error_naming_the_record():
    s = blades(2, vm="4MiB", allocation="on_demand", capacity="2MiB")
    with pytest.raises(ValueError, match=r"record 2: the memory blade has no free super page for cb0"):
        go(s, [0, 10**6, 2 * 10**6], [16384, 16384, 16384 + MIB], [0, 1, 0])


def test_a_revoked_super_page_is_refused_and_counted(backend):
    s = blades(1, switch=False, permissions=[{"at": "1us", "blade": "cb0", "super_page": 0, "access": "revoke"},
                                             {"at": "3us", "blade": "cb0", "super_page": 0, "access": "grant"}])
    t = [0, 2_000_000, 4_000_000]
    r = go(s, t, [16384, 16384 + 64, 16384 + 128], [0, 0, 0], backend=backend)
    c = r.counters
    assert (c["permission_faults"], c["permission_changes"]) == (1, 2)
    lat = (r.completions - np.array(t)).tolist()
    assert lat[0] == REMOTE_READ
    # refused by the agent: no DRAM access, the line's response message still comes back
    assert lat[1] == REMOTE_READ - (RCD + CL + BURST)
    assert lat[2] == REMOTE_READ - RCD            # served again: the row is still open
    assert c["blade_row_hits"] + c["blade_row_misses"] + c["blade_row_conflicts"] == 2


def test_strict_mode_raises_at_the_first_permission_fault(backend):
    s = blades(1, switch=False, strict=True,
               permissions=[{"at": "1us", "blade": "cb0", "super_page": 0, "access": "revoke"}])
    with pytest.raises(PermissionFault, match=r"record 1: permission fault: cb0 touched its super page 0"):
        go(s, [0, 2_000_000, 3_000_000], [16384, 16384, 16384], [0, 0, 0], backend=backend)


def test_another_blades_super_page_is_never_served(backend):
    # revoke blade 1's page and grant it... to nobody: blade 0 keeps working, blade 1 faults
    s = blades(2, permissions=[{"at": "0ns", "blade": "cb1", "super_page": 0, "access": "revoke"}])
    r = go(s, [10**6, 2 * 10**6], [16384, 16384], [0, 1], backend=backend)
    assert r.counters["permission_faults"] == 1
    assert r.counters["blade_row_hits"] + r.counters["blade_row_misses"] + r.counters["blade_row_conflicts"] == 1


def test_unnamed_vms_are_named_by_trace_vm_id():
    # a list of VMs without names is the usual way to write several guests: each is vm<trace id>,
    # numbered over every compute blade, and per-VM results and snic.vms use those names
    s = System.from_dict({"compute": [{"vms": [{"memory": "1GiB"}, {"memory": "1GiB", "name": "db"}]},
                                      {"vms": [{"memory": "1GiB"}]}],
                          "snic": {"vms": {"vm2": {"priority": 1}}}})
    assert [vm.name for vm in s.vms] == ["vm0", "db", "vm2"]
    assert System.from_dict(s.to_dict()).vms == s.vms
    with pytest.raises(ValueError, match=r"got \['vm1', 'vm1'\] \(an unnamed VM is named vm<its trace VM id>\)"):
        System.from_dict({"compute": {"vms": [{"name": "vm1"}, {}]}})


@pytest.mark.parametrize("data,match", [
    ({"compute": [{"vms": [{"name": "a"}]}, {"vms": [{"name": "a"}]}]}, "VM names must be unique over all"),
    ({"compute": [{"name": "x", "vms": [{"name": "a"}]}, {"name": "x", "vms": [{"name": "b"}]}]},
     "compute-blade names must be unique"),
    ({"compute": [{"vms": [{"name": "a"}]}, {"page_size": "8KiB", "vms": [{"name": "b"}]}]},
     r"compute\[1\].page_size: 8KiB differs"),
    ({"compute": [{"vms": [{"name": "a"}]}, {"vms": [{"name": "b", "memory": "5000B"}]}]},
     r"compute\[1\].vms\[0\].memory"),
    ({"compute": [{"vms": [{"name": "a"}]}, {"vms": [{"name": "b"}]}],
      "service": {"regime": "incremental", "fail_at": "1ms", "fail_blade": "zz"}},
     "service.fail_blade: 'zz' is not a compute blade"),
    ({"compute": []}, "compute: an empty list"),
    ({"memory_blade": {"permissions": [{"blade": "cb7"}]}}, r"permissions\[0\].blade: 'cb7' is not a compute blade"),
    ({"memory_blade": {"permissions": [{"super_page": 999}]}, "compute": {"vms": [{"memory": "4GiB"}]}},
     r"permissions\[0\].super_page: 999 but cb0 has"),
    ({"memory_blade": {"permissions": [{"access": "maybe"}]}}, "is not one of revoke, grant, release"),
    ({"memory_blade": {"allocation": "lazy"}}, "memory_blade.allocation: 'lazy' is not one of boot, on_demand"),
    ({"memory_blade": {"super_page": "2KiB"}}, "smaller than the swap unit"),
    ({"switch": {"port_bandwidth": "fast"}}, "switch.port_bandwidth"),
    ({"compute": [{"local_memory": "0B", "vms": [{"name": "a", "memory": "40GiB"}]},
                  {"local_memory": "0B", "vms": [{"name": "b", "memory": "40GiB"}]}]},
     "memory_blade.capacity: 64GiB cannot hold the remote part"),
])
def test_bad_many_blade_configs(data, match):
    with pytest.raises(ValueError, match=match):
        System.from_dict(data).compile()


def test_boot_needs_room_for_every_blade_but_on_demand_shares_it():
    # 40 + 40 GiB of remote memory do not fit 64 GiB when reserved at boot; on demand they are
    # handed out as touched
    # (each keeps one local page: page_swap needs a frame to swap into)
    data = {"compute": [{"local_memory": "4KiB", "vms": [{"name": "a", "memory": "30GiB"}]},
                        {"local_memory": "4KiB", "vms": [{"name": "b", "memory": "30GiB"}]}],
            "memory_blade": {"capacity": "64GiB", "super_page": "16MiB"}, "storage": {"device": "nvme-gen4"},
            "hypervisor": {"policy": "page_swap"}}
    System.from_dict(data).compile()   # 30 + 30 fits
    data["compute"][1]["vms"][0]["memory"] = "40GiB"
    with pytest.raises(ValueError, match="cannot hold|need .* at boot"):
        System.from_dict({**data, "storage": {}}).compile()
    System.from_dict({**data, "storage": {}, "memory_blade": {"capacity": "64GiB", "allocation": "on_demand"}})


def test_yaml_round_trip_of_many_blades(tmp_path):
    s = blades(3, "page_swap", allocation="on_demand",
               permissions=[{"at": "1us", "blade": "cb2", "super_page": 0, "access": "revoke"}])
    path = tmp_path / "sys.yaml"
    s.to_yaml(path)
    again = System.from_yaml(path)
    assert again == s
    assert again.blade_names == ["cb0", "cb1", "cb2"]


# -- the compiled core and its twin agree on random many-blade systems --------------------------
def random_blades(n_cb, policy, local_kib, switch, occ, on_demand, storage, cache, snic, perms, strict=False,
                  service=None):
    names = [f"vm{k}{j}" for k in range(n_cb) for j in range(2)]
    data = {
        "compute": [{"name": f"cb{k}", "local_memory": f"{local_kib[k]}KiB",
                     "dram": {"preset": "DDR4-2400" if k % 2 == 0 else "DDR3-1600"},
                     "vms": [{"name": f"vm{k}{j}", "memory": "512KiB"} for j in range(2)]} for k in range(n_cb)],
        "hypervisor": {"policy": policy, "super_page": "64KiB", "seed": 3},
        "memory_blade": {"capacity": "1MiB" if storage else "8MiB", "super_page": "256KiB",
                         "agent_occupancy": f"{occ}ns", "allocation": "on_demand" if on_demand else "boot",
                         "strict": strict, "permissions": perms},
        "storage": {"device": "nvme-gen4", "units": 2, "queue_depth": 4} if storage else {},
        "cache": {"size": "4KiB", "ways": 2} if cache else {},
        "snic": ({"discipline": snic, "vms": {names[0]: {"priority": 1, "weight": 3}}} if snic else {}),
        "service": service or {},
    }
    if switch:
        data["switch"] = {"latency": "60ns", "port_bandwidth": "10GB/s"}
    return System.from_dict(data), len(names)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(n_cb=st.integers(1, 3), policy=st.sampled_from(["static", "fgra", "page_swap", "subpage_swap"]),
       local_kib=st.lists(st.sampled_from([64, 128, 256]), min_size=3, max_size=3), switch=st.booleans(),
       occ=st.sampled_from([0, 7, 40]), on_demand=st.booleans(), storage=st.booleans(), cache=st.booleans(),
       snic=st.sampled_from([None, "strict_priority", "wfq"]), n_perm=st.integers(0, 3),
       seed=st.integers(0, 2**32 - 1), n=st.integers(1, 300), gap=st.sampled_from([3000, 3_000_000]),
       regime=st.sampled_from(["none", "none", "stop_and_copy", "incremental", "cow"]),
       target=st.sampled_from(["memory_blade", "peer"]), fail=st.booleans())
def test_backends_identical_with_many_blades(n_cb, policy, local_kib, switch, occ, on_demand, storage, cache, snic,
                                             n_perm, seed, n, gap, regime, target, fail):
    # gap: mean 1.5 ns between accesses (every resource saturated) or 1.5 us (permission changes fire)
    rng = np.random.default_rng(seed)
    if policy in ("static", "fgra"):
        storage = False
    perms = [{"at": f"{int(rng.integers(0, 300))}us", "blade": f"cb{int(rng.integers(0, n_cb))}", "super_page": 0,
              "access": ["revoke", "grant", "release"][int(rng.integers(0, 3))]} for _ in range(n_perm)]
    service = None
    if policy != "static" and (regime != "none" or fail):   # checkpoints follow the page table
        service = {"regime": regime, "interval": "50us", "setup": "1us", "target": "storage" if storage else target,
                   "fail_at": "120us" if fail else "", "fail_blade": f"cb{int(rng.integers(0, n_cb))}"}
    system, n_vm = random_blades(n_cb, policy, local_kib, switch, occ, on_demand, storage, cache, snic, perms,
                                 service=service)
    addr = (rng.integers(0, 512 * 1024 // 64, n) * 64).astype(np.uint64)
    t = np.cumsum(rng.integers(0, gap, n)).astype(np.int64)
    op = (rng.random(n) < 0.3).astype(np.uint8)
    vm = rng.integers(0, n_vm, n).astype(np.uint16)
    out = []
    for backend in ("compiled", "reference"):
        e = Engine(system.compile("timestamp"), backend)
        done = e.run_chunk(t, addr, op, vm, want_completions=True)
        e.finish()          # the held-back write-backs too
        out.append((done, e.state))
    (d1, s1), (d2, s2) = out
    assert np.array_equal(d1, d2)
    for k in s1:
        assert np.array_equal(s1[k], s2[k]), k


@pytest.mark.parametrize("backend", ["compiled", "reference"])
def test_many_blades_run_n_save_restore_run_m(tmp_path, backend):
    system, n_vm = random_blades(3, "page_swap", [64, 128, 64], True, 7, True, False, True, "wfq",
                                 [{"at": "1us", "blade": "cb1", "super_page": 0, "access": "revoke"}])
    rng = np.random.default_rng(2)
    n = 2000
    cols = [np.cumsum(rng.integers(0, 2000, n)).astype(np.int64), (rng.integers(0, 8192, n) * 64).astype(np.uint64),
            (rng.random(n) < 0.3).astype(np.uint8), rng.integers(0, n_vm, n).astype(np.uint16)]
    c = system.compile("timestamp")
    whole = Engine(c, backend)
    done = whole.run_chunk(*cols, want_completions=True)
    first = Engine(c, backend)
    d1 = first.run_chunk(*[x[:777] for x in cols], want_completions=True)
    save_state(tmp_path / "s.npz", first.state, c)
    second = Engine(c, backend, load_state(tmp_path / "s.npz", c)[0])
    d2 = second.run_chunk(*[x[777:] for x in cols], want_completions=True)
    assert np.array_equal(np.concatenate([d1, d2]), done)
    assert state_digest(second.state) == state_digest(whole.state)
    cnt = dict(zip(L.COUNTER_NAMES, whole.state["counters"].tolist()))
    assert cnt["sp_grants"] > 0 and cnt["permission_faults"] > 0 and cnt["port_queue_ps"] > 0


def test_a_message_ready_sooner_is_not_held_behind_one_reserved_for_later(backend):
    # blade 0's line write (72 B on its link) is in the trace first but reaches the switch at
    # 172 ns + 40 ns; blade 1's read request (8 B) issued 1 ns later is there at 109 ns + 40 ns.
    # The port and the agent (busy 50 ns per request) are calendars: the read takes the idle time
    # before the write's reservations (port at 212 ns, agent at 248 ns) and runs unloaded; FIFO
    # next-free times would have queued it behind the write
    s = blades(2, agent_occupancy="50ns")
    r = go(s, [0, 1000], [16384, 16384 + 8192], [0, 1], [1, 0], backend=backend)
    read_alone = REMOTE_READ + 2 * SW_LAT + HDR * PORT_BYTE + (64 + HDR) * PORT_BYTE
    assert r.completions[1] - 1000 == read_alone
    assert r.counters["port_queue_ps"] == r.counters["agent_wait_ps"] == 0
    # with 100 ns per request the read no longer fits before the write: it waits for the agent
    r = go(blades(2, agent_occupancy="100ns"), [0, 1000], [16384, 16384 + 8192], [0, 1], [1, 0], backend=backend)
    write_at_agent = (64 + HDR) * BYTE + PROP + SW_LAT + (64 + HDR) * PORT_BYTE
    read_at_agent = 1000 + HDR * BYTE + PROP + SW_LAT + HDR * PORT_BYTE
    wait = write_at_agent + 100_000 - read_at_agent
    assert r.counters["agent_wait_ps"] == wait
    assert r.completions[1] - 1000 == read_alone + wait


def test_victim_write_backs_are_held_until_their_time_and_carried_out_at_the_end(backend):
    # every fault sends a request and (local memory being full) a victim page to the blade: with
    # the run finished, the outbound wire bytes are exactly those; before the end, the last
    # victims are still held back (ready after accesses that came later in the trace)
    s = blades(1, "page_swap", vm="256KiB", switch=False)
    c = s.compile("timestamp")
    rng = np.random.default_rng(8)
    n = 400
    cols = (np.cumsum(rng.integers(0, 200_000, n)).astype(np.int64), (rng.integers(0, 4096, n) * 64).astype(np.uint64),
            np.zeros(n, np.uint8), np.zeros(n, np.uint16))
    e = Engine(c, backend)
    e.run_chunk(*cols)
    cnt = dict(zip(L.COUNTER_NAMES, e.state["counters"].tolist()))
    req, unit = c.param("WIRE_REQ_B"), c.param("WIRE_UNIT_B")
    held = int(e.state["scalars"][L.S["defer_n"]])
    assert held > 0
    assert cnt["link_bytes_out"] == cnt["faults"] * req + (cnt["swap_outs"] - held) * unit
    e.finish()
    cnt = dict(zip(L.COUNTER_NAMES, e.state["counters"].tolist()))
    assert e.state["scalars"][L.S["defer_n"]] == 0
    assert cnt["link_bytes_out"] == cnt["faults"] * req + cnt["swap_outs"] * unit
    r = s.run({"time": cols[0], "addr": cols[1], "op": cols[2], "vm": cols[3], "timing": "timestamp"}, backend=backend)
    assert r.counters["link_bytes_out"] == cnt["link_bytes_out"]


def test_a_released_super_page_is_free_again_and_reallocated_on_the_next_request(backend):
    # blade 0 releases its super page 0 at 1 us; blade 1's first request after that gets it; blade
    # 0's next request there asks for a new one (an allocate round trip) and gets the next free
    s = blades(2, vm="4MiB", allocation="on_demand",
               permissions=[{"at": "1us", "blade": "cb0", "super_page": 0, "access": "release"}])
    t = [0, 2_000_000, 3_000_000]
    st_ = _state_after(s, t, [16384, 16384, 16384 + 64], [0, 1, 0], backend)
    cnt = dict(zip(L.COUNTER_NAMES, st_["counters"].tolist()))
    assert (cnt["sp_grants"], cnt["sp_releases"], cnt["permission_faults"]) == (3, 1, 0)
    rows = s.compile().blade_rows()
    assert st_["sp_map"][rows[1]["VSP_OFF"]] == 0          # blade 1 got the released one
    assert st_["sp_map"][rows[0]["VSP_OFF"]] == 1          # blade 0 a new one
    assert st_["sp_owner"][:3].tolist() == [2, 1, 0]
    r = go(s, t, [16384, 16384, 16384 + 64], [0, 1, 0], backend=backend)
    grant = 2 * (HDR * BYTE + PROP + SW_LAT + HDR * PORT_BYTE) + AGENT
    read = REMOTE_READ + 2 * SW_LAT + HDR * PORT_BYTE + (64 + HDR) * PORT_BYTE
    # a new super page (1 MiB up, same bank, another row): a row conflict with blade 1's open row
    assert r.completions[2] - t[2] == grant + read + RP


def test_the_port_carries_at_most_its_bandwidth_and_all_of_it_under_overload(backend):
    # 4 blades stream remote line reads, each at its own link's pace: together they offer 4x what
    # a port as fast as one link carries. Its inbound bytes over the run approach the port's
    # bandwidth and never exceed it; every blade gets about a quarter (FIFO, symmetric load)
    s = blades(4, vm="4MiB", capacity="16MiB")
    s = dataclasses.replace(s, switch=dataclasses.replace(s.switch, port_bandwidth="1GB/s"))
    n = 4000 if backend == "compiled" else 1200
    per = n // 4
    gap = (64 + HDR) * BYTE                     # one line response per link serialization
    times = [i // 4 * gap for i in range(n)]
    addrs = [16384 + (i // 4) * 64 for i in range(n)]
    r = go(s, times, addrs, [i % 4 for i in range(n)], backend=backend)
    c = r.counters
    busy_ps = c["last_completion_ps"] - c["first_arrival_ps"]
    port_bytes_per_ps = 1 / 1000                  # 1 GB/s
    assert c["port_bytes_in"] == n * (64 + HDR)
    assert c["port_bytes_in"] <= busy_ps * port_bytes_per_ps
    assert c["port_bytes_in"] >= 0.95 * busy_ps * port_bytes_per_ps
    done = {b["blade"]: b["accesses"] for b in r.per_blade()}
    assert set(done.values()) == {per}
    means = [b["read_latency_ns"]["mean"] for b in r.per_blade()]
    assert max(means) < 1.1 * min(means)


def test_cli_stops_on_a_strict_permission_fault_naming_file_and_line(tmp_path, capsys):
    from hwmodel.cli import main
    from hwmodel.trace import write_trace
    from hwmodel.trace._types import Chunk
    cfg = tmp_path / "strict.yaml"
    blades(1, switch=False, strict=True,
           permissions=[{"at": "1us", "blade": "cb0", "super_page": 0, "access": "revoke"}]).to_yaml(cfg)
    n = 3
    trace = tmp_path / "t.trace"
    write_trace(trace, Chunk(np.array([0, 2000, 3000], np.int64), np.array([16384] * n, np.uint64),
                             np.zeros(n, np.uint8), np.full(n, 64, np.uint32), np.zeros(n, np.uint16)),
                format="text", timing="timestamp", time_unit="ns")
    assert main(["run", str(cfg), str(trace)]) == 1
    err = capsys.readouterr().err
    assert f"{trace}:" in err and "permission fault: cb0 touched its super page 0" in err


def test_snic_priorities_hold_at_the_shared_switch_port(backend):
    # a batch VM on blade 1 keeps the port (as fast as one link) saturated with line reads; a
    # critical VM on blade 0 reads once per 2 us. Under strict priority the port serves the
    # critical VM first (waiting at most for one batch message per direction); under fifo its
    # responses queue behind the batch backlog
    def system(discipline):
        s = System.from_dict({
            "compute": [{"name": "cb0", "local_memory": "16KiB", "page_size": "4KiB", "dram": TINY_DRAM,
                         "vms": [{"name": "critical", "memory": "1MiB", "qos": 0}]},
                        {"name": "cb1", "local_memory": "16KiB", "page_size": "4KiB", "dram": TINY_DRAM,
                         "vms": [{"name": "batch", "memory": "1MiB", "qos": 1}]}],
            "hypervisor": {"policy": "static"},
            "memory_blade": {"capacity": "8MiB", "super_page": "1MiB", "agent_latency": "50ns",
                             "dram": {**dataclasses.asdict(TINY_DRAM), "banks_per_group": 2, "bankgroups": 1}},
            "link": {"bandwidth": "1GB/s", "latency": "100ns", "header_bytes": HDR, "max_payload": "4KiB"},
            "switch": {"latency": "40ns", "port_bandwidth": "1GB/s"},
            "snic": {"discipline": discipline}})
        return s
    n_batch = 1500 if backend == "compiled" else 600
    line = (64 + HDR) * BYTE
    batch = [(i * line, 16384 + (i % 256) * 64, 1) for i in range(n_batch)]
    crit = [(500_000 + i * 2_000_000, 16384 + 8192, 0) for i in range(n_batch * line // 2_000_000)]
    recs = sorted(batch + crit)
    times, addrs, vms = zip(*recs)
    lat = {}
    for disc in ("fifo", "strict_priority"):
        r = go(system(disc), list(times), list(addrs), list(vms), backend=backend)
        done = np.array(r.completions) - np.array(times)
        lat[disc] = done[np.array(vms) == 0]
    alone = go(system("fifo"), [0], [16384 + 8192], [0], backend=backend).completions[0]
    one_each_way = HDR * BYTE + line                     # one batch message per direction at the port
    assert lat["strict_priority"].max() <= alone + one_each_way + (RCD + CL + BURST)
    assert lat["fifo"].max() > 3 * lat["strict_priority"].max()     # fifo: the backlog grows over the run


def _ck_blades(**service):
    # blade 0 with 8 local pages, blade 1 with 2; every blade has a service processor
    return System.from_dict({
        "compute": [{"name": "big", "local_memory": "32KiB", "page_size": "4KiB", "dram": TINY_DRAM,
                     "vms": [{"name": "v0", "memory": "64KiB"}]},
                    {"name": "small", "local_memory": "8KiB", "page_size": "4KiB", "dram": TINY_DRAM,
                     "vms": [{"name": "v1", "memory": "64KiB"}]}],
        "hypervisor": {"policy": "page_swap", "placement": "first_touch"},
        "memory_blade": {"capacity": "8MiB", "super_page": "1MiB", "dram": TINY_DRAM},
        "link": {"bandwidth": "1GB/s", "latency": "100ns", "header_bytes": HDR, "max_payload": "4KiB"},
        "service": {"interval": "100us", "setup": "1us", **service}})


def test_every_blade_checkpoints_its_own_pages_into_its_own_area(backend):
    # each blade writes all its local pages once; one cow tick later every written page of both
    # blades is in its blade's checkpoint area (owned super pages: no permission fault)
    s = _ck_blades(regime="cow")
    times = [i * 1000 for i in range(10)] + [300_000_000]
    addrs = [i * 4096 for i in range(8)] + [0, 4096] + [0]
    vms = [0] * 8 + [1, 1] + [0]
    r = go(s, times, addrs, vms, ops=[1] * 10 + [0], backend=backend)
    c = r.counters
    assert c["checkpoints"] >= 2 and c["ckpt_bytes"] == 10 * 4096
    assert c["permission_faults"] == 0
    st_ = _state_after(s, times, addrs, vms, backend, ops=[1] * 10 + [0])
    rows = s.compile().blade_rows()
    assert (rows[0]["CK_BASE"], rows[1]["CK_BASE"]) == (32 << 10, 56 << 10)   # above each blade's slots
    owners = [int(st_["sp_owner"][st_["sp_map"][r["VSP_OFF"]]]) for r in rows]
    assert owners == [1, 2]


def test_a_stop_and_copy_checkpoint_stops_only_its_own_blade(backend):
    # blade 0 fills its local memory, blade 1 touches nothing before the 100 us tick: at the tick
    # blade 0 stops while its 8 pages are copied (1 GB/s DMA, ~4 us each); blade 1 stops only for
    # the setup, so its first access right after the tick is not held up by blade 0's checkpoint
    s = _ck_blades(regime="stop_and_copy", copy_bandwidth="1GB/s")
    times = [i * 1000 for i in range(8)] + [100_500_000, 100_500_000]
    addrs = [i * 4096 for i in range(8)] + [0, 0]
    vms = [0] * 8 + [0, 1]
    r = go(s, times, addrs, vms, backend=backend)
    c = r.counters
    assert c["checkpoints"] == 2 and c["ckpt_bytes"] == 8 * 4096
    lat0, lat1 = (int(r.completions[k]) - times[k] for k in (8, 9))
    assert lat1 < 1_000_000 + 100_000                  # the 1 us setup, then a local first touch
    assert lat0 > 7 * 4096 * 1000                      # behind 8 page copies at 1 GB/s
    alone = go(_ck_blades(regime="stop_and_copy", copy_bandwidth="1GB/s"), times[:9], addrs[:9], vms[:9],
               backend=backend)
    assert int(alone.completions[8]) == int(r.completions[8])     # blade 1 changes nothing for blade 0


def test_a_failure_restores_only_the_failing_blade(backend):
    s = _ck_blades(regime="incremental", fail_at="250us", fail_blade="small")
    times = [i * 1000 for i in range(10)] + [300_000_000, 300_000_000]
    addrs = [i * 4096 for i in range(8)] + [0, 4096] + [0, 0]
    vms = [0] * 8 + [1, 1] + [0, 1]
    r = go(s, times, addrs, vms, ops=[1] * 10 + [0, 0], backend=backend)
    c = r.counters
    assert c["failures"] == 1
    assert c["restored_bytes"] == 2 * 4096                # blade 1's two checkpointed pages, not blade 0's
    per = {b["blade"]: b for b in r.per_blade()}
    assert per["big"]["accesses"] == 9 and per["small"]["accesses"] == 3


def test_on_demand_overcommit_without_storage_stops_when_the_blade_is_full():
    # one blade declares 3 MiB of remote memory on a 2 MiB blade: its pages are placed as touched
    # and the third super page cannot be given, an error naming the record (never a page on a
    # storage device that does not exist)
    s = blades(1, "static", vm="3MiB", switch=False, allocation="on_demand", capacity="2MiB")
    base = 16384
    r = go(s, [0, 10**6], [base, base + MIB], [0, 0])
    assert r.counters["sp_grants"] == 2 and r.counters["first_touch_storage"] == 0
    with pytest.raises(ValueError, match=r"record 2: the memory blade has no free super page for cb0"):
        go(s, [0, 10**6, 2 * 10**6], [base, base + MIB, base + 2 * MIB], [0, 0, 0])
    # paging: every page's slot is granted when first fetched; the 513th remote page needs a third
    s = blades(1, "page_swap", vm="3MiB", switch=False, allocation="on_demand", capacity="2MiB")
    n = 520
    with pytest.raises(ValueError, match=r"record 516: the memory blade has no free super page"):
        go(s, [i * 10**5 for i in range(n)], [i * 4096 for i in range(n)], [0] * n)
