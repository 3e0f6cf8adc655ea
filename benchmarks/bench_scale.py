"""What state that grows with the footprint buys: memory and set-up time of real-sized systems.

    python -m pytest benchmarks/bench_scale.py --benchmark-only -s

- lackey: `hwmodel run TRACE` on a Valgrind lackey trace with no overrides (its stack near
  0x1fff000000 is a virtual address), peak RSS of the process. HWMODEL_BENCH_LACKEY=PATH runs a real
  trace (README: `valgrind --tool=lackey --trace-mem=yes --log-file=gzip.lackey gzip -9 -c in.txt`,
  4.5 M accesses, 148 pages); otherwise a synthetic one in lackey syntax with the same shape
  (program text, heap, libraries, stack: 148 pages), min(HWMODEL_BENCH_ACCESSES, 4 M) accesses.
- eight blades: examples/eight_blades.yaml (8 compute blades of one 512 GiB VM with 64 GiB local
  memory, a 4 TiB memory blade): set-up (configuration, compilation, fresh state) in-process, then
  `hwmodel run` on a generated trace of HWMODEL_BENCH_ACCESSES (default 10 M) accesses touching up
  to 16 GiB (every page once in address order, then zipf), peak RSS of the process.
"""
import os
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from hwmodel import System
from hwmodel.core.engine import Engine, state_bytes
from hwmodel.trace import generate, write_trace
from hwmodel.trace._types import Chunk

ROOT = Path(__file__).resolve().parent.parent
N = int(os.environ.get("HWMODEL_BENCH_ACCESSES", 10_000_000))
EIGHT = ROOT / "examples" / "eight_blades.yaml"


# the child reports its own high-water RSS (VmHWM): a forked child's ru_maxrss would include the
# parent's (this pytest process, with its traces) from before its exec
CHILD = """import sys
from hwmodel.cli import main
code = main(sys.argv[2:])
with open(sys.argv[1], "w") as f:
    f.write(next(l.split()[1] for l in open("/proc/self/status") if l.startswith("VmHWM:")))
sys.exit(code)
"""


def run_measured(args, tmp_path) -> tuple:
    """(peak RSS in MB, wall seconds) of `hwmodel run ARGS` in a process of its own."""
    hwm = tmp_path / "vmhwm"
    t = time.perf_counter()
    proc = subprocess.run([sys.executable, "-c", CHILD, str(hwm), *args], cwd=ROOT, stdout=subprocess.DEVNULL,
                          stderr=subprocess.PIPE, text=True)
    assert proc.returncode == 0, proc.stderr
    return int(hwm.read_text()) / 1024, time.perf_counter() - t


def synthetic_lackey(path, n, seed=1):
    """n data accesses in lackey syntax over 148 pages laid out as a process's: program data near
    0x108000, heap near 0x4a00000, libraries near 0x4000000, stack just below 0x1fff001000; one
    instruction fetch before each."""
    rng = np.random.default_rng(seed)
    regions = np.array([0x108000, 0x4A00000, 0x4000000, 0x1FFEFF6000], np.uint64)
    pages = np.array([20, 96, 22, 10])
    r = rng.choice(4, n, p=[0.1, 0.5, 0.1, 0.3])
    addr = regions[r] + rng.integers(0, pages[r]).astype(np.uint64) * np.uint64(4096) \
        + rng.integers(0, 512, n).astype(np.uint64) * np.uint64(8)
    kind = np.array(["L", "S", "M"])[rng.choice(3, n, p=[0.7, 0.25, 0.05])]
    with open(path, "w") as f:
        for lo in range(0, n, 1 << 18):
            hi = min(n, lo + (1 << 18))
            f.write("".join(f"I  04{0x1000 + i % 4096:06x},3\n {k} {a:x},8\n"
                            for i, k, a in zip(range(lo, hi), kind[lo:hi].tolist(), addr[lo:hi].tolist())))


def test_lackey_trace_as_it_comes(benchmark, tmp_path):
    path = os.environ.get("HWMODEL_BENCH_LACKEY")
    if not path:
        path = tmp_path / "synthetic.lackey"
        synthetic_lackey(path, min(N, 4_000_000))
    benchmark.group = "scale-lackey"
    out = {}

    def run():
        out["rss_mb"], out["wall_s"] = run_measured(["run", str(path), "--quiet", "--json", str(tmp_path / "r.json")],
                                                    tmp_path)

    benchmark.pedantic(run, rounds=1, iterations=1)
    benchmark.extra_info.update(out)
    print(f"\nlackey {path}: peak RSS {out['rss_mb']:.0f} MB, {out['wall_s']:.1f} s")


@pytest.fixture(scope="module")
def eight_trace(tmp_path_factory):
    """N accesses over 8 VMs of 2 GiB each (16 GiB): a pass over every page, then zipf."""
    first = min(0.42, (16 << 30) / 4096 / N)
    ch = generate("mix", N, 16 << 30, read_ratio=0.7, seed=1,
                  phases=[("strided", first, {"stride": 4096}), ("zipf", 1 - first, {})])
    path = tmp_path_factory.mktemp("eight") / "eight16g.npz"
    write_trace(path, Chunk(ch.time, ch.addr & np.uint64((1 << 31) - 1), ch.op, ch.size,
                            (ch.addr >> np.uint64(31)).astype(np.uint16)), format="native", timing="none")
    return path, len(np.unique(ch.addr >> np.uint64(12))) * 4096


def test_eight_big_blades_set_up(benchmark):
    benchmark.group = "scale-eight-blades"
    states = []

    def setup():
        states.append(Engine(System.from_yaml(EIGHT).compile("none")).state)

    benchmark.pedantic(setup, rounds=3, iterations=1)
    benchmark.extra_info["state_mb"] = state_bytes(states[-1]) / 1e6
    print(f"\neight blades: state {state_bytes(states[-1]) / 1e6:.1f} MB after set-up")


def test_eight_big_blades_run(benchmark, eight_trace, tmp_path):
    path, touched = eight_trace
    benchmark.group = "scale-eight-blades"
    out = {}

    def run():
        out["rss_mb"], out["wall_s"] = run_measured(["run", str(EIGHT), str(path), "--quiet",
                                                     "--json", str(tmp_path / "r.json")], tmp_path)

    benchmark.pedantic(run, rounds=1, iterations=1)
    out["touched_gib"] = touched / 2**30
    benchmark.extra_info.update(out)
    print(f"\neight blades, {N:,} accesses touching {touched / 2**30:.1f} GiB: peak RSS {out['rss_mb']:.0f} MB, "
          f"{out['wall_s']:.1f} s")
