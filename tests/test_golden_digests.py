"""Results stay bit-identical across refactors: the state digest (`engine.state_digest`, canonical
form) and a digest of the per-access completion times after a fixed short trace, for every system
of benchmarks/bench_core.py and for small systems that reach what those do not (checkpoints and a
failure, storage evictions, super pages on demand with permission changes, virtual addresses and
state growth, SLA changes, epochs, the DRAM request log), on both backends.

How the golden values were produced: `PYTHONPATH=. python tests/test_golden_digests.py [compiled|reference]`
prints them; they were taken on the build before issue 17's split (commit 630d70a), on both
backends (identical), and again when issue 16 renamed that DRAM model "fast" (the default) and
added the detailed controller: the state digests changed (the DRAM parameter vector holds the
detailed controller's timing table, and the DRAM counters gained late_arrivals), while
the digests of completions are those of 630d70a for every system without epochs (epoch rows hold
the DRAM counters): the fast model's results are unchanged. A refactor must never change them. A deliberate change of the model (a new rule, a fixed bug) does:
re-run that command, paste the new values and say why in the commit message.
"""
import hashlib
import importlib.util
import sys
from pathlib import Path

import numpy as np
import pytest

from hwmodel import System
from hwmodel.core import growable
from hwmodel.core.engine import Engine, new_state, state_digest
from hwmodel.trace import generate

BENCH = Path(__file__).resolve().parents[1] / "benchmarks" / "bench_core.py"
N_BENCH = 3000      # accesses of each bench_core workload (its systems are large: the reference backend
#                     spends its time converting their state, not running accesses)


def _bench():
    spec = importlib.util.spec_from_file_location("bench_core_systems", BENCH)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def _small(**sections):
    """A small system in the style of test_differential's (256 KiB local, 1 MiB VMs)."""
    base = {"compute": {"local_memory": "256KiB", "vms": [{"name": f"vm{i}", "memory": "1MiB"} for i in range(2)]},
            "hypervisor": {"super_page": "64KiB", "seed": 7},
            "memory_blade": {"capacity": "16MiB", "super_page": "1MiB"},
            "core": {"window": 4}}
    for k, v in sections.items():
        base[k] = {**base.get(k, {}), **v} if isinstance(v, dict) and isinstance(base.get(k), dict) else v
    return System.from_dict(base)


SMALL = {
    "cow+fail": _small(hypervisor={"victim": "lru", "placement": "first_touch"},
                       service={"regime": "cow", "interval": "40us", "setup": "1us", "fail_at": "250us"}),
    "stop_and_copy+peer+clock": _small(hypervisor={"victim": "clock", "placement": "low"},
                                       service={"regime": "stop_and_copy", "interval": "60us", "target": "peer",
                                                "fail_at": "200us"}),
    "incremental+storage+random": _small(
        hypervisor={"victim": "random"}, memory_blade={"capacity": "1MiB", "super_page": "1MiB"},
        storage={"device": "nvme-gen4", "units": 2, "queue_depth": 4, "victim": "random"},
        io_driver={"buffer_pages": 2}, service={"regime": "incremental", "interval": "50us", "target": "storage"}),
    "storage+fifo": _small(memory_blade={"capacity": "1MiB", "super_page": "1MiB"},
                           storage={"device": "sata-ssd"}, hypervisor={"victim": "fifo"}),
    "subpage+cbf+llc": _small(hypervisor={"policy": "subpage_swap", "victim": "fifo", "critical_block_first": True},
                              cache={"size": "8KiB", "ways": 4, "policy": "random"}),
    "fgra+strict": _small(hypervisor={"policy": "fgra"},
                          snic={"discipline": "strict_priority", "vms": {"vm0": {"priority": 1}, "vm1": {"cap": "2GB/s"}}}),
    "static+drr": _small(hypervisor={"policy": "static"},
                         snic={"discipline": "drr", "vms": {"vm1": {"weight": 5}},
                               "instructions": [{"at": "20us", "vm": "vm0", "weight": 7, "cap": "1GB/s"}]}),
    "blades+on_demand+permissions": System.from_dict({
        "compute": [{"name": "cb0", "local_memory": "128KiB", "vms": [{"name": "vm0", "memory": "1MiB", "qos": 1}]},
                    {"name": "cb1", "local_memory": "256KiB", "vms": [{"name": "vm1", "memory": "1MiB"}]}],
        "hypervisor": {"super_page": "64KiB"},
        "memory_blade": {"capacity": "4MiB", "super_page": "256KiB", "allocation": "on_demand",
                         "agent_occupancy": "5ns", "buffers": [{"queue_depth": 4, "latency": "5ns"}] * 3,
                         "permissions": [{"at": "30us", "blade": "cb1", "super_page": 0, "access": "revoke"},
                                         {"at": "60us", "blade": "cb1", "super_page": 0, "access": "grant"},
                                         {"at": "90us", "blade": "cb0", "super_page": 1, "access": "release"}]},
        "switch": {"latency": "80ns", "port_bandwidth": "8GB/s"},
        "snic": {"discipline": "wfq", "vms": {"vm0": {"weight": 3, "cap": "3Gbps", "burst": "16KiB"}},
                 "instructions": [{"at": "50us", "vm": "background", "cap": "1GB/s"}]},
        "service": {"regime": "cow", "interval": "45us", "fail_at": "120us", "fail_blade": "cb1"},
        "core": {"window": 4}}),
    "virtual+auto": _small(compute={"local_memory": "64KiB", "vms": [{"name": "vm0", "memory": "auto"},
                                                                     {"name": "vm1", "memory": "auto"}]},
                           memory_blade={"capacity": "64MiB", "super_page": "1MiB"},
                           core={"addresses": "virtual", "window": 4}),
}
EPOCH_PS = {"cow+fail": 20_000_000, "blades+on_demand+permissions": 15_000_000}
DRAM_LOG = ("storage+fifo", "blades+on_demand+permissions")
GROWS = ("storage+fifo", "blades+on_demand+permissions", "virtual+auto")   # start as small as can be: grow often


def _small_trace(name):
    rng = np.random.default_rng(sum(map(ord, name)))
    n = 1500
    if name == "virtual+auto":      # a 47-bit virtual space: a stack, a heap, code
        base = rng.choice(np.array([0x1fff000000, 0x7f0000000000, 0x400000], np.uint64), n)
        addr = base + rng.integers(0, 96, n).astype(np.uint64) * 4096 + rng.integers(0, 64, n).astype(np.uint64) * 64
    else:
        addr = rng.integers(0, (1 << 20) // 8, n).astype(np.uint64) * 8
        runs = rng.random(n) < 0.5          # page-local runs: row hits and local reuse
        addr[1:][runs[1:]] = np.minimum(addr[:-1][runs[1:]] + 64, (1 << 20) - 64)
    timed = name not in ("subpage+cbf+llc", "static+drr")
    t = np.cumsum(rng.integers(0, 400_000, n)).astype(np.int64) if timed else rng.integers(0, 500, n).astype(np.int64)
    return ("timestamp" if timed else "gap", t, addr, (rng.random(n) < 0.3).astype(np.uint8),
            rng.integers(0, 2, n).astype(np.uint16))


def _digest(system, timing, cols, backend, epoch_ps=0, log=False, small_start=False):
    c = system.compile(timing, epoch_ps=epoch_ps)
    e = Engine(c, backend, new_state(c, growable.SMALL) if small_start else None)
    dram_log = [] if log else None
    done = e.run_chunk(*cols, want_completions=True, dram_log=dram_log)
    e.finish(dram_log)
    h = hashlib.sha256(done.tobytes())
    h.update(e.epochs().tobytes())
    for rows in dram_log or ():
        h.update(rows.tobytes())
    return state_digest(e.state, c), h.hexdigest()[:16]


def digests(backend):
    """{system name: (state digest, digest of completions, epochs and DRAM log)}."""
    bench = _bench()
    workloads = {kind: generate(kind, N_BENCH, 4 << 30, read_ratio=0.7, seed=1) for kind in ("zipf", "hotcold")}
    out = {}
    for variant in bench.VARIANTS:
        out["bench:" + variant] = _digest(bench.variant_system(variant), "none",
                                          bench.columns(workloads, variant, N_BENCH), backend)
    for name, system in SMALL.items():
        timing, *cols = _small_trace(name)
        out[name] = _digest(system, timing, cols, backend, EPOCH_PS.get(name, 0), name in DRAM_LOG, name in GROWS)
    return out


GOLDEN = {
    'bench:page_swap': ('b3d34bc409828088', 'd4eecee1d3daa0ca'),
    'bench:page_swap+simple': ('22d7f9470b3bfeb4', '4bbe66f8738f1ad2'),
    'bench:page_swap+hotcold': ('bc1f808dd82a8a5a', 'fbfb0c439bb3e017'),
    'bench:page_swap+hotcold+simple': ('424fd288478f1fa1', '87b4e3888cec099e'),
    'bench:subpage_swap': ('ad2e6fee39d8f0c8', '1eb22d5d973928a3'),
    'bench:fgra': ('d4fe4e2900eb66dd', '9815b3129514e8b7'),
    'bench:page_swap+llc': ('5660871b6f49e1fd', 'a49cd834d108e16c'),
    'bench:page_swap+storage': ('877fd4842a670971', '1ec897ce999decaa'),
    'bench:page_swap+checkpoints': ('d00689ac28be433e', 'd4eecee1d3daa0ca'),
    'bench:page_swap+qos8': ('83c0217d78e8d571', '0aaa78bbad2eb224'),
    'bench:page_swap+qos8+wfq': ('141930dd2982673f', '3083e6dd2b501882'),
    'bench:page_swap+qos8+simple': ('ee27a1162818a9b7', '2d169c50270ae264'),
    'bench:page_swap+qos8+wfq+simple': ('0823dee91916161a', 'b92fdfc26ce3a0a0'),
    'bench:page_swap+blades4': ('171d3c26897e9db5', 'a67a723a59e0c28d'),
    'bench:page_swap+blades4+simple': ('7031b55894ef0972', '0da3f86867d48dd5'),
    'bench:page_swap+llc+simple': ('984a22f9110e583a', '576d0a38c3f1ad74'),
    'bench:page_swap+storage+simple': ('6b83db74d5478f05', '375e1ddf36771b97'),
    'bench:page_swap+checkpoints+simple': ('ce43a0d526973915', '4bbe66f8738f1ad2'),
    'cow+fail': ('8d8c854d351b254b', 'a487bbb4de6a5334'),
    'stop_and_copy+peer+clock': ('5a13d159da47b655', '6f3d2b762c6d485b'),
    'incremental+storage+random': ('685606e9317b3b8c', '261628410923e20c'),
    'storage+fifo': ('efe90bdc0317168b', '5050dd4361d688ee'),
    'subpage+cbf+llc': ('e802cc532c4013e8', '85bd9cc34d0b36e6'),
    'fgra+strict': ('dec6a0cb1cba6999', '42fcf937629f48cf'),
    'static+drr': ('c255bc63c0f99e5e', '0a22aea2e8e90cf8'),
    'blades+on_demand+permissions': ('92d68ab9478905c0', 'defb37869dba5a03'),
    'virtual+auto': ('299c0e9ee8fb9e65', '8e89b00e1ff83830'),
}


@pytest.mark.parametrize("backend", ["compiled", "reference"])
def test_golden_digests(backend):
    got = digests(backend)
    assert set(got) == set(GOLDEN), "a system was added or removed: regenerate (see the module docstring)"
    bad = {k: (got[k], GOLDEN[k]) for k in GOLDEN if got[k] != GOLDEN[k]}
    assert not bad, f"results changed (got, golden): {bad}"


if __name__ == "__main__":
    backend = sys.argv[1] if len(sys.argv) > 1 else "compiled"
    print("GOLDEN = {")
    for k, v in digests(backend).items():
        print(f"    {k!r}: {v!r},")
    print("}")
