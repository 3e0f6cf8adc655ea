"""One bench_core workload through the compiled core, for an instruction count under callgrind.

    valgrind --tool=callgrind --collect-atstart=no \
        --toggle-collect='__pyx_f_7hwmodel_5_core_run_loop' \
        "$(pyenv which python)" benchmarks/instructions.py [zipf|hotcold] [ACCESSES] [simple]
    callgrind_annotate --inclusive=yes callgrind.out.<pid> | grep run_loop

Only the core's loop is counted (set-up, trace generation and the interpreter are not), so the
count is stable under load where wall-clock time is not. Default: page_swap on the zipf workload,
the first 200,000 accesses of bench_core's trace (the same seed), detailed DRAM; `simple` uses the
row-buffer DRAM model. Prints the accesses run and the fault rate.
"""
import sys

import numpy as np

from hwmodel import System
from hwmodel.core.engine import Engine
from hwmodel.trace import generate


def main(argv):
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
