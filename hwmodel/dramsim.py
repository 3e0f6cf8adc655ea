"""One memory controller driven by a trace, as DRAMsim3 users run theirs (`hwmodel dram`).

    run_dram(config, trace, cycles=None, cycle=None, epoch=None, overrides=()) -> DramResult

The trace address is the physical address (no hypervisor, no placement). Arrivals:
- cycle-stamped formats (dramsim3, dramsim2, prospero): open loop, one trace cycle = one tCK of
  the configuration unless `cycle` says what a trace cycle is ("0.5ns");
- ns- or ps-stamped formats (text, gem5): as they say;
- untimed formats (ramulator, ramulator2, ...): every request arrives at 0 and the controller
  takes them back to back as fast as it accepts them (Ramulator's trace mode);
- instruction-gap formats (usimm, lackey, ramulator_cpu, champsim): `cycle` gives the time of
  one instruction, and a request arrives its gap after the previous one.
A record of `size` bytes is one request per 64 B line it touches (almost always one).

`cycles` stops at cycle N as DRAMsim3's `-c` does: requests arriving at or after N are not
offered, only what completed by N is done, and rates are over N cycles, idle tail included.
Commands (and their energy) are counted for every request offered, including commands the
backlog issues after N. Without `cycles` the run ends when the last request completes. Writes
are posted: done when the controller accepts them; writes still buffered at the end are never
issued (as in DRAMsim3). Read latency is measured from the controller's acceptance (DRAMsim3's
added_cycle) to the last data beat, in whole cycles rounded up.

Figures come per channel and in total under DRAMsim3's JSON keys (hwmodel.dram_energy for the
energy), with `epoch` the same per epoch: commands by the epoch their request arrived in,
completions by the epoch they completed in, rank activity and refreshes by time.
"""
from __future__ import annotations

import re
from dataclasses import fields
from pathlib import Path

import numpy as np

from . import _dram_layout as L
from .dram import DRAM, POWER, TIMINGS, _TIMING_ALIASES
from .hardware.controller import MemoryController
from .dram_energy import notes
from .dram_report import DramResult, Window, channel_figures, total_figures
from .dram_requests import RequestStream, Requests, prefetched
from .memctrl import dram_params
from .units import parse_time

__all__ = ["run_dram", "resolve_dram", "DramResult"]

CONFIG_SUFFIXES = (".yaml", ".yml")
MAX_EPOCHS = 100_000            # epochs one run may report
_INT = re.compile(r"^[+-]?(0[xX][0-9a-fA-F]+|\d+)$")
_REAL = re.compile(r"^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$")


# -- configuration -------------------------------------------------------------------------------
def resolve_dram(config, overrides=(), default_model=None) -> DRAM:
    """A DRAM from a DRAM or MemoryController, a preset name ("DDR4-2400"), a DRAMsim3 .ini, a
    YAML file holding a DRAM mapping ({preset: ..., tRCD: 20} or {ini: path, ...}) or a
    `controller:` mapping ({controller: {preset: ..., scheduler: fcfs, device: {tRCD: 20}}}; a
    relative ini path is read from the YAML file's folder) or such a mapping; then `overrides` ("key=value") replace fields.
    Timings may be cycles (20) or times ("13.75ns"). `default_model`: the model when the
    configuration (a preset, an .ini, a mapping or YAML without `model`, no `-p model=`) names none."""
    named = isinstance(config, (DRAM, MemoryController)) or any(
        str(item).split("=", 1)[0].strip() == "model" for item in overrides or ())
    if isinstance(config, DRAM):
        d = config
    elif isinstance(config, MemoryController):
        d = config.dram
    elif isinstance(config, dict) and set(config) == {"controller"}:
        named = named or "model" in (config["controller"] if isinstance(config["controller"], dict) else {})
        d = _from_controller(config["controller"], "controller", Path("."))
    elif isinstance(config, dict):
        named = named or "model" in config
        d = _from_mapping(config, "dram", Path("."))
    elif isinstance(config, (str, Path)):
        text = str(config)
        path = Path(text)
        if path.suffix.lower() == ".ini" or (path.is_file() and path.suffix.lower() not in CONFIG_SUFFIXES):
            d = DRAM.from_dramsim3_ini(path)
        elif path.suffix.lower() in CONFIG_SUFFIXES:
            data = _load_yaml(path)
            named = named or "model" in data or "model" in (data.get("controller") or {})
            d = (_from_controller(data["controller"], f"{path}: controller", path.parent)
                 if set(data) == {"controller"} else _from_mapping(data, str(path), path.parent))
        elif "/" in text or "\\" in text:
            raise ValueError(f"{text}: no such configuration file")
        else:
            d = DRAM.preset(text)
    else:
        raise ValueError(f"dram: expected a preset name, an .ini or .yaml path, a mapping or a DRAM, got {config!r}")
    changes = {}
    for item in overrides or ():
        if "=" not in str(item):
            raise ValueError(f"-p {item!r}: expected key=value, e.g. -p row_policy=closed")
        key, raw = str(item).split("=", 1)
        changes[key.strip()] = _scalar(raw.strip())
    if changes:
        try:
            d = _apply(d, changes)
        except ValueError as e:
            raise ValueError(f"-p: {e}") from None
    return d if named or default_model is None else d.replace(model=default_model)


def _load_yaml(path: Path) -> dict:
    import yaml
    try:
        data = yaml.safe_load(path.read_text())
    except OSError as e:
        raise ValueError(f"{path}: cannot read configuration: {e.strerror}") from None
    except yaml.YAMLError as e:
        raise ValueError(f"{path}: not valid YAML: {e}") from None
    if isinstance(data, dict) and set(data) == {"dram"}:
        data = data["dram"]
    if isinstance(data, str):
        data = {"preset": data}
    if not isinstance(data, dict):
        raise ValueError(f"{path}: expected a DRAM mapping such as {{preset: DDR4-2400, tRCD: 20}}, "
                         f"got {type(data).__name__}")
    return data


def _from_mapping(data: dict, where: str, base: Path) -> DRAM:
    data = dict(data)
    preset, ini = data.pop("preset", None), data.pop("ini", None)
    try:
        if preset is not None and ini is not None:
            raise ValueError("dram: give either preset or ini, not both")
        if ini is not None:
            p = Path(ini)
            d = DRAM.from_dramsim3_ini(p if p.is_absolute() else base / p)
        else:
            d = DRAM.preset(preset) if preset is not None else DRAM()
        return _apply(d, data)
    except ValueError as e:
        msg = str(e)
        raise ValueError(f"{where}: {msg}" if where != "dram" else msg) from None


def _from_controller(value, where: str, base: Path) -> DRAM:
    """A `controller:` mapping (MemoryController's spelling: settings, and the device's fields under
    `device`), its .ini paths read from `base` when relative."""
    from .hardware.blades import controller_from_config
    def located(v):
        if isinstance(v, str) and v.lower().endswith(".ini") and not Path(v).is_absolute():
            return str(base / v)
        if isinstance(v, dict) and isinstance(v.get("ini"), str):
            return {**v, "ini": located(v["ini"])}
        return v
    if isinstance(value, dict):
        value = {k: located(v) if k in ("ini", "device") else v for k, v in value.items()}
    return controller_from_config(located(value), where)


def _apply(d: DRAM, changes: dict) -> DRAM:
    """Field changes; timings given as times ("13.75ns") go through DRAM.with_ns."""
    known = {f.name for f in fields(DRAM)}
    times, plain = {}, {}
    for k, v in changes.items():
        name = _TIMING_ALIASES.get(k, k)
        if (name in TIMINGS or k in ("tCK", "tck")) and isinstance(v, str):
            times[k] = v
        elif k in ("tCK", "tck") and isinstance(v, (int, float)) and not isinstance(v, bool):
            times[k] = f"{v}ns"          # a bare tCK is in ns, as in DRAMsim3's files
        elif name not in known:
            raise ValueError(f"dram.{k}: no such parameter; parameters: {', '.join(sorted(known))}")
        else:
            plain[name] = float(v) if name in POWER and isinstance(v, int) and not isinstance(v, bool) else v
    if "tCK" in times or "tck" in times:
        d = d.with_ns(**{k: times.pop(k) for k in ("tCK", "tck") if k in times})
    return d.replace(**plain).with_ns(**times) if times else d.replace(**plain)


def _scalar(raw: str):
    """A -p value: an integer, a number, true/false, or text (a policy name, a time "13.75ns")."""
    if _INT.match(raw):
        return int(raw, 0) if raw.lower().startswith(("0x", "+0x", "-0x")) else int(raw)
    if _REAL.match(raw):
        return float(raw)
    if raw.lower() in ("true", "false"):
        return raw.lower() == "true"
    return raw


class _Feed:
    """The detailed controller fed in pieces (dram_stream): per channel, the requests its front
    end has not taken yet go back in with the next piece."""

    def __init__(self, core, p, st, n_ch):
        self.core, self.p, self.st = core, p, st
        e = (np.zeros(0, np.int64), np.zeros(0, np.int64), np.zeros(0, np.uint8))
        self.carry = [e] * n_ch

    def run(self, c, reqs, upto, final):
        """Add reqs (t, addr, w arrays, or None) to channel c and simulate it before upto ps (final:
        until all is done); the completions (done ps, acc ps, w) of any request."""
        t, a, w = self.carry[c]
        if reqs is not None and len(reqs[0]):
            t, a, w = (np.concatenate((x, y)) if len(x) else y for x, y in zip((t, a, w), reqs))
        live = int(self.st["channels"][c * len(L.KH_FIELDS) + L.KH["LIVE"]])
        n = len(t) + live
        done, acc, wr = np.empty(n, np.int64), np.empty(n, np.int64), np.empty(n, np.int64)
        taken, got = self.core.dram_stream(self.p, self.st, "", c, np.ascontiguousarray(t, np.int64),
                                           np.ascontiguousarray(a, np.int64), np.ascontiguousarray(w, np.uint8),
                                           int(upto), final, done, acc, wr)
        self.carry[c] = (t[taken:], a[taken:], w[taken:])
        return done[:got], acc[:got], wr[:got].astype(np.uint8)   # (write flags as the tally takes them)


class _Channel:
    """Running figures of one channel: counter totals, completions, the last acceptance."""

    def __init__(self):
        self.counters = np.zeros(len(L.DRAM_COUNTER_NAMES), np.int64)
        self.run = Window()
        self.last_acc_ps = 0
        self.accepted = 0
        self.pending = {}                  # epoch -> Window of completions not yet final


# -- the run -------------------------------------------------------------------------------------
def _refreshes_before(p: np.ndarray, h: int) -> np.ndarray:
    """REF commands due before h (ps) per rank (channel-major), from the refresh schedule (the
    model applies each when its rank is next used, or counts it when the rank was idle)."""
    n_ch, n_r = int(p[L.D["N_CH"]]), int(p[L.D["N_RANKS"]])
    mode, refi, stagger = int(p[L.D["REF_MODE"]]), int(p[L.D["T_REFI"]]), int(p[L.D["REF_STAGGER"]])
    out = np.zeros(n_ch * n_r, np.int64)
    if mode == 0 or refi <= 0:
        return out
    for r in range(n_ch * n_r):
        first = (r % n_r + 1) * stagger if mode == 1 else refi
        out[r] = 0 if h <= first else (h - first - 1) // refi + 1
    return out


def run_dram(config, trace, cycles=None, cycle=None, epoch=None, overrides=(), *, format=None,
             backend=None, skip_bad_lines=False, ignore_high_bits=False, time_unit=None,
             fast=True) -> DramResult:
    """Drive the DRAM of `config` (see resolve_dram) with `trace` (a file of any supported format,
    or a hwmodel.trace.Chunk whose times are in `time_unit`: "cycle", "ns", "ps" or None for
    untimed) and return its figures. cycles: stop at cycle N (DRAMsim3's -c); cycle: the time of
    one trace cycle ("0.5ns"); epoch: per-epoch figures every N cycles (an int) or a time
    ("1us"); overrides: "key=value" DRAM fields. The model is `detailed` (DRAMsim3's controller)
    unless the configuration or `-p model=...` names another, or `config` is a DRAM object. `fast` lets the compiled text scanner read the
    simplest formats (results are the same either way)."""
    from .core.engine import select_backend
    # alone, the DRAM is the question: DRAMsim3's controller unless the configuration names a model
    d = resolve_dram(config, overrides, default_model="detailed")
    core = select_backend(backend, compiled="_core", reference="core.dram")
    backend_name = "reference" if core.__name__.endswith("_reference") else "compiled"
    tck = d.tck_ps
    n_cycles = _count("--cycles", cycles)
    horizon = None if n_cycles is None else n_cycles * tck
    cycle_ps = None if cycle is None else _time("--cycle", cycle, tck, cycles_ok=False)
    epoch_ps = None if epoch is None else _time("--epoch", epoch, tck, cycles_ok=True)
    if epoch_ps is not None and epoch_ps % tck:
        raise ValueError(f"--epoch {epoch}: {epoch_ps} ps is not a whole number of tCK ({tck} ps)")
    if epoch_ps is not None and horizon is not None and horizon // epoch_ps > MAX_EPOCHS:
        raise ValueError(f"--epoch {epoch}: {horizon // epoch_ps:,} epochs; at most {MAX_EPOCHS:,}")

    p = dram_params(d, activity=True)
    st = L.new_dram_state(p)
    n_ch, n_r = d.channels, d.ranks
    nranks = n_ch * n_r
    if epoch_ps is not None:
        L.set_marks(st, epoch_ps, epoch_ps, horizon if horizon is not None else L.NO_MARK)
    elif horizon is not None:
        L.set_marks(st, horizon, L.NO_MARK, horizon)
    src = RequestStream(trace, d, cycle_ps, horizon, format, skip_bad_lines, ignore_high_bits, time_unit, fast)
    chans = [_Channel() for _ in range(n_ch)]
    marks = [[] for _ in range(nranks)]      # active ps at each mark crossed, per rank
    ch_shift, ch_mask = int(p[L.D["CH_SHIFT"]]), int(p[L.D["CH_MASK"]])

    def mark_index(b):   # which mark a boundary b is, in the order the ranks record them
        if epoch_ps is None:
            return 0
        return b // epoch_ps - 1 if b % epoch_ps == 0 else b // epoch_ps

    ep = _Epochs(d, p, epoch_ps, chans) if epoch_ps is not None else None
    compiled = backend_name == "compiled" and _have_tool()
    detailed = d.model == "detailed"
    feed = _Feed(core, p, st, n_ch) if detailed else None
    last_done = 0

    def take(c, got, before):
        """Book what channel c did: counters since `before`, completions got (done, acc, w)."""
        nonlocal last_done
        cnt = st["counters"] - before
        chans[c].counters += cnt
        if ep:
            ep.counters[c] += cnt
        done, acc, w = got
        if len(done):
            last_done = max(last_done, int(done.max()))
            chans[c].last_acc_ps = max(chans[c].last_acc_ps, int(acc.max()))
            _complete(chans[c], w, done, acc, horizon, tck, ep, compiled)
        take_marks()

    def take_marks():
        try:
            taken = L.take_marks(st)
        except ValueError as e:
            raise ValueError(f"--epoch {epoch}: the controller's backlog runs more than "
                             f"{L.RA_MARKS} epochs ahead of the trace ({e}); use a longer epoch") from None
        for r, got in enumerate(taken):
            marks[r] += got

    def advance(b, final=False):
        """detailed: simulate every channel up to b ps (no request still to come arrives before)."""
        for c in range(n_ch):
            before = st["counters"].copy()
            take(c, feed.run(c, None, b, final), before)

    def activity_at(b):
        out = np.zeros(nranks, np.int64)
        if detailed:
            advance(b)
        if b > 0:
            core.dram_activity(p, st, "", int(b), out)
        k = mark_index(b)
        for r in range(nranks):
            if out[r] < 0:
                if k >= len(marks[r]):
                    raise AssertionError(f"rank {r}: activity at {b} ps is folded and was not marked")
                out[r] = marks[r][k]
        return out

    out_buf = acc_buf = np.empty(0, np.int64)     # completion and acceptance times, reused
    pieces = prefetched(iter(src)) if fast and backend_name == "compiled" else iter(src)
    for piece in pieces:
        for part in (ep.split(piece) if ep else (piece,)):
            if ep:
                ep.close_until(int(part.t[0]), activity_at)
            for c, (t, a, w) in enumerate(_by_channel(part, n_ch, ch_shift, ch_mask)):
                if detailed:      # simulated up to this part's last arrival; the rest waits for more
                    before = st["counters"].copy()
                    chans[c].accepted += len(t)
                    take(c, feed.run(c, (t, a, w), int(part.t[-1]), False), before)
                    continue
                if not len(t):
                    continue
                ch = chans[c]
                before = st["counters"].copy()
                if len(t) > len(out_buf):
                    out_buf, acc_buf = np.empty(len(t), np.int64), np.empty(len(t), np.int64)
                out, acc = out_buf[:len(t)], acc_buf[:len(t)]
                core.dram_run(p, st, "", t, a, w, out, acc)
                cnt = st["counters"] - before
                ch.counters += cnt
                if ep:
                    ep.counters[c] += cnt
                last_done = max(last_done, int(out.max()))
                ch.accepted += len(t)
                ch.last_acc_ps = max(ch.last_acc_ps, int(acc.max()))
                _complete(ch, w, out, acc, horizon, tck, ep, compiled)
            take_marks()
    if detailed:   # the rest: up to cycle N (as DRAMsim3 stops there), or until every request is done
        if horizon is not None:
            advance(horizon)
        else:
            advance(0, final=True)
    src_skipped = src.skipped_lines
    # the run's end: cycle N, or the last completion (or the last bank event folded, if later)
    fronts = st["ract"].reshape(nranks, len(L.ACT_FIELDS))[:, L.DA["FRONT"]]
    end_ps = horizon if horizon is not None else max(last_done, int(fronts.max()) if nranks else 0)
    num_cycles = n_cycles if n_cycles is not None else -(-end_ps // tck)
    end_ps = num_cycles * tck
    if ep:
        ep.close_until(end_ps, activity_at, final=True)
    active = activity_at(end_ps)
    # REF commands: the detailed model issues them (counted); the others apply the schedule's
    refs = None if detailed else _refreshes_before(p, end_ps)
    per = []
    for c, ch in enumerate(chans):
        rs = slice(c * n_r, (c + 1) * n_r)
        n_ref = int(ch.counters[L.DC["refreshes"]]) if detailed else int(refs[rs].sum())
        per.append(channel_figures(d, ch.counters, ch.run, n_ref, active[rs].tolist(),
                                   num_cycles, ch.accepted, ch.last_acc_ps, channel=c))
    total = total_figures(d, per, num_cycles)
    epochs = ep.rows if ep else []
    info = {"format": src.format, "timing": src.timing, "time_unit": src.time_unit,
            "skipped_lines": src_skipped, "tck_ps": tck,
            "epoch_cycles": epoch_ps // tck if epoch_ps else None, "notes": notes(d)}
    from . import __version__
    total["hwmodel"] = {"version": __version__, "dram": d.name, "trace": src.path, "model": d.model,
                        "backend": backend_name, **info}
    return DramResult(d, src.path, d.model, backend_name, num_cycles, per, total, epochs, info)


def _have_tool() -> bool:
    try:
        from . import _dramtool  # noqa: F401
    except ImportError:
        return False
    return True


def _count(what, v):
    if v is None:
        return None
    if isinstance(v, str) and _INT.match(v.strip()):
        v = int(v.strip(), 0)
    if not isinstance(v, int) or isinstance(v, bool) or v <= 0:
        raise ValueError(f"{what} {v}: expected a positive whole number of cycles")
    return v


def _time(what, v, tck, cycles_ok):
    """ps of a time ("0.5ns", "1us"), or, where cycles_ok, of a whole number of tCK cycles."""
    if isinstance(v, str) and _INT.match(v.strip()):
        v = int(v.strip(), 0)
    if isinstance(v, int) and not isinstance(v, bool):
        if not cycles_ok:
            raise ValueError(f"{what} {v}: give a time with its unit, e.g. 0.5ns")
        if v <= 0:
            raise ValueError(f"{what} {v}: must be > 0")
        return v * tck
    if isinstance(v, (float, str)) and _REAL.match(str(v).strip()):
        raise ValueError(f"{what} {v}: give " + ("a whole number of cycles (1000) or " if cycles_ok else "")
                         + "a time with its unit (0.5ns, 1us)")
    try:
        ps = parse_time(v, what)
    except ValueError as e:
        raise ValueError(f"{e} (e.g. {'1000 cycles or ' if cycles_ok else ''}0.5ns)") from None
    if ps <= 0:
        raise ValueError(f"{what} {v!r}: must be > 0")
    return ps


def _by_channel(part: Requests, n_ch, shift, mask):
    """The part's requests per channel, each in arrival order (channels are independent)."""
    if n_ch == 1:
        return [(part.t, part.addr, part.w)]
    ch = (part.addr >> shift) & mask
    order = np.argsort(ch, kind="stable")
    counts = np.bincount(ch, minlength=n_ch)
    out, i = [], 0
    for n in counts:
        o = order[i:i + n]
        out.append((part.t[o], part.addr[o], part.w[o]))
        i += n
    return out


def _complete(ch: _Channel, w, out, acc, horizon, tck, ep, compiled):
    """Completion-side figures of a run piece: done by the horizon, read latency from acceptance."""
    if compiled and not ep:
        ch.run.tally(out, acc, w, horizon, tck)
        return
    done = np.ones(len(out), bool) if horizon is None else out <= horizon
    rd = done & (w == 0)
    wr = done & (w != 0)
    lat = out[rd] - acc[rd]
    ch.run.add_reads(lat, tck)
    ch.run.writes += int(np.count_nonzero(wr))
    if ep:
        ep.completions(ch, out[rd], lat, out[wr])


class _Epochs:
    """Per-epoch figures: commands by the epoch their request arrived in, completions by the
    epoch they completed in, rank activity (from the ranks' marks) and refreshes by time."""

    def __init__(self, d, p, e, chans):
        self.d, self.p, self.e, self.chans = d, p, e, chans
        self.counters = [np.zeros(len(L.DRAM_COUNTER_NAMES), np.int64) for _ in chans]
        self.next = 0                     # the next epoch to close
        self.prev_active = np.zeros(d.channels * d.ranks, np.int64)
        self.prev_refs = np.zeros(d.channels * d.ranks, np.int64)
        self.rows = []

    def split(self, piece):
        k = piece.t // self.e
        cuts = np.flatnonzero(k[1:] != k[:-1]) + 1
        if not len(cuts):
            return [piece]
        return [Requests(piece.t[a:b], piece.addr[a:b], piece.w[a:b])
                for a, b in zip(np.r_[0, cuts], np.r_[cuts, len(k)])]

    def completions(self, ch, rd_done, lat, wr_done):
        # a completion at a boundary belongs to the epoch it ends (done by N includes N)
        for k, lat_k in _group(np.maximum(rd_done - 1, 0) // self.e, lat):
            ch.pending.setdefault(k, Window()).add_reads(lat_k, self.d.tck_ps)
        for k, n in zip(*np.unique(np.maximum(wr_done - 1, 0) // self.e, return_counts=True)):
            ch.pending.setdefault(int(k), Window()).writes += int(n)

    def close_until(self, t, activity_at, final=False):
        """Close every epoch that ends at or before t (final: the epoch t falls in too)."""
        last = t // self.e if not final else -(-t // self.e)
        if last - self.next > MAX_EPOCHS or (final and last > MAX_EPOCHS):
            raise ValueError(f"--epoch: the run spans more than {MAX_EPOCHS:,} epochs of "
                             f"{self.e // self.d.tck_ps:,} cycles")
        while self.next < last:
            k = self.next
            end = min((k + 1) * self.e, t) if final else (k + 1) * self.e
            self._close(k, end, activity_at)
            self.next += 1

    def _close(self, k, end, activity_at):
        d, n_r = self.d, self.d.ranks
        start = k * self.e
        cycles = (end - start) // d.tck_ps
        active = activity_at(end)
        refs = None if self.d.model == "detailed" else _refreshes_before(self.p, end)
        per = []
        for c, ch in enumerate(self.chans):
            rs = slice(c * n_r, (c + 1) * n_r)
            win = ch.pending.pop(k, Window())
            n_ref = int(self.counters[c][L.DC["refreshes"]]) if refs is None else int((refs[rs] - self.prev_refs[rs]).sum())
            per.append(channel_figures(d, self.counters[c], win, n_ref,
                                       (active[rs] - self.prev_active[rs]).tolist(), cycles, channel=c, epoch=k))
            self.counters[c] = np.zeros_like(self.counters[c])
        self.prev_active = active
        if refs is not None:
            self.prev_refs = refs
        row = {"epoch_num": k, "start_cycle": start // d.tck_ps, "end_cycle": end // d.tck_ps}
        row.update({str(c): f for c, f in enumerate(per)})
        row["total"] = total_figures(d, per, cycles)
        self.rows.append(row)


def _group(keys, values):
    """(key, values with that key) for sorted-or-not integer keys."""
    if not len(keys):
        return []
    order = np.argsort(keys, kind="stable")
    ks, vs = keys[order], values[order]
    cuts = np.flatnonzero(ks[1:] != ks[:-1]) + 1
    return [(int(ks[a]), vs[a:b]) for a, b in zip(np.r_[0, cuts], np.r_[cuts, len(ks)])]
