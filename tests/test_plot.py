"""Plots from sweep results and from Results: files written and opened, axes labelled with units."""
import argparse

import matplotlib.image
import numpy as np
import pytest

from hwmodel import System
from hwmodel.cli.study import add_commands
from hwmodel.study.plot import plot
from hwmodel.study import sweep
from hwmodel.trace import generate, write_trace

BASE = {"compute": {"local_memory": "512KiB", "vms": [{"name": "vm0", "memory": "1MiB"}]}}
GRID = {"hypervisor.policy": ["fgra", "page_swap"], "compute.local_memory": ["256KiB", "512KiB", "768KiB"]}


@pytest.fixture(scope="module")
def swept(tmp_path_factory):
    d = tmp_path_factory.mktemp("plot")
    traces = []
    for name, seed in (("a.npz", 1), ("b.npz", 2)):
        write_trace(d / name, generate("zipf", 2000, 1 << 20, seed=seed, interval=1000))
        traces.append(str(d / name))
    out = d / "results.jsonl"
    rows = sweep(BASE, GRID, traces, out=out, executor="serial", progress=False, slowdown=True, as_frame=False)
    assert all(r["status"] == "ok" for r in rows)
    return out, rows, traces


def _opened(path):
    assert path.exists() and path.stat().st_size > 1000
    img = matplotlib.image.imread(path)
    assert img.ndim == 3 and img.shape[0] > 100 and img.shape[1] > 100
    return img


def test_latency_cdf_from_a_results_file(swept, tmp_path):
    out, rows, _ = swept
    png = tmp_path / "cdf.png"
    fig = plot(out, kind="cdf", out=png)
    _opened(png)
    ax = fig.axes[0]
    assert ax.get_xlabel() == "read latency (ns)" and ax.get_ylabel() == "fraction of reads"
    assert ax.get_xscale() == "log"
    lines = ax.get_lines()
    assert len(lines) == 12
    for line, row in zip(lines, rows):
        ys = line.get_ydata()
        assert ys[0] == 0 and ys[-1] == 1 and np.all(np.diff(ys) >= 0)
        assert line.get_xdata()[-1] == pytest.approx(row["latency_ns.read.max"])
    labels = [t.get_text() for t in ax.get_legend().get_texts()]
    assert labels[0].startswith("policy=fgra, local_memory=256KiB, a.npz")
    # a point whose system fell behind its open-loop trace says so
    assert [label.endswith(" (fell behind the trace)") for label in labels] == [r["fell_behind"] for r in rows]


def test_latency_cdf_from_results_is_exact_to_the_bin(tmp_path):
    ch = generate("zipf", 3000, 1 << 20, seed=4, interval=2000)
    trace = {"time": ch.time, "addr": ch.addr, "op": ch.op, "timing": "timestamp"}
    results = [System.from_dict(BASE, [f"hypervisor.policy={p}"]).run(trace) for p in ("fgra", "page_swap")]
    fig = plot(results, kind="cdf", out=tmp_path / "cdf.svg")
    assert (tmp_path / "cdf.svg").read_text().lstrip().startswith("<?xml")
    lines = fig.axes[0].get_lines()
    assert len(lines) == 2
    for line, r in zip(lines, results):
        xs, ys = line.get_xdata(), line.get_ydata()
        assert ys[-1] == 1.0
        # the median of the stats module lies in the bin where the drawn CDF crosses 0.5
        i = np.searchsorted(ys, 0.5)
        assert r.latency_ns()["p50"] <= xs[i] <= r.latency_ns()["p50"] * 1.01


def test_cdf_of_a_write_heavy_trace_starts_at_its_fastest_read(tmp_path):
    """Posted writes complete when the write buffer takes them (0 ns here): they are not memory
    latency, and the read CDF must not start at their share of the accesses (issue 14 item 3)."""
    ch = generate("uniform", 4000, 1 << 20, read_ratio=0.15, seed=5, interval=200_000)
    r = System.from_dict(BASE, ["hypervisor.policy=static", "compute.local_memory=1MiB"]).run(
        {"time": ch.time, "addr": ch.addr, "op": ch.op, "timing": "timestamp"})
    assert r.counters["writes"] > 0.8 * r.accesses and r.latency_ns("write")["p50"] < 1.0
    line = plot([r], kind="cdf").axes[0].get_lines()[0]
    xs, ys = line.get_xdata(), line.get_ydata()
    # the first step: reads served from the write buffer (one tCK), far below the writes' 84%
    assert xs[0] > 0.5 and ys[0] < 0.15 and ys[-1] == 1.0
    assert r.latency_ns()["p50"] > 10 * r.latency_ns("all")["p50"]   # the old figure hid the reads


def test_slowdown_vs_local_fraction_one_line_per_policy_and_trace(swept, tmp_path):
    out, rows, _ = swept
    png = tmp_path / "slowdown.png"
    fig = plot(out, kind="slowdown", out=png)
    _opened(png)
    ax = fig.axes[0]
    assert ax.get_xlabel() == "local memory / VM memory"
    assert ax.get_ylabel() == "slowdown vs all-local (simulated time, x)"
    lines = {line.get_label(): line for line in ax.get_lines()}
    assert set(lines) == {"policy=fgra, a.npz", "policy=fgra, b.npz", "policy=page_swap, a.npz",
                          "policy=page_swap, b.npz"}
    swap = lines["policy=page_swap, a.npz"]
    assert list(swap.get_xdata()) == [0.25, 0.5, 0.75]
    want = {r["local_memory_fraction"]: r["slowdown.sim_time"] for r in rows
            if r["params"]["hypervisor.policy"] == "page_swap" and r["trace"].endswith("a.npz")}
    assert list(swap.get_ydata()) == [want[x] for x in (0.25, 0.5, 0.75)]
    # less local memory, more swapping: slower
    assert swap.get_ydata()[0] > swap.get_ydata()[-1] > 1
    one = plot(out, kind="slowdown", where=["trace=a.npz"])
    assert len(one.axes[0].get_lines()) == 2


def test_bandwidth_latency_curve_over_a_load_sweep(tmp_path):
    traces = []
    for interval in (800, 1600, 3200, 6400):      # ps between accesses: the offered load
        write_trace(tmp_path / f"i{interval}.npz", generate("stream", 4000, 1 << 20, seed=1, interval=interval))
        traces.append(str(tmp_path / f"i{interval}.npz"))
    rows = sweep(BASE, {"hypervisor.policy": ["static", "fgra"]}, traces, executor="serial", progress=False,
                 as_frame=False)
    png = tmp_path / "bw.png"
    fig = plot(rows, kind="bandwidth", out=png)
    _opened(png)
    ax = fig.axes[0]
    assert ax.get_xlabel() == "DRAM bandwidth, local + memory blade (GB/s)"
    assert ax.get_ylabel() == "mean read latency (ns)"
    lines = ax.get_lines()
    assert [line.get_label() for line in lines] == ["policy=static", "policy=fgra"]
    for line in lines:
        xs = line.get_xdata()
        assert len(xs) == 4 and list(xs) == sorted(xs)
    # the offered loads the system cannot keep up with are ringed: their latency is the queue's
    from hwmodel.study.plot import _num
    behind = sorted((_num(r, "dram_GBps"), _num(r, "latency_ns.read.mean")) for r in rows if r["fell_behind"])
    assert behind and len(behind) < len(rows)
    rings = [c for c in ax.collections if c.get_label().startswith("fell behind the trace")]
    assert len(rings) == 1 and sorted(map(tuple, rings[0].get_offsets().tolist())) == behind
    p99 = plot(rows, kind="bandwidth", x="link_GBps.in", y="latency_ns.write.p99")
    assert p99.axes[0].get_xlabel() == "link bandwidth, blade to compute (GB/s)"
    assert p99.axes[0].get_ylabel() == "p99 write latency (ns)"


def test_cli_plot_writes_every_kind(swept, tmp_path, capsys):
    out, _, traces = swept
    ap = argparse.ArgumentParser()
    add_commands(ap.add_subparsers(dest="command"))
    for kind in ("cdf", "slowdown", "bandwidth"):
        fig = tmp_path / f"{kind}.png"
        args = ap.parse_args(["plot", str(out), "--kind", kind, "--out", str(fig), "--where", "trace=a.npz"])
        assert args.func(args) == 0
        _opened(fig)
        assert f"wrote {fig}" in capsys.readouterr().out
    args = ap.parse_args(["plot", str(out)])          # default name beside the results
    assert args.func(args) == 0
    _opened(out.parent / "results-cdf.png")


def test_plot_errors_say_what_is_missing(swept, tmp_path):
    out, rows, _ = swept
    no_slowdown = [{k: v for k, v in r.items() if not k.startswith("slowdown")} for r in rows]
    with pytest.raises(ValueError, match="no number 'slowdown.sim_time'.*--slowdown"):
        plot(no_slowdown, kind="slowdown")
    with pytest.raises(ValueError, match="unknown figure format .jpg"):
        plot(out, kind="cdf", out=tmp_path / "x.jpg")
    with pytest.raises(ValueError, match="plot kind 'pie'"):
        plot(out, kind="pie")
    with pytest.raises(ValueError, match="no finished point matches"):
        plot(out, where={"hypervisor.policy": "static"})
    failed = [{"key": "k", "status": "error", "error": "boom", "trace": "t"}]
    with pytest.raises(ValueError, match="no finished"):
        plot(failed)


def test_time_series_of_an_epoch_run(tmp_path):
    system = System.from_dict({"compute": {"local_memory": "4MiB", "vms": [{"memory": "16MiB"}]},
                               "memory_blade": {"capacity": "16MiB", "super_page": "1MiB"}})
    r = system.run(generate("zipf", 20000, 16 << 20, seed=3), epoch="20us")
    out = tmp_path / "ts.png"
    fig = plot(r, kind="timeseries", out=out)
    top, bottom = fig.axes
    assert top.get_ylabel() == "bandwidth (GB/s)" and bottom.get_xlabel() == "simulated time (ms)"
    assert bottom.get_ylabel() == "mean read latency (ns)"
    lines = {ln.get_label(): ln for ln in top.get_lines()}
    assert set(lines) == {"link out", "link in", "local DRAM", "blade DRAM"}
    ts = r.time_series()
    assert np.allclose(lines["link in"].get_ydata(), ts["link_in_GBps"])
    assert matplotlib.image.imread(out).shape[0] > 100
    with pytest.raises(ValueError, match="no time series"):
        plot(system.run(generate("zipf", 1000, 16 << 20, seed=3)), kind="timeseries")


def test_sampled_points_plot_with_their_intervals(tmp_path):
    """A sweep of sampled runs: the curve's points carry error bars (their 95% intervals)."""
    traces = []
    for interval in (1600, 6400):
        write_trace(tmp_path / f"i{interval}.npz", generate("zipf", 6000, 1 << 20, seed=1, interval=interval))
        traces.append(str(tmp_path / f"i{interval}.npz"))
    base = {**BASE, "sampling": {"unit": 100, "period": 3, "warmup": 20}}
    rows = sweep(base, {"hypervisor.policy": ["page_swap"]}, traces, executor="serial", progress=False,
                 as_frame=False)
    assert all(r["sampling.estimates.read_latency_mean_ns.half_width"] > 0 for r in rows)
    fig = plot(rows, kind="bandwidth", x="link_GBps.in", y="latency_ns.read.mean")
    ax = fig.axes[0]
    bars = [c for c in ax.containers if c.__class__.__name__ == "ErrorbarContainer"]
    assert len(bars) == 1 and bars[0].has_yerr
    segments = bars[0].lines[2][0].get_segments()       # one vertical bar per point, +-half-width
    assert len(segments) == 2
    for seg, r in zip(sorted(segments, key=lambda s: s[0][0]), sorted(rows, key=lambda r: r["link_GBps.in"])):
        assert seg[1][1] - seg[0][1] == pytest.approx(2 * r["sampling.estimates.read_latency_mean_ns.half_width"])
