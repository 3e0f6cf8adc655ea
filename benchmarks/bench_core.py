"""Core throughput per stage, compiled and reference, in accesses per second.

    python -m pytest benchmarks/bench_core.py --benchmark-only --benchmark-group-by=group

Workloads (the issue's shape): 10 M accesses over a 4 GiB VM, 30% writes, 1 GiB local memory (25%),
page_swap with exact LRU, 'low' placement (the first 1 GiB starts local), untimed trace through the
closed-loop core (window 16). `zipf` (alpha 0.99) scatters hot lines over the whole footprint, so
nearly every page is touched and about 31% of accesses fault: a hard case. `hotcold` sends 90% of
accesses to 10% of the footprint: about 9% fault. DRAM is the detailed controller model unless the
variant says `simple` (row-buffer formulas, dram.model: simple).
The reference backend runs a 100 k-access prefix (it is ~100x slower). HWMODEL_BENCH_ACCESSES
sets the size (CI runs a quick pass with a small one).
"""
import os

import numpy as np
import pytest

from hwmodel import System
from hwmodel.core.engine import Engine, new_state
from hwmodel.trace import generate

N = int(os.environ.get("HWMODEL_BENCH_ACCESSES", 10_000_000))
N_REFERENCE = min(N, 100_000)


@pytest.fixture(scope="module")
def workloads():
    return {kind: generate(kind, N, 4 << 30, read_ratio=0.7, seed=1) for kind in ("zipf", "hotcold")}


@pytest.fixture(scope="module")
def workload(workloads):
    return workloads["zipf"]


SIMPLE = {"compute": {"local_memory": "1GiB", "vms": [{"memory": "4GiB"}], "dram": {"model": "simple"}},
          "memory_blade": {"dram": {"channels": 2, "ranks": 4, "model": "simple"}}}


def system(policy="page_swap", **sections):
    return System.from_dict({"compute": {"local_memory": "1GiB", "vms": [{"memory": "4GiB"}]},
                             "hypervisor": {"policy": policy, "victim": "lru", "placement": "low"},
                             **sections})


def _n(backend):
    return N if backend == "compiled" else N_REFERENCE


def _report(benchmark, n, engine=None):
    from conftest import per_second    # benchmarks/conftest.py (imported here: tests load this module's systems)
    benchmark.extra_info["accesses"] = n
    benchmark.extra_info["accesses_per_s"] = per_second(benchmark, n)
    if engine is not None:
        c = engine.state["counters"]
        benchmark.extra_info["fault_rate"] = float(c[5] / c[0])


@pytest.mark.parametrize("backend", ["compiled", "reference"])
@pytest.mark.parametrize("stage", ["decode", "lookup"])
def test_stage(benchmark, workload, backend, stage):
    from hwmodel.core.engine import select_backend
    core = select_backend(backend)
    c = system().compile("none")
    st = new_state(c)
    n = _n(backend)
    addr, vm = workload.addr[:n], workload.vm[:n]
    benchmark.group = f"core-{stage}"
    out = benchmark.pedantic(core.decode_lookup, args=(c.p, st, addr, vm, c.vm_base, stage == "lookup"),
                             rounds=3, iterations=1)
    if stage == "lookup":
        assert out[0] + out[1] + out[2] == n
    _report(benchmark, n)


VARIANTS = {
    "page_swap": {},
    "page_swap+simple": SIMPLE,
    "page_swap+hotcold": {},
    "page_swap+hotcold+simple": SIMPLE,
    "subpage_swap": {},
    "fgra": {},
    # an 8 MiB 16-way LLC in front of memory (CPU-level trace)
    "page_swap+llc": {"cache": {"size": "8MiB", "ways": 16}},
    # a 256 MiB blade share over NVMe: most faults go to storage
    "page_swap+storage": {"memory_blade": {"capacity": "256MiB"}, "storage": {"device": "nvme-gen4"}},
    # copy-on-write checkpoints of dirty pages every 10 ms to the blade
    "page_swap+checkpoints": {"service": {"regime": "cow", "interval": "10ms"}},
}
# S4: 8 VMs of 512 MiB sharing the blade link under strict priority, two of them token-bucket capped
QOS8 = {"compute": {"local_memory": "1GiB", "vms": [{"name": f"vm{i}", "memory": "512MiB", "qos": i % 4}
                                                    for i in range(8)]},
        "snic": {"discipline": "strict_priority", "vms": {"vm6": {"cap": "2GB/s"}, "vm7": {"cap": "1GB/s"}}}}
VARIANTS["page_swap+qos8"] = QOS8
VARIANTS["page_swap+qos8+wfq"] = {**QOS8, "snic": {"discipline": "wfq", "vms": {f"vm{i}": {"weight": i + 1}
                                                                                  for i in range(8)}}}
for _name in ("page_swap+qos8", "page_swap+qos8+wfq"):   # keep the 8 VMs, DRAM 'simple'
    VARIANTS[_name + "+simple"] = {**VARIANTS[_name], "memory_blade": SIMPLE["memory_blade"],
                                   "compute": {**VARIANTS[_name]["compute"], "dram": {"model": "simple"}}}
# S4 many blades: the 8 VMs on 4 compute blades (256 MiB local each) sharing the memory blade
# through the default switch, strict priority on every blade's link
VARIANTS["page_swap+blades4"] = {
    "compute": [{"name": f"cb{k}", "local_memory": "256MiB",
                 "vms": [{"name": f"vm{2 * k + j}", "memory": "512MiB", "qos": j} for j in range(2)]}
                for k in range(4)],
    "snic": {"discipline": "strict_priority"}}
VARIANTS["page_swap+blades4+simple"] = {
    "compute": [{**b, "dram": {"model": "simple"}} for b in VARIANTS["page_swap+blades4"]["compute"]],
    "snic": {"discipline": "strict_priority"}, "memory_blade": SIMPLE["memory_blade"]}
for _name in ("page_swap+llc", "page_swap+storage", "page_swap+checkpoints"):
    VARIANTS[_name + "+simple"] = {**VARIANTS[_name], **SIMPLE,
                                   "memory_blade": {**VARIANTS[_name].get("memory_blade", {}), **SIMPLE["memory_blade"]}}


def variant_system(variant):
    return system(variant.split("+")[0], **VARIANTS[variant])


def columns(workloads, variant, n):
    """The core's columns (untimed: time 0) of the first n accesses of the variant's workload."""
    workload = workloads["hotcold" if "hotcold" in variant else "zipf"]
    if "qos8" in variant or "blades4" in variant:   # the 4 GiB footprint over 8 VMs of 512 MiB: VM = address / 512 MiB
        vm = (workload.addr[:n] >> 29).astype(np.uint16)
        return np.zeros(n, np.int64), workload.addr[:n] & ((1 << 29) - 1), workload.op[:n], vm
    return np.zeros(n, np.int64), workload.addr[:n], workload.op[:n], workload.vm[:n]


@pytest.mark.parametrize("backend", ["compiled", "reference"])
@pytest.mark.parametrize("variant", list(VARIANTS))
def test_full_run(benchmark, workloads, backend, variant):
    c = variant_system(variant).compile("none")
    n = _n(backend)
    cols = columns(workloads, variant, n)
    engines = []

    def setup():
        engines.append(Engine(c, backend))
        return (engines[-1],) + cols, {}

    def run(engine, t, addr, op, vm):
        engine.run_chunk(t, addr, op, vm)

    benchmark.group = f"core-full-{variant}"
    benchmark.pedantic(run, setup=setup, rounds=3 if backend == "compiled" else 1, iterations=1)
    assert engines[-1].state["counters"][0] == n
    _report(benchmark, n, engines[-1])


# The detailed controller (DRAMsim3's, dram.model: detailed) in the whole system, beside the fast
# model on the same accesses. Each answer simulates the controller from the request's arrival until
# it is done (the run kept while later requests cannot change it), so its cost grows with the
# DRAM's queueing delay: light where the VM fits in local DRAM, heavy where page swaps queue 4 KiB
# transfers. Prefixes of bench_core's workloads (zipf, hotcold), sized so a round takes seconds.
def _dram_system(model, local):
    dram = {"model": model}
    return system(compute={"local_memory": local, "vms": [{"memory": "4GiB"}], "dram": dram},
                  memory_blade={"dram": {**dram, "channels": 2, "ranks": 4}})


IN_SYSTEM = {"all-local+zipf": ("5GiB", 200_000), "page_swap+hotcold": ("1GiB", 20_000)}


@pytest.mark.parametrize("model", ["detailed", "fast"])
@pytest.mark.parametrize("variant", list(IN_SYSTEM))
def test_dram_model_in_system(benchmark, workloads, variant, model):
    local, n = IN_SYSTEM[variant]
    n = min(N, n)
    c = _dram_system(model, local).compile("none")
    cols = columns(workloads, variant, n)
    engines = []

    def setup():
        engines.append(Engine(c, "compiled"))
        return (engines[-1],) + cols, {}

    benchmark.group = f"core-dram-in-system-{variant}"
    benchmark.pedantic(lambda e, *x: e.run_chunk(*x), setup=setup, rounds=3, iterations=1)
    assert engines[-1].state["counters"][0] == n
    _report(benchmark, n, engines[-1])
