"""`hwmodel dram CONFIG TRACE`: one memory controller on a trace, DRAMsim3-style (hwmodel.dramsim)."""
from __future__ import annotations

import gc
import os
import sys


def cmd_dram(args):
    # Before numpy loads: its OpenBLAS starts a pool of threads that spin for a while, taking a
    # core from the scanner and the model on a small machine; this command does no linear algebra.
    # A user's own setting wins. One run makes few objects, so the collector can rest meanwhile.
    os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
    collecting = gc.isenabled()
    gc.disable()
    try:
        from ..dramsim import run_dram
        result = run_dram(args.config, args.trace, cycles=args.cycles, cycle=args.cycle, epoch=args.epoch,
                          overrides=args.param, format=args.format, backend=args.backend,
                          skip_bad_lines=args.skip_bad_lines, ignore_high_bits=args.ignore_high_bits)
    finally:
        if collecting:
            gc.enable()
    if args.json == "-":
        sys.stdout.write(result.to_json() + "\n")
        return 0
    if args.json:
        result.to_json(args.json)
    print(result.summary())
    return 0


def add_commands(sub):
    p = sub.add_parser(
        "dram", help="one memory controller on a trace, with DRAMsim3-compatible figures, energy and power",
        description="Drive one DRAM (a DRAMsim3 .ini, a preset name such as DDR4-2400, or a YAML DRAM "
                    "mapping) with TRACE, whose addresses are physical addresses. Cycle-stamped traces "
                    "run open loop in tCK of the configuration, ns/ps-stamped ones as stamped, untimed "
                    "ones back to back. Prints reads and writes done, row hits, ACT/PRE/REF commands, "
                    "read latency (mean, percentiles, histogram), bandwidth, energy and average power, "
                    "per channel and in total; --json writes them under DRAMsim3's keys.")
    p.add_argument("config", metavar="CONFIG", help="DRAMsim3 .ini, preset name (hwmodel presets), or .yaml")
    p.add_argument("trace", metavar="TRACE", help="trace file (format detected; gzip/xz/bz2/zstd read)")
    p.add_argument("-p", "--param", action="append", default=[], metavar="KEY=VALUE",
                   help="override a DRAM field, e.g. -p row_policy=closed -p tRCD=20 (repeatable)")
    p.add_argument("-c", "--cycles", metavar="N",
                   help="stop at cycle N, as DRAMsim3's -c: later arrivals are not offered, only what "
                        "completed by N is done, rates are over N cycles")
    p.add_argument("--cycle", metavar="TIME",
                   help="what one trace cycle is (e.g. 0.5ns; default one tCK), or for instruction-gap "
                        "traces the time of one instruction")
    p.add_argument("--epoch", metavar="CYCLES|TIME",
                   help="the same figures per epoch of CYCLES tCK cycles or of TIME (e.g. 1us), in --json")
    p.add_argument("--json", metavar="OUT", help="write the figures as JSON (- for stdout: JSON only)")
    p.add_argument("--format", help="trace format (default: detected from the content)")
    p.add_argument("--skip-bad-lines", action="store_true",
                   help="skip malformed trace lines instead of stopping (the count is reported)")
    p.add_argument("--ignore-high-bits", action="store_true",
                   help="drop address bits above the DRAM's capacity, as DRAMsim3 does (default: an error)")
    p.add_argument("--backend", choices=("compiled", "reference"), default=None,
                   help="model backend (default: compiled, or $HWMODEL_BACKEND)")
    p.set_defaults(func=cmd_dram)
