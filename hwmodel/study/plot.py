"""Pictures of results (matplotlib, the `plot` extra, imported only when a plot is drawn).

    from hwmodel.study.plot import plot
    fig = plot("results.jsonl", kind="cdf", out="cdf.png")
    fig = plot(table, kind="slowdown", where={"trace": "a.npz"})   # a sweep's DataFrame or rows
    fig = plot([result_a, result_b], kind="cdf")                    # Result objects

Kinds:
  cdf        read latency CDF, one line per configuration and trace. From a `Result` it is exact to the
             histogram bin (< 0.8% wide); from sweep rows it is drawn through the stored quantiles
             (min, p1..p99, p99.9, p99.99, max).
  slowdown   slowdown vs all-local (simulated time) against the local-memory fraction (local
             memory / VM memory), one line per policy (needs a sweep run with slowdown=True).
  bandwidth  mean read latency against achieved DRAM bandwidth: the bandwidth-latency curve of a
             controller over a load sweep, one line per policy.
  timeseries link and DRAM bandwidth and mean read latency per epoch against simulated time, from
             runs made with epoch=... (`hwmodel run --epoch 100us`); one set of lines per run.
A returned `matplotlib.figure.Figure` is not tied to pyplot (no display, thread-safe); `out`
writes it, in the format of the suffix (.png, .svg, .pdf).
"""
from __future__ import annotations

from pathlib import Path

KINDS = ("cdf", "slowdown", "bandwidth", "timeseries")
FORMATS = (".png", ".svg", ".pdf")
MAX_LEGEND = 20     # more lines than this: no legend (it would hide the plot)

#: axis labels of the numbers a plot can use, with their units
LABELS = {
    **{f"latency_ns.{kind}.{stat}": f"{label} {kind} latency (ns)" for kind in ("read", "write", "all")
       for stat, label in (("mean", "mean"), ("p50", "median"), ("p95", "p95"), ("p99", "p99"),
                           ("max", "maximum"))},
    "dram_GBps": "DRAM bandwidth, local + memory blade (GB/s)",
    "dram_GBps.local": "local DRAM bandwidth (GB/s)",
    "dram_GBps.blade": "memory-blade DRAM bandwidth (GB/s)",
    "link_GBps.out": "link bandwidth, compute to blade (GB/s)",
    "link_GBps.in": "link bandwidth, blade to compute (GB/s)",
    "simulated_throughput_maccess_per_s": "simulated throughput (M accesses/s)",
    "slowdown.sim_time": "slowdown vs all-local (simulated time, x)",
    "slowdown.mean_read_latency": "slowdown vs all-local (mean read latency, x)",
    "local_memory_fraction": "local memory / VM memory",
    "sim_time_ns": "simulated time (ns)",
}
CDF_X, CDF_Y = "read latency (ns)", "fraction of reads"


def _figure():
    try:
        from matplotlib.figure import Figure
    except ImportError:
        raise ImportError("plotting needs matplotlib: pip install 'hwmodel[plot]'") from None
    return Figure(figsize=(6.4, 4.4), layout="constrained")


# -- rows from whatever the caller has ----------------------------------------------------------
def as_rows(results) -> list:
    """Result(s), sweep rows, a DataFrame or a results-file path -> rows of finished points."""
    from ..stats import Result
    if isinstance(results, (str, Path)):
        from .sweeps import load_results
        results = load_results(results)
    elif isinstance(results, Result):
        results = [results]
    elif hasattr(results, "to_dict") and hasattr(results, "columns"):   # a pandas DataFrame
        results = results.to_dict("records")
    rows = []
    for r in results:
        if isinstance(r, Result):
            from .sweeps import result_row
            row = {"trace": r.trace, "status": "ok", **result_row(r), "_hist": r.hist[0]}   # reads
            if r.epochs is not None:
                row["time_series"] = r.time_series()
        elif isinstance(r, dict):
            row = r
        else:
            raise ValueError(f"plot: cannot plot a {type(r).__name__}; give Results, sweep rows, "
                             f"a DataFrame or a results file")
        if row.get("status", "ok") == "ok":
            rows.append(row)
    return rows


def field(row: dict, name: str):
    """A row's value by name: a column, a grid value, or a dotted path in its resolved config."""
    if name in row and row[name] is not None:
        return row[name]
    params = row.get("params")
    if isinstance(params, dict) and name in params:
        return params[name]
    if name == "dram_GBps":
        return _num(row, "dram_GBps.local") + _num(row, "dram_GBps.blade")
    if name == "local_memory_fraction":
        return _local_fraction(row)
    node = row.get("config")
    for part in name.split("."):
        if isinstance(node, dict) and part in node:
            node = node[part]
        elif isinstance(node, list) and part.isdigit() and int(part) < len(node):
            node = node[int(part)]
        else:
            return None
    return node


def _num(row, name) -> float:
    v = field(row, name)
    try:
        v = float(v)
    except (TypeError, ValueError):
        v = float("nan")
    if v != v:
        raise ValueError(f"plot: rows have no number {name!r}"
                         + ("; run the sweep with slowdown=True (hwmodel sweep --slowdown)"
                            if name.startswith("slowdown") else ""))
    return v


def _half_width(row, name):
    """The 95% half-width of a sampled run's estimate of `name` (a result key), or None (not
    sampled, exact, or no interval)."""
    from .compare import _ESTIMATE
    est = _ESTIMATE.get(name)
    h = row.get(f"sampling.estimates.{est}.half_width") if est else None
    return float(h) if isinstance(h, (int, float)) and h == h and h != float("inf") else None


def _local_fraction(row) -> float:
    from ..units import parse_size
    cb = (row.get("config") or {}).get("compute") or {}
    guest = sum(parse_size(vm["memory"]) for vm in cb.get("vms", []))
    if not guest:
        return float("nan")
    return min(parse_size(cb["local_memory"]), guest) / guest


def _select(rows, where) -> list:
    if not where:
        return rows
    if not isinstance(where, dict):
        from .sweeps import parse_axes
        where = {k: v[0] if len(v) == 1 else v for k, v in parse_axes(where).items()}
    out = []
    for r in rows:
        ok = True
        for k, want in where.items():
            got = field(r, k)
            wants = want if isinstance(want, list) else [want]
            if k == "trace" and isinstance(got, str):
                got = [got, Path(got).name]
            else:
                got = [got]
            if not any(g == w or str(g) == str(w) for g in got for w in wants):
                ok = False
                break
        if ok:
            out.append(r)
    if not out:
        raise ValueError(f"plot: no finished point matches {where}")
    return out


def varying_keys(rows) -> list:
    """Grid keys whose values differ between rows, in grid order; plus trace if it varies."""
    keys = []
    for r in rows:
        for k in r.get("params") or {}:
            if k not in keys:
                keys.append(k)
    keys = [k for k in keys if len({repr(field(r, k)) for r in rows}) > 1]
    if len({r.get("trace") for r in rows}) > 1:
        keys.append("trace")
    return keys


def point_label(row, keys) -> str:
    short = [k.rsplit(".", 1)[-1] for k in keys]
    names = [s if short.count(s) == 1 else k for s, k in zip(short, keys)]
    parts = []
    for name, k in zip(names, keys):
        v = field(row, k)
        parts.append(Path(v).name if k == "trace" and isinstance(v, str) else f"{name}={v}")
    return ", ".join(parts) or str(row.get("trace") or "")


def _axes(fig):
    """Axes whose lines differ by colour, then by line style (40 distinguishable lines)."""
    from cycler import cycler
    import matplotlib as mpl
    ax = fig.add_subplot()
    colors = mpl.rcParams["axes.prop_cycle"].by_key().get("color", ["C0"])
    ax.set_prop_cycle(cycler(linestyle=["-", "--", ":", "-."]) * cycler(color=colors))
    return ax


def _finish(fig, ax, n_lines, out, title):
    if 0 < n_lines <= 6:
        ax.legend(fontsize="small")
    elif 6 < n_lines <= MAX_LEGEND:     # beside the axes, where it hides no line
        fig.set_figwidth(fig.get_figwidth() + 3.6)
        ax.legend(fontsize="small", loc="upper left", bbox_to_anchor=(1.01, 1.0))
    if title:
        ax.set_title(title)
    ax.grid(True, alpha=0.3)
    if out is not None:
        suffix = Path(out).suffix.lower()
        if suffix not in FORMATS:
            raise ValueError(f"{out}: unknown figure format {suffix or '(none)'}; use {', '.join(FORMATS)}")
        fig.savefig(out, dpi=150)
    return fig


# -- the plots ---------------------------------------------------------------------------------
def plot(results, kind="cdf", out=None, where=None, group=None, x=None, y=None, title=None):
    """Draw `kind` (cdf | slowdown | bandwidth) from `results`; write it to `out` if given and
    return the Figure. `where` ({key: value} or ["key=value"]) keeps matching points only;
    `group` (key or keys, default hypervisor.policy) makes the lines of slowdown/bandwidth;
    `x`/`y` choose other numbers for bandwidth (e.g. x="link_GBps.in", y="latency_ns.read.p99")."""
    if kind not in KINDS:
        raise ValueError(f"plot kind {kind!r} is not one of {', '.join(KINDS)}")
    rows = _select(as_rows(results), where)
    if not rows:
        raise ValueError("plot: no finished (status ok) points to plot")
    if kind == "cdf":
        return latency_cdf(rows, out, title)
    if kind == "timeseries":
        return time_series(rows, out, title)
    groups = [group] if isinstance(group, str) else list(group or ["hypervisor.policy"])
    if kind == "slowdown":
        return _curves(rows, "local_memory_fraction", "slowdown.sim_time", groups, out, title,
                       split_traces=True)
    return _curves(rows, x or "dram_GBps", y or "latency_ns.read.mean", groups, out, title, split_traces=False)


def time_series(rows, out=None, title=None):
    """Per-epoch link and DRAM bandwidth (top) and mean read latency (bottom) against time."""
    import numpy as np
    series = [(r, r.get("time_series")) for r in rows if r.get("time_series")]
    if not series:
        raise ValueError("plot: no time series in these results; run with epoch=... (hwmodel run --epoch 100us)")
    fig = _figure()
    fig.set_figheight(6.0)
    top, bottom = fig.subplots(2, 1, sharex=True)
    keys = varying_keys([r for r, _ in series])
    n = 0
    for row, ts in series:
        t_ms = np.asarray(ts["time_ns"], float) / 1e6
        who = point_label(row, keys) if len(series) > 1 else ""
        for name, label in (("link_out_GBps", "link out"), ("link_in_GBps", "link in"),
                            ("local_dram_GBps", "local DRAM"), ("blade_dram_GBps", "blade DRAM")):
            top.step(t_ms, ts[name], where="post", label=f"{who} {label}".strip())
            n += 1
        bottom.step(t_ms, ts["mean_read_latency_ns"], where="post", label=who or "mean read latency")
    top.set_ylabel("bandwidth (GB/s)")
    bottom.set_ylabel("mean read latency (ns)")
    bottom.set_xlabel("simulated time (ms)")
    top.legend(fontsize="small")
    bottom.grid(True, alpha=0.3)
    return _finish(fig, top, 0, out, title)


def _cdf_label(row, keys) -> str:
    return point_label(row, keys) + (" (fell behind the trace)" if row.get("fell_behind") else "")


def latency_cdf(rows, out=None, title=None):
    """One CDF line per row: exact steps from a histogram, else the stored quantiles."""
    import numpy as np
    fig = _figure()
    ax = _axes(fig)
    keys = varying_keys(rows)
    for r in rows:
        hist = r.get("_hist")
        if hist is not None:
            from .. import _layout as L
            bins = np.nonzero(hist)[0]
            xs = np.array([L.hist_bin_bounds(int(b))[1] for b in bins]) / 1000
            ys = np.cumsum(hist[bins]) / hist.sum()
            ax.step(xs, ys, where="post", label=_cdf_label(r, keys))
        else:
            cdf = r.get("latency_cdf")
            if not isinstance(cdf, dict) or not cdf.get("ns"):
                raise ValueError(f"plot: point {r.get('key')} has no latency quantiles (latency_cdf)")
            ax.plot(cdf["ns"], np.asarray(cdf["q"], float) / 100, label=_cdf_label(r, keys))
    ax.set_xscale("log")
    ax.set_xlabel(CDF_X)
    ax.set_ylabel(CDF_Y)
    ax.set_ylim(0, 1.0)
    return _finish(fig, ax, len(rows), out, title)


def _curves(rows, xname, yname, groups, out, title, split_traces):
    """Lines of y against x, one per value of the group keys (and trace, when split_traces);
    if two points of a line share an x, the other grid keys that vary split the lines further."""
    groups = list(groups) + (["trace"] if split_traces and len({r.get("trace") for r in rows}) > 1 else [])
    x_keys = ("compute.local_memory", "compute.vms") if xname == "local_memory_fraction" else ()
    extra = [k for k in varying_keys(rows) if k not in groups and not k.startswith(x_keys)]
    while True:
        lines = {}
        for r in rows:
            lines.setdefault(tuple(repr(field(r, g)) for g in groups), []).append(r)
        clash = split_traces and any(len({_num(r, xname) for r in pts}) < len(pts) for pts in lines.values())
        if not clash or not extra:
            break
        groups.append(extra.pop(0))
    fig = _figure()
    ax = _axes(fig)
    for pts in lines.values():
        pts = sorted(pts, key=lambda r: _num(r, xname))
        label = point_label(pts[0], [g for g in groups if g == "trace" or field(pts[0], g) is not None])
        xs, ys = [_num(r, xname) for r in pts], [_num(r, yname) for r in pts]
        err = [_half_width(r, yname) for r in pts]
        if any(e is not None for e in err):     # sampled points: their 95% intervals as error bars
            ax.errorbar(xs, ys, yerr=[e or 0.0 for e in err], marker="o", capsize=3, label=label)
        else:
            ax.plot(xs, ys, marker="o", label=label)
    behind = [(_num(r, xname), _num(r, yname)) for pts in lines.values() for r in pts if r.get("fell_behind")]
    if behind:      # an overloaded open-loop point's latency is its queue's, not the hardware's
        ax.scatter(*zip(*behind), s=160, facecolors="none", edgecolors="red", zorder=3,
                   label="fell behind the trace (latency mostly queueing)")
    ax.set_xlabel(LABELS.get(xname, xname))
    ax.set_ylabel(LABELS.get(yname, yname))
    return _finish(fig, ax, len(lines) + bool(behind), out, title)
