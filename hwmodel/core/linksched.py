"""The SNIC's link scheduler on a packet trace (`hwmodel qos`): compile, run, report.

The hardware is described in `hwmodel.hardware.snic` (`SNIC`, `QoSClass`, `LinkScheduler`,
`NetworkManager`); it compiles to flat integer parameters (`compile_link`) that
`hwmodel.core._linksched` (or its twin `_linksched_reference`) runs a chunk at a time. `run_qos`
cuts the packet stream at the network manager's times (control-plane events), settles the
scheduler's clock, applies the change and continues, and writes a management response per window:
each VM's bytes, packets, busy time (serialization it used), drops, and whether its guaranteed
rate was met. Packet traces are read, written, merged and generated here too.
"""
from __future__ import annotations

import dataclasses
import json
import zipfile
from dataclasses import dataclass, field
from fractions import Fraction
from pathlib import Path

import numpy as np

from . import _linksched_reference as R
from ..hardware.snic import DISCIPLINES, SNIC, Instruction, LinkScheduler, NetworkManager, QoSClass
from ..units import MAX_TIME_PS, format_time, parse_bandwidth, parse_size, parse_time

# ---------------------------------------------------------------------------- compile to the core

def _per_byte(rate: Fraction, path: str) -> tuple:
    """(num, den): ps per byte = num / den, exactly, for a rate in bytes/s."""
    f = Fraction(10**12) / rate
    if f.numerator >= 2**62 or f.denominator >= 2**62:
        raise ValueError(f"{path}: {rate} B/s cannot be represented exactly; round it")
    return f.numerator, f.denominator


def compile_link(snic: SNIC, vms=None) -> tuple:
    """(g, qp): the core's link parameters and per-queue parameters (int64 arrays)."""
    vms = snic.vms if vms is None else vms
    s = snic.scheduler
    code = DISCIPLINES[s.discipline][0]
    snum, sden = _per_byte(parse_bandwidth(s.bandwidth, "scheduler.bandwidth"), "scheduler.bandwidth")
    g = np.array([code, snum, sden, parse_time(s.propagation, "scheduler.propagation")], np.int64)
    qp = np.zeros((len(vms), R.NQP), np.int64)
    quantum = parse_size(s.quantum, "scheduler.quantum")
    for i, v in enumerate(vms):
        qp[i, R.QP["PRIO"]] = v.priority
        qp[i, R.QP["WEIGHT"]] = v.weight
        qp[i, R.QP["QUANTUM"]] = v.weight if code == R.DISCIPLINES["wrr"] else v.weight * quantum
        qp[i, R.QP["TB_DEN"]] = 1
        if v.cap is not None:
            n, d = _per_byte(parse_bandwidth(v.cap, f"vms[{i}].cap"), f"vms[{i}].cap")
            qp[i, R.QP["TB_NUM"]], qp[i, R.QP["TB_DEN"]] = n, d
            qp[i, R.QP["TB_BURST"]] = parse_size(v.burst, f"vms[{i}].burst")
        qp[i, R.QP["DEPTH"]] = snic.queue_depth
    return g, qp.reshape(-1)


def select_backend(name: str | None = None):
    """`compiled` (default; HWMODEL_BACKEND sets it) or `reference` link scheduler."""
    from .engine import select_backend as select
    return select(name, compiled="core._linksched", reference="core._linksched_reference")


# --------------------------------------------------------------------------------- the run engine

class LinkSim:
    """Feeds packet chunks to a backend and keeps the scheduler state between them."""

    def __init__(self, snic: SNIC, backend: str | None = None, state: dict | None = None):
        self.snic = snic
        self.vms = list(snic.vms)
        self.core = select_backend(backend)
        self.backend = "reference" if self.core is R else "compiled"
        self.g, self.qp = compile_link(snic, self.vms)
        self.state = state if state is not None else R.new_state(len(self.vms))
        self.next_seq = int(self.state["scalars"][R.SC["NEXT_SEQ"]])

    @property
    def nq(self) -> int:
        return len(self.vms)

    def feed(self, t_ps, vm, nbytes, horizon: int | None = None) -> tuple:
        """Run one chunk (arrival ps sorted, VM ids, bytes); decisions up to `horizon` (default the
        last arrival). Returns (seq, done_ps) of the packets decided in this call (done -1 = drop);
        the chunk's packets have sequence numbers next_seq, next_seq + 1, ..."""
        t = np.ascontiguousarray(t_ps, np.int64)
        v = np.ascontiguousarray(vm, np.uint16)
        b = np.ascontiguousarray(nbytes, np.uint32)
        n = len(t)
        if n and int(np.min(b)) == 0:
            raise ValueError(f"packet {int(np.argmin(b))}: 0 bytes; a packet carries at least one byte")
        if horizon is None:
            horizon = int(t[-1]) if n else int(self.state["scalars"][R.SC["HORIZON"]])
        sc = self.state["scalars"]
        if n:
            need = int(np.max(self.state["q_len"] + np.bincount(v, minlength=self.nq)[:self.nq]))
            R.ensure_capacity(self.state, need)
        size = n + int(sc[R.SC["QUEUED"]])
        out_seq = np.empty(max(size, 1), np.int64)
        out_done = np.empty(max(size, 1), np.int64)
        k = self.core.run_chunk(self.g, self.qp, self.state, t, v, b, self.next_seq, int(horizon),
                                out_seq, out_done)
        self.next_seq += n
        sc[R.SC["NEXT_SEQ"]] = self.next_seq
        return out_seq[:k], out_done[:k]

    def drain(self) -> tuple:
        return self.feed(np.zeros(0, np.int64), np.zeros(0, np.uint16), np.zeros(0, np.uint32),
                         horizon=R.INT64_MAX)

    def settle(self, t_ps: int) -> None:
        """Bring the WFQ clock to t (before a weight change at a control event)."""
        if self.g[0] == R.DISCIPLINES["wfq"]:
            self.core.gps_advance(self.g, self.qp, self.state, int(t_ps))

    def apply(self, ins: Instruction) -> None:
        """A management instruction, at a cut of the stream (after `feed(..., horizon=ins.at)`)."""
        if ins.vm >= self.nq:
            raise ValueError(f"instruction at {ins.at}: VM {ins.vm} does not exist ({self.nq} VMs)")
        self.settle(ins.at_ps)
        old_w = self.vms[ins.vm].weight
        self.vms[ins.vm] = ins.apply(self.vms[ins.vm])
        new_w = self.vms[ins.vm].weight
        if self.g[0] == R.DISCIPLINES["wfq"] and new_w != old_w:
            # GPS continues the flow's remaining virtual work at its new weight: rescale the tags
            # ahead of V (the flow's last finish and its queued packets'); both backends share this
            st, q = self.state, ins.vm
            v = float(st["gps"][0])
            cap = int(st["scalars"][R.SC["CAP"]])
            idx = q * cap + (int(st["q_head"][q]) + np.arange(int(st["q_len"][q]))) % cap
            for arr, ix in ((st["gps_f"], np.array([q])), (st["q_tag"], idx)):
                tags = arr[ix]
                ahead = tags > v
                arr[ix[ahead]] = v + (tags[ahead] - v) * old_w / new_w
        self.g, self.qp = compile_link(self.snic, self.vms)
        # GPS weight sum of the active flows under the new weights (exact: integer-valued doubles)
        w = self.qp.reshape(-1, R.NQP)[:, R.QP["WEIGHT"]]
        self.state["gps"][2] = float(int(np.sum(w[self.state["gps_active"] != 0])))

    def stats(self) -> np.ndarray:
        return self.state["stats"].reshape(self.nq, R.NSTAT).copy()

    def hist(self, q: int) -> np.ndarray:
        from .._layout import HIST_BINS
        return self.state["hist"][q * HIST_BINS:(q + 1) * HIST_BINS]

    # state save / restore: numpy arrays + JSON header, no pickle
    def save(self, path) -> None:
        header = {"format": "hwmodel-qos-state", "version": 1,
                  "vms": [dataclasses.asdict(v) for v in self.vms]}
        with open(path, "wb") as f:
            np.savez(f, __header__=np.frombuffer(json.dumps(header).encode(), np.uint8), **self.state)

    @classmethod
    def load(cls, path, snic: SNIC, backend: str | None = None) -> "LinkSim":
        try:
            with np.load(path, allow_pickle=False) as z:
                data = {k: z[k] for k in z.files}
        except (OSError, ValueError, zipfile.BadZipFile) as e:
            raise ValueError(f"{path}: not a QoS state file ({e})") from None
        header = json.loads(bytes(data.pop("__header__", np.zeros(0, np.uint8))).decode() or "{}")
        if header.get("format") != "hwmodel-qos-state" or header.get("version") != 1:
            raise ValueError(f"{path}: not a hwmodel QoS state file (version 1)")
        fresh = R.new_state(len(snic.vms), int(data["scalars"][R.SC["CAP"]]))
        for k, v in fresh.items():
            if k not in data or data[k].shape != v.shape or data[k].dtype != v.dtype:
                raise ValueError(f"{path}: array {k!r} is missing or has the wrong shape/type")
            np.copyto(v, data[k])
        sim = cls(snic, backend, fresh)
        sim.vms = [QoSClass(**v) for v in header["vms"]]
        sim.g, sim.qp = compile_link(snic, sim.vms)
        return sim


# ------------------------------------------------------------------------------------- results

@dataclass
class QoSResult:
    vms: list                  # final SLAs
    names: list
    stats: np.ndarray          # [n_vm, NSTAT]
    hists: list                # per VM latency histogram
    done_ps: np.ndarray        # per packet (input order): delivery time, -1 = dropped
    responses: list = field(default_factory=list)
    link_bytes_per_s: float = 0.0

    def latency_ns(self, vm: int) -> dict:
        from ..stats import percentile_ps
        s = self.stats[vm]
        n = int(s[R.ST["packets"]])
        out = {"mean": s[R.ST["latency_sum_ps"]] / n / 1e3 if n else 0.0,
               "max": int(s[R.ST["latency_max_ps"]]) / 1e3}
        for q in (50, 95, 99, 99.9):
            out[f"p{q:g}"] = percentile_ps(self.hists[vm], q, int(s[R.ST["latency_max_ps"]])) / 1e3
        return out

    def to_dict(self) -> dict:
        per = []
        for i, name in enumerate(self.names):
            s = {k: int(self.stats[i, j]) for k, j in R.ST.items()}
            n = s["packets"]
            s["mean_qdelay_ns"] = s["qdelay_sum_ps"] / n / 1e3 if n else 0.0
            s["latency_ns"] = self.latency_ns(i)
            per.append({"vm": i, "name": name, "sla": dataclasses.asdict(self.vms[i]), **s})
        return {"vms": per, "responses": self.responses}

    def summary(self) -> str:
        lines = [f"{'vm':>3} {'name':<12} {'packets':>10} {'bytes':>14} {'drops':>8} {'mean us':>9} "
                 f"{'p50 us':>9} {'p99 us':>9} {'max us':>9} {'share':>7}"]
        busy = self.stats[:, R.ST["busy_ps"]].sum() or 1
        for i, name in enumerate(self.names):
            s = self.stats[i]
            lat = self.latency_ns(i)
            lines.append(f"{i:>3} {name:<12} {int(s[R.ST['packets']]):>10,} {int(s[R.ST['bytes']]):>14,} "
                         f"{int(s[R.ST['drops']]):>8,} {lat['mean'] / 1e3:>9.3f} {lat['p50'] / 1e3:>9.3f} "
                         f"{lat['p99'] / 1e3:>9.3f} {lat['max'] / 1e3:>9.3f} "
                         f"{s[R.ST['busy_ps']] / busy:>7.1%}")
        for r in self.responses:
            use = ", ".join(f"vm{u['vm']} {u['bytes']:,}B {u['rate_Gbps']:.2f}Gbps"
                            + ("" if u["sla_ok"] else " SLA-VIOLATION") for u in r["vms"])
            lines.append(f"response [{format_time(r['from_ps'])} .. {format_time(r['to_ps'])}]"
                         f"{' after ' + r['instruction'] if r.get('instruction') else ''}: {use}")
        return "\n".join(lines)


def _response(prev: np.ndarray, now: np.ndarray, t0: int, t1: int, vms, bw: float) -> dict:
    d = now - prev
    span = max(t1 - t0, 1)
    out = []
    for i, v in enumerate(vms):
        served = int(d[i, R.ST["bytes"]])
        offered = int(d[i, R.ST["arrival_bytes"]])
        rate = served * 1e12 / span
        ok = True
        if v.guaranteed is not None:
            g = float(parse_bandwidth(v.guaranteed, "guaranteed"))
            want = min(g, offered * 1e12 / span)
            ok = rate >= 0.95 * want        # 5% slack: queueing shifts bytes across windows
        out.append({"vm": i, "bytes": served, "packets": int(d[i, R.ST["packets"]]),
                    "busy_ps": int(d[i, R.ST["busy_ps"]]), "drops": int(d[i, R.ST["drops"]]),
                    "offered_bytes": offered, "rate_Gbps": rate * 8 / 1e9,
                    "share": int(d[i, R.ST["busy_ps"]]) / span, "sla_ok": ok})
    return {"from_ps": t0, "to_ps": t1, "vms": out}


def _check_rates(snic: SNIC, manager: NetworkManager, max_bytes: int) -> None:
    """The scheduler computes serialization and token times as bytes x ps-per-byte in int64:
    refuse rates at which the largest packet (or bucket) would take longer than MAX_TIME_PS."""
    def check(rate, path, nbytes):
        if rate is not None and nbytes * Fraction(10**12) / parse_bandwidth(rate, path) > MAX_TIME_PS:
            raise ValueError(f"{path}: {rate!r} is too slow: {nbytes} bytes would take more than 2**60 ps")
    check(snic.scheduler.bandwidth, "scheduler.bandwidth", max_bytes)
    for i, v in enumerate(snic.vms):
        check(v.cap, f"vms[{i}].cap", max(max_bytes, parse_size(v.burst, "burst")))
    for i, x in enumerate(manager.instructions):
        check(x.cap, f"manager.instructions[{i}].cap", max(max_bytes, parse_size(x.burst or "0B", "burst"),
                                                            *(parse_size(v.burst, "burst") for v in snic.vms)))


def run_qos(snic: SNIC, packets, manager: NetworkManager | None = None, backend: str | None = None,
            chunk: int = 1 << 20) -> QoSResult:
    """Run a packet stream (t_ps, vm, bytes) through the SNIC, cut at the manager's events."""
    t, vm, nb = (np.asarray(packets[0], np.int64), np.asarray(packets[1]), np.asarray(packets[2]))
    if not (len(t) == len(vm) == len(nb)):
        raise ValueError("packets: time, vm and bytes columns differ in length")
    if len(vm) and int(np.max(vm)) >= len(snic.vms):
        i = int(np.argmax(vm))
        raise ValueError(f"packet {i}: VM {int(vm[i])} has no SLA (the SNIC has {len(snic.vms)} VMs)")
    if len(t) > 1 and np.any(np.diff(t) < 0):
        raise ValueError("packets: arrival times must be sorted (merge streams with merge_packets)")
    if len(t) and (int(t[0]) < 0 or int(t[-1]) > MAX_TIME_PS):
        raise ValueError(f"packets: arrival times must be from 0 to 2**60 ps (the longest simulated time)")
    if len(nb) and (int(np.min(nb)) < 1 or int(np.max(nb)) >= 2**32):
        raise ValueError("packets: sizes must be from 1 to 2**32 - 1 bytes")
    _check_rates(snic, manager or NetworkManager(), int(np.max(nb)) if len(nb) else 1)
    sim = LinkSim(snic, backend)
    done = np.full(len(t), -1, np.int64)
    manager = manager or NetworkManager()
    end = int(t[-1]) if len(t) else 0
    events = manager.events(end)
    responses = []
    prev, t_prev = sim.stats(), int(t[0]) if len(t) else 0
    pos = 0

    def feed_until(limit, horizon):
        nonlocal pos
        stop = int(np.searchsorted(t, limit, side="left")) if limit is not None else len(t)
        while pos < stop:
            e = min(stop, pos + chunk)
            seq, d = sim.feed(t[pos:e], vm[pos:e], nb[pos:e], horizon=horizon if e == stop else None)
            done[seq] = d
            pos = e
        if horizon is not None and pos == stop:
            seq, d = sim.feed(t[:0], vm[:0], nb[:0], horizon=horizon)
            done[seq] = d

    for at, ins in events:
        feed_until(at, at)
        now = sim.stats()
        r = _response(prev, now, t_prev, at, sim.vms, 0.0)
        if ins is not None:
            r["instruction"] = f"vm{ins.vm} " + ", ".join(
                f"{f}={getattr(ins, f)}" for f in ("priority", "weight", "guaranteed", "cap", "burst")
                if getattr(ins, f) is not None) + (" uncap" if ins.uncap else "")
        responses.append(r)
        prev, t_prev = now, at
        if ins is not None:
            sim.apply(ins)
    feed_until(None, None)
    if manager.report_every is not None:   # keep reporting while the queues drain
        step = parse_time(manager.report_every, "manager.report_every")
        at = (t_prev // step + 1) * step
        while int(sim.state["scalars"][R.SC["QUEUED"]]) > 0:
            feed_until(at, at)
            now = sim.stats()
            responses.append(_response(prev, now, t_prev, at, sim.vms, 0.0))
            prev, t_prev = now, at
            at += step
    seq, d = sim.drain()
    done[seq] = d
    now = sim.stats()
    t_end = int(done.max()) if len(done) else t_prev
    responses.append(_response(prev, now, t_prev, max(t_end, t_prev), sim.vms, 0.0))
    return QoSResult(vms=list(sim.vms), names=[v.name for v in sim.vms], stats=now,
                     hists=[sim.hist(i).copy() for i in range(sim.nq)], done_ps=done, responses=responses)


# ----------------------------------------------------------------------------- packet traces

def read_packets(path) -> tuple:
    """(t_ps int64, vm uint16, bytes uint32) from a text trace (`time_ns vm bytes` per line, '#'
    comments) or an .npz with arrays time (ns), vm, bytes. Records are merged by time (stable)."""
    path = Path(path)
    if path.suffix == ".npz":
        from ..trace.native import read_npz_arrays
        cols = read_npz_arrays(path, ("time", "vm", "bytes"))
        tn, vm, nb = cols["time"], cols["vm"], cols["bytes"]
        if not (len(tn) == len(vm) == len(nb)):
            raise ValueError(f"{path}: arrays time, vm and bytes differ in length")
        for name, a in (("time", tn), ("vm", vm), ("bytes", nb)):
            if a.ndim != 1 or a.dtype.kind not in ("iuf" if name == "time" else "iu"):
                raise ValueError(f"{path}: array {name} must be one column of numbers"
                                 + (" (integers)" if name != "time" else ""))
        limit = MAX_TIME_PS / 1000      # ns
        if np.issubdtype(tn.dtype, np.floating):
            bad = ~np.isfinite(tn) | (tn < 0) | (tn > limit)
        else:
            bad = (tn < 0) | (tn > limit)
        bad = bad | (vm < 0) | (vm > 65535) | (nb < 1) | (nb >= 2**32)
        if np.any(bad):
            i = int(np.argmax(bad))
            raise ValueError(f"{path}: packet {i + 1}: time {tn[i]} ns, VM {vm[i]}, {nb[i]} bytes: times are from "
                             f"0 to 2**60 ps, VMs 0..65535, bytes 1..2^32-1")
        t = np.rint(tn * 1000).astype(np.int64) if np.issubdtype(tn.dtype, np.floating) else tn.astype(np.int64) * 1000
        vm, nb = vm.astype(np.uint16), nb.astype(np.uint32)
    else:
        ts, vs, bs = [], [], []
        try:
            f = open(path, errors="replace")   # a byte that is not text fails its line's parse
        except OSError as e:
            raise ValueError(f"{path}: cannot read packet trace: {e.strerror}") from None
        with f:
            for ln, line in enumerate(f, 1):
                s = line.split("#", 1)[0].split()
                if not s:
                    continue
                try:
                    if len(s) != 3:
                        raise ValueError
                    tns = float(s[0])
                    if not 0 <= tns <= MAX_TIME_PS / 1000:   # also NaN and inf
                        raise ValueError
                    tt = round(tns * 1000)
                    v, b = int(s[1]), int(s[2])
                    if not 0 <= v <= 65535 or not 1 <= b < 2**32:
                        raise ValueError
                except ValueError:
                    raise ValueError(f"{path}:{ln}: expected 'time_ns vm bytes' (time 0..2**60 ps, vm 0..65535, "
                                     f"bytes 1..2^32-1), got {line.strip()[:200]!r}") from None
                ts.append(tt)
                vs.append(v)
                bs.append(b)
        t, vm, nb = np.array(ts, np.int64), np.array(vs, np.uint16), np.array(bs, np.uint32)
    order = np.argsort(t, kind="stable")
    return t[order], vm[order], nb[order]


def write_packets(path, t_ps, vm, nbytes) -> None:
    path = Path(path)
    if path.suffix == ".npz":
        np.savez(path, time=np.asarray(t_ps, np.int64) / 1000.0, vm=np.asarray(vm), bytes=np.asarray(nbytes))
        return
    with open(path, "w") as f:
        for t, v, b in zip(np.asarray(t_ps).tolist(), np.asarray(vm).tolist(), np.asarray(nbytes).tolist()):
            f.write(f"{t / 1000:.3f} {v} {b}\n")


def merge_packets(*streams) -> tuple:
    """Merge (t_ps, vm, bytes) streams by time (stable: earlier stream first on ties)."""
    t = np.concatenate([np.asarray(s[0], np.int64) for s in streams])
    v = np.concatenate([np.asarray(s[1], np.uint16) for s in streams])
    b = np.concatenate([np.asarray(s[2], np.uint32) for s in streams])
    o = np.argsort(t, kind="stable")
    return t[o], v[o], b[o]


@dataclass(frozen=True)
class PacketMix:
    """The `generator:` section of a QoS configuration (`hwmodel qos --gen`): VM 0 latency-critical
    (Poisson arrivals of small packets), VMs 1..batch_vms batch (bursts of back-to-back packets that
    together offer batch_load x the link rate)."""
    SECTION = "generator"
    duration: str = "2ms"            # simulated time the generated traffic spans
    critical_rate: str = "1Gbps"     # VM 0's offered rate
    critical_bytes: str = "256B"     # VM 0's packet size
    batch_vms: int = 1               # batch VMs (1, 2, ...), VM ids after the critical one
    batch_load: float = 1.2          # the batch VMs' offered load, as a multiple of the link rate
    batch_bytes: str = "1500B"       # a batch packet's size
    link: str = "25Gbps"             # the rate batch_load refers to (default: scheduler.bandwidth)
    batch_burst: int = 64            # back-to-back packets per batch burst
    seed: int = 0                    # random seed

    MAX_PACKETS = 50_000_000         # about 1 GB of packet columns and their sorting

    def __post_init__(self):
        T = parse_time(self.duration, "generator.duration")
        cr = parse_bandwidth(self.critical_rate, "generator.critical_rate")
        link = parse_bandwidth(self.link, "generator.link")
        cb, bb = (parse_size(getattr(self, f), f"generator.{f}") for f in ("critical_bytes", "batch_bytes"))
        for name, v in (("critical_bytes", cb), ("batch_bytes", bb)):
            if not 1 <= v < 2**32:
                raise ValueError(f"generator.{name}: {getattr(self, name)!r} must be from 1 B to 4 GiB")
        for name, lo, hi in (("batch_vms", 0, 65534), ("batch_burst", 1, 1 << 20), ("seed", 0, 2**63 - 1)):
            v = getattr(self, name)
            if not isinstance(v, int) or isinstance(v, bool) or not lo <= v <= hi:
                raise ValueError(f"generator.{name}: {v!r} must be an integer from {lo} to {hi}")
        b = self.batch_load
        if isinstance(b, bool) or not isinstance(b, (int, float)) or not 0 < b <= 1000:
            raise ValueError(f"generator.batch_load: {b!r} must be a number in (0, 1000]")
        # what the generator draws (1.2x the expected count, as generate_packets does)
        n = float(T) / 1e12 * 1.2 * (float(cr) / cb + (float(link) * b / bb if self.batch_vms else 0))
        if n > self.MAX_PACKETS:
            raise ValueError(f"generator.duration: {self.duration} of this mix is about {n:.3g} packets, more "
                             f"than {self.MAX_PACKETS:,}; generate less traffic (duration, rates, sizes)")


def generate_packets(duration="2ms", critical_rate="1Gbps", critical_bytes="256B", batch_vms=1,
                     batch_load=1.2, batch_bytes="1500B", link="25Gbps", batch_burst=64, seed=0) -> tuple:
    """A seeded mix (see PacketMix, which checks the parameters): VM 0 latency-critical (Poisson,
    small packets at `critical_rate`), VMs 1..batch_vms batch (bursts of `batch_burst` back-to-back
    packets of `batch_bytes`, together offering `batch_load` x the link rate)."""
    PacketMix(duration, critical_rate, critical_bytes, batch_vms, batch_load, batch_bytes, link, batch_burst, seed)
    rng = np.random.default_rng(seed)
    T = parse_time(duration, "generator.duration")
    link_bps = float(parse_bandwidth(link, "generator.link"))
    cb = parse_size(critical_bytes, "generator.critical_bytes")
    cr = float(parse_bandwidth(critical_rate, "generator.critical_rate"))
    gap = cb / cr * 1e12
    n = int(T / gap * 1.2) + 16
    ct = np.cumsum(rng.exponential(gap, n)).astype(np.int64)
    ct = ct[ct < T]
    streams = [(ct, np.zeros(len(ct), np.uint16), np.full(len(ct), cb, np.uint32))]
    bb = parse_size(batch_bytes, "generator.batch_bytes")
    for v in range(1, batch_vms + 1):
        rate = batch_load * link_bps / batch_vms
        bgap = bb * batch_burst / rate * 1e12          # mean time between bursts
        nb = int(T / bgap * 1.2) + 16
        starts = np.cumsum(rng.exponential(bgap, nb)).astype(np.int64)
        starts = starts[starts < T]
        bt = np.repeat(starts, batch_burst)
        streams.append((bt, np.full(len(bt), v, np.uint16), np.full(len(bt), bb, np.uint32)))
    return merge_packets(*streams)


# ------------------------------------------------------------------------------------- config

def load_qos_config(data) -> tuple:
    """(SNIC, NetworkManager, generator kwargs) from a mapping or a YAML file path."""
    from ..config import build, check_size, load_yaml
    if not isinstance(data, dict):
        data = load_yaml(data)
    check_size(data, "qos configuration")
    known = ("scheduler", "vms", "snic", "manager", "generator")
    for k in data:
        if k not in known:
            raise ValueError(f"{k}: unknown section; allowed: {', '.join(known)}")
    sched = build(LinkScheduler, data.get("scheduler"), "scheduler")
    vms_raw = data.get("vms") or [{"name": "vm0"}]
    if not isinstance(vms_raw, list):
        raise ValueError("vms: expected a list of VM SLAs")
    vms = tuple(build(QoSClass, v, f"vms[{i}]") for i, v in enumerate(vms_raw))
    snic_raw = dict(data.get("snic") or {})
    snic = build(SNIC, {**snic_raw, "vms": vms, "scheduler": sched}, "snic")
    man_raw = dict(data.get("manager") or {})
    ins_raw = man_raw.pop("instructions", []) or []
    if not isinstance(ins_raw, list):
        raise ValueError("manager.instructions: expected a list")
    ins = tuple(build(Instruction, x, f"manager.instructions[{i}]") for i, x in enumerate(ins_raw))
    for i, x in enumerate(ins):
        if x.vm >= len(vms):
            raise ValueError(f"manager.instructions[{i}].vm: {x.vm} does not exist ({len(vms)} VMs)")
    manager = build(NetworkManager, {**man_raw, "instructions": ins}, "manager")
    gen = data.get("generator") or {}
    if not isinstance(gen, dict):
        raise ValueError("generator: expected a mapping")
    build(PacketMix, {"link": sched.bandwidth, **gen}, "generator")    # every key known, every value valid
    return snic, manager, gen
