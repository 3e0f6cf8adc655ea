"""`hwmodel` command line: a thin layer over the Python API.

Exit codes: 0 success, 1 bad input (configuration, trace, state file), 2 bad usage.
"""
from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from .. import __version__

CONFIG_SUFFIXES = (".yaml", ".yml")
DEFAULT_WORKLOAD = dict(kind="zipf", n=1_000_000, footprint_bytes=4 << 30, read_ratio=0.7, seed=1)


class InputError(Exception):
    """A user's file or value is wrong: reported in one line, exit 1."""


def _system(config, overrides):
    from ..system import System
    if config is None:
        return System.from_dict({}, overrides)
    return System.from_yaml(config, overrides)


def default_workload(system):
    """The built-in workload of `hwmodel run` with no trace, and its description: a seeded zipf of
    1 M accesses (70% reads) over the smallest VM's memory (at most 4 GiB; an auto-sized VM counts
    as 4 GiB), the system's VMs taking turns (one VM: every access)."""
    import numpy as np

    from ..trace import generate
    from ..units import format_size
    vms = system.vms
    footprint = min(min(4 << 30, vm.memory_bytes) if not vm.auto else 4 << 30 for vm in vms)
    chunk = generate(**{**DEFAULT_WORKLOAD, "footprint_bytes": footprint})
    chunk.vm = (np.arange(len(chunk)) % len(vms)).astype(np.uint16)
    who = f", {len(vms)} VMs in turn" if len(vms) > 1 else ""
    return chunk, f"built-in zipf workload (1M accesses over {format_size(footprint)}{who})"


def _split_positionals(paths):
    """[CONFIG.yaml] [TRACE ...]: a config is recognised by its suffix; the rest are traces."""
    config, traces = None, []
    for p in paths:
        if Path(p).suffix.lower() in CONFIG_SUFFIXES and config is None:
            config = p
        else:
            traces.append(p)
    return config, traces


def cmd_run(args):
    config, traces = _split_positionals(args.files)
    # --sample: sampled simulation with the configuration's settings, or the defaults (-p refines)
    system = _system(config, (["sampling.enabled=true"] if args.sample else []) + args.param)
    slow = [name for name, d in [(f"{b.name or f'cb{i}'} (compute.dram)", b.dram) for i, b in enumerate(system.blades)]
            + [("memory_blade.dram", system.memory_blade.dram)] if d.model == "detailed"]
    if slow and not args.quiet:
        # the detailed controller re-simulates the requests a DRAM holds past the core's horizon for
        # every answer: right, but orders of magnitude slower than fast under page swaps (README)
        print(f"hwmodel: note: dram.model detailed (DRAMsim3's controller) on {', '.join(slow)}: in a whole system "
              f"it runs hundreds of times slower than fast (README, DRAM model); fast is the default",
              file=sys.stderr)
    for t in traces:
        if not Path(t).exists():
            raise InputError(f"{t}: no such trace file")
    if not traces:
        if args.resume or args.save_state:
            raise InputError("--save-state/--resume need a trace file")
        trace_obj, builtin = default_workload(system)
    elif len(traces) == 1:
        trace_obj = traces[0]
    else:   # several traces: merged by time, trace i as VM i
        from ..trace import merge_traces
        trace_obj = merge_traces(traces, format=args.format, chunk_records=args.chunk,
                                 skip_bad_lines=args.skip_bad_lines)
    result = system.run(trace_obj, backend=args.backend, slowdown=args.slowdown, format=args.format,
                        skip_bad_lines=args.skip_bad_lines, epoch=args.epoch, cycle=args.cycle,
                        progress=False if args.quiet else None, chunk_records=args.chunk,
                        save_state_to=args.save_state, resume_from=args.resume,
                        dram_trace=args.dram_trace, dram_trace_format=args.dram_trace_format)
    if not traces:
        result.trace = builtin
    if args.json:
        if args.json == "-":
            print(result.to_json())
        else:
            result.to_json(args.json)
    if args.json != "-":
        print(result.summary())
    return 0


def cmd_config(args):
    system = _system(args.config, args.param)
    sys.stdout.write(system.to_yaml())
    return 0


def cmd_presets(args):
    from ..dram import DRAM
    print("DRAM presets (use as compute.dram / memory_blade.dram, or -p compute.dram.preset=NAME):")
    for name in DRAM.presets():
        d = DRAM.preset(name)
        print(f"  {name:<14} tCK {d.tck_ps / 1000:.3f} ns  CL-tRCD-tRP {d.CL}-{d.tRCD}-{d.tRP}  "
              f"{d.channels} ch x {d.ranks} rank  {d.capacity_bytes / 2**30:g} GiB  "
              f"peak {d.peak_bytes_per_s / 1e9:.1f} GB/s")
    from ..hardware.protocol import ProtocolAgent
    from ..hardware.storage import STORAGE_PRESETS
    print("storage.device presets:")
    for name, v in STORAGE_PRESETS.items():
        print(f"  {name:<14} read {v['read_latency']}, write {v['write_latency']} (+ transfer at "
              f"{v['bandwidth']}), {v['units']} units, queue depth {v['queue_depth']}")
    print("protocol presets (the blade link):")
    for name in ProtocolAgent.presets():
        print(f"  {ProtocolAgent.preset(name).describe()}")
    from .._layout import PLACEMENTS, POLICIES, VICTIMS
    print("hypervisor.policy:    " + ", ".join(POLICIES))
    print("hypervisor.victim:    " + ", ".join(VICTIMS))
    print("hypervisor.placement: " + ", ".join(PLACEMENTS))
    return 0


def build_parser() -> argparse.ArgumentParser:
    ap = argparse.ArgumentParser(prog="hwmodel", description="Cycle-approximate models of disaggregated memory hardware.")
    ap.add_argument("--version", action="version", version=f"hwmodel {__version__}")
    sub = ap.add_subparsers(dest="command", required=True)

    run = sub.add_parser("run", help="simulate a system on a trace",
                         description="Simulate CONFIG.yaml (default: built-in system) on TRACE "
                                     "(default: built-in workload) and print a summary. Several "
                                     "timestamped traces are merged by time, trace i as VM i.")
    run.add_argument("files", nargs="*", metavar="[CONFIG.yaml] [TRACE ...]")
    _param(run)
    run.add_argument("--format", help="trace format (default: detected from the content)")
    run.add_argument("--skip-bad-lines", action="store_true",
                     help="skip malformed trace lines instead of stopping (the count is reported)")
    run.add_argument("--json", metavar="OUT", help="write the full result as JSON (- for stdout)")
    run.add_argument("--backend", choices=("compiled", "reference"), default=None,
                     help="core backend (default: compiled, or $HWMODEL_BACKEND)")
    run.add_argument("--slowdown", nargs="?", const="all_local", choices=("all_local", "no_checkpoints"),
                     help="also run a baseline and report the slowdown: all_local (default) or the "
                          "same system without checkpoints")
    run.add_argument("--quiet", action="store_true",
                     help="no progress bar (it shows, with total and ETA, when stderr is a terminal)")
    run.add_argument("--cycle", metavar="TIME", help="one cycle of a cycle-stamped trace, e.g. 0.833ns "
                                                     "(default: core.trace_cycle, else the local DRAM's tCK)")
    run.add_argument("--dram-trace", metavar="OUT",
                     help="write the requests each DRAM received, with arrival times, to OUT.local.trace, "
                          "OUT.blade.trace, ... (re-run them in a cycle-accurate simulator or hwmodel dram)")
    run.add_argument("--dram-trace-format", choices=("dramsim3", "ramulator", "text"), default="dramsim3",
                     help="dramsim3 (cycles of each DRAM's tCK; default), ramulator (no times) or text (ps)")
    run.add_argument("--chunk", type=int, default=1 << 18, help="records per chunk (default 262144)")
    run.add_argument("--epoch", metavar="TIME", help="sample counters every TIME of simulated time, "
                                                     "e.g. 100us (time series in --json)")
    run.add_argument("--sample", action="store_true",
                     help="sampled simulation (README, Sampled simulation): one unit of 10000 accesses in 100 "
                          "in detail after 2000 of warming, the rest functional; results with 95%% intervals "
                          "(-p sampling.unit=/period=/warmup=/seed= change it)")
    run.add_argument("--save-state", metavar="FILE", help="save the run state after every chunk")
    run.add_argument("--resume", metavar="FILE", help="resume from a state saved by --save-state")
    run.set_defaults(func=cmd_run)

    cfg = sub.add_parser("config", help="print the fully resolved configuration as YAML")
    cfg.add_argument("config", nargs="?", metavar="CONFIG.yaml")
    _param(cfg)
    cfg.set_defaults(func=cmd_config)

    pre = sub.add_parser("presets", help="list DRAM, storage and protocol presets and policy names")
    pre.set_defaults(func=cmd_presets)

    from . import compare, dram, qos, study, trace
    dram.add_commands(sub)
    compare.add_commands(sub)
    qos.add_commands(sub)
    trace.add_commands(sub)
    study.add_commands(sub)
    return ap


def _param(p):
    p.add_argument("-p", "--param", action="append", default=[], metavar="KEY=VALUE",
                   help="override a configuration value, e.g. -p hypervisor.policy=fgra (repeatable)")


def main(argv=None) -> int:
    args = build_parser().parse_args(argv)
    if getattr(args, "chunk", 1) < 1:
        print("hwmodel: error: --chunk must be >= 1", file=sys.stderr)
        return 2
    try:
        return args.func(args)
    except BrokenPipeError:
        # the reader went away (`hwmodel ... | head`): what it wanted was written; say nothing more
        # and keep Python from complaining again when it flushes stdout at exit
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0
    except (InputError, ValueError, OSError) as e:
        print(f"hwmodel: error: {_one_line(e)}", file=sys.stderr)
        return 1
    except OverflowError as e:
        # every input is bounded so that one run's times fit 64 bits; a run whose sums of times
        # still outgrow them (a backlog of days over billions of accesses, or a saved state edited
        # to one) is reported, not traced back (the compiled core cannot notice it)
        print(f"hwmodel: error: the run's times outgrew 64-bit integers ({_one_line(e)}); simulate a shorter or "
              f"less saturated run", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("hwmodel: interrupted", file=sys.stderr)
        return 130


def _one_line(e: BaseException) -> str:
    """An error message on one line (a message may quote a multi-line value)."""
    return " ".join(str(e).split("\n"))

