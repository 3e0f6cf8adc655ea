"""VM network QoS on the memory-blade link inside the one-pass core (S4): the SNIC schedules each
message by its VM's SLA. Every test runs on both backends (the `backend` fixture)."""
import re
from pathlib import Path

import numpy as np
import pytest

from hwmodel import System
from hwmodel import _layout as L
from hwmodel.core.engine import Engine

REPO = Path(__file__).resolve().parent.parent


def static_system(discipline="fifo", n_vms=2, **snic):
    """Static placement: guest memory above local memory is reached a line at a time over the
    link; each VM's memory lies wholly on the blade (local memory 0 bytes used by them)."""
    return System.from_dict({
        "compute": {"local_memory": "64KiB",
                    "vms": [{"name": f"vm{i}", "memory": "1MiB", "qos": i} for i in range(n_vms)]},
        "hypervisor": {"policy": "static"},
        "memory_blade": {"capacity": "16MiB", "dram": {"channels": 4, "model": "simple"}},
        "snic": {"discipline": discipline, **snic}})


def merged(*streams):
    t = np.concatenate([s[0] for s in streams])
    a = np.concatenate([s[1] for s in streams])
    v = np.concatenate([s[2] for s in streams])
    o = np.argsort(t, kind="stable")
    return {"time": t[o], "addr": a[o], "op": np.zeros(len(t), np.uint8), "vm": v[o]}


def stream(vm, n, gap_ps, seed, start=0):
    rng = np.random.default_rng(seed)
    t = start + np.arange(n, dtype=np.int64) * gap_ps
    # above the 64 KiB of local memory: every access of VM 0 is remote; VM i>0 lies above it anyway
    a = (64 << 10) + rng.integers(0, (1 << 20) - (128 << 10), n).astype(np.uint64) // 64 * 64
    if vm:
        a = rng.integers(0, 1 << 20, n).astype(np.uint64) // 64 * 64
    return t, a, np.full(n, vm, np.uint16)


def run(system, trace, backend):
    return system.run(trace, backend=backend, completions=True, timing="timestamp", time_unit="ps")


def test_layout_offsets_match_the_core():
    text = "".join(f.read_text() for f in [REPO / "hwmodel" / "_core.pyx", *(REPO / "hwmodel" / "core").glob("*.pxi")])
    defs = dict(re.findall(r"^DEF (\w+) = (\d+)$", text, re.M))
    for i, name in enumerate(L.SLA_FIELDS):
        assert int(defs["Q_" + name]) == i
    assert int(defs["QW"]) == len(L.SLA_FIELDS) and int(defs["EVW"]) == len(L.EVENT_FIELDS)
    assert int(defs["VSW"]) == len(L.VM_STAT_NAMES)
    for i, key in enumerate(("VS_ACCESSES", "VS_LATENCY", "VS_LINK_BYTES", "VS_LINK_QUEUE", "VS_LINK_MSGS")):
        assert int(defs[key]) == i


def top_and_batch(n_top=100, backend="compiled", discipline="fifo", batch=True, **snic):
    s = static_system(discipline, **snic)
    c = s.compile("timestamp")
    ser_line = c.param("SER_LINE_PS")
    top = stream(0, n_top, 2_000_000, 1, start=1000)
    streams = [top]
    if batch:   # the batch VM offers 1.5x what the inbound direction can carry
        n_b = n_top * 2_000_000 * 3 // (2 * ser_line)
        streams.append(stream(1, n_b, 2 * ser_line // 3, 2))
    tr = merged(*streams)
    r = run(s, tr, backend)
    lat = (r.completions - tr["time"])[tr["vm"] == 0]
    return lat, r, c


def test_strict_priority_gives_the_top_vm_its_unloaded_latency(backend):
    n = 60 if backend == "reference" else 200
    alone, _, c = top_and_batch(n, backend, "strict_priority", batch=False)
    fifo, _, _ = top_and_batch(n, backend, "fifo")
    sp, r, _ = top_and_batch(n, backend, "strict_priority")
    max_ser = max(c.param("SER_LINE_PS"), c.param("SER_REQ_PS"))
    # each remote line is two messages; each may wait for one lower-priority message on the wire
    assert np.all(sp <= alone + 2 * max_ser + 100_000), (sp - alone).max()   # + blade DRAM contention
    assert sp.mean() <= alone.mean() + 2 * max_ser + 20_000
    assert fifo.mean() > 20 * alone.mean()      # FIFO: the top VM queues behind the batch VM
    assert r.counters["remote_accesses"] == r.counters["accesses"]


def test_weighted_shares_follow_the_weights(backend):
    n = 3000 if backend == "reference" else 20000
    for disc in ("wfq", "drr"):
        s = static_system(disc, vms={"vm0": {"weight": 1}, "vm1": {"weight": 3}})
        ser = s.compile("timestamp").param("SER_LINE_PS")
        # both VMs offer the whole inbound link: both are backlogged
        tr = merged(stream(0, n, ser, 1), stream(1, n, ser, 2))
        r = run(s, tr, backend)
        horizon = np.sort(r.completions)[len(r.completions) // 2]   # both still backlogged
        got = [int(np.sum((r.completions <= horizon) & (tr["vm"] == v))) for v in (0, 1)]
        assert got[1] / got[0] == pytest.approx(3.0, rel=0.1), got


def test_token_bucket_never_exceeds_rate_times_t_plus_burst(backend):
    n = 2000 if backend == "reference" else 20000
    s = static_system("fifo", vms={"vm1": {"cap": "1GB/s", "burst": "2KiB"}})
    c = s.compile("timestamp")
    ser, wire, prop = c.param("SER_LINE_PS"), c.param("WIRE_LINE_B"), c.param("PROP_PS")
    tr = merged(stream(0, n // 4, 4 * ser, 1), stream(1, n, ser // 2, 2))   # vm1 offers ~2x the link
    r = run(s, tr, backend)
    start_in = np.sort((r.completions - ser - prop)[tr["vm"] == 1])        # its inbound line starts
    sent = np.arange(1, len(start_in) + 1) * wire
    rate = 1e9 / 1e12                    # bytes per ps
    for k in range(0, len(start_in), max(1, len(start_in) // 200)):   # every window [start_k, start_j]
        span = start_in[k:] - start_in[k]
        assert np.all(sent[k:] - sent[k] + wire <= rate * span + 2048 + 1e-6)
    # the cap binds: over the run vm1 gets about the cap, far below what it offered
    span = start_in[-1] - start_in[0]
    assert (len(start_in) - 1) * wire / span == pytest.approx(rate, rel=0.05)


def test_sla_change_at_run_time(backend):
    n = 60 if backend == "reference" else 200
    half = 1000 + n // 2 * 2_000_000
    ins = [{"at": f"{half}ps", "vm": "vm0", "priority": 5}, {"at": f"{half}ps", "vm": "vm1", "priority": 0}]
    lat, r, _ = top_and_batch(n, backend, "strict_priority", instructions=ins)
    alone, _, _ = top_and_batch(n, backend, "strict_priority", batch=False)
    before, after = lat[: n // 2], lat[n // 2:]
    assert before.mean() < alone.mean() + 50_000
    assert after.mean() > 10 * alone.mean()      # demoted below the batch VM: it now queues


def test_per_vm_stats_add_up_to_the_totals(backend):
    s = System.from_dict({
        "compute": {"local_memory": "256KiB", "vms": [{"name": "a", "memory": "1MiB"}, {"name": "b", "memory": "1MiB"}]},
        "hypervisor": {"policy": "page_swap", "placement": "low"},
        "memory_blade": {"capacity": "16MiB"},
        "service": {"regime": "cow", "interval": "5us"},
        "snic": {"discipline": "strict_priority", "vms": {"a": {"priority": 0}, "b": {"priority": 1, "cap": "2GB/s"}},
                 "background": {"priority": 0}}})
    rng = np.random.default_rng(4)
    n = 3000
    tr = {"time": np.cumsum(rng.integers(0, 20000, n)).astype(np.int64),
          "addr": rng.integers(0, (1 << 20) // 64, n).astype(np.uint64) * 64,
          "op": (rng.random(n) < 0.3).astype(np.uint8), "vm": rng.integers(0, 2, n).astype(np.uint16)}
    r = run(s, tr, backend)
    d = r.to_dict()
    per = d["per_vm"]
    assert [v["vm"] for v in per] == ["a", "b", "background"]
    assert sum(v["link_bytes"] for v in per) == r.counters["link_bytes_out"] + r.counters["link_bytes_in"]
    assert sum(v["accesses"] for v in per) == r.counters["accesses"] == n
    assert per[2]["link_bytes"] > 0 and per[2]["accesses"] == 0      # checkpoint copies
    lat = r.counters["latency_sum_ps"]
    assert sum(v[k + "_latency_ns"]["mean"] * v[k + "s"] for v in per for k in ("read", "write")
               if v[k + "s"]) == pytest.approx(lat / 1000)
    assert per[2]["read_latency_ns"]["mean"] is None       # the background queue makes no accesses
    assert sum(v["writes"] for v in per) == r.counters["writes"]


def test_fifo_is_unchanged_by_an_explicit_snic_section():
    tr = merged(stream(0, 500, 50_000, 1), stream(1, 2000, 7_000, 2))
    a = static_system("fifo").run(tr, completions=True, timing="timestamp", time_unit="ps")
    b = static_system("fifo", vms={"vm0": {"priority": 3, "weight": 7}}).run(
        tr, completions=True, timing="timestamp", time_unit="ps")
    assert np.array_equal(a.completions, b.completions)
    assert static_system("fifo").compile().param("QOS") == 0


def test_bad_snic_config_names_the_path():
    with pytest.raises(ValueError, match=r"snic.discipline"):
        static_system("lottery")
    with pytest.raises(ValueError, match=r"snic.vms\[0\].weight"):
        static_system("wfq", vms={"vm0": {"weight": 0}})
    with pytest.raises(ValueError, match=r"snic.vms\[0\].vm: 'nope'"):
        static_system("wfq", vms={"nope": {"weight": 2}}).compile()
    with pytest.raises(ValueError, match=r"snic.vms.vm1.burst"):
        static_system("fifo", vms={"vm1": {"cap": "1GB/s", "burst": "8B"}}).compile()
    with pytest.raises(ValueError, match=r"snic.instructions\[0\].vm"):
        static_system("sp", instructions=[{"at": "1us", "vm": "ghost", "priority": 1}]).compile()
    with pytest.raises(ValueError, match=r"snic.instructions\[0\].at"):
        static_system("sp", instructions=[{"at": "soon", "vm": "vm0"}])


def test_snic_round_trips_through_yaml(tmp_path):
    s = static_system("strict_priority", vms={"vm1": {"cap": "1GB/s"}},
                      instructions=[{"at": "1us", "vm": "vm0", "priority": 2}])
    again = System.from_dict(__import__("yaml").safe_load(s.to_yaml()))
    assert again == s
    assert np.array_equal(again.compile().p, s.compile().p)


@pytest.mark.parametrize("disc", ["strict_priority", "wfq"])
def test_save_restore_with_qos(tmp_path, backend, disc):
    from hwmodel.core.engine import load_state, save_state, state_digest
    s = static_system(disc, vms={"vm1": {"cap": "3GB/s", "weight": 2}},
                      instructions=[{"at": "20us", "vm": "vm0", "priority": 4, "weight": 5}])
    tr = merged(stream(0, 800, 40_000, 1), stream(1, 1600, 15_000, 2))
    c = s.compile("timestamp")
    cols = [tr[k] for k in ("time", "addr", "op", "vm")]
    whole = Engine(c, backend)
    d_whole = whole.run_chunk(*cols, want_completions=True)
    first = Engine(c, backend)
    d1 = first.run_chunk(*[x[:1000] for x in cols], want_completions=True)
    save_state(tmp_path / "s.npz", first.state, c)
    st, _ = load_state(tmp_path / "s.npz", c)
    second = Engine(c, backend, st)
    d2 = second.run_chunk(*[x[1000:] for x in cols], want_completions=True)
    assert np.array_equal(np.concatenate([d1, d2]), d_whole)
    assert state_digest(second.state) == state_digest(whole.state)
