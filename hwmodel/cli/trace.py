"""`hwmodel trace info|convert|merge|gen`: look at, translate and make traces (thin over hwmodel.trace)."""
from __future__ import annotations

import json

from ..units import parse_size, plural


def cmd_info(args):
    from ..trace import trace_info
    info = trace_info(args.trace, format=args.format)
    if args.json:
        print(json.dumps(info, indent=2))
        return 0
    unit = info.get("time_unit", "")
    print(f"{args.trace}: {info['format']} ({info.get('compression') or 'uncompressed'}), "
          f"timing {info['timing']}" + (f" in {plural(unit)}" if info["timing"] != "none" else ""))
    print(f"  records          {info['records']:>16,}   reads {info['reads']:,}  writes {info['writes']:,}")
    print(f"  distinct pages   {info['distinct_pages']:>16,}   (4 KiB)")
    print(f"  footprint        {info['footprint_bytes'] / 2**20:>16,.2f} MiB   (distinct 64 B lines)")
    if info["records"]:
        print(f"  address range    {info['addr_min']:#x} .. {info['addr_max']:#x}")
    if info["timing"] != "none":
        print(f"  duration         {info['duration']:>16,} {plural(unit)}")
    for key in ("skipped_lines", "ignored_records", "instruction_fetches"):
        if info.get(key):
            print(f"  {key.replace('_', ' '):<16} {info[key]:>16,}")
    return 0


def in_cycles(chunks, unit: str, cycle: str):
    """The chunks with their ps or ns times as cycles of `cycle` (a time, e.g. 0.833ns), rounded to
    the nearest: a trace for a simulator that counts its DRAM's clock (dramsim3, dramsim2)."""
    import dataclasses

    from ..units import MAX_TIME_PS, TIME_UNITS_PS, parse_time
    cyc = parse_time(cycle, "--cycle")
    if cyc <= 0:
        raise ValueError(f"--cycle {cycle}: must be > 0")
    if unit not in TIME_UNITS_PS:
        raise ValueError(f"--cycle turns ps or ns times into cycles; this trace's are in {plural(unit)}")
    per = int(TIME_UNITS_PS[unit])       # ps per trace unit (exact: 1 or 1000)
    for ch in chunks:
        if len(ch) and int(ch.time.max()) > MAX_TIME_PS // per:
            raise ValueError(f"record {ch.first_line + int(ch.time.argmax())}: time {int(ch.time.max())} {unit} is "
                             f"beyond the longest simulated time")
        yield dataclasses.replace(ch, time=(ch.time * per + cyc // 2) // cyc)


def cmd_convert(args):
    from ..trace import open_trace, write_trace
    reader = open_trace(args.input, format=args.format, skip_bad_lines=args.skip_bad_lines)
    if args.cycle:
        n = write_trace(args.output, in_cycles(reader, reader.time_unit, args.cycle), format=args.to,
                        timing=reader.timing, time_unit="cycle", lossy=args.lossy)
    else:
        n = write_trace(args.output, reader, format=args.to, lossy=args.lossy)
    print(f"{args.input} ({reader.format}) -> {args.output} ({args.to}): {n:,} records"
          + (f", {reader.skipped_lines:,} bad lines skipped" if reader.skipped_lines else ""))
    return 0


def cmd_merge(args):
    from ..trace import merge_traces, write_trace
    merged = merge_traces(args.inputs, format=args.format, skip_bad_lines=args.skip_bad_lines)
    n = write_trace(args.output, merged, format=args.to, lossy=args.lossy)
    print(f"{' + '.join(args.inputs)} -> {args.output} ({args.to}): {n:,} records, trace i as VM i"
          + (f", {merged.skipped_lines:,} bad lines skipped" if merged.skipped_lines else ""))
    return 0


def _keywords(items, flag) -> dict:
    """NAME=VALUE strings as numbers (an int, else a float)."""
    kw = {}
    for item in items:
        k, sep, v = item.partition("=")
        if not sep or not k.strip():
            raise ValueError(f"{flag} {item!r}: expected name=value")
        try:
            kw[k.strip()] = int(v)
        except ValueError:
            try:
                kw[k.strip()] = float(v)
            except ValueError:
                raise ValueError(f"{flag} {item!r}: {v!r} is not a number") from None
    return kw


def _phases(items) -> list:
    """--phase KIND:FRACTION[:NAME=VALUE,...] -> [(kind, fraction, {keywords}), ...]."""
    out = []
    for item in items:
        parts = item.split(":", 2)
        if len(parts) < 2:
            raise ValueError(f"--phase {item!r}: expected KIND:FRACTION[:NAME=VALUE,...]")
        try:
            fraction = float(parts[1])
        except ValueError:
            raise ValueError(f"--phase {item!r}: fraction {parts[1]!r} is not a number") from None
        kw = _keywords([x for x in parts[2].split(",") if x], "--phase") if len(parts) == 3 else {}
        out.append((parts[0], fraction, kw))
    return out


def cmd_gen(args):
    from ..trace import generate, write_trace
    kw = _keywords(args.kw, "--kw")
    if args.kind == "mix":
        if not args.phase:
            raise ValueError("trace gen mix: give its phases, e.g. --phase stream:0.5 --phase zipf:0.5:alpha=1.2")
        kw["phases"] = _phases(args.phase)
    elif args.phase:
        raise ValueError(f"--phase: only for kind mix, not {args.kind!r}")
    chunk = generate(args.kind, args.n, parse_size(args.footprint, "--footprint"), read_ratio=args.read_ratio,
                     seed=args.seed, interval=args.interval, **kw)
    timing = "timestamp" if args.interval else "none"
    write_trace(args.output, chunk, format=args.to, timing=timing, time_unit=args.time_unit if args.interval else None,
                lossy=args.lossy)
    print(f"{args.output}: {args.n:,} {args.kind} records over {args.footprint} ({args.to}, seed {args.seed})")
    return 0


def add_commands(subparsers) -> None:
    tr = subparsers.add_parser("trace", help="inspect, convert and generate traces")
    sub = tr.add_subparsers(dest="trace_command", required=True)

    info = sub.add_parser("info", help="records, reads/writes, pages, footprint, address range, duration")
    info.add_argument("trace")
    info.add_argument("--format", help="trace format (default: detected)")
    info.add_argument("--json", action="store_true", help="print the numbers as JSON")
    info.set_defaults(func=cmd_info)

    conv = sub.add_parser("convert", help="convert a trace between formats")
    conv.add_argument("input")
    conv.add_argument("output", help="output path; .gz/.xz/.bz2/.zst compress text formats")
    conv.add_argument("--format", help="input format (default: detected)")
    conv.add_argument("--to", default="native", help="output format (default native)")
    conv.add_argument("--lossy", action="store_true", help="allow dropping columns the target cannot hold")
    conv.add_argument("--skip-bad-lines", action="store_true", help="skip malformed lines (they are counted)")
    conv.add_argument("--cycle", metavar="TIME", help="write ps/ns times as cycles of this clock, e.g. 0.833ns "
                      "(dramsim3 and dramsim2 count their DRAM's cycles)")
    conv.set_defaults(func=cmd_convert)

    mrg = sub.add_parser("merge", help="merge timestamped traces by time, trace i as VM i")
    mrg.add_argument("inputs", nargs="+", metavar="TRACE")
    mrg.add_argument("-o", "--output", required=True, help="output path")
    mrg.add_argument("--format", help="input format (default: detected per file)")
    mrg.add_argument("--to", default="native", help="output format (default native)")
    mrg.add_argument("--lossy", action="store_true", help="allow dropping columns the target cannot hold")
    mrg.add_argument("--skip-bad-lines", action="store_true", help="skip malformed lines (they are counted)")
    mrg.set_defaults(func=cmd_merge)

    from ..trace.gen import KINDS
    gen = sub.add_parser("gen", help="generate a seeded synthetic trace",
                         description="Generate a seeded synthetic trace (hwmodel.trace.generate): "
                                     + ", ".join(KINDS) + ". mix strings phases together: "
                                     "--phase stream:0.5 --phase zipf:0.5:alpha=1.2.")
    gen.add_argument("kind", choices=KINDS, metavar="KIND", help=", ".join(KINDS))
    gen.add_argument("output")
    gen.add_argument("-n", type=int, default=1_000_000, help="records (default 1,000,000)")
    gen.add_argument("--footprint", default="1GiB", help="address range (default 1GiB)")
    gen.add_argument("--read-ratio", type=float, default=0.7)
    gen.add_argument("--seed", type=int, default=0)
    gen.add_argument("--interval", type=int, default=0, help="time between records (0 = untimed)")
    gen.add_argument("--time-unit", default="cycle", help="unit of --interval (ps, ns, cycle)")
    gen.add_argument("--to", default="native", help="output format (default native)")
    gen.add_argument("--kw", action="append", default=[], metavar="NAME=VALUE",
                     help="generator keyword, e.g. --kw alpha=1.2 or --kw stride=8192")
    gen.add_argument("--phase", action="append", default=[], metavar="KIND:FRACTION[:NAME=VALUE,...]",
                     help="mix: one phase, a fraction of -n records of KIND with its keywords (repeatable, in order)")
    gen.add_argument("--lossy", action="store_true", help="allow dropping columns the target cannot hold "
                                                          "(e.g. the times of an --interval trace written as ramulator)")
    gen.set_defaults(func=cmd_gen)
