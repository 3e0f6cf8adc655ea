"""One bench_core workload through the compiled core, for an instruction count under callgrind.

    valgrind --tool=callgrind --collect-atstart=no \
        --toggle-collect='__pyx_f_7hwmodel_5_core_run_loop' \
        "$(pyenv which python)" benchmarks/instructions.py [zipf|hotcold] [ACCESSES] [simple]
    callgrind_annotate --inclusive=yes callgrind.out.<pid> | grep run_loop

Only the core's loop is counted (set-up, trace generation and the interpreter are not), so the
count is stable under load where wall-clock time is not. Default: page_swap on the zipf workload,
the first 200,000 accesses of bench_core's trace (the same seed), detailed DRAM; `simple` uses the
row-buffer DRAM model. Prints the accesses run and the fault rate.

`crosscheck` instead runs the detailed DRAM controller alone on the six cross-check traces (as
bench_dram.py's crosscheck benchmark does, 600,000 requests); count its instructions with
`--toggle-collect='*ctl_advance*'` (the controller's simulation loop; divide by 600,000).
"""
import sys

import numpy as np

from hwmodel import System
from hwmodel.core.engine import Engine
from hwmodel.trace import generate


def crosscheck():
    import gzip
    from pathlib import Path

    import hwmodel._core as core
    from hwmodel import _dram_layout as L
    from hwmodel.dram import DRAM
    from hwmodel.memctrl import dram_params
    root = Path(__file__).resolve().parent.parent
    d = DRAM.from_dramsim3_ini(root / "tests" / "data" / "dramsim3" / "DDR4_8Gb_x8_2400.ini").replace(model="detailed")
    p = dram_params(d)
    n = 0
    for name in ("stream_read_gap8", "random_read_gap50", "random_rw30_gap12", "hotrows_rw20_gap6",
                 "two_streams_bursty", "random_read_gap2"):
        f = np.array(gzip.decompress((root / "tests" / "data" / "crosscheck" / f"{name}.trace.gz").read_bytes())
                     .split()).reshape(-1, 3)
        addr = np.array([int(h, 16) for h in f[:, 0].tolist()], np.int64)
        t, w = f[:, 2].astype(np.int64) * d.tck_ps, (f[:, 1] == b"WRITE").astype(np.uint8)
        core.dram_run(p, L.new_dram_state(p), "", t, addr, w, np.zeros(len(t), np.int64))
        n += len(t)
    print(f"crosscheck: {n:,} requests through the detailed controller")


def main(argv):
    if argv[1:2] == ["crosscheck"]:
        return crosscheck()
    kind = argv[1] if len(argv) > 1 else "zipf"
    n = int(argv[2]) if len(argv) > 2 else 200_000
    simple = "simple" in argv[3:]
    dram = {"model": "simple"} if simple else {}
    system = System.from_dict({
        "compute": {"local_memory": "1GiB", "vms": [{"memory": "4GiB"}], **({"dram": dram} if simple else {})},
        "hypervisor": {"policy": "page_swap", "victim": "lru", "placement": "low"},
        **({"memory_blade": {"dram": {"channels": 2, "ranks": 4, **dram}}} if simple else {})})
    # bench_core's trace is 10 M accesses long; its prefix is what a shorter generate() gives
    # only for the same n, so generate the whole length and cut it
    w = generate(kind, 10_000_000, 4 << 30, read_ratio=0.7, seed=1)
    engine = Engine(system.compile("none"), "compiled")
    engine.run_chunk(np.zeros(n, np.int64), w.addr[:n], w.op[:n], w.vm[:n])
    c = engine.state["counters"]
    print(f"{kind}{' simple' if simple else ''}: {int(c[0]):,} accesses, fault rate {c[5] / c[0]:.3f}")


if __name__ == "__main__":
    main(sys.argv)
