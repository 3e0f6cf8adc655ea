"""A latency-critical VM and a batch VM share a compute blade's link to the memory blade (S4).

Both VMs keep their memory on the blade (static placement, 64 KiB of local memory): every access
is a remote 64 B line, a request out and a line back over an 8 GB/s link. The critical VM reads
at random, one line every ~1 us (Poisson). The batch VM streams reads in bursts that offer 1.5x
what the inbound direction can carry, half of the time. The SNIC schedules both VMs' messages by
their SLA; the table gives the critical VM's remote-memory latency under each scheduler:

- fifo: the critical VM's lines queue behind every batch burst (p99 ~ a whole burst backlog);
- strict priority (critical first): the critical VM sees its unloaded latency plus at most one
  batch message on the wire per direction;
- drr / wfq with equal weights: the critical VM is guaranteed half of the link, which it never
  needs, so it is served almost at once too; the batch VM still gets everything left over;
- an SLA change at run time: the network manager starts with the batch VM on top (a bad SLA)
  and, halfway, gives the critical VM the top priority: its p99 drops from the fifo-like tail to
  the unloaded one from that instant on.

Run: python examples/qos_vms.py [--quick]
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

try:
    import hwmodel  # noqa: F401
except ImportError:     # run from a checkout without `pip install -e .`
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from hwmodel import System  # noqa: E402

LINE = 64
VM_BYTES = 1 << 30


def system(discipline="fifo", vms=None, instructions=()):
    return System.from_dict({
        "compute": {"local_memory": "64KiB",
                    "vms": [{"name": "critical", "memory": "1GiB", "qos": 0},
                            {"name": "batch", "memory": "1GiB", "qos": 1}]},
        "hypervisor": {"policy": "static"},
        "memory_blade": {"capacity": "4GiB", "dram": {"preset": "DDR4-2400", "channels": 2, "ranks": 4}},
        "snic": {"discipline": discipline, "vms": vms or {}, "instructions": list(instructions)},
    })


def workload(duration_us, seed=1):
    """Merged, timestamped (ps) trace: critical Poisson reads + batch bursts at 1.5x the link."""
    rng = np.random.default_rng(seed)
    ser_line = system().compile("timestamp").param("SER_LINE_PS")   # a line response on the wire
    end = duration_us * 1_000_000
    # critical: one read per ~1 us, uniform over its 1 GiB (all above the 64 KiB local memory)
    gaps = rng.exponential(1_000_000, int(duration_us * 1.2)).astype(np.int64) + 1
    t_c = np.cumsum(gaps)
    t_c = t_c[t_c < end]
    a_c = (64 << 10) + rng.integers(0, (VM_BYTES - (64 << 10)) // LINE, len(t_c)).astype(np.uint64) * LINE
    # batch: 20 us bursts every 40 us, one read per 2/3 of a line's serialization (1.5x the link)
    step = 2 * ser_line // 3
    starts = np.arange(0, end, 40_000_000, dtype=np.int64)
    per_burst = 20_000_000 // step
    t_b = (starts[:, None] + np.arange(per_burst, dtype=np.int64)[None, :] * step).ravel()
    t_b = t_b[t_b < end]
    a_b = rng.integers(0, VM_BYTES // LINE, len(t_b)).astype(np.uint64) * LINE
    t = np.concatenate([t_c, t_b])
    order = np.argsort(t, kind="stable")
    vm = np.concatenate([np.zeros(len(t_c), np.uint16), np.ones(len(t_b), np.uint16)])
    return {"time": t[order], "addr": np.concatenate([a_c, a_b])[order], "vm": vm[order],
            "op": np.zeros(len(t), np.uint8), "timing": "timestamp", "time_unit": "ps"}


def critical_latency_ns(result, trace, since=None, until=None):
    lat = (result.completions - trace["time"]) / 1000
    keep = trace["vm"] == 0
    if since is not None:
        keep &= trace["time"] >= since
    if until is not None:
        keep &= trace["time"] < until
    x = lat[keep]
    return {"p50": float(np.percentile(x, 50)), "p99": float(np.percentile(x, 99)), "max": float(x.max())}


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--quick", action="store_true", help="a short run (for tests)")
    args = ap.parse_args(argv)
    duration_us = 400 if args.quick else 4000
    trace = workload(duration_us)
    half = duration_us * 1_000_000 // 2
    scenarios = {
        "fifo": system("fifo"),
        "strict priority (critical first)": system("strict_priority"),
        "drr, weights 1:1": system("drr"),
        "wfq, weights 1:1": system("wfq"),
    }
    rows = []
    for name, s in scenarios.items():
        r = s.run(trace, completions=True)
        batch = r.to_dict()["per_vm"][1]
        rows.append({"scenario": name, **critical_latency_ns(r, trace),
                     "batch_mean_ns": batch["read_latency_ns"]["mean"]})
    # a bad SLA (batch on top), corrected by the network manager halfway through the run
    sla = system("strict_priority", vms={"critical": {"priority": 1}, "batch": {"priority": 0}},
                 instructions=[{"at": f"{half}ps", "vm": "critical", "priority": 0},
                               {"at": f"{half}ps", "vm": "batch", "priority": 1}])
    r = sla.run(trace, completions=True)
    for label, since, until in (("SLA change: before (batch on top)", None, half),
                                ("SLA change: after (critical on top)", half, None)):
        rows.append({"scenario": label, **critical_latency_ns(r, trace, since, until),
                     "batch_mean_ns": float("nan")})
    print(f"critical VM remote-memory latency over {duration_us} us "
          f"({int((trace['vm'] == 0).sum()):,} critical, {int((trace['vm'] == 1).sum()):,} batch reads)")
    print(f"{'scheduler':<38} {'p50 ns':>9} {'p99 ns':>10} {'max ns':>10} {'batch mean ns':>14}")
    for row in rows:
        print(f"{row['scenario']:<38} {row['p50']:>9.0f} {row['p99']:>10.0f} {row['max']:>10.0f} "
              f"{row['batch_mean_ns']:>14.0f}")
    return {"rows": rows}


if __name__ == "__main__":
    main()
