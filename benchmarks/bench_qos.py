"""Link-scheduler throughput (S4), compiled and reference, in packets per second.

    python -m pytest benchmarks/bench_qos.py --benchmark-only --benchmark-group-by=group

Workload: 8 VMs (one queue each) on a 25 Gbps link, Poisson arrivals at 95% load, packets of
64..1500 B uniformly, 10 M packets fed in chunks of 1 Mi with the default horizon, then drained.
Each discipline runs unshaped and with a token bucket (4 Gbps, 16 KiB) on every VM. The reference
backend runs a 50 k-packet prefix. HWMODEL_BENCH_PACKETS sets the size.
"""
import os

import numpy as np
import pytest

from conftest import per_second
from hwmodel.core.linksched import LinkSim
from hwmodel.hardware.snic import SNIC, LinkScheduler, QoSClass

N = int(os.environ.get("HWMODEL_BENCH_PACKETS", 10_000_000))
N_REFERENCE = min(N, 50_000)
CHUNK = 1 << 20


@pytest.fixture(scope="module")
def packets():
    rng = np.random.default_rng(1)
    nb = rng.integers(64, 1501, N).astype(np.uint32)
    t = np.cumsum(rng.exponential(782 * 320 / 0.95, N)).astype(np.int64)   # 320 ps/B at 25 Gbps
    vm = rng.integers(0, 8, N).astype(np.uint16)
    return t, vm, nb


@pytest.mark.parametrize("shaped", [False, True], ids=["unshaped", "shaped"])
@pytest.mark.parametrize("disc", ["fifo", "strict_priority", "wrr", "drr", "wfq"])
@pytest.mark.parametrize("backend", ["compiled", "reference"])
def test_link_scheduler(benchmark, packets, backend, disc, shaped):
    n = N if backend == "compiled" else N_REFERENCE
    vms = tuple(QoSClass(f"vm{i}", priority=i, weight=i + 1, cap="4Gbps" if shaped else None,
                         burst="16KiB") for i in range(8))
    snic = SNIC(vms, LinkScheduler(disc, "25Gbps", "500ns"))
    t, vm, nb = (a[:n] for a in packets)

    def run():
        sim = LinkSim(snic, backend)
        for s in range(0, n, CHUNK):
            sim.feed(t[s:s + CHUNK], vm[s:s + CHUNK], nb[s:s + CHUNK])
        sim.drain()
        return sim

    benchmark.group = f"qos-{disc}"
    sim = benchmark.pedantic(run, rounds=3 if backend == "compiled" else 1, iterations=1)
    assert sim.stats()[:, 0].sum() == n
    rate = per_second(benchmark, n)
    if rate is not None:
        benchmark.extra_info["packets_per_s"] = rate
        print(f"\n{backend} {disc} {'shaped' if shaped else 'unshaped'}: {rate / 1e6:.2f} M packets/s")
