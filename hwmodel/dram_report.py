"""The figures of a DRAM tool run (hwmodel.dramsim): DRAMsim3's JSON keys per channel and in
total, with labelled figures (ns, GB/s, pJ, mW) beside them, and a readable summary.
"""
from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from . import _dram_layout as L
from .dram import DRAM
from .dram_energy import channel_energy, to_units
from .memctrl import LINE_BYTES

HIST_BINS = ((0, 200, 10),)     # DRAMsim3's read_latency histogram: 0..200 cycles in 10 bins
HIST_CYCLES = 4096              # read latencies the compiled tally counts; longer ones are rare


# -- figures -------------------------------------------------------------------------------------
class Window:
    """Completion-side figures of one channel over one window (the run or an epoch)."""

    def __init__(self):
        self.reads = self.writes = 0
        self.lat_sum_ps = 0
        self.hist = np.zeros(0, np.int64)    # reads by latency in whole cycles (rounded up)

    def add_reads(self, lat_ps, tck):
        if not len(lat_ps):
            return
        self.reads += len(lat_ps)
        self.lat_sum_ps += int(lat_ps.sum())
        self._count(np.bincount(-(-lat_ps // tck)))

    def _count(self, c):
        if len(c) > len(self.hist):
            c[:len(self.hist)] += self.hist
            self.hist = c
        else:
            self.hist[:len(c)] += c

    def tally(self, out, acc, w, horizon, tck):
        """add_reads (and writes) of a run piece, in compiled code (hwmodel._dramtool)."""
        from ._dramtool import tally_reads
        if len(self.hist) < HIST_CYCLES:
            self._count(np.zeros(HIST_CYCLES, np.int64))
        reads, writes, lat_sum, longest = tally_reads(out, acc, w, -1 if horizon is None else horizon,
                                                      tck, self.hist)
        if longest >= len(self.hist):     # the few reads longer than the histogram: count them here
            done = np.ones(len(out), bool) if horizon is None else out <= horizon
            c = -(-(out - acc)[done & (w == 0)] // tck)
            c = c[c >= len(self.hist)]
            self._count(np.bincount(c, minlength=len(self.hist)) * (np.arange(int(c.max()) + 1) >= len(self.hist)))
        self.reads += reads
        self.writes += writes
        self.lat_sum_ps += lat_sum


def _percentile(hist, q):
    """Nearest-rank percentile (cycles) of a histogram of counts by whole cycles."""
    n = int(hist.sum())
    if n == 0:
        return None
    return int(np.searchsorted(np.cumsum(hist), math.ceil(q * n)))


def _binned(hist) -> dict:
    """DRAMsim3's read_latency[...] bins: [-0], [0-19] ... [180-199], [200-]."""
    lo, hi, nbins = HIST_BINS[0]
    width = (hi - lo) // nbins
    out = {f"read_latency[-{lo}]": 0}
    for i in range(nbins):
        a, b = lo + i * width, lo + (i + 1) * width
        out[f"read_latency[{a}-{b - 1}]"] = int(hist[a:b].sum())
    out[f"read_latency[{hi}-]"] = int(hist[hi:].sum())
    return out


@dataclass
class DramResult:
    """The figures of one `run_dram`: per channel and in total, DRAMsim3's keys and units beside
    labelled ones (ns, GB/s, pJ, mW); `epochs` the same per epoch when asked."""
    dram: DRAM
    trace: str
    model: str
    backend: str
    cycles: int                          # num_cycles: the run's length in tCK
    channels: list                       # one dict per channel (DRAMsim3 keys + labelled figures)
    total: dict
    epochs: list = field(default_factory=list)
    info: dict = field(default_factory=dict)

    def to_dict(self) -> dict:
        """DRAMsim3's JSON layout: one object per channel ("0", "1", ...), plus "total" and, with
        epochs, "epochs" (a list, one such layout per epoch)."""
        out = {str(i): c for i, c in enumerate(self.channels)}
        out["total"] = self.total
        if self.epochs:
            out["epochs"] = self.epochs
        return out

    def to_json(self, path=None, indent=1) -> str:
        text = json.dumps(self.to_dict(), indent=indent)
        if path is not None:
            Path(path).write_text(text + "\n")
        return text

    def summary(self) -> str:
        d = self.dram
        lines = [f"hwmodel dram: {self.trace} on {d.name} ({d.protocol}, {d.channels} ch x {d.ranks} rank, "
                 f"tCK {d.tck_ps / 1000:g} ns, {d.row_policy} page, {d.scheduler}, model {self.model})",
                 f"run: {self.cycles:,} cycles = {self.cycles * d.tck_ps / 1e6:,.3f} us"
                 + (f"; {self.info['skipped_lines']} malformed line(s) skipped" if self.info.get("skipped_lines") else "")]
        cols = [("total", self.total)] + ([(f"ch {i}", c) for i, c in enumerate(self.channels)]
                                          if len(self.channels) > 1 else [])
        rows = [
            ("reads done", lambda c: f"{c['num_reads_done']:,}"),
            ("writes done", lambda c: f"{c['num_writes_done']:,}"),
            ("read row hits", lambda c: f"{c['num_read_row_hits']:,} / {c['num_read_cmds']:,} ({_pct(c['read_row_hit_rate'])})"),
            ("write row hits", lambda c: f"{c['num_write_row_hits']:,} / {c['num_write_cmds']:,} ({_pct(c['write_row_hit_rate'])})"),
            ("ACT / PRE / REF commands", lambda c: f"{c['num_act_cmds']:,} / {c['num_pre_cmds']:,} / {c['num_ref_cmds']:,}"),
            ("read latency mean (cycles / ns)", lambda c: "-" if not c["num_reads_done"] else
             f"{c['average_read_latency']:.2f} / {c['average_read_latency_ns']:.2f}"),
            ("read latency p50/p95/p99 (cycles)", lambda c: _pcts(c["read_latency_percentiles_cycles"])),
            ("read latency p50/p95/p99 (ns)", lambda c: _pcts(c["read_latency_percentiles_ns"], 1)),
            ("bandwidth (GB/s)", lambda c: f"{c['average_bandwidth']:.3f}"),
            ("rank active / all banks idle (rank-cycles)", lambda c: f"{sum(c['rank_active_cycles'].values()):,} / "
                                                      f"{sum(c['all_bank_idle_cycles'].values()):,}"),
            ("energy (nJ)", lambda c: f"{c['total_energy_nJ']:,.1f}"),
            *((f"  {label} (nJ)", lambda c, k=k: f"{c['energy_pJ'][k] / 1000:,.1f}")
              for label, k in (("activate", "act"), ("read", "read"), ("write", "write"), ("refresh", "ref"),
                               ("active standby", "act_stb"), ("precharge standby", "pre_stb"))),
            ("average power (mW)", lambda c: f"{c['average_power_mW']:,.1f}"),
        ]
        width = max(len(r[0]) for r in rows) + 2
        cells = [[fmt(c) for _, c in cols] for _, fmt in rows]
        w = [max(len(name), *(len(r[i]) for r in cells)) + 3 for i, (name, _) in enumerate(cols)]
        lines.append(" " * width + "".join(f"{name:>{w[i]}}" for i, (name, _) in enumerate(cols)))
        for (label, _), row in zip(rows, cells):
            lines.append(f"{label:<{width}}" + "".join(f"{x:>{w[i]}}" for i, x in enumerate(row)))
        lines.append("read latency histogram (cycles: reads): " + ", ".join(
            f"{k[len('read_latency'):]}: {v:,}" for k, v in self.total.items()
            if k.startswith("read_latency[") and v))
        if self.epochs:
            lines.append(f"epochs: {len(self.epochs)} of {self.info['epoch_cycles']:,} cycles "
                         f"(per-epoch figures in --json)")
        lines += [f"note: {n}" for n in self.info.get("notes", ())]
        return "\n".join(lines)


def _pct(x):
    return "-" if x is None else f"{100 * x:.1f}%"


def _pcts(p, nd=0):
    return " / ".join("-" if p[k] is None else f"{p[k]:.{nd}f}" for k in ("p50", "p95", "p99"))


def channel_figures(d: DRAM, cnt: np.ndarray, win: Window, refreshes: int, active_ps, cycles: int,
             accepted: int = 0, last_acc_ps: int = 0, channel: int = 0, epoch: int = 0) -> dict:
    """One channel's (or the total's) dict: DRAMsim3 keys, then labelled figures."""
    c = dict(zip(L.DRAM_COUNTER_NAMES, map(int, cnt)))
    tck = d.tck_ps
    active = [int(round(a / tck)) for a in active_ps]
    idle = [cycles - a for a in active]
    req_bytes = max(1, LINE_BYTES // d.burst_bytes) * d.burst_bytes    # bus bytes of one line request
    done = win.reads + win.writes
    bw = done * req_bytes / (cycles * tck * 1e-3) if cycles else 0.0
    lat = win.lat_sum_ps / win.reads / tck if win.reads else 0.0
    e = channel_energy(d, c["act_cmds"], c["read_cmds"], c["write_cmds"], refreshes, active, idle, cycles)
    pct = {f"p{q}": _percentile(win.hist, q / 100) for q in (50, 95, 99)}
    out = {
        "channel": channel, "epoch_num": epoch, "num_cycles": cycles,
        "num_reads_done": win.reads, "num_writes_done": win.writes,
        "num_write_buf_hits": c["read_forwards"],
        "num_read_row_hits": c["read_row_hits"], "num_write_row_hits": c["write_row_hits"],
        "num_read_cmds": c["read_cmds"], "num_write_cmds": c["write_cmds"],
        "num_act_cmds": c["act_cmds"], "num_pre_cmds": c["pre_cmds"],
        "num_ondemand_pres": c["row_conflicts"], "num_ref_cmds": refreshes,
        "num_refb_cmds": 0, "num_srefe_cmds": 0, "num_srefx_cmds": 0, "hbm_dual_cmds": 0,
        "average_bandwidth": bw, "average_read_latency": lat,
        "average_interarrival": last_acc_ps / tck / accepted if accepted else 0.0,
        "rank_active_cycles": {str(r): a for r, a in enumerate(active)},
        "all_bank_idle_cycles": {str(r): i for r, i in enumerate(idle)},
        "sref_cycles": {str(r): 0 for r in range(len(active))},
        **e,
        "read_latency": {str(k): int(v) for k, v in enumerate(win.hist) if v},
        **_binned(win.hist),
        # labelled figures (hwmodel's, beyond DRAMsim3's keys)
        "time_ns": cycles * tck / 1000,
        "bandwidth_GBps": bw,
        "average_read_latency_ns": lat * tck / 1000,
        "read_latency_percentiles_cycles": pct,
        "read_latency_percentiles_ns": {k: None if v is None else v * tck / 1000 for k, v in pct.items()},
        "read_row_hit_rate": c["read_row_hits"] / c["read_cmds"] if c["read_cmds"] else None,
        "write_row_hit_rate": c["write_row_hits"] / c["write_cmds"] if c["write_cmds"] else None,
        "reads_offered": c["reads"], "writes_offered": c["writes"],
        "reads_forwarded": c["read_forwards"], "dram_bytes": c["dram_bytes"],
        **to_units(d, e),
    }
    return out


def total_figures(d: DRAM, chans: list, cycles: int) -> dict:
    """The total over channels: sums; rates over the run; ranks numbered channel by channel."""
    t = {"channel": "total", "epoch_num": chans[0]["epoch_num"], "num_cycles": cycles}
    for k, v in chans[0].items():
        if k in t or isinstance(v, (str,)):
            continue
        if isinstance(v, dict) and k.startswith(("rank_", "all_bank", "sref_cycles", "act_stb", "pre_stb", "sref_energy")):
            t[k] = {str(i * len(v) + int(r)): c[k][r] for i, c in enumerate(chans) for r in v}
        elif isinstance(v, (int, float)) and not isinstance(v, bool) and v is not None:
            t[k] = sum(c[k] for c in chans)
    hist = {}
    for c in chans:
        for k, v in c["read_latency"].items():
            hist[int(k)] = hist.get(int(k), 0) + v
    h = np.zeros(max(hist) + 1 if hist else 0, np.int64)
    for k, v in hist.items():
        h[k] = v
    reads = t["num_reads_done"]
    lat_sum = sum(c["average_read_latency"] * c["num_reads_done"] for c in chans)
    t["average_read_latency"] = lat_sum / reads if reads else 0.0
    t["average_read_latency_ns"] = t["average_read_latency"] * d.tck_ps / 1000
    t["average_interarrival"] = max(c["average_interarrival"] * (c["reads_offered"] + c["writes_offered"])
                                    for c in chans) / max(1, t["reads_offered"] + t["writes_offered"])
    t["average_power"] = t["total_energy"] / cycles if cycles else 0.0
    t["average_power_mW"] = t["average_power"]
    t["time_ns"] = cycles * d.tck_ps / 1000
    t["read_latency"] = {str(k): int(v) for k, v in enumerate(h) if v}
    t.update(_binned(h))
    pct = {f"p{q}": _percentile(h, q / 100) for q in (50, 95, 99)}
    t["read_latency_percentiles_cycles"] = pct
    t["read_latency_percentiles_ns"] = {k: None if v is None else v * d.tck_ps / 1000 for k, v in pct.items()}
    t["read_row_hit_rate"] = t["num_read_row_hits"] / t["num_read_cmds"] if t["num_read_cmds"] else None
    t["write_row_hit_rate"] = t["num_write_row_hits"] / t["num_write_cmds"] if t["num_write_cmds"] else None
    t["energy_pJ"] = {k: sum(c["energy_pJ"][k] for c in chans) for k in chans[0]["energy_pJ"]}
    return t
