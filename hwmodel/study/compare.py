"""Side-by-side comparison of configurations on one trace: run each, tabulate the metrics, and
give every column after the first its delta to the first (absolute and percent).

    from hwmodel.study.compare import compare, compare_table, format_table
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

from ..stats import json_default

#: (label, unit, dotted key in Result.to_dict(), scale applied to it, text format)
METRICS = (
    ("read latency mean", "ns", "latency_ns.read.mean", 1, ".1f"),
    ("read latency p50", "ns", "latency_ns.read.p50", 1, ".1f"),
    ("read latency p95", "ns", "latency_ns.read.p95", 1, ".1f"),
    ("read latency p99", "ns", "latency_ns.read.p99", 1, ".1f"),
    ("read latency max", "ns", "latency_ns.read.max", 1, ".1f"),
    ("write latency mean", "ns", "latency_ns.write.mean", 1, ".1f"),
    ("write latency p99", "ns", "latency_ns.write.p99", 1, ".1f"),
    ("simulated throughput", "M accesses/s", "simulated_throughput_maccess_per_s", 1, ".3f"),
    ("DRAM bandwidth local", "GB/s", "dram_GBps.local", 1, ".3f"),
    ("DRAM bandwidth blade", "GB/s", "dram_GBps.blade", 1, ".3f"),
    ("row-hit rate local", "%", "row_hit_rate.local", 100, ".2f"),
    ("row-hit rate blade", "%", "row_hit_rate.blade", 100, ".2f"),
    ("faults", "", "counters.faults", 1, ",d"),
    ("swap-ins", "", "counters.swap_ins", 1, ",d"),
    ("swap-outs", "", "counters.swap_outs", 1, ",d"),
    ("link out", "MB", "counters.link_bytes_out", 1e-6, ".3f"),
    ("link in", "MB", "counters.link_bytes_in", 1e-6, ".3f"),
    ("first arrival", "ms", "arrivals_ns.first", 1e-6, ".6f"),
    ("last arrival", "ms", "arrivals_ns.last", 1e-6, ".6f"),
    ("simulated time", "ms", "sim_time_ns", 1e-6, ".4f"),
)
_FORMAT = {m[2]: m[4] for m in METRICS}
# a sampled run's estimate of each metric (Result.sampling["estimates"]); the counters are exact
_ESTIMATE = {"latency_ns.read.mean": "read_latency_mean_ns", "latency_ns.read.p50": "read_latency_p50_ns",
             "latency_ns.read.p95": "read_latency_p95_ns", "latency_ns.read.p99": "read_latency_p99_ns",
             "latency_ns.write.mean": "write_latency_mean_ns", "latency_ns.write.p99": "write_latency_p99_ns",
             "simulated_throughput_maccess_per_s": "simulated_throughput_maccess_per_s",
             "dram_GBps.local": "dram_GBps_local", "dram_GBps.blade": "dram_GBps_blade",
             "row_hit_rate.local": "row_hit_rate_local", "row_hit_rate.blade": "row_hit_rate_blade",
             "sim_time_ns": "sim_time_ns"}


def build_systems(configs, overrides=(), vary=(), names=None) -> tuple:
    """(names, systems) of a comparison: each configuration (a YAML path, a mapping, a `System`;
    none = the default system) with `overrides`, times every combination of the `vary` lists
    ("key=v1,v2", Ramulator-style `-p` values), each combination a column named by what it varies
    ("scheduler=fcfs"), after the configuration's name (`names`, default the file stems) when there
    are several configurations."""
    from itertools import product

    from ..system import System
    configs = list(configs)
    if not configs:
        configs, names = [{}], ["default"]
    if names is None:
        names = [Path(c).stem if isinstance(c, (str, Path)) else f"config{i}" for i, c in enumerate(configs)]
    axes = []
    for item in vary:
        if "=" not in item:
            raise ValueError(f"--vary {item!r}: expected key.path=value1,value2,...")
        key, values = item.split("=", 1)
        values = [v.strip() for v in values.split(",")]
        if len(values) < 2 or not all(values):
            raise ValueError(f"--vary {item!r}: give at least two values, separated by commas")
        axes.append([(key.strip(), v) for v in values])
    combos = list(product(*axes)) if axes else [()]
    columns, systems = [], []
    for cname, c in zip(names, configs):
        for combo in combos:
            extra = [f"{k}={v}" for k, v in combo]
            label = ",".join(f"{k.rsplit('.', 1)[-1]}={v}" for k, v in combo)
            columns.append(f"{cname}:{label}" if combo and len(configs) > 1 else label or cname)
            ov = list(overrides) + extra
            if isinstance(c, System):
                systems.append(System.from_dict(c.to_dict(), ov) if ov else c)
            elif isinstance(c, dict):
                systems.append(System.from_dict(c, ov))
            else:
                systems.append(System.from_yaml(c, ov))
    return columns, systems


def compare(configs, trace, overrides=(), backend=None, vary=(), cycle=None, **run_kw) -> list:
    """Run every configuration on the same workload; returns one `Result` per column.

    configs: paths of YAML files, mappings (as `System.from_dict` takes) or `System`s;
    overrides: `-p key=value` strings applied to every configuration; vary: "key=v1,v2" strings
    whose combinations make the columns (see `build_systems`); trace: a path, a
    `hwmodel.trace.Chunk` or a dict of arrays (a `TraceReader` is consumed by one run: pass its
    path instead); run_kw: passed to `System.run` (format, timing, time_unit, chunk_records, ...).

    One workload in every column: the trace's time column is converted to arrivals once, with
    the scale of the first column (`cycle`, else its core.trace_cycle, else its local DRAM's tCK
    for cycle-stamped traces; its core clock and CPI for instruction gaps), so a faster DRAM in a
    later column meets the same arrivals instead of a trace replayed faster. `Result.ps_per_trace_unit`
    of every column holds that scale.
    """
    from ..core.runner import as_source
    from ..trace import TraceReader
    if isinstance(trace, TraceReader):
        raise ValueError("compare: a TraceReader is used up by the first run; pass the trace's path")
    if isinstance(trace, (str, Path)) and not Path(trace).is_file():
        raise ValueError(f"{trace}: no such trace file")
    _, systems = build_systems(configs, overrides, vary)   # a bad configuration fails before any run
    if not systems:
        raise ValueError("compare: no configurations given")
    src = as_source(trace, format=run_kw.get("format"), timing=run_kw.get("timing"),
                    time_unit=run_kw.get("time_unit"))
    scale = systems[0].ps_per_trace_unit(src.time_unit, cycle) if src.timing != "none" else None
    return [s.run(trace, backend=backend, ps_per_unit=scale, **run_kw) for s in systems]


def config_differences(results, names) -> list:
    """The parameters whose values differ between the columns' configurations, as
    [(dotted path, {column: value})], in configuration order: what a comparison compares."""
    flat = [_flatten(r.config if hasattr(r, "config") else r["config"]) for r in results]
    keys = list(dict.fromkeys(k for f in flat for k in f))
    return [(k, {n: f.get(k) for n, f in zip(names, flat)}) for k in keys
            if len({repr(f.get(k)) for f in flat}) > 1]


def _flatten(d, prefix="") -> dict:
    out = {}
    items = d.items() if isinstance(d, dict) else enumerate(d) if isinstance(d, list) else None
    if items is None:
        return {prefix[:-1]: d}
    for k, v in items:
        out.update(_flatten(v, f"{prefix}{k}."))
    return out


def differences_note(results, names, limit=8) -> str:
    """The differing parameters in words, for the table's header."""
    diff = config_differences(results, names)
    if not diff:
        return "the configurations are identical"
    parts = [f"{k}: {' | '.join(str(v[n]) for n in names)}" for k, v in diff[:limit]]
    more = f" (and {len(diff) - limit} more)" if len(diff) > limit else ""
    return "columns differ in " + "; ".join(parts) + more


# How the detailed DRAM model's response to each controller setting was checked against DRAMsim3
# (tests/test_crosscheck_variants.py: the six cross-check traces with one [system] line changed;
# README, DRAM model). Settings not listed have no peer check of their response.
DRAM_VALIDATION = {
    "row_policy": "equals DRAMsim3's change (open -> closed page)",
    "cmd_queue_size": "equals DRAMsim3's change (8 -> 2)",
    "trans_queue_size": "equals DRAMsim3's change (32 -> 8)",
    "address_mapping": "equals DRAMsim3's change (rochrababgco -> robabgrachco)",
    "refresh_policy": "differs from DRAMsim3's change on 5 of 6 traces (staggered -> simultaneous: "
                      "DRAMsim3 refreshes rank 0 alone)",
}


def validation_note(results, names) -> str:
    """For DRAM settings that differ between the columns: how the model's response to each was
    validated against DRAMsim3, and which DRAM model each column ran ("" when none differ)."""
    diff = [k for k, _ in config_differences(results, names) if ".dram." in f".{k}"]
    settings = sorted({k.rsplit(".", 1)[1] for k in diff})
    if not settings:
        return ""
    flat = [_flatten(r.config if hasattr(r, "config") else r["config"]) for r in results]
    drams = sorted({k.rsplit(".", 1)[0] for k in diff})
    models = sorted({str(f.get(f"{d}.model")) for f in flat for d in drams})
    said = [f"{k} {DRAM_VALIDATION[k]}" if k in DRAM_VALIDATION else f"{k} has no peer check" for k in settings]
    model_note = ("" if models == ["detailed"] else
                  f"; those checks hold for dram.model detailed, these columns run {', '.join(models)} "
                  f"(fast: within 15% of DRAMsim3's change on 15 of 30 pairs; simple: none)")
    return "DRAM response validated against DRAMsim3 (README, DRAM model): " + "; ".join(said) + model_note


def arrival_note(results, names) -> str:
    """How the trace's times became arrivals in every column, for the table's header."""
    r = results[0]
    if not r.trace_time_unit:
        return "untimed trace: every column issues it through its own core model"
    behind = [n for n, x in zip(names, results) if x.fell_behind()]
    return (f"one {r.trace_time_unit} of the trace = {r.ps_per_trace_unit:g} ps in every column "
            f"(the scale of {names[0]}): all columns replay the same arrivals"
            + (f"; {'every column' if len(behind) == len(names) else ', '.join(behind)} fell behind them (the "
               f"latencies are mostly the queue that built up)" if behind else ""))


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
        values, ci = {}, {}
        for name, d in zip(names, dicts):
            v = _get(d, key)
            values[name] = v * scale if scale != 1 and v is not None else v
            if d.get("sampling") is not None:     # a sampled run: the metric's 95% half-width, or exact
                e = d["sampling"]["estimates"].get(_ESTIMATE.get(key, ""))
                h = e["half_width"] if e is not None else 0 if key.startswith("counters.") else None
                ci[name] = h * scale if h is not None else None
        first = values[names[0]] if names else 0
        delta, pct = {}, {}
        for name in names[1:]:
            if values[name] is None or first is None:   # no such accesses in a column
                delta[name] = pct[name] = None
                continue
            dv = values[name] - first
            delta[name] = dv
            pct[name] = 100.0 * dv / first if first else (0.0 if dv == 0 else None)
        row = {"metric": label, "unit": unit, "key": key, "values": values, "delta": delta, "delta_pct": pct}
        if ci:
            row["ci95_half"] = ci     # sampled columns: 95% half-width (0: exact, None: no interval)
        rows.append(row)
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
        ci = r.get("ci95_half", {})

        def pm(n):     # a sampled column's interval
            if n not in ci:
                return ""
            return " +-n/a" if ci[n] is None else "" if ci[n] == 0 else f" +-{_num(ci[n], fmt)}"
        cells = [r["metric"], r["unit"], _num(r["values"][names[0]], fmt) + pm(names[0])]
        for n in names[1:]:
            cells.append(f"{_num(r['values'][n], fmt)}{pm(n)} ({_num(r['delta'][n], fmt, sign=True)}, "
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
        "arrivals": arrival_note(results, names) if results else "",
        "validation": validation_note(results, names) if results else "",
        "differences": [{"parameter": k, "values": v} for k, v in config_differences(results, names)],
        "table": rows,
        "results": {n: r.to_dict() for n, r in zip(names, results)},
    }
    text = json.dumps(doc, indent=2, default=json_default)
    if str(path) == "-":
        print(text)
    else:
        Path(path).write_text(text + "\n")
