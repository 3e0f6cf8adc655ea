"""Results of a run: counters, latency distribution, derived rates, with units in every name."""
from __future__ import annotations

import json
from dataclasses import dataclass, field

import numpy as np

from . import _layout as L

PERCENTILES = (50, 95, 99)
LATENCY_KINDS = ("read", "write", "all")   # Result.latency_ns(kind); "read" is the default figure
# trace formats written at the memory controller (physical DRAM addresses), not by a processor
DRAM_LEVEL_FORMATS = ("dramsim3", "dramsim2", "dramsim2_k6", "dramsim2_misc", "ramulator")


def percentile_ps(hist: np.ndarray, q: float, max_ps: int, shift: int = 0) -> float:
    """Nearest-rank percentile from the log-linear histogram: the midpoint of the bin holding it
    (bins are under 0.8% wide; 2**shift of them merged in per-VM histograms), never above the
    exact maximum."""
    return percentiles_ps(hist, (q,), max_ps, shift)[0]


def percentiles_ps(hist: np.ndarray, qs, max_ps: int, shift: int = 0) -> list:
    """percentile_ps for each of `qs`, the histogram summed up once."""
    total = int(hist.sum())
    if total == 0:
        return [0.0] * len(qs)
    cum = np.cumsum(hist)
    out = []
    for q in qs:
        rank = max(1, int(np.ceil(q / 100 * total)))
        b = int(np.searchsorted(cum, rank))
        lo, hi = L.hist_bin_bounds(b << shift)[0], L.hist_bin_bounds(((b + 1) << shift) - 1)[1]
        out.append(float(min((lo + hi - 1) / 2, max_ps)))
    return out


@dataclass
class Result:
    """What one run of a system over a trace gave."""
    counters: dict
    hist: np.ndarray                # latency histograms, shape (2, HIST_BINS): reads, writes
    vm_names: list
    vm_stats: np.ndarray            # per VM, then background: _layout.VM_STAT_NAMES (flat)
    config: dict                    # the fully resolved system
    trace: str = ""
    timing: str = ""                # open | closed
    backend: str = ""
    unit_bytes: int = 4096          # swap unit (page or sub page)
    link_bytes_per_s: float = 0.0   # one link direction's capacity, summed over the compute blades' links
    blade_names: list = field(default_factory=list)   # compute blades
    vm_blade: list = field(default_factory=list)      # compute blade index of each VM
    blade_dram: list = field(default_factory=list)    # per compute blade: its local DRAM counters
    port_bytes_per_s: float = 0.0   # the switch's memory-blade port, one direction (0: no switch)
    vm_hist: np.ndarray | None = None   # per VM: read and write latency histograms, shape (VMs, 2, bins),
    #                                     VM_HIST_SHIFT-merged bins (kept for up to VM_HIST_MAX_VMS VMs)
    vm_class: list = field(default_factory=list)      # QoS class (compute.vms[].qos) of each VM
    completions: np.ndarray | None = None
    skipped_lines: int = 0          # malformed trace lines skipped on request
    epochs: np.ndarray | None = None   # rows of (time, cumulative counters); see engine.EPOCH_COLUMNS
    baseline: "Result | None" = None
    baseline_kind: str = ""         # all_local | no_checkpoints
    wall_s: float = 0.0             # wall-clock seconds the run took (trace reading included)
    last_arrival_ps: int = 0        # arrival (open loop) or issue (closed loop) of the last access
    trace_format: str = ""          # the trace file's format, when read from a file
    trace_time_unit: str = ""       # the trace's time column: ps | ns | cycle | instruction ("" untimed)
    ps_per_trace_unit: float = 0.0  # the scale the run used for it
    addresses: str = "physical"     # how the run took the trace's addresses: physical | virtual (core.addresses)
    dram_traces: dict = field(default_factory=dict)   # DRAM name -> file written (--dram-trace)
    sampling: dict | None = None    # sampled run: estimates with 95% intervals, what is exact (core/sampler.py)
    version: str = field(default_factory=lambda: __import__("hwmodel").__version__)

    # -- derived ---------------------------------------------------------------------------
    def per_vm(self) -> list:
        """Per VM (and, last, the `background` queue of checkpoint copies): accesses, read and write
        latency (mean, and percentiles where per-VM histograms are kept), link wire bytes (both
        directions), link messages and their mean queueing delay at the SNIC (start of
        serialization minus ready time). Link bytes add up to link_bytes_out + _in."""
        rows = self._vm_rows()
        out = []
        for i, name in enumerate(list(self.vm_names) + ["background"]):
            if i >= len(rows):
                break
            f = self._figures(rows[i], self.vm_hist[i] if self.vm_hist is not None and i < len(self.vm_hist) else None)
            if name == "background" and i == len(self.vm_names) and f["accesses"] == 0 and f["link_messages"] == 0:
                continue
            out.append({"vm": name, **f, "link_queue_ns": int(rows[i, L.VM_STAT_NAMES.index("link_queue_ps")]) / 1000})
        return out

    def per_class(self) -> list:
        """Per QoS class (the VMs' `qos`), lowest first: its VMs' accesses, mean and percentile
        latency, link wire bytes and messages and their mean queueing delay."""
        return [self._group([i for i, c in enumerate(self.vm_class) if c == q], "class", q)
                for q in sorted(set(self.vm_class))]

    def _group(self, mine, key, value) -> dict:
        """VMs `mine` pooled, labelled {key: value}."""
        rows = self._vm_rows()
        hist = self.vm_hist[mine].sum(axis=0) if self.vm_hist is not None and mine else None
        return {key: value, "vms": [self.vm_names[i] for i in mine],
                **self._figures(rows[mine].sum(axis=0), hist)}

    def _vm_rows(self) -> np.ndarray:
        """vm_stats as one row per VM queue (columns: L.VM_STAT_NAMES)."""
        return np.asarray(self.vm_stats, np.int64).reshape(-1, len(L.VM_STAT_NAMES))

    def _figures(self, row, hist) -> dict:
        """Accesses, read and write latency (mean; with the pair of histograms also p50/p95/p99),
        link bytes, messages and mean queueing of one vm_stats row (a VM's, or several pooled)."""
        s = {n: int(row[j]) for j, n in enumerate(L.VM_STAT_NAMES)}
        reads, writes = s["accesses"] - s["writes"], s["writes"]
        sums = {"read": s["latency_sum_ps"] - s["write_latency_sum_ps"], "write": s["write_latency_sum_ps"]}
        out = {"accesses": s["accesses"], "reads": reads, "writes": writes}
        for k, kind in enumerate(("read", "write")):
            n = reads if kind == "read" else writes
            lat = {"mean": sums[kind] / n / 1000 if n else None,
                   **(self._percentiles(hist[k], kind) if hist is not None else {})}
            out[f"{kind}_latency_ns"] = lat if n else dict.fromkeys(lat)   # none: None, not 0 ns
        return {**out, "link_bytes": s["link_bytes"], "link_messages": s["link_messages"],
                "mean_link_queue_ns": s["link_queue_ps"] / s["link_messages"] / 1000 if s["link_messages"] else 0.0}

    def per_blade(self) -> list:
        """Per compute blade: its VMs pooled as in per_class, and its local DRAM's bytes and
        row-hit rate."""
        out = []
        for k, name in enumerate(self.blade_names):
            g = self._group([i for i, b in enumerate(self.vm_blade) if b == k], "blade", name)
            d = self.blade_dram[k] if k < len(self.blade_dram) else {}
            n = d.get("row_hits", 0) + d.get("row_misses", 0) + d.get("row_conflicts", 0)
            g.update(local_dram_bytes=d.get("dram_bytes", 0), local_row_hit_rate=d.get("row_hits", 0) / n if n else 0.0)
            out.append(g)
        return out

    def time_series(self) -> dict:
        """Per-epoch rates from the epoch samples (run with epoch=...): arrays keyed by name, one
        entry per epoch ending at `time_ns`; the last, partial epoch ends at the last completion."""
        if self.epochs is None:
            raise ValueError("no time series: run with epoch='100us' (or --epoch on the command line)")
        from .core.engine import EPOCH_COLUMNS
        col = {name: i for i, name in enumerate(EPOCH_COLUMNS)}
        final = np.array([[self.sim_time_ps] + [self.counters[n] for n in EPOCH_COLUMNS[1:]]], np.int64)
        rows = np.concatenate([np.zeros((1, len(EPOCH_COLUMNS)), np.int64), self.epochs, final])
        rows = rows[np.concatenate([[True], np.diff(rows[:, 0]) > 0])]   # drop an empty tail epoch
        d = np.diff(rows, axis=0).astype(float)
        span_ps = d[:, 0]
        acc = d[:, col["accesses"]]

        def rate(name):   # GB/s
            return d[:, col[name]] / span_ps * 1000

        def mean_ns(kind):
            n = d[:, col[kind + "s"]]
            return np.divide(d[:, col[kind + "_latency_sum_ps"]] / 1000, n, out=np.zeros_like(n), where=n > 0)

        return {
            "time_ns": rows[1:, 0] / 1000,
            "accesses": acc,
            "mean_read_latency_ns": mean_ns("read"),
            "mean_write_latency_ns": mean_ns("write"),
            "faults": d[:, col["faults"]],
            "link_out_GBps": rate("link_bytes_out"),
            "link_in_GBps": rate("link_bytes_in"),
            "link_out_utilization": rate("link_bytes_out") * 1e9 / self.link_bytes_per_s if self.link_bytes_per_s else 0 * acc,
            "local_dram_GBps": rate("local_dram_bytes"),
            "blade_dram_GBps": rate("blade_dram_bytes"),
            "ckpt_bytes": d[:, col["ckpt_bytes"]],
        }

    @property
    def accesses(self) -> int:
        return self.counters["accesses"]

    @property
    def sim_time_ps(self) -> int:
        """End of run: the last access has completed (drained), counted from time 0."""
        return self.counters["last_completion_ps"]

    @property
    def duration_ps(self) -> int:
        """From the first arrival to the last completion."""
        return max(0, self.counters["last_completion_ps"] - self.counters["first_arrival_ps"])

    def fell_behind(self) -> bool:
        """Open loop: the last access completed more than a quarter of the trace's arrival span after
        the last arrival; the accesses came faster than they were served, and the latencies are
        mostly the queue that built up. A sampled run's functional stretches keep no queue: there
        the measured units' backlog growth says it (sampler.BACKLOG_LIMIT)."""
        if self.sampling is not None:
            from .core.sampler import BACKLOG_LIMIT
            return self.timing == "open" and self.sampling.get("backlog_growth", 0.0) > BACKLOG_LIMIT
        span = self.last_arrival_ps - self.counters["first_arrival_ps"]
        return self.timing == "open" and span > 0 and self.counters["last_completion_ps"] - self.last_arrival_ps > span / 4

    def latency_ns(self, kind: str = "read") -> dict:
        """Mean, p50/p95/p99 and max latency in ns of the reads, the writes or all accesses
        (`kind`: read | write | all). A write's latency is when the processor may consider it
        done: a posted line write completes when the controller's write buffer takes it."""
        if kind not in LATENCY_KINDS:
            raise ValueError(f"latency kind {kind!r} is not one of {', '.join(LATENCY_KINDS)}")
        c = self.counters
        pre = "" if kind == "all" else kind + "_"
        n = c["accesses"] if kind == "all" else c[kind + "s"]
        if not n:   # no such accesses: no latency (None, null in JSON), not 0 ns
            return dict.fromkeys(("mean", *(f"p{q}" for q in PERCENTILES), "max"))
        hist = self.hist.sum(axis=0) if kind == "all" else self.hist[LATENCY_KINDS.index(kind)]
        out = {"mean": c[pre + "latency_sum_ps"] / n / 1000 if n else 0.0}
        for q in PERCENTILES:
            out[f"p{q}"] = percentile_ps(hist, q, c[pre + "latency_max_ps"]) / 1000
        out["max"] = c[pre + "latency_max_ps"] / 1000
        return out

    def slowdown(self) -> dict | None:
        """Simulated time and mean read latency of this run over its baseline's."""
        if self.baseline is None:
            return None
        b = self.baseline
        mine, theirs = self.latency_ns()["mean"], b.latency_ns()["mean"]
        return {
            "sim_time": self.sim_time_ps / b.sim_time_ps if b.sim_time_ps else float("nan"),
            "mean_read_latency": mine / theirs if mine is not None and theirs else float("nan"),
        }

    def _percentiles(self, hist, kind) -> dict:
        """p50/p95/p99 in ns of a per-VM (merged-bin) histogram of reads or writes."""
        return {f"p{q}": percentile_ps(hist, q, self.counters[kind + "_latency_max_ps"], L.VM_HIST_SHIFT) / 1000
                for q in PERCENTILES}

    def _local_memory(self) -> str:
        return _local_memory_of(self.config.get("compute"))

    def _dram_models(self) -> str:
        """Which DRAM model (README, DRAM model) each DRAM ran: 'DRAM model fast', or per DRAM."""
        compute = self.config.get("compute") or {}
        local = sorted({str((b.get("dram") or {}).get("model"))
                        for b in (compute if isinstance(compute, list) else [compute])})
        blade = str(((self.config.get("memory_blade") or {}).get("dram") or {}).get("model"))
        if local == [blade]:
            return f"DRAM model {blade}"
        return f"DRAM model {'/'.join(local)} (local), {blade} (blade)"

    def _rate(self, nbytes: int) -> float:
        """GB/s over the run's duration."""
        return nbytes / self.duration_ps * 1000 if self.duration_ps else 0.0

    def _row_hit_rate(self, prefix: str) -> float:
        c = self.counters
        n = c[prefix + "row_hits"] + c[prefix + "row_misses"] + c[prefix + "row_conflicts"]
        return c[prefix + "row_hits"] / n if n else 0.0

    def to_dict(self) -> dict:
        c = self.counters
        n = self.accesses
        d = {
            "hwmodel_version": self.version,
            "backend": self.backend,
            "trace": self.trace,
            "timing": self.timing,
            "trace_time": {"unit": self.trace_time_unit, "ps_per_unit": self.ps_per_trace_unit},
            "addresses": self.addresses,
            "skipped_lines": self.skipped_lines,
            "accesses": n,
            "counters": dict(c),
            "latency_ns": {kind: self.latency_ns(kind) for kind in LATENCY_KINDS},
            "arrivals_ns": {"first": c["first_arrival_ps"] / 1000, "last": self.last_arrival_ps / 1000},
            "sim_time_ns": self.sim_time_ps / 1000,
            "duration_ns": self.duration_ps / 1000,
            "fell_behind": self.fell_behind(),     # open loop: the queue built up over the trace
            # the simulated system's accesses per simulated second (not the simulator's speed)
            "simulated_throughput_maccess_per_s": n / self.duration_ps * 1e6 if self.duration_ps else 0.0,
            # the simulator: wall-clock seconds of the run and simulated accesses per wall second
            "wall_s": self.wall_s,
            "sim_speed_maccess_per_s": n / self.wall_s / 1e6 if self.wall_s else 0.0,
            "local_fraction": c["local_accesses"] / n if n else 0.0,
            "fault_rate": c["faults"] / n if n else 0.0,
            "swap_unit_bytes": self.unit_bytes,
            "link_GBps": {"out": self._rate(c["link_bytes_out"]), "in": self._rate(c["link_bytes_in"])},
            "link_utilization": {
                "out": self._rate(c["link_bytes_out"]) * 1e9 / self.link_bytes_per_s if self.link_bytes_per_s else 0.0,
                "in": self._rate(c["link_bytes_in"]) * 1e9 / self.link_bytes_per_s if self.link_bytes_per_s else 0.0,
            },
            "dram_GBps": {"local": self._rate(c["local_dram_bytes"]), "blade": self._rate(c["blade_dram_bytes"])},
            "row_hit_rate": {"local": self._row_hit_rate("local_"), "blade": self._row_hit_rate("blade_")},
            "per_vm": self.per_vm(),
            "config": self.config,
        }
        if len(self.blade_names) > 1:
            d["per_blade"] = self.per_blade()
        if len(set(self.vm_class)) > 1:
            d["per_class"] = self.per_class()
        if self.port_bytes_per_s:
            d["switch_port"] = {
                "GBps": {"out": self._rate(c["port_bytes_out"]), "in": self._rate(c["port_bytes_in"])},
                "utilization": {"out": self._rate(c["port_bytes_out"]) * 1e9 / self.port_bytes_per_s,
                                "in": self._rate(c["port_bytes_in"]) * 1e9 / self.port_bytes_per_s},
                "queue_ns": c["port_queue_ps"] / 1000}
        if c["sp_grants"] or c["permission_faults"] or c["permission_changes"]:
            d["address_mapping"] = {k: c[k] for k in ("sp_grants", "permission_faults", "permission_changes")}
        if self.dram_traces:
            d["dram_traces"] = dict(self.dram_traces)
        if self.sampling is not None:
            # a sampled run: the figures above are estimates; here each with its 95% interval
            # (null where there is none: fewer than 2 measured units), and what is exact
            d["sampling"] = _finite(self.sampling)
        if self.epochs is not None:
            d["time_series"] = {k: np.asarray(v).tolist() for k, v in self.time_series().items()}
        sd = self.slowdown()
        if sd is not None:
            d["slowdown"] = sd
            d["baseline"] = {"kind": self.baseline_kind, "sim_time_ns": self.baseline.sim_time_ps / 1000,
                             "latency_ns": {kind: self.baseline.latency_ns(kind) for kind in LATENCY_KINDS}}
        return d

    def to_json(self, path=None, indent=2) -> str:
        text = json.dumps(self.to_dict(), indent=indent, default=json_default)
        if path is not None:
            with open(path, "w") as f:
                f.write(text + "\n")
        return text

    def to_dataframe(self):
        """One-row pandas DataFrame of the flattened summary (pandas must be installed)."""
        import pandas as pd
        return pd.json_normalize({k: v for k, v in self.to_dict().items()
                                  if k not in ("config", "per_vm", "per_blade", "per_class")})

    def summary(self) -> str:
        d = self.to_dict()
        c = self.counters
        lat = d["latency_ns"]
        hv = self.config.get("hypervisor", {})
        lines = [
            f"hwmodel {self.version} | backend {self.backend} | trace {self.trace or '(in memory)'} | {self.timing} loop"
            + (f" | 1 {self.trace_time_unit} = {self.ps_per_trace_unit:g} ps" if self.trace_time_unit else "")
            + (" | virtual addresses" if self.addresses == "virtual" else ""),
            f"policy {hv.get('policy')} (victim {hv.get('victim')}, placement {hv.get('placement')}), "
            f"local memory {self._local_memory()}, swap unit {self.unit_bytes} B, {self._dram_models()}",
            "",
            f"  accesses            {c['accesses']:>14,}   reads {c['reads']:,}  writes {c['writes']:,}",
            f"  local / remote      {c['local_accesses']:>14,} / {c['remote_accesses']:,} line accesses "
            f"({100 * d['local_fraction']:.2f}% local)",
            f"  faults              {c['faults']:>14,}   ({100 * d['fault_rate']:.3f}% of accesses)",
            f"  swaps in / out      {c['swap_ins']:>14,} / {c['swap_outs']:,}   dirty victims {c['dirty_victims']:,}",
            f"  first touch         {c['first_touch_local']:>14,} local / {c['first_touch_remote']:,} remote"
            + (f" / {c['first_touch_storage']:,} storage" if c["first_touch_storage"] else ""),
            _latency_line("read latency (ns)", lat["read"], c["reads"], "from arrival to the data"),
            _latency_line("write latency (ns)", lat["write"], c["writes"],
                          "until the write is taken (posted: by the controller's write buffer)"),
            f"  simulated time      {d['sim_time_ns'] / 1e6:.4f} ms   (duration {d['duration_ns'] / 1e6:.4f} ms, "
            f"simulated throughput {d['simulated_throughput_maccess_per_s']:.3f} M accesses/s)",
            f"  link out / in       {c['link_bytes_out']:>14,} / {c['link_bytes_in']:,} bytes   "
            f"({d['link_GBps']['out']:.3f} / {d['link_GBps']['in']:.3f} GB/s, "
            f"{100 * d['link_utilization']['out']:.1f}% / {100 * d['link_utilization']['in']:.1f}% busy)",
            f"  DRAM local / blade  {d['dram_GBps']['local']:.3f} / {d['dram_GBps']['blade']:.3f} GB/s   "
            f"row hits {100 * d['row_hit_rate']['local']:.1f}% / {100 * d['row_hit_rate']['blade']:.1f}%",
        ]
        if c["cache_hits"] + c["cache_misses"]:
            hits = c["cache_hits"] / (c["cache_hits"] + c["cache_misses"])
            lines.append(f"  LLC hits / misses   {c['cache_hits']:>14,} / {c['cache_misses']:,}   "
                         f"({100 * hits:.2f}% hits, {c['cache_writebacks']:,} dirty evictions)")
        if c["storage_reads"] + c["storage_writes"] + c["first_touch_storage"]:
            lines.append(f"  storage reads/writes{c['storage_reads']:>14,} / {c['storage_writes']:,} units   "
                         f"blade evictions {c['blade_evictions']:,}")
            lines.append(f"  fault time by tier  blade {c['blade_fault_ps'] / 1e9:.4f} ms, storage "
                         f"{c['storage_fault_ps'] / 1e9:.4f} ms   waits: driver {c['driver_wait_ps'] / 1e9:.4f} ms, "
                         f"device {c['storage_wait_ps'] / 1e9:.4f} ms")
        if c["checkpoints"] or c["failures"]:
            lines.append(f"  checkpoints         {c['checkpoints']:>14,}   {c['ckpt_bytes'] / 2**20:,.1f} MiB copied, "
                         f"busy {c['ckpt_busy_ps'] / 1e9:.4f} ms, host stopped {c['ckpt_stall_ps'] / 1e9:.4f} ms, "
                         f"cow waits {c['cow_wait_ps'] / 1e9:.4f} ms, ticks skipped {c['ckpt_ticks_skipped']:,}")
        if c["failures"]:
            lines.append(f"  failure             lost work {c['lost_work_ps'] / 1e9:.4f} ms, recovery "
                         f"{c['recovery_ps'] / 1e9:.4f} ms, restored {c['restored_bytes'] / 2**20:,.1f} MiB")
        if self.skipped_lines:
            lines.append(f"  WARNING             {self.skipped_lines:,} malformed trace lines were skipped")
        if c["stall_ps"]:
            lines.append(f"  window stall        {c['stall_ps'] / 1e9:.4f} ms")
        if self.fell_behind() and self.sampling is None:    # (a sampled run's advice says it per measured unit)
            span = self.last_arrival_ps - c["first_arrival_ps"]
            lines.append(f"  note                the last access completed "
                         f"{(c['last_completion_ps'] - self.last_arrival_ps) / 1e9:.4f} ms after the last arrival "
                         f"(the arrivals span {span / 1e9:.4f} ms): the system fell behind this open-loop trace, "
                         f"and the latencies include the queue that built up")
        if self.dram_traces:
            lines.append("  DRAM traces         " + ", ".join(f"{k} -> {v}" for k, v in self.dram_traces.items())
                         + "   (a DRAM that received no request has no file)")
        if self.trace_format in DRAM_LEVEL_FORMATS and hv.get("policy") != "static":
            lines.append(f"  note                a {self.trace_format} trace holds DRAM addresses, but here the hypervisor "
                         f"places its pages ({hv.get('placement')}): the DRAM sees other rows; "
                         f"`hwmodel dram` runs it at the addresses it names")
        if len(self.vm_names) > 1:
            for v in d["per_vm"]:
                lines.append(f"  vm {v['vm']:<16} {v['accesses']:>14,} accesses, {_read_ns(v)}, "
                             f"link {v['link_bytes']:,} B, mean link queueing {v['mean_link_queue_ns']:.1f} ns")
        if "switch_port" in d:
            sp = d["switch_port"]
            lines.append(f"  switch port out/in  {c['port_bytes_out']:>14,} / {c['port_bytes_in']:,} bytes   "
                         f"({100 * sp['utilization']['out']:.1f}% / {100 * sp['utilization']['in']:.1f}% busy, "
                         f"queueing {sp['queue_ns'] / 1e6:.4f} ms)")
        if c["agent_wait_ps"]:
            lines.append(f"  agent waits         {c['agent_wait_ps'] / 1e9:.4f} ms")
        if "address_mapping" in d:
            lines.append(f"  super pages         {c['sp_grants']:>14,} granted on demand   permission faults "
                         f"{c['permission_faults']:,} (refused), changes {c['permission_changes']:,}")
        for q in d.get("per_class", []):
            lines.append(f"  {'qos ' + str(q['class']):<19} {q['accesses']:>14,} accesses, {_read_ns(q)}, "
                         f"mean link queueing {q['mean_link_queue_ns']:.1f} ns")
        for b in d.get("per_blade", []):
            lines.append(f"  blade {b['blade']:<13} {b['accesses']:>14,} accesses, {_read_ns(b)}, "
                         f"link {b['link_bytes']:,} B, mean link queueing {b['mean_link_queue_ns']:.1f} ns, "
                         f"local row hits {100 * b['local_row_hit_rate']:.1f}%")
        sd = self.slowdown()
        if sd is not None:
            lines.append(f"  slowdown vs {self.baseline_kind.replace('_', '-')}: {sd['sim_time']:.3f}x simulated time, "
                         f"{sd['mean_read_latency']:.3f}x mean read latency")
        if self.wall_s:
            lines.append(f"  simulator           {self.wall_s:.3f} s wall, {d['sim_speed_maccess_per_s']:.2f} M "
                         f"simulated accesses per wall second")
        if self.sampling is not None:
            lines += _sampling_lines(self.sampling)
        return "\n".join(lines)


def _finite(x):
    """A copy with inf and nan as None (JSON has neither)."""
    if isinstance(x, dict):
        return {k: _finite(v) for k, v in x.items()}
    if isinstance(x, (list, tuple)):
        return [_finite(v) for v in x]
    if isinstance(x, float) and not np.isfinite(x):
        return None
    return x


def _pm(e: dict, fmt: str, scale: float = 1.0) -> str:
    """An estimate as `value +-half (rel%)`."""
    v, h = e["value"], e["half_width"]
    if v is None or (isinstance(v, float) and np.isnan(v)):
        return "n/a"
    if h is None or not np.isfinite(h):
        return f"{format(v * scale, fmt)} (no interval)"
    return f"{format(v * scale, fmt)} +-{format(h * scale, fmt)} ({100 * e['rel']:.2f}%)"


def _sampling_lines(sm: dict) -> list:
    """The summary's account of a sampled run: how it was sampled, the estimates with their 95%
    intervals, what is exact, and advice when the sample is too small."""
    cfg, e = sm["config"], sm["estimates"]
    lines = [
        f"  sampled             {sm['units_measured']:,} units of {cfg['unit']:,} accesses measured in detail (1 in "
        f"{cfg['period']}, offset {cfg['offset']}, seed {cfg['seed']}) after {cfg['warmup']:,} of warming; "
        f"{sm['detailed_accesses']:,} accesses in detail, {sm['functional_accesses']:,} functional",
        "  estimates, 95% CI   the time, latency, bandwidth and row-hit figures above are estimates:",
        f"    simulated time    {_pm(e['sim_time_ns'], '.4f', 1e-6)} ms   throughput "
        f"{_pm(e['simulated_throughput_maccess_per_s'], '.3f')} M accesses/s",
    ]
    for kind in ("read", "write"):
        lines.append(f"    {kind} latency ns  mean {_pm(e[kind + '_latency_mean_ns'], '.1f')}   p50 "
                     f"{_pm(e[kind + '_latency_p50_ns'], '.1f')}   p95 {_pm(e[kind + '_latency_p95_ns'], '.1f')}   p99 "
                     f"{_pm(e[kind + '_latency_p99_ns'], '.1f')}")
    lines.append(f"    DRAM GB/s         local {_pm(e['dram_GBps_local'], '.3f')}   blade {_pm(e['dram_GBps_blade'], '.3f')}"
                 f"   row hits (%) local {_pm(e['row_hit_rate_local'], '.2f', 100)}   blade "
                 f"{_pm(e['row_hit_rate_blade'], '.2f', 100)}")
    lines.append(f"    link GB/s         out {_pm(e['link_GBps_out'], '.3f')}   in {_pm(e['link_GBps_in'], '.3f')}")
    if sm["exact"]:
        lines.append("  exact               accesses, reads/writes, faults, swaps, dirty victims, first touches, "
                     "LLC hits/misses/write-backs, storage reads/writes, blade evictions, link and port bytes, super "
                     "pages, permission faults: counted over every access as a full detailed run counts them")
    else:
        lines.append("  counted             the counters above are counted over every access, but time-driven events "
                     "(checkpoints, a failure, SLA or permission changes) fell at estimated times in the functional "
                     "stretches: close to a full run's, not equal")
    lines.append("  latency max         the largest of the accesses run in detail")
    if sm["advice"]:
        lines.append(f"  WARNING             {sm['advice']}")
    return lines


def _latency_line(label: str, lat: dict, n: int, meaning: str) -> str:
    if not n:
        return f"  {label:<19} (none)"
    return (f"  {label:<19} mean {lat['mean']:.1f}  p50 {lat['p50']:.1f}  p95 {lat['p95']:.1f}  "
            f"p99 {lat['p99']:.1f}  max {lat['max']:.1f}   {meaning}")


def _read_ns(g: dict) -> str:
    """A per-VM (class, blade) group's read latency in words."""
    r = g["read_latency_ns"]
    if r["mean"] is None:
        return "no reads"
    return f"read mean {r['mean']:.1f} ns" + (f" (p99 {r['p99']:.1f})" if "p99" in r else "")


def _local_memory_of(compute) -> str:
    if isinstance(compute, list):
        return " + ".join(str(b.get("local_memory")) for b in compute)
    return str((compute or {}).get("local_memory"))


def json_default(o):
    """numpy scalars and arrays in results become plain numbers and lists for json.dumps."""
    if isinstance(o, np.integer):
        return int(o)
    if isinstance(o, np.floating):
        return float(o)
    if isinstance(o, np.ndarray):
        return o.tolist()
    raise TypeError(f"not JSON serializable: {type(o).__name__}")
