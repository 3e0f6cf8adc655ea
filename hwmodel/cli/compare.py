"""`hwmodel compare CONFIG_A.yaml CONFIG_B.yaml ... [TRACE]`: the command-line face of hwmodel.study.compare.

Every configuration runs on the same trace (none given: `hwmodel run`'s built-in workload, made
for the first column's system); one table is printed, with rows = metrics and columns
= configurations (named by file stem, or NAME in `NAME=path.yaml`), each column after the first
with its delta to the first. `-p key=value` applies to every configuration alike (as in `hwmodel
run`); `--vary key=v1,v2` makes columns from the values of a parameter. A column is never compared
with itself: two configurations at least, or a --vary.
`add_commands(subparsers)` registers the command.
"""
from __future__ import annotations

import re
from pathlib import Path

CONFIG_SUFFIXES = (".yaml", ".yml")
_NAME = re.compile(r"^[A-Za-z0-9_.+-]+$")


def parse_config_arg(arg: str) -> tuple:
    """'NAME=path.yaml' -> (NAME, path); 'path.yaml' -> (stem, path)."""
    if "=" in arg and not Path(arg).exists():
        name, path = arg.split("=", 1)
        if not _NAME.match(name):
            raise ValueError(f"{arg}: a column name (before '=') may hold letters, digits and _ . + - only")
        if not path:
            raise ValueError(f"{arg}: no configuration file after '='")
    else:
        name, path = Path(arg).stem, arg
    if Path(path).suffix.lower() not in CONFIG_SUFFIXES:
        raise ValueError(f"{arg}: a configuration is a .yaml/.yml file (the trace comes last)")
    if not Path(path).is_file():
        raise ValueError(f"{path}: no such configuration file")
    return name, path


def split_inputs(files, vary=()) -> tuple:
    """[CONFIG...] [TRACE] -> ([(name, path)], trace or None: the built-in workload); checks counts,
    files and unique names. The trace is the last argument unless that is a configuration. Without
    --vary at least two configurations; with it, any number (none: the default system)."""
    files = list(files)
    trace = None
    if files and Path(files[-1].split("=", 1)[-1]).suffix.lower() not in CONFIG_SUFFIXES:
        trace = files.pop()
    configs = [parse_config_arg(a) for a in files]
    if len(configs) < 2 and not vary:
        raise ValueError(f"compare: need at least 2 configurations, got {len(configs)} "
                         f"(-p applies to all of them; --vary key=v1,v2 makes columns from one configuration)")
    names = [n for n, _ in configs]
    dup = sorted({n for n in names if names.count(n) > 1})
    if dup:
        raise ValueError(f"compare: more than one configuration is named {dup[0]!r}; name the columns "
                         f"as NAME=path.yaml")
    if trace is not None and not Path(trace).is_file():
        raise ValueError(f"{trace}: no such trace file")
    return configs, trace


def cmd_compare(args) -> int:
    from ..study.compare import (arrival_note, build_systems, compare, compare_table, differences_note, format_table,
                                 validation_note, write_csv, write_json)
    if args.chunk < 1:
        raise ValueError(f"--chunk {args.chunk}: must be >= 1")
    configs, trace = split_inputs(args.files, args.vary)
    names, systems = build_systems([p for _, p in configs], args.param, args.vary, names=[n for n, _ in configs])
    dup = sorted({n for n in names if names.count(n) > 1})
    if dup:
        raise ValueError(f"compare: two columns are named {dup[0]!r}; give each --vary value once")
    label = trace
    if trace is None:       # as `hwmodel run`: the first column's built-in workload, the same in every column
        from .main import default_workload
        trace, label = default_workload(systems[0])
    results = compare(systems, trace, backend=args.backend, cycle=args.cycle, format=args.format,
                      chunk_records=args.chunk, progress=False if args.quiet else None)
    rows = compare_table(results, names)
    if args.json:
        write_json(args.json, results, names, rows, trace=label)
    if args.csv:
        write_csv(args.csv, rows, names)
    if args.json != "-":
        title = (f"trace {label}" + (f"   -p {' -p '.join(args.param)}" if args.param else "")
                 + f"\n{differences_note(results, names)}\n{arrival_note(results, names)}")
        checked = validation_note(results, names)
        title += f"\n{checked}" if checked else ""
        print(format_table(rows, names, title=title))
    return 0


def add_commands(subparsers) -> None:
    cp = subparsers.add_parser(
        "compare", help="run several configurations on one trace and tabulate them side by side",
        description="Run each CONFIG on TRACE (default: hwmodel run's built-in workload) and print one "
                    "table: rows are metrics, columns are configurations (file stem, or NAME from NAME=path.yaml; or the values of --vary); "
                    "every column after the first shows its difference to the first, absolute and in "
                    "percent. Every column replays the same arrivals: the trace's times are converted "
                    "with the first column's scale (--cycle overrides it for cycle-stamped traces).")
    cp.add_argument("files", nargs="*", metavar="FILE",
                    help="[NAME=]CONFIG.yaml ... [TRACE] (at least two configurations, or one or none with --vary; "
                         "no trace: the built-in workload of hwmodel run, sized by the first column)")
    cp.add_argument("-p", "--param", action="append", default=[], metavar="KEY=VALUE",
                    help="override a value in every configuration, e.g. -p compute.local_memory=1GiB (repeatable)")
    cp.add_argument("--vary", action="append", default=[], metavar="KEY=V1,V2,...",
                    help="make columns from values of one parameter, e.g. --vary compute.dram.scheduler=fcfs,frfcfs "
                         "(repeatable: every combination)")
    cp.add_argument("--cycle", metavar="TIME", help="one cycle of a cycle-stamped trace, e.g. 0.833ns "
                                                     "(default: the first column's core.trace_cycle or local DRAM tCK)")
    cp.add_argument("--json", metavar="OUT", help="write the full results and the table as JSON (- for stdout)")
    cp.add_argument("--csv", metavar="OUT", help="write the table as CSV")
    cp.add_argument("--format", help="trace format (default: detected from the content)")
    cp.add_argument("--backend", choices=("compiled", "reference"), default=None,
                    help="core backend (default: compiled, or $HWMODEL_BACKEND)")
    cp.add_argument("--chunk", type=int, default=1 << 20, help="records per chunk (default 1048576)")
    cp.add_argument("--quiet", action="store_true", help="no progress bars (they show when stderr is a terminal)")
    cp.set_defaults(func=cmd_compare)
