"""Side-by-side comparison of configurations on one trace: run each, tabulate the metrics, and
give every column after the first its delta to the first (absolute and percent).

    from hwmodel.compare import compare, compare_table, format_table
    results = compare(["ddr4.yaml", "ddr5.yaml"], "trace.npz")
    rows = compare_table(results, ["ddr4", "ddr5"])
    print(format_table(rows, ["ddr4", "ddr5"]))

A row is a dict: `metric` (label), `unit`, `key` (where the number sits in `Result.to_dict()`),
`values` {column: number}, `delta` {column: value - first} and `delta_pct` {column: 100 x delta /
first, None when the first is 0 and the value is not}; the first column has no delta entries.
"""
from __future__ import annotations

import csv
import json
import math
from pathlib import Path

from .stats import json_default

#: (label, unit, dotted key in Result.to_dict(), scale applied to it, text format)
METRICS = (
    ("latency mean", "ns", "latency_ns.mean", 1, ".1f"),
    ("latency p50", "ns", "latency_ns.p50", 1, ".1f"),
    ("latency p95", "ns", "latency_ns.p95", 1, ".1f"),
    ("latency p99", "ns", "latency_ns.p99", 1, ".1f"),
    ("latency max", "ns", "latency_ns.max", 1, ".1f"),
    ("throughput", "M accesses/s", "throughput_maccess_per_s", 1, ".3f"),
    ("DRAM bandwidth local", "GB/s", "dram_GBps.local", 1, ".3f"),
    ("DRAM bandwidth blade", "GB/s", "dram_GBps.blade", 1, ".3f"),
    ("row-hit rate local", "%", "row_hit_rate.local", 100, ".2f"),
    ("row-hit rate blade", "%", "row_hit_rate.blade", 100, ".2f"),
    ("faults", "", "counters.faults", 1, ",d"),
    ("swap-ins", "", "counters.swap_ins", 1, ",d"),
    ("swap-outs", "", "counters.swap_outs", 1, ",d"),
    ("link out", "MB", "counters.link_bytes_out", 1e-6, ".3f"),
    ("link in", "MB", "counters.link_bytes_in", 1e-6, ".3f"),
    ("simulated time", "ms", "sim_time_ns", 1e-6, ".4f"),
)
_FORMAT = {m[2]: m[4] for m in METRICS}


def compare(configs, trace, overrides=(), backend=None, **run_kw) -> list:
    """Run every configuration on the same `trace`; returns one `Result` per configuration.

    configs: paths of YAML files, mappings (as `System.from_dict` takes) or `System`s;
    overrides: `-p key=value` strings applied to every configuration; trace: a path, a
    `hwmodel.trace.Chunk` or a dict of arrays (a `TraceReader` is consumed by one run: pass its
    path instead); run_kw: passed to `System.run` (format, timing, time_unit, chunk_records, ...).
    """
    from .system import System
    from .trace import TraceReader
    configs = list(configs)
    if len(configs) < 1:
        raise ValueError("compare: no configurations given")
    if isinstance(trace, TraceReader):
        raise ValueError("compare: a TraceReader is used up by the first run; pass the trace's path")
    if isinstance(trace, (str, Path)) and not Path(trace).is_file():
        raise ValueError(f"{trace}: no such trace file")
    systems = []
    for c in configs:   # build all first: a bad configuration fails before any run starts
        if isinstance(c, System):
            systems.append(System.from_dict(c.to_dict(), overrides) if overrides else c)
        elif isinstance(c, dict):
            systems.append(System.from_dict(c, overrides))
        else:
            systems.append(System.from_yaml(c, overrides))
    return [s.run(trace, backend=backend, **run_kw) for s in systems]


def _get(d: dict, key: str):
    for part in key.split("."):
        d = d[part]
    return d


def compare_table(results, names) -> list:
    """Rows of METRICS x columns, with each column's delta to the first (see module docstring)."""
    names = list(names)
    if len(names) != len(results):
        raise ValueError(f"compare_table: {len(results)} results but {len(names)} names")
    if len(set(names)) != len(names):
        raise ValueError(f"compare_table: column names must be unique, got {names}")
    dicts = [r.to_dict() if hasattr(r, "to_dict") else r for r in results]
    rows = []
    for label, unit, key, scale, _ in METRICS:
        values = {}
        for name, d in zip(names, dicts):
            v = _get(d, key)
            values[name] = v * scale if scale != 1 else v
        first = values[names[0]] if names else 0
        delta, pct = {}, {}
        for name in names[1:]:
            dv = values[name] - first
            delta[name] = dv
            pct[name] = 100.0 * dv / first if first else (0.0 if dv == 0 else None)
        rows.append({"metric": label, "unit": unit, "key": key, "values": values, "delta": delta,
                     "delta_pct": pct})
    return rows


def _num(v, fmt: str, sign: bool = False) -> str:
    if v is None or (isinstance(v, float) and math.isnan(v)):
        return "n/a"
    if fmt == ",d" and float(v).is_integer():
        v = int(v)
    elif fmt == ",d":
        fmt = ",.1f"
    return format(v, ("+" if sign else "") + fmt)


def _pct(p) -> str:
    return "n/a" if p is None else f"{p:+.1f}%"


def format_table(rows, names, title: str | None = None) -> str:
    """The table as aligned text: metric, unit, then per column its value (and delta to the first)."""
    names = list(names)
    header = ["metric", "unit"] + [names[0]] + [f"{n} (vs {names[0]})" for n in names[1:]]
    body = []
    for r in rows:
        fmt = _FORMAT.get(r["key"], ".4g")
        cells = [r["metric"], r["unit"], _num(r["values"][names[0]], fmt)]
        for n in names[1:]:
            cells.append(f"{_num(r['values'][n], fmt)} ({_num(r['delta'][n], fmt, sign=True)}, "
                         f"{_pct(r['delta_pct'][n])})")
        body.append(cells)
    widths = [max(len(str(line[i])) for line in [header] + body) for i in range(len(header))]
    out = [title] if title else []
    for j, line in enumerate([header] + body):
        out.append("  ".join(c.ljust(widths[i]) if i < 2 else c.rjust(widths[i]) for i, c in enumerate(line)).rstrip())
        if j == 0:
            out.append("  ".join("-" * w for w in widths))
    return "\n".join(out)


def csv_columns(names) -> list:
    names = list(names)
    cols = ["metric", "unit", names[0]]
    for n in names[1:]:
        cols += [n, f"{n} delta", f"{n} delta %"]
    return cols


def write_csv(path, rows, names) -> None:
    """The table as CSV: metric, unit, first column, then value, delta, delta % per column."""
    names = list(names)
    with open(path, "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(csv_columns(names))
        for r in rows:
            line = [r["metric"], r["unit"], r["values"][names[0]]]
            for n in names[1:]:
                p = r["delta_pct"][n]
                line += [r["values"][n], r["delta"][n], "" if p is None else p]
            w.writerow(line)


def write_json(path, results, names, rows, trace=None) -> None:
    """Full results of every column (`Result.to_dict()`, configuration included) and the table."""
    doc = {
        "trace": str(trace) if isinstance(trace, (str, Path)) else (results[0].trace if results else ""),
        "columns": list(names),
        "table": rows,
        "results": {n: r.to_dict() for n, r in zip(names, results)},
    }
    text = json.dumps(doc, indent=2, default=json_default)
    if str(path) == "-":
        print(text)
    else:
        Path(path).write_text(text + "\n")
