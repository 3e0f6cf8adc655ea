"""Sampled simulation (issue 18): SMARTS-style systematic sampling with functional warming.

The trace is cut into units of `unit` accesses. One unit in `period` (units k with
k % period == offset, the offset drawn from `seed`) is *measured*: it runs in the detailed mode,
after the `warmup` accesses before it ran in the detailed mode too (they warm the short-lived
timing state: banks, buses, link calendars, queues, the in-flight window) without being measured.
Everything else runs in the functional mode (core/functional.pxi), which keeps the long-lived state
(page table, victim order, blade slots, super pages, LLC, checkpoint sets) exactly as the detailed
mode would, and advances time by the running estimate of the stall (closed loop) and latency per
access, so time-driven events (checkpoint ticks, SLA and permission changes, a failure, epochs)
still fire in order. The first `warmup` accesses of the trace run in detail too (the first
estimates come from them).

Results: counters that do not depend on timing are counted exactly over the whole trace; time sums
(latencies, stalls, waits, DRAM activity) are estimated from the measured units, each a ratio
estimator (sum over the units / their accesses, times the trace's accesses) with a 95% confidence
interval by the central limit theorem over the units (Student's t; `_var`). SMARTS's rule: the interval
is trusted with at least MIN_UNITS measured units; otherwise, or when it is wider than
TARGET_REL_ERROR, `advice` says how to sample more. Times are integer ps.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from .. import _layout as L
from .._dram_layout import DRAM_COUNTER_NAMES

MIN_UNITS = 30              # SMARTS: the CLT interval needs about 30 measured units
BACKLOG_LIMIT = 0.05        # open loop: a backlog growing by more than this share of the time: overloaded
TARGET_REL_ERROR = 0.03     # ... and is meant to be within +-3% (at 95%)
Z95 = 1.959963984540054
# two-sided 95% Student t quantiles, 1..30 degrees of freedom (above: a series in 1/df)
_T95 = (12.706, 4.303, 3.182, 2.776, 2.571, 2.447, 2.365, 2.306, 2.262, 2.228, 2.201, 2.179, 2.160, 2.145,
        2.131, 2.120, 2.110, 2.101, 2.093, 2.086, 2.080, 2.074, 2.069, 2.064, 2.060, 2.056, 2.052, 2.048,
        2.045, 2.042)


def t95(df: int) -> float:
    """The two-sided 95% quantile of Student's t with `df` degrees of freedom (inf for df < 1)."""
    if df < 1:
        return math.inf
    if df <= len(_T95):
        return _T95[df - 1]
    z = Z95   # Cornish-Fisher series: within 1e-4 above 30 df
    return z + (z**3 + z) / (4 * df) + (5 * z**5 + 16 * z**3 + 3 * z) / (96 * df**2)


@dataclass(frozen=True)
class Sampling:
    """Sampled simulation (README, Sampled simulation): the trace in units, one unit in `period`
    measured in the detailed mode after `warmup` accesses of detailed warming, the rest run
    functionally; results are estimates with 95% intervals. A configuration that has a `sampling`
    section samples unless it says `enabled: false` (`hwmodel run --sample`: the defaults)."""
    SECTION = "sampling"
    enabled: bool = False        # sample (a `sampling` section or --sample turns it on)
    unit: int = 10000            # accesses per unit (>= 1)
    period: int = 100            # one unit in `period` is measured in detail (>= 1; 1 = every unit)
    warmup: int | None = None    # accesses run in detail, unmeasured, before each measured unit (< unit; default unit / 5)
    seed: int = 0                # draws the offset of the measured units (0 <= offset < period)

    def __post_init__(self):
        if self.warmup is None:
            object.__setattr__(self, "warmup", self.unit // 5 if isinstance(self.unit, int) else 0)
        for name in ("unit", "period", "warmup", "seed"):
            v = getattr(self, name)
            if isinstance(v, bool) or not isinstance(v, int):
                raise ValueError(f"sampling.{name}: {v!r} is not a whole number")
        if not isinstance(self.enabled, bool):
            raise ValueError(f"sampling.enabled: {self.enabled!r} is not true or false")
        if self.unit < 1:
            raise ValueError(f"sampling.unit: {self.unit} must be >= 1 (accesses per unit)")
        if self.period < 1:
            raise ValueError(f"sampling.period: {self.period} must be >= 1 (one unit in `period` is measured)")
        if not 0 <= self.warmup < self.unit:
            raise ValueError(f"sampling.warmup: {self.warmup} must be >= 0 and less than sampling.unit "
                             f"({self.unit})")
        if not 0 <= self.seed < 2**63:
            raise ValueError(f"sampling.seed: {self.seed} must be >= 0 and below 2**63")

    @classmethod
    def from_dict(cls, data, path="sampling"):
        """A `sampling` mapping (present: enabled unless it says otherwise), None (off) or True
        (on, with the defaults)."""
        from ..config import build
        if data is True:
            data = {}
        elif data is None or data is False:
            return cls()
        if isinstance(data, dict) and "enabled" not in data:
            data = {**data, "enabled": True}
        return build(cls, data, path)

    @property
    def offset(self) -> int:
        """The measured units are those with index % period == offset."""
        return int(np.random.default_rng(self.seed).integers(self.period))

    def key(self) -> list:
        return [self.unit, self.period, self.warmup, self.seed]


# counters a functional stretch counts exactly as the detailed mode does (when no time-driven event
# is configured, they equal a full detailed run's)
EXACT_COUNTERS = ("accesses", "reads", "writes", "local_accesses", "remote_accesses", "faults", "swap_ins",
                  "swap_outs", "dirty_victims", "first_touch_local", "first_touch_remote", "first_touch_storage",
                  "cache_hits", "cache_misses", "cache_writebacks", "storage_reads", "storage_writes",
                  "blade_evictions", "link_bytes_out", "link_bytes_in", "port_bytes_out", "port_bytes_in",
                  "sp_grants", "permission_faults")
# counted in functional stretches too, but at estimated times (checkpoint ticks, a failure, events)
EVENT_COUNTERS = ("checkpoints", "ckpt_bytes", "ckpt_busy_ps", "ckpt_stall_ps", "ckpt_ticks_skipped", "failures",
                  "lost_work_ps", "recovery_ps", "restored_bytes", "sp_releases", "permission_changes")
# sums of time the detailed mode alone adds up: estimated as (sum over measured units / their
# accesses) x the trace's accesses
SCALED_COUNTERS = ("latency_sum_ps", "read_latency_sum_ps", "write_latency_sum_ps", "stall_ps", "driver_wait_ps",
                   "storage_wait_ps", "blade_fault_ps", "storage_fault_ps", "cow_wait_ps", "buffer_wait_ps",
                   "agent_wait_ps", "port_queue_ps")
_NC, _ND = len(L.COUNTER_NAMES), len(DRAM_COUNTER_NAMES)
_C = L.C
_DRAM = ("local", "blade", "peer")


def _var(d) -> float:
    """The sample variance of the units' values d, sum((d - mean)**2) / (n - 1), as SMARTS takes it.
    For a systematic sample it is conservative when the trace has phases (a warm-up, a change of
    working set): it counts the differences between them as noise. The successive-difference
    estimator (Wolter, ch. 8) removes that, but on the benchmark systems its intervals covered the
    full run's value only 17 times in 20 (tests/test_sampling_validation.py); this one 20 in 20."""
    return float(np.var(np.asarray(d, np.float64), ddof=1))


def _dram_counters(state: dict, local_keys=None) -> np.ndarray:
    """The local (every compute blade's together), blade and peer DRAM counters, concatenated
    (`local_keys`: the state's local DRAM counter arrays' names, in its order, if known)."""
    if local_keys is None:
        local_keys = [k for k in state if k.startswith("local") and k.endswith("_counters")]
    local = sum(state[k] for k in local_keys)
    return np.concatenate([local, state["blade_counters"], state["peer_counters"]]).astype(np.int64)


def _blade_dram(state: dict, nb: int) -> np.ndarray:
    return np.concatenate([state[L.local_prefix(k) + "counters"] for k in range(nb)]).astype(np.int64)


def _pack(a: np.ndarray) -> str:
    """An array as text for a JSON header: zlib-compressed bytes in base64 (shape and dtype are
    the reader's to know)."""
    import base64
    import zlib
    return base64.b64encode(zlib.compress(np.ascontiguousarray(a).tobytes(), 6)).decode()


def _unpack(text, shape, dtype) -> np.ndarray:
    import base64
    import zlib
    if not isinstance(text, str) or len(text) > 1 << 26:
        raise ValueError("not a packed array")
    z = zlib.decompressobj()
    raw = z.decompress(base64.b64decode(text.encode(), validate=True), 1 << 28)   # a bounded inflation
    if z.unconsumed_tail:
        raise ValueError("a packed array larger than 256 MiB")
    return np.frombuffer(raw, dtype).copy().reshape(shape)


class Sampler:
    """Runs a trace's chunks through an engine in sampled mode and keeps the measurements (their
    state saves as JSON with a run's state: save/resume continue a sampled run)."""

    def __init__(self, cfg: Sampling, engine, closed: bool, saved: dict | None = None):
        self.cfg, self.engine, self.closed = cfg, engine, closed
        self.off = cfg.offset
        st = engine.state
        self.nb = engine.c.param("N_CB")
        self.vm_w = len(L.VM_STAT_NAMES)
        self.units = []          # per measured unit: its counter deltas, then its DRAM counter deltas
        self._sums = [[0] * 4, [0] * 4]   # per class (idle, copying): units, accesses, stall, latency sums
        self._summed = 0         # ... over the first this many units
        self._local_keys = None  # the state's local DRAM counter arrays (_snap)
        self.busy = []           # per measured unit: a checkpoint was being copied when it began
        self.lag = []            # per measured unit: how much its backlog grew, and its time span (ps)
        self.pcts = []           # per measured unit: read and write p50, p95, p99 (ps; nan: none)
        self.hist = np.zeros_like(st["hist"])
        self.vm_hist = np.zeros_like(st["vm_hist"])
        self.vm_stats = np.zeros_like(st["vm_stats"])
        self.blade_dram = np.zeros(self.nb * _ND, np.int64)
        self.open = None          # the measured unit in progress: (unit index, snapshot at its start)
        self.calib = None         # the first detailed stretch's snapshot (estimates before any unit)
        self.func_accesses = 0    # accesses run functionally
        self.gap_sum_ps = 0       # closed loop: sum of the issue gaps (the trace's share of the clock)
        self.est = (0, 0, 0, 0)   # the running (stall, latency) estimates, ps per access; then while a
        #                           checkpoint is being copied
        if saved is not None:
            self._load(saved)

    # -- schedule ------------------------------------------------------------------------------
    def mode(self, i: int) -> str:
        """What access i (of the whole trace) runs as: measure | warm | func."""
        u, p, w = self.cfg.unit, self.cfg.period, self.cfg.warmup
        k = i // u
        if k % p == self.off:
            return "measure"
        if i < w or ((k + 1) % p == self.off and i >= (k + 1) * u - w):
            return "warm"
        return "func"

    def segments(self, start: int, n: int):
        """[(mode, a, b)] covering accesses start..start+n-1, a and b relative to `start`; a
        measured unit is never merged with its neighbours."""
        u, w, p = self.cfg.unit, self.cfg.warmup, self.cfg.period
        cuts = {start, start + n}
        if w and start < w:
            cuts.add(w)
        # each unit's ends and the start of its last `w` accesses, but only where they change
        # the result: about measured units (which never merge) and where a warm-up begins (the
        # other units' cuts would only split stretches that merge again)
        k0, k1 = start // u, (start + n - 1) // u + 1
        for k in range(k0 + (self.off - k0) % p, k1, p):              # k % p == off: measured
            cuts.add(k * u)
            cuts.add((k + 1) * u - w)
            cuts.add((k + 1) * u)
        for k in range(k0 + (self.off - 1 - k0) % p, k1, p):          # (k + 1) % p == off
            cuts.add((k + 1) * u - w)
        cuts = sorted(c for c in cuts if start <= c <= start + n)
        out = []
        for a, b in zip(cuts, cuts[1:]):
            m = self.mode(a)
            if out and out[-1][0] == m and m != "measure":
                out[-1] = (m, out[-1][1], b - start)
            else:
                out.append((m, a - start, b - start))
        return out

    # -- running -------------------------------------------------------------------------------
    def run_chunk(self, t_ps, addr, op, vm, where, first_record: int, t_const=None):
        """Run one chunk (its times already in ps: arrivals, or gaps closed loop) in sampled mode
        (`t_const`: every time is this value, Engine.check_chunk)."""
        e = self.engine
        # checked once: the checks of the whole chunk bound its pieces (the clock's too)
        t_ps, addr, op, vm = e.check_chunk(t_ps, addr, op, vm, where, t_const)
        if self.closed:
            self.gap_sum_ps += t_const * len(t_ps) if t_const is not None else int(t_ps.sum(dtype=np.int64))
        for m, a, b in self.segments(first_record, len(addr)):
            i = first_record + a
            w = (lambda j, a=a: where(j + a))
            cols = (t_ps[a:b], addr[a:b], op[a:b], vm[a:b])
            if m == "func":
                stall, lat, stall_ck, lat_ck = self.estimates()
                e.run_functional(*cols, stall, lat, where=w, check=False, stall_ck_ps=stall_ck, latency_ck_ps=lat_ck)
                self.func_accesses += b - a
                continue
            if self.calib is None:
                self.calib = self._snap()
            if m == "measure" and i % self.cfg.unit == 0 and self.open is None:
                self.open = (i // self.cfg.unit, self._snap())
                self.open[1]["busy"] = np.array([self._busy()], np.int64)
            e.run_chunk(*cols, where=w, check=False)
            if m == "measure" and (i + b - a) % self.cfg.unit == 0 and self.open is not None:
                if self.mode(i + b - a) == "func":
                    e.finish()     # its held-back write-backs are the unit's (their link and DRAM time)
                self._close(self._snap(copy=False))

    def _busy(self) -> int:
        """1 when a compute blade's checkpoint is being copied (the functional mode's choice of estimates)."""
        if not self.engine.c.param("CK_REGIME"):
            return 0
        return int(self.engine.state["ck_sc"].reshape(self.nb, -1)[:, L.K["ck_active"]].any())

    def _snap(self, copy: bool = True) -> dict:
        """The counters a measured unit takes the differences of; `copy=False`: the state's own
        arrays where they are kept as they are (a unit's end, read before the run goes on)."""
        st = self.engine.state
        sc = st["scalars"]
        if self._local_keys is None:
            self._local_keys = [k for k in st if k.startswith("local") and k.endswith("_counters")]
        keep = np.copy if copy else (lambda a: a)
        return {"cnt": keep(st["counters"]), "dram": _dram_counters(st, self._local_keys), "hist": keep(st["hist"]),
                "clock": np.array([sc[L.S["last_arrival_ps"]], st["counters"][_C["last_completion_ps"]]], np.int64),
                "vm_hist": keep(st["vm_hist"]), "vm_stats": keep(st["vm_stats"]),
                "blade_dram": _blade_dram(st, self.nb)}

    def _close(self, end: dict):
        k, start = self.open
        self.open = None
        dc = end["cnt"] - start["cnt"]
        dd = end["dram"] - start["dram"]
        self.units.append(np.concatenate([dc, dd]).tolist())
        self.busy.append(int(start["busy"][0]) if "busy" in start else 0)
        # the backlog: how far the last completion is ahead of the last arrival (a system that falls
        # behind its open-loop trace builds it up over the whole run: see advice)
        (a0, c0), (a1, c1) = start["clock"], end["clock"]
        self.lag.append([int((c1 - a1) - (c0 - a0)), int(a1 - a0)])
        dh = end["hist"] - start["hist"]
        self.hist += dh
        self.vm_hist += end["vm_hist"] - start["vm_hist"]
        self.vm_stats += end["vm_stats"] - start["vm_stats"]
        self.blade_dram += end["blade_dram"] - start["blade_dram"]
        from ..stats import percentiles_ps
        h = dh.reshape(2, -1)
        self.pcts.append([x for w in (0, 1) for x in (percentiles_ps(h[w], (50, 95, 99), 1 << 62) if h[w].any()
                                                      else [math.nan] * 3)])
        self._update_estimates()

    def _update_estimates(self):
        """The stall and latency per access the functional stretches use: the measured units', or
        before any, the first detailed stretch's; apart for the units that began while a checkpoint
        was being copied (the copies slow the accesses around them: with one estimate for all, the
        functional stretches would put too many accesses into checkpoint time, and the measured
        units would fall there too often), each class falling back on all units until it has one."""
        # the units' accesses, stalls and latencies summed as they come, per class (idle, copying)
        sums, ia, ist, ilat = self._sums, _C["accesses"], _C["stall_ps"], _C["latency_sum_ps"]
        for j in range(self._summed, len(self.units)):
            row, s = self.units[j], sums[1 if self.busy[j] else 0]
            s[0], s[1], s[2], s[3] = s[0] + 1, s[1] + row[ia], s[2] + row[ist], s[3] + row[ilat]
        self._summed = len(self.units)

        def per_access(s):
            return (int(round(float(s[2]) / float(s[1]))), int(round(float(s[3]) / float(s[1]))))
        every = per_access([a + b for a, b in zip(*sums)])
        self.est = (per_access(sums[0]) if sums[0][0] else every) + (per_access(sums[1]) if sums[1][0] else every)

    def estimates(self) -> tuple:
        """(stall, latency, stall while a checkpoint is copied, latency then) in ps per access for
        the next functional stretch."""
        if not self.units and self.calib is not None:
            c0, c = self.calib["cnt"], self.engine.state["counters"]
            n = int(c[_C["accesses"]] - c0[_C["accesses"]])
            if n:
                e = (int((c[_C["stall_ps"]] - c0[_C["stall_ps"]]) // n),
                     int((c[_C["latency_sum_ps"]] - c0[_C["latency_sum_ps"]]) // n))
                return e + e
        return self.est

    # -- save / resume -------------------------------------------------------------------------
    def to_json(self) -> dict:
        """The sampler's record, for a saved state's header (arrays packed: int64, zlib, base64)."""
        def snap(x):
            return None if x is None else {k: _pack(v) for k, v in x.items()}
        return {"config": self.cfg.key(), "units": _pack(np.asarray(self.units, np.int64).reshape(-1, _NC + 3 * _ND)),
                "pcts": _pack(np.asarray(self.pcts, np.float64).reshape(-1, 6)),
                "hist": _pack(self.hist), "vm_hist": _pack(self.vm_hist), "vm_stats": _pack(self.vm_stats),
                "blade_dram": _pack(self.blade_dram),
                "open": None if self.open is None else [self.open[0], snap(self.open[1])],
                "calib": snap(self.calib), "func_accesses": self.func_accesses, "busy": list(self.busy),
                "lag": self.lag,
                "gap_sum_ps": self.gap_sum_ps, "est": list(self.est)}

    def _load(self, d: dict):
        if not isinstance(d, dict) or d.get("config") != self.cfg.key():
            got = d.get("config") if isinstance(d, dict) else None
            raise ValueError(f"the saved state was sampled with unit, period, warmup, seed = {got}, not "
                             f"{self.cfg.key()}; resume with the same sampling settings")
        snapshot = self._snap()

        def snap(x):
            if x is None:
                return None
            out = {k: _unpack(x[k], snapshot[k].shape, snapshot[k].dtype) for k in snapshot}
            if "busy" in x:
                out["busy"] = _unpack(x["busy"], (1,), np.int64)
            return out
        try:
            units = _unpack(d["units"], (-1, _NC + 3 * _ND), np.int64)
            self.units = units.tolist()
            self._sums, self._summed = [[0] * 4, [0] * 4], 0     # summed again from these
            self.pcts = _unpack(d["pcts"], (-1, 6), np.float64).tolist()
            self.hist = _unpack(d["hist"], self.hist.shape, np.int64)
            self.vm_hist = _unpack(d["vm_hist"], self.vm_hist.shape, np.int64)
            self.vm_stats = _unpack(d["vm_stats"], self.vm_stats.shape, np.int64)
            self.blade_dram = _unpack(d["blade_dram"], self.blade_dram.shape, np.int64)
            self.open = None if d["open"] is None else (int(d["open"][0]), snap(d["open"][1]))
            self.calib = snap(d["calib"])
            self.func_accesses, self.busy = int(d["func_accesses"]), [int(bool(x)) for x in d["busy"]]
            self.lag = [[int(g), int(t)] for g, t in d["lag"]]
            self.gap_sum_ps, self.est = int(d["gap_sum_ps"]), tuple(map(int, d["est"]))
            if len(self.est) != 4:
                raise ValueError("estimates")
        except (KeyError, TypeError, ValueError, IndexError) as e:
            raise ValueError(f"the saved state's sampling record is damaged ({type(e).__name__}: {e})") from None
        if not len(self.pcts) == len(self.units) == len(self.busy) == len(self.lag):
            raise ValueError("the saved state's sampling record is damaged (units and percentiles differ)")

    # -- results -------------------------------------------------------------------------------
    def finish(self, result, time_events: bool):
        """Turn the sampled run's `result` (made from its state) into estimates: the time sums are
        scaled from the measured units, and `result.sampling` holds every estimate with its 95%
        interval, what is exact, and advice when the sample is too small."""
        if self.open is not None:     # the trace ended inside a measured unit: a shorter unit
            self._close(self._snap(copy=False))
        c = result.counters
        n_all = c["accesses"]
        if not self.units:
            raise ValueError(f"sampling: the trace ({n_all:,} accesses) ended before the first measured unit (unit "
                             f"{self.off} of {self.cfg.unit:,} accesses, one in {self.cfg.period}); use a smaller "
                             f"sampling.unit or sampling.period, or run without sampling")
        u = np.asarray(self.units, np.float64).reshape(-1, _NC + 3 * _ND)
        k = len(u)
        measured = float(u[:, _C["accesses"]].sum()) if k else 0.0
        est = {}
        # every access measured (period 1, warmup 0): a census, the run's own figures, no error
        census = k > 0 and self.func_accesses == 0 and measured == n_all

        def ratio(num, den, scale=1.0):
            """Sum of num over units / sum of den, with its 95% half-width (ratio estimator)."""
            y, x = np.asarray(num, np.float64), np.asarray(den, np.float64)
            if k == 0 or x.sum() == 0:
                return math.nan, math.nan
            r = y.sum() / x.sum()
            if census:
                return r * scale, 0.0
            if k < 2:
                return r * scale, math.inf
            return r * scale, t95(k - 1) * math.sqrt(_var(y - r * x) / k) / x.mean() * abs(scale)

        def put(name, value, half, unit):
            est[name] = {"value": value, "ci95": [value - half, value + half], "half_width": half,
                         "rel": abs(half / value) if value else (0.0 if half == 0 else math.inf), "unit": unit}

        col = lambda name: u[:, _C[name]]   # noqa: E731
        dcol = lambda d, name: u[:, _NC + _DRAM.index(d) * _ND + DRAM_COUNTER_NAMES.index(name)]   # noqa: E731
        acc = col("accesses")
        # the counters: time sums scaled from the measured units
        if k and not census:
            for name in SCALED_COUNTERS:
                c[name] = int(round(col(name).sum() / measured * n_all))
            for kind in ("read", "write"):
                m = col(kind + "s").sum()
                c[kind + "_latency_sum_ps"] = int(round(col(kind + "_latency_sum_ps").sum() / m * c[kind + "s"])) \
                    if m else 0
            c["latency_sum_ps"] = c["read_latency_sum_ps"] + c["write_latency_sum_ps"]
            for d in _DRAM:
                for j, name in enumerate(DRAM_COUNTER_NAMES):
                    c[f"{d}_{name}"] = int(round(dcol(d, name).sum() / measured * n_all))
            f = n_all / measured
            result.blade_dram = [dict(zip(DRAM_COUNTER_NAMES, (int(round(x * f)) for x in self.blade_dram[b * _ND:(b + 1) * _ND])))
                                 for b in range(self.nb)]
            result.hist = np.rint(self.hist.reshape(2, -1) * f).astype(np.int64)
            if result.vm_hist is not None:
                result.vm_hist = np.rint(self.vm_hist.reshape(result.vm_hist.shape) * f).astype(np.int64)
            # per VM: its latency and link queueing per access, its write latency per write, as its
            # measured accesses had them (a VM no measured unit saw: the measured mean)
            vs = result.vm_stats.reshape(-1, self.vm_w).copy()
            ms = self.vm_stats.reshape(-1, self.vm_w).astype(np.float64)
            a, lat, q, wr, wlat = (L.VM_STAT_NAMES.index(x) for x in
                                   ("accesses", "latency_sum_ps", "link_queue_ps", "writes", "write_latency_sum_ps"))
            mean_lat = col("latency_sum_ps").sum() / measured
            mean_wlat = col("write_latency_sum_ps").sum() / max(col("writes").sum(), 1)
            for row in range(len(vs)):
                for num, den, fallback in ((lat, a, mean_lat), (q, a, 0.0), (wlat, wr, mean_wlat)):
                    per = ms[row, num] / ms[row, den] if ms[row, den] else fallback
                    vs[row, num] = int(round(per * vs[row, den]))
            result.vm_stats = vs.reshape(-1)
        # simulated time: closed loop, the gaps (exact) + the stall per access x accesses + a latency
        first = c["first_arrival_ps"]
        lat_all, lat_h = ratio(col("latency_sum_ps"), acc)
        if census:
            end, end_h = float(c["last_completion_ps"]), 0.0
        elif self.closed and k:
            r_stall, h_stall = ratio(col("stall_ps"), acc)
            end = self.gap_sum_ps + r_stall * n_all + lat_all
            end_h = h_stall * n_all
        else:
            end = float(c["last_completion_ps"])     # open loop: the trace's arrivals set the clock
            end_h = lat_h if k else math.nan
        if not census:
            c["last_completion_ps"] = int(round(end))
        dur = max(end - first, 1.0)
        put("sim_time_ns", end / 1000, end_h / 1000, "ns")
        put("duration_ns", (end - first) / 1000, end_h / 1000, "ns")
        thr = n_all / dur * 1e6
        put("simulated_throughput_maccess_per_s", thr, thr * end_h / dur, "M accesses/s")
        for kind in ("read", "write"):
            v, h = ratio(col(kind + "_latency_sum_ps"), col(kind + "s"), 1e-3)
            put(f"{kind}_latency_mean_ns", v, h, "ns")
            p = np.asarray([r[(0 if kind == "read" else 3) + j] for r in self.pcts for j in range(3)],
                           np.float64).reshape(-1, 3) if self.pcts else np.zeros((0, 3))
            hist = self.hist.reshape(2, -1)[0 if kind == "read" else 1]
            from ..stats import percentile_ps
            for j, q in enumerate((50, 95, 99)):
                vals = p[:, j][~np.isnan(p[:, j])] if len(p) else p[:, j]
                val = percentile_ps(hist, q, 1 << 62) / 1000 if hist.any() else math.nan
                half = 0.0 if census else t95(len(vals) - 1) * math.sqrt(_var(vals) / len(vals)) / 1000 \
                    if len(vals) > 1 else math.inf
                put(f"{kind}_latency_p{q}_ns", val, half, "ns")
        v, h = ratio(col("latency_sum_ps"), acc, 1e-3)
        put("latency_mean_ns", v, h, "ns")
        rel_dur = end_h / dur
        for d in ("out", "in"):
            b = c[f"link_bytes_{d}"]
            put(f"link_GBps_{d}", b / dur * 1000, b / dur * 1000 * rel_dur, "GB/s")
        for d in ("local", "blade"):
            v, h = ratio(dcol(d, "dram_bytes"), acc, n_all / dur * 1000)
            put(f"dram_GBps_{d}", v, h + v * rel_dur if not math.isnan(v) else h, "GB/s")
            rows = dcol(d, "row_hits") + dcol(d, "row_misses") + dcol(d, "row_conflicts")
            v, h = ratio(dcol(d, "row_hits"), rows)
            put(f"row_hit_rate_{d}", v, h, "fraction")
        time_dep = [x for x in L.COUNTER_NAMES if x not in EXACT_COUNTERS and x not in EVENT_COUNTERS]
        result.sampling = {
            "config": {"unit": self.cfg.unit, "period": self.cfg.period, "warmup": self.cfg.warmup,
                       "seed": self.cfg.seed, "offset": self.off},
            "units_measured": k,
            "measured_accesses": int(measured),
            "functional_accesses": self.func_accesses,
            "detailed_accesses": int(n_all - self.func_accesses),
            "estimates": est,
            "exact": list(EXACT_COUNTERS) if not time_events else [],
            "counted_at_estimated_times": list(EVENT_COUNTERS) + (list(EXACT_COUNTERS) if time_events else []),
            "estimated": time_dep + [f"{d}_{n}" for d in _DRAM for n in DRAM_COUNTER_NAMES],
            "latency_max": "the largest of the accesses run in detail",
            "backlog_growth": self.backlog_growth(),
            "advice": self.advice(est, k, n_all),
        }
        return result

    def backlog_growth(self) -> float:
        """Open loop: how much the backlog (last completion - last arrival) grew over the measured
        units, as a fraction of their time; 0 closed loop (the window bounds it)."""
        span = sum(t for _, t in self.lag)
        return sum(g for g, _ in self.lag) / span if span > 0 and not self.closed else 0.0

    def advice(self, est: dict, k: int, n_all: int) -> str:
        """SMARTS's rule: at least MIN_UNITS measured units, and the interval within
        TARGET_REL_ERROR; otherwise what to change (empty when the sample suffices). First, when
        the system falls behind an open-loop trace, that the estimates of time are too low."""
        behind = self.backlog_growth()
        if behind > BACKLOG_LIMIT:
            return (f"sampling: the system falls behind this open-loop trace (its backlog grows by "
                    f"{100 * behind:.0f}% of the time of each measured unit): a queue that builds up over the "
                    f"whole run is long-lived state the functional stretches do not keep, so the estimates of "
                    f"time and latency are too low; run it in full detail (without sampling)")
        cfg = self.cfg
        rels = [est[m]["rel"] for m in ("sim_time_ns", "read_latency_mean_ns")
                if m in est and not math.isnan(est[m]["rel"])]
        worst = max(rels, default=math.inf)
        if k >= MIN_UNITS and worst <= TARGET_REL_ERROR:
            return ""
        # units needed for the target: the half-width shrinks as 1/sqrt(units)
        need = MIN_UNITS if k < 2 or math.isinf(worst) else max(MIN_UNITS, math.ceil(k * (worst / TARGET_REL_ERROR) ** 2))
        units = -(-n_all // cfg.unit)
        period = max(1, units // need)
        why = (f"only {k} measured unit(s) (at least {MIN_UNITS} make the interval trustworthy)" if k < MIN_UNITS
               else f"the 95% interval is +-{100 * worst:.1f}%, wider than +-{100 * TARGET_REL_ERROR:.0f}%")
        if units // cfg.period >= need or period >= cfg.period:   # the trace is long enough as sampled
            period = cfg.period
        fix = (f"-p sampling.period={period} (now {cfg.period})" if period < cfg.period else
               f"a smaller sampling.unit (now {cfg.unit}) or sampling.period (now {cfg.period}), or a longer trace")
        if period < cfg.period and units < need:
            fix += f"; the trace has only {units} units of {cfg.unit}: also a smaller sampling.unit"
        return f"sampling: {why}; measure about {need} units: {fix}"
