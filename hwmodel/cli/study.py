"""`hwmodel sweep` and `hwmodel plot`: the command-line face of hwmodel.study (sweeps, plot).

`add_commands(subparsers)` registers both; each sets `func(args) -> int` and raises ValueError for
bad input (the CLI's main turns that into one line and exit 1).
"""
from __future__ import annotations

import argparse
import sys
import warnings
from pathlib import Path

CONFIG_SUFFIXES = (".yaml", ".yml")
SHOW_ROWS = 40      # points listed after a sweep; the rest are in the results file


def add_commands(subparsers) -> None:
    sw = subparsers.add_parser(
        "sweep", help="run a parameter grid over traces (process pool or Dask), resumable",
        description="Run every combination of the -p values (and a grid file's grid) on every TRACE. "
                    "Each finished point is appended to --out at once; running the same command "
                    "again skips points already done there and retries failed ones.")
    sw.add_argument("files", nargs="+", metavar="FILE",
                    help="[CONFIG.yaml|GRID.yaml] TRACE...: a base configuration or a grid file "
                         "{base, grid, traces}, then trace files "
                         "(given traces replace the grid file's)")
    sw.add_argument("-p", "--param", action="append", default=[], metavar="KEY=V1[,V2...]",
                    help="a grid axis, e.g. -p hypervisor.policy=fgra,page_swap (repeatable; "
                         "quote a value holding a comma: -p 'k=\"a,b\"')")
    sw.add_argument("--out", default="results.jsonl", help="JSON-lines results file (default results.jsonl)")
    sw.add_argument("--executor", choices=("process", "dask", "serial"), default="process",
                    help="where points run (default: a local process pool)")
    sw.add_argument("--workers", type=int, default=None,
                    help="processes (process pool, or local Dask cluster); default: CPU count")
    sw.add_argument("--scheduler", metavar="ADDR", help="Dask scheduler address, e.g. tcp://host:8786 "
                                                        "(with --executor dask; default: a local cluster)")
    sw.add_argument("--backend", choices=("compiled", "reference"), default=None, help="core backend")
    sw.add_argument("--slowdown", action="store_true",
                    help="also run each point all-local and record the slowdown (twice the work)")
    sw.add_argument("--format", help="trace format (default: detected)")
    sw.add_argument("--chunk", type=int, default=1 << 20, help="records per chunk (default 1048576)")
    sw.add_argument("--progress", action=argparse.BooleanOptionalAction, default=None,
                    help="progress bar (tqdm); default: on when stderr is a terminal")
    sw.set_defaults(func=cmd_sweep)

    pl = subparsers.add_parser("plot", help="plot sweep results (needs matplotlib)",
                               description="Draw a figure from a results file written by hwmodel sweep.")
    pl.add_argument("results", metavar="RESULTS.jsonl")
    pl.add_argument("--kind", choices=("cdf", "slowdown", "bandwidth"), default="cdf",
                    help="cdf: latency CDF per point; slowdown: slowdown vs local-memory fraction per "
                         "policy; bandwidth: latency vs DRAM bandwidth per policy")
    pl.add_argument("--out", help="figure file, .png/.svg/.pdf (default: RESULTS-KIND.png)")
    pl.add_argument("--where", action="append", default=[], metavar="KEY=VALUE[,VALUE...]",
                    help="plot only points with these values, e.g. --where trace=a.npz (repeatable)")
    pl.add_argument("--group", action="append", default=None, metavar="KEY",
                    help="lines by these keys (slowdown, bandwidth; default hypervisor.policy)")
    pl.add_argument("--x", help="bandwidth: the x number (default dram_GBps = local + blade)")
    pl.add_argument("--y", help="bandwidth: the y number (default latency_ns.read.mean)")
    pl.add_argument("--title")
    pl.set_defaults(func=cmd_plot)


def _inputs(args):
    from ..config import load_yaml
    from ..study.sweeps import is_grid_file, load_grid, parse_axes
    files = list(args.files)
    base, grid, traces = None, {}, []
    if Path(files[0]).suffix.lower() in CONFIG_SUFFIXES:
        first = files.pop(0)
        if is_grid_file(load_yaml(first)):
            spec = load_grid(first)
            base, grid, traces = spec["base_config"], spec["grid"], spec["traces"]
        else:
            base = first
    if files:
        traces = files
    if not traces:
        raise ValueError("sweep: no trace files (give them after the configuration, or as traces: in a grid file)")
    for t in traces:
        if not Path(t).is_file():
            raise ValueError(f"{t}: no such trace file")
    grid = {**grid, **parse_axes(args.param)}     # a -p axis replaces the grid file's axis of that key
    return base, grid, traces


def cmd_sweep(args) -> int:
    from ..study.sweeps import SweepWarning, failed_message, load_results, sweep
    if args.chunk < 1:
        raise ValueError(f"--chunk {args.chunk}: must be >= 1")
    if args.workers is not None and args.workers < 1:
        raise ValueError(f"--workers {args.workers}: must be >= 1")
    if args.scheduler and args.executor != "dask":
        raise ValueError(f"--scheduler {args.scheduler}: needs --executor dask")
    base, grid, traces = _inputs(args)
    earlier = set()
    if Path(args.out).exists():
        earlier = {r["key"] for r in load_results(args.out) if r["status"] == "ok"}
    progress = sys.stderr.isatty() if args.progress is None else args.progress
    with warnings.catch_warnings():     # failed points are reported below, with the table
        warnings.simplefilter("ignore", SweepWarning)
        rows = sweep(base, grid, traces, out=args.out, executor=args.executor, workers=args.workers,
                     scheduler=args.scheduler, progress=progress, backend=args.backend, slowdown=args.slowdown,
                     format=args.format, chunk_records=args.chunk, as_frame=False)
    _print_table(rows)
    failed = [r for r in rows if r["status"] != "ok"]
    n_earlier = sum(r["key"] in earlier for r in rows)
    print(f"{len(rows)} points: {len(rows) - len(failed)} ok ({n_earlier} from earlier runs), "
          f"{len(failed)} failed -> {args.out}")
    if failed:
        raise ValueError(failed_message(rows, args.out) + "; run the same command again to retry them")
    return 0


def _print_table(rows) -> None:
    from ..study.plot import point_label, varying_keys
    keys = [k for k in varying_keys(rows) if k != "trace"]
    for r in rows[:SHOW_ROWS]:
        label = point_label(r, keys) if keys else ""
        name = Path(str(r["trace"])).name
        if r["status"] != "ok":
            print(f"  {r['key']}  {name:<16} {label}  FAILED: {r['error']}")
            continue
        sd = r.get("slowdown.sim_time")
        print(f"  {r['key']}  {name:<16} {label}  read mean {r['latency_ns.read.mean']:.1f} ns  "
              f"p99 {r['latency_ns.read.p99']:.1f} ns  sim {r['sim_time_ns'] / 1e6:.4f} ms"
              + (f"  slowdown {sd:.3f}x" if sd is not None else "")
              + ("  (fell behind the trace: latencies are mostly queueing)" if r.get("fell_behind") else ""))
    if len(rows) > SHOW_ROWS:
        print(f"  ... {len(rows) - SHOW_ROWS} more")


def cmd_plot(args) -> int:
    from ..study.plot import plot
    out = args.out or str(Path(args.results).with_suffix("")) + f"-{args.kind}.png"
    try:
        plot(args.results, kind=args.kind, out=out, where=args.where, group=args.group,
             x=args.x, y=args.y, title=args.title)
    except ImportError as e:
        raise ValueError(str(e)) from None
    print(f"wrote {out}")
    return 0
