"""The boundary between Python and the core: backend choice, run state, per-chunk input checks.

`Compiled` holds the flat numbers a `System` compiles to; `Engine` owns the state arrays and feeds
chunks of a trace to the chosen backend (compiled `_core` or the plain-Python `_reference`). Inputs
are checked here, vectorized and with the GIL held, so the core never checks per access.
State saves as numpy arrays plus a JSON header (no pickle), and refuses a different system.
"""
from __future__ import annotations

import hashlib
import importlib
import json
import os
import warnings
import zipfile
from dataclasses import dataclass

import numpy as np

from . import _layout as L
from ._layout import local_prefix
from ._dram_layout import DRAM_COUNTER_NAMES, DRAM_NAMES, new_dram_state

# one epoch row: time (ps), then every counter, then the local and the blade DRAM counters
EPOCH_COLUMNS = (("time_ps",) + L.COUNTER_NAMES + tuple("local_" + n for n in DRAM_COUNTER_NAMES)
                 + tuple("blade_" + n for n in DRAM_COUNTER_NAMES))
EPOCH_WIDTH = len(EPOCH_COLUMNS)
STATE_FORMAT = "hwmodel-state"
STATE_VERSION = 9   # 2: SNIC link QoS arrays, vm_stats rows of VM_STAT_NAMES; 3: peer DRAM; 4: blade buffers;
#                     5: several compute blades, super-page map and owners, link calendars;
#                     6: DRAM ranks keep READY (when their banks are free for a refresh);
#                     7: read and write latency apart (histograms, counters, per-VM stats);
#                     8: DRAM rank activity (ract, rev, rmk) and ACT/PRE counters;
#                     9: DRAM model "detailed" is the controller of _dram_ctrl (its own arrays:
#                        banks, bankgroups, ranks, channels, refq, cmdq_n, cmdq, rdq, wrb, tx,
#                        req, pend, fe); the one-pass model is "fast"; counter late_arrivals


def select_backend(name: str | None = None, compiled: str = "_core", reference: str = "_reference"):
    """A compiled module of this package or its plain-Python twin: `compiled` (default) or
    `reference`; HWMODEL_BACKEND sets the default; a missing build falls back with a warning."""
    name = name or os.environ.get("HWMODEL_BACKEND", "compiled")
    if name not in ("compiled", "reference"):
        raise ValueError(f"backend {name!r} is not one of 'compiled', 'reference' (HWMODEL_BACKEND)")
    if name == "compiled":
        try:
            return importlib.import_module(f"{__package__}.{compiled}")
        except ImportError as e:  # a source checkout without a build
            warnings.warn(f"hwmodel: compiled {compiled} not available ({e}); using the slow reference "
                          f"backend", RuntimeWarning, stacklevel=2)
    return importlib.import_module(f"{__package__}.{reference}")


class PermissionFault(ValueError):
    """A compute blade touched a memory-blade super page it does not own (memory_blade.strict)."""


@dataclass(frozen=True)
class Compiled:
    """Flat parameters of one system, as the core reads them."""
    p: np.ndarray          # int64[len(PARAM_NAMES)]
    dl: np.ndarray         # int64[N_CB * len(DRAM_NAMES)], each compute blade's local DRAM
    db: np.ndarray         # int64[len(DRAM_NAMES)], memory-blade DRAM
    dp: np.ndarray         # int64[len(DRAM_NAMES)], a checkpoint peer's DRAM
    vm_base: np.ndarray    # int64[n_vm]: machine address of each VM's guest address 0
    vm_bytes: np.ndarray   # uint64[n_vm]: each VM's guest memory
    blade_names: tuple = ()   # compute blades, for messages

    def param(self, name: str) -> int:
        return int(self.p[L.P[name]])

    def blade_rows(self) -> list:
        """Per compute blade: its CB_FIELDS by name."""
        at, w = self.param("CB_AT"), len(L.CB_FIELDS)
        return [dict(zip(L.CB_FIELDS, map(int, self.p[at + k * w:at + (k + 1) * w])))
                for k in range(self.param("N_CB"))]

    def vm_blades(self) -> np.ndarray:
        """The compute blade of each VM."""
        at = self.param("VM_CB_AT")
        return self.p[at:at + len(self.vm_base)].copy()

    def signature(self) -> str:
        """Hash of everything that shapes the state: a saved state only fits the same numbers."""
        h = hashlib.sha256()
        for a in (self.p, self.dl, self.db, self.dp, self.vm_base, self.vm_bytes):
            h.update(np.ascontiguousarray(a).tobytes())
        return h.hexdigest()[:16]


def new_state(c: Compiled) -> dict:
    """Fresh run state (struct of arrays) for a compiled system, with the initial page placement.
    Per-blade arrays hold every compute blade's slice in turn (offsets in the CB rows)."""
    g = c.param("N_PAGES")
    n_sets = c.param("N_SETS")
    rows = c.blade_rows()
    nb = len(rows)
    frames = sum(n_sets * r["WAYS"] for r in rows)
    slots = sum(n_sets * r["PER_SET"] for r in rows)
    n_vm = len(c.vm_base)

    def arr(n, dtype, fill=0):
        return np.full(max(n, 1), fill, dtype=dtype)  # never empty: the core takes &a[0]

    st = {
        "counters": np.zeros(len(L.COUNTER_NAMES), np.int64),
        "hist": np.zeros(2 * L.HIST_BINS, np.int64),      # reads, then writes
        "vm_hist": np.zeros(n_vm * 2 * L.VM_HIST_BINS if c.param("VM_HIST") else 1, np.int64),
        "vm_stats": np.zeros((n_vm + 1) * len(L.VM_STAT_NAMES), np.int64),   # last row: background
        "scalars": np.zeros(len(L.SCALAR_NAMES), np.int64),
        "ring": np.zeros(c.param("WINDOW"), np.int64),
        "link_cal": np.zeros(2 * nb * L.CAL_WIDTH, np.int64),    # per blade and direction (calendars)
        "port_cal": np.zeros(3 * L.CAL_WIDTH, np.int64),   # the switch port's two directions, the agent
        "defer": np.zeros(L.DEFER_CAP * len(L.DEFER_FIELDS), np.int64),
        "ck_sc": np.zeros(nb * len(L.CK_FIELDS), np.int64),     # per blade: CK_FIELDS
        "loc": arr(g, np.int32, L.UNTOUCHED),
        "frame_page": arr(frames, np.int32, -1),
        "frame_ready": arr(frames, np.int64),
        "dirty": arr(frames, np.uint8),
        "ref": arr(frames, np.uint8),
        "lru_prev": arr(frames, np.int32, -1),
        "lru_next": arr(frames, np.int32, -1),
        "set_head": arr(nb * n_sets, np.int32, -1),
        "set_tail": arr(nb * n_sets, np.int32, -1),
        "set_used": arr(nb * n_sets, np.int32),
        "set_hand": arr(nb * n_sets, np.int32),
        "blade_next": arr(nb * n_sets, np.int32),
        "slot_page": arr(slots, np.int32, -1),
        "blade_hand": arr(nb * n_sets, np.int32),
        "sp_map": arr(sum(r["N_VSP"] for r in rows), np.int32, -1),
        "sp_owner": arr(c.param("N_SP"), np.int32),
        "dev_unit_free": arr(c.param("ST_UNITS"), np.int64),
        "dev_ring": arr(c.param("ST_QD"), np.int64),
        "buf_free": arr(c.param("DRV_BUFS"), np.int64),
        "ck_dirty": arr(frames, np.uint8),
        "ck_first": arr(frames, np.int32),
        "ck_list": arr(frames, np.int32),
        "ck_pending": arr(frames, np.uint8),
        "ck_copy_list": arr(frames, np.int32),
        "epoch_buf": arr(c.param("EPOCH_CAP") * EPOCH_WIDTH if c.param("EPOCH_PS") else 0, np.int64),
        "mbuf_ring": arr(c.param("BUF_N") * c.param("BUF_QD"), np.int64),
        "mbuf_idx": arr(c.param("BUF_N"), np.int32),
        "cache_tag": arr(nb * c.param("CACHE_SETS") * c.param("CACHE_WAYS"), np.int64, -1),
        "cache_stamp": arr(nb * c.param("CACHE_SETS") * c.param("CACHE_WAYS"), np.int64),
        "cache_dirty": arr(nb * c.param("CACHE_SETS") * c.param("CACHE_WAYS"), np.uint8),
    }
    # SNIC link QoS, per compute blade's link: the SLA rows in force (SLA events change them), per
    # direction and level the next-free time and the last message's wire interval (strict
    # priority), per direction and queue the virtual finish time (fair) and the token bucket
    # (full-at time: ps, remainder / TB_DEN)
    nq, lev = max(c.param("QOS_NQ"), 1), max(c.param("QOS_LEVELS"), 1)
    sla = c.p[c.param("QOS_SLA_AT"):c.param("QOS_SLA_AT") + c.param("QOS_NQ") * len(L.SLA_FIELDS)]
    st["qos_sla"] = arr(len(sla), np.int64)
    st["qos_sla"][:len(sla)] = sla
    st.update({"qos_free": arr(nb * 2 * lev, np.int64), "qos_ls": arr(nb * 2 * lev, np.int64),
               "qos_le": arr(nb * 2 * lev, np.int64), "qos_fin": arr(nb * 2 * nq, np.int64),
               "qos_tb": arr(nb * 4 * nq, np.int64),
               # the switch port's: free, ls, le per direction and level, then fin per direction and queue
               "port_qos": np.zeros(6 * lev + 2 * nq, np.int64)})
    nd = len(DRAM_NAMES)
    for k in range(nb):
        st.update({local_prefix(k) + name: v for name, v in new_dram_state(c.dl[k * nd:(k + 1) * nd]).items()})
    for prefix, d in (("blade_", c.db), ("peer_", c.dp)):
        st.update({prefix + name: v for name, v in new_dram_state(d).items()})
    st["scalars"][L.S["rng"]] = c.param("SEED")
    st["scalars"][L.S["epoch_next"]] = c.param("EPOCH_PS")
    if c.param("SP_MODE") == 0:
        # allocation at boot: each blade's super pages, in blade order, from the blade's first
        psp = 0
        for k, r in enumerate(rows):
            n = r["N_VSP"]
            st["sp_map"][r["VSP_OFF"]:r["VSP_OFF"] + n] = np.arange(psp, psp + n, dtype=np.int32)
            st["sp_owner"][psp:psp + n] = k + 1
            psp += n
        st["scalars"][L.S["sp_next"]] = psp
    if c.param("POLICY") != L.POLICIES["static"] and c.param("PLACEMENT") == L.PLACEMENTS["low"]:
        vm_cb = c.vm_blades()
        unit = 1 << c.param("UNIT_SHIFT")
        for k, r in enumerate(rows):
            mine = np.flatnonzero(vm_cb == k)   # a blade's VMs are consecutive
            g0 = int(c.vm_base[mine[0]]) // unit
            g1 = g0 + int(c.vm_bytes[mine].sum()) // unit
            _place_low(st, g0, g1, n_sets, r, k, c.param("VICTIM"))
    return st


def _place_low(st, g0, g1, n_sets, r, k, victim):
    """Blade k's guest units g0..g1-1 in address order: the first `frames` are local (unit i in
    frame i), the next ones on the memory blade in order (slot i), the rest on storage.
    Replacement order starts with frame i older than frame i + n_sets."""
    g = g1 - g0
    ways, per_set = r["WAYS"], r["PER_SET"]
    fo, so, sl = r["FRAME_OFF"], k * n_sets, r["SLOT_OFF"]
    frames = n_sets * ways
    n_local = min(g, frames)
    idx = np.arange(n_local, dtype=np.int32)
    st["loc"][g0:g0 + n_local] = idx
    st["frame_page"][fo:fo + n_local] = g0 + idx
    n_blade = min(max(g - frames, 0), per_set * n_sets)
    slots = np.arange(n_blade, dtype=np.int32)
    st["loc"][g0 + frames:g0 + frames + n_blade] = -2 - slots
    st["slot_page"][sl:sl + n_blade] = g0 + frames + slots
    np.add.at(st["blade_next"], so + slots % n_sets, 1)
    st["loc"][g0 + frames + n_blade:g1] = L.ON_STORAGE
    used = np.zeros(n_sets, np.int32)
    np.add.at(used, idx % n_sets, 1)
    st["set_used"][so:so + n_sets] = used
    if victim == L.VICTIMS["lru"]:
        # per set, frames j, j+S, j+2S, ... pushed to the head in that order: lowest is LRU
        for j in range(n_sets):
            members = np.arange(j, n_local, n_sets, dtype=np.int32)
            if len(members) == 0:
                continue
            st["lru_next"][fo + members[1:]] = members[:-1]
            st["lru_prev"][fo + members[:-1]] = members[1:]
            st["lru_next"][fo + members[0]] = -1
            st["lru_prev"][fo + members[-1]] = -1
            st["set_head"][so + j] = members[-1]
            st["set_tail"][so + j] = members[0]
    if victim == L.VICTIMS["clock"]:
        st["ref"][fo:fo + n_local] = 1


def save_state(path, state: dict, c: Compiled, extra: dict | None = None) -> None:
    """State as an .npz of plain arrays with a JSON header naming format, version and system."""
    header = {"format": STATE_FORMAT, "version": STATE_VERSION, "system": c.signature(),
              "extra": extra or {}}
    with open(path, "wb") as f:
        np.savez(f, __header__=np.frombuffer(json.dumps(header).encode(), np.uint8), **state)


def load_state(path, c: Compiled) -> tuple:
    """(state, extra) from `save_state`; refuses another format, version or system."""
    try:
        with np.load(path, allow_pickle=False) as z:
            data = {k: z[k] for k in z.files}
    except (OSError, ValueError, zipfile.BadZipFile) as e:
        raise ValueError(f"{path}: not a hwmodel state file ({e})") from None
    if "__header__" not in data:
        raise ValueError(f"{path}: not a hwmodel state file (no header)")
    header = json.loads(bytes(data.pop("__header__")).decode())
    if header.get("format") != STATE_FORMAT or header.get("version") != STATE_VERSION:
        raise ValueError(f"{path}: state format {header.get('format')!r} version {header.get('version')!r}; "
                         f"this hwmodel reads {STATE_FORMAT!r} version {STATE_VERSION}")
    if header.get("system") != c.signature():
        raise ValueError(f"{path}: saved for a different system (signature {header.get('system')}, "
                         f"this system {c.signature()}); resume with the configuration it was saved with")
    fresh = new_state(c)
    for k, v in fresh.items():
        if k not in data or data[k].shape != v.shape or data[k].dtype != v.dtype:
            raise ValueError(f"{path}: array {k!r} is missing or has the wrong shape/type")
        np.copyto(v, data[k])
    return fresh, header.get("extra", {})


class Engine:
    """Runs chunks of (time, address, op, vm) through one backend, keeping the state between them."""

    def __init__(self, compiled: Compiled, backend: str | None = None, state: dict | None = None):
        self.c = compiled
        self.core = select_backend(backend)
        self.backend = "reference" if self.core.__name__.endswith("_reference") else "compiled"
        self.state = state if state is not None else new_state(compiled)
        self.open_loop = compiled.param("TIMING") == L.TIMINGS["open"]
        self._vm_bytes = compiled.vm_bytes
        self.epoch_rows = []    # drained epoch rows (arrays of EPOCH_WIDTH), in time order

    def run_chunk(self, t_ps, addr, op, vm, want_completions=False, where=None, first_record=0, dram_log=None):
        """Run one chunk; returns completion times (int64 ps) when asked, else None.

        `where(i)` names record i for error messages (file and line); `first_record` is the index of
        row 0 in the whole trace; `dram_log` (a list) receives the requests every DRAM received
        (arrays of _layout.LOG_FIELDS rows).
        """
        t_ps = np.ascontiguousarray(t_ps, dtype=np.int64)
        addr = np.ascontiguousarray(addr, dtype=np.uint64)
        op = np.ascontiguousarray(op, dtype=np.uint8)
        vm = np.ascontiguousarray(vm, dtype=np.uint16)
        n = len(addr)
        if not (len(t_ps) == len(op) == len(vm) == n):
            raise ValueError("trace columns differ in length")
        where = where or (lambda i: f"record {first_record + i}")
        self._check(t_ps, addr, op, vm, where)
        out = np.empty(n if want_completions else 0, np.int64)
        done = 0
        while done < n:   # the core stops early when its epoch buffer is full: drain and go on
            ran = self.core.run_chunk(self.c.p, self.c.dl, self.c.db, self.c.dp, self.state, t_ps[done:], addr[done:],
                                      op[done:], vm[done:], self.c.vm_base, out[done:] if want_completions else out,
                                      dram_log)
            self.drain_epochs()
            done += ran
            self._raise_core_error(where, done - 1)
        return out if want_completions else None

    def _raise_core_error(self, where, i):
        sc = self.state["scalars"]
        code = int(sc[L.S["error"]])
        if not code:
            return
        k, sp = int(sc[L.S["cb"]]), int(sc[L.S["error_info"]])
        blade = self.c.blade_names[k] if k < len(self.c.blade_names) else f"compute blade {k}"
        sp_mib = (1 << self.c.param("SP_SHIFT")) >> 20
        if code == L.ERR_PERMISSION:
            raise PermissionFault(f"{where(i)}: permission fault: {blade} touched its super page {sp} "
                                  f"({sp_mib} MiB each), which the memory blade has not given it or has revoked "
                                  f"(memory_blade.strict stops here; without it the request is refused and "
                                  f"counted in permission_faults)")
        raise ValueError(f"{where(i)}: the memory blade has no free super page for {blade} (all "
                         f"{self.c.param('N_SP')} of {sp_mib} MiB are handed out); enlarge memory_blade.capacity "
                         f"or give the compute blades less remote memory")

    def finish(self, dram_log=None):
        """End of the run: carry out the victim write-backs still held back (their link and DRAM
        bytes count; no access waits for them), then let every DRAM serve what it holds (the
        detailed model commits its requests only up to the core's horizon while the run goes on)."""
        e = np.zeros(0, np.int64)
        self.core.run_chunk(self.c.p, self.c.dl, self.c.db, self.c.dp, self.state, e, np.zeros(0, np.uint64),
                            np.zeros(0, np.uint8), np.zeros(0, np.uint16), self.c.vm_base, e, dram_log)
        dram = select_backend(self.backend, compiled="_core", reference="_dram_reference")
        nd = len(DRAM_NAMES)
        for k in range(len(self.c.dl) // nd):
            dram.dram_finish(self.c.dl[k * nd:(k + 1) * nd], self.state, local_prefix(k))
        dram.dram_finish(self.c.db, self.state, "blade_")
        dram.dram_finish(self.c.dp, self.state, "peer_")
        self.drain_epochs()

    def log_horizon(self) -> int:
        """No DRAM request the run makes from now on arrives before this time (ps): later accesses
        arrive at or after the last one, and held-back write-backs at or after their ready time."""
        sc = self.state["scalars"]
        h = int(sc[L.S["last_arrival_ps"]]) if sc[L.S["started"]] else 0
        if sc[L.S["defer_n"]]:
            h = min(h, int(self.state["defer"][len(L.DEFER_FIELDS) * int(sc[L.S["defer_head"]])]))
        return h

    def drain_epochs(self):
        rows = int(self.state["scalars"][L.S["epoch_rows"]])
        if rows:
            self.epoch_rows.append(self.state["epoch_buf"][:rows * EPOCH_WIDTH].reshape(rows, EPOCH_WIDTH).copy())
            self.state["scalars"][L.S["epoch_rows"]] = 0

    def epochs(self) -> np.ndarray:
        """All epoch rows so far, shape (rows, EPOCH_WIDTH); columns are EPOCH_COLUMNS."""
        self.drain_epochs()
        return np.concatenate(self.epoch_rows) if self.epoch_rows else np.zeros((0, EPOCH_WIDTH), np.int64)

    def _check(self, t, addr, op, vm, where):
        if len(addr) == 0:
            return
        bad = np.flatnonzero(op > 1)
        if len(bad):
            raise ValueError(f"{where(bad[0])}: operation {op[bad[0]]} is not 0 (read) or 1 (write)")
        bad = np.flatnonzero(vm >= len(self._vm_bytes))
        if len(bad):
            raise ValueError(f"{where(bad[0])}: VM id {vm[bad[0]]} but the system has "
                             f"{len(self._vm_bytes)} VM(s)")
        bad = np.flatnonzero(addr >= self._vm_bytes[vm])
        if len(bad):
            i = bad[0]
            raise ValueError(f"{where(i)}: address {int(addr[i]):#x} is outside VM {vm[i]}'s memory "
                             f"({int(self._vm_bytes[vm[i]])} bytes); give the VM more memory "
                             f"(-p compute.vms.{vm[i]}.memory=...)")
        bad = np.flatnonzero(t < 0)
        if len(bad):
            raise ValueError(f"{where(bad[0])}: negative time {t[bad[0]]} ps")
        if self.open_loop:
            prev = np.empty_like(t)
            prev[0] = self.state["scalars"][L.S["last_arrival_ps"]] if self.state["scalars"][L.S["started"]] else 0
            prev[1:] = t[:-1]
            bad = np.flatnonzero(t < prev)
            if len(bad):
                raise ValueError(f"{where(bad[0])}: timestamp goes backwards ({t[bad[0]]} ps after "
                                 f"{prev[bad[0]]} ps); open-loop traces must be sorted by time")


def counters(state: dict) -> dict:
    """All counters of a state by name; DRAM ones prefixed local_ (every compute blade's local
    DRAM together), blade_, peer_."""
    out = {name: int(state["counters"][i]) for i, name in enumerate(L.COUNTER_NAMES)}
    local = sum(v for k, v in state.items() if k.startswith("local") and k.endswith("_counters"))
    for prefix, cnt in (("local_", local), ("blade_", state["blade_counters"]), ("peer_", state["peer_counters"])):
        for i, name in enumerate(DRAM_COUNTER_NAMES):
            out[prefix + name] = int(cnt[i])
    return out


def state_digest(state: dict) -> str:
    """A short hash of a whole state, for tests and for noticing drift."""
    h = hashlib.sha256()
    for k in sorted(state):
        h.update(k.encode())
        h.update(np.ascontiguousarray(state[k]).tobytes())
    return h.hexdigest()[:16]


def state_bytes(state: dict) -> int:
    return sum(a.nbytes for a in state.values())

