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
from . import growable
from ._dram_layout import DRAM_COUNTER_NAMES, DRAM_NAMES, new_dram_state
from .growable import FRAME_ARRAYS, SLOT_ARRAYS, page_locations  # noqa: F401  (page_locations: for callers)

# one epoch row: time (ps), then every counter, then the local and the blade DRAM counters
EPOCH_COLUMNS = (("time_ps",) + L.COUNTER_NAMES + tuple("local_" + n for n in DRAM_COUNTER_NAMES)
                 + tuple("blade_" + n for n in DRAM_COUNTER_NAMES))
EPOCH_WIDTH = len(EPOCH_COLUMNS)
STATE_FORMAT = "hwmodel-state"
STATE_VERSION = 8   # 2: SNIC link QoS arrays, vm_stats rows of VM_STAT_NAMES; 3: peer DRAM; 4: blade buffers;
#                     5: several compute blades, super-page map and owners, link calendars;
#                     6: DRAM ranks keep READY (when their banks are free for a refresh);
#                     7: read and write latency apart (histograms, counters, per-VM stats);
#                     8: state grows with use: a two-level page table (pt_dir, pt_leaf for loc), frame
#                        and slot records in per-blade rows (cb_grow), virtual pages (va_*)


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
    vm_bytes: np.ndarray   # uint64[n_vm]: each VM's guest memory (`auto`: the guest-physical space it may use)
    blade_names: tuple = ()   # compute blades, for messages
    vm_paths: tuple = ()      # each VM's memory parameter, for messages ("compute.vms.0.memory")

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

    def vm_pages(self) -> np.ndarray:
        """Guest-physical pages each VM may have (virtual addresses map into them)."""
        at = self.param("VM_PAGES_AT")
        return self.p[at:at + len(self.vm_base)].copy()

    def signature(self) -> str:
        """Hash of everything that shapes the state: a saved state only fits the same numbers."""
        h = hashlib.sha256()
        for a in (self.p, self.dl, self.db, self.dp, self.vm_base, self.vm_bytes):
            h.update(np.ascontiguousarray(a).tobytes())
        return h.hexdigest()[:16]


# The run state, array by array: dtype, the value of a fresh element, and its length for the
# compiled system c; GROWS marks the arrays whose length follows the use (hwmodel.growable: frame
# and slot records per compute blade, page-table leaves, the virtual-page table; their invariants
# are in growable.check). The DRAM arrays of each DRAM (prefixes local_/localK_, blade_, peer_)
# are new_dram_state's. An empty array still has one element: the core takes &a[0].
GROWS = None


def _nb(c):
    return c.param("N_CB")


def _sets(c):
    return _nb(c) * c.param("N_SETS")


def _cache(c):
    return _nb(c) * c.param("CACHE_SETS") * c.param("CACHE_WAYS")


def _lev(c):
    return max(c.param("QOS_LEVELS"), 1)


def _nq(c):
    return max(c.param("QOS_NQ"), 1)


STATE_ARRAYS = {
    "counters": (np.int64, 0, lambda c: len(L.COUNTER_NAMES)),
    "hist": (np.int64, 0, lambda c: 2 * L.HIST_BINS),                 # reads, then writes
    "vm_hist": (np.int64, 0, lambda c: len(c.vm_base) * 2 * L.VM_HIST_BINS if c.param("VM_HIST") else 1),
    "vm_stats": (np.int64, 0, lambda c: (len(c.vm_base) + 1) * len(L.VM_STAT_NAMES)),   # last row: background
    "scalars": (np.int64, 0, lambda c: len(L.SCALAR_NAMES)),
    "ring": (np.int64, 0, lambda c: c.param("WINDOW")),
    "link_cal": (np.int64, 0, lambda c: 2 * _nb(c) * L.CAL_WIDTH),   # per blade and direction (calendars)
    "port_cal": (np.int64, 0, lambda c: 3 * L.CAL_WIDTH),     # the switch port's two directions, the agent
    "defer": (np.int64, 0, lambda c: L.DEFER_CAP * len(L.DEFER_FIELDS)),
    "ck_sc": (np.int64, 0, lambda c: _nb(c) * len(L.CK_FIELDS)),     # per blade: CK_FIELDS
    "cb_grow": (np.int64, 0, lambda c: _nb(c) * len(L.GROW_FIELDS)),  # per blade: GROW_FIELDS
    # guest page table: directory (one leaf number per PT_LEAF guest pages) and its leaves
    "pt_dir": (np.int32, 0, lambda c: c.param("N_DIR")),
    "pt_leaf": (np.int32, L.UNTOUCHED, GROWS),
    # virtual pages (core.addresses: virtual): table of keys and guest-physical pages; per VM pages given
    "va_key": (np.int64, 0, GROWS),
    "va_page": (np.int32, -1, GROWS),
    "va_next": (np.int64, 0, lambda c: len(c.vm_base)),
    # per frame (growable.FRAME_ARRAYS) and per blade slot (SLOT_ARRAYS) of each blade
    **{name: (dtype, fill, GROWS) for name, (dtype, fill) in {**FRAME_ARRAYS, **SLOT_ARRAYS}.items()},
    # per frame set of each blade
    "set_head": (np.int32, -1, _sets), "set_tail": (np.int32, -1, _sets), "set_used": (np.int32, 0, _sets),
    "set_hand": (np.int32, 0, _sets), "blade_next": (np.int32, 0, _sets), "blade_hand": (np.int32, 0, _sets),
    "sp_map": (np.int32, -1, lambda c: sum(r["N_VSP"] for r in c.blade_rows())),
    "sp_owner": (np.int32, 0, lambda c: c.param("N_SP")),
    "dev_unit_free": (np.int64, 0, lambda c: c.param("ST_UNITS")),
    "dev_ring": (np.int64, 0, lambda c: c.param("ST_QD")),
    "buf_free": (np.int64, 0, lambda c: c.param("DRV_BUFS")),
    "epoch_buf": (np.int64, 0, lambda c: c.param("EPOCH_CAP") * EPOCH_WIDTH if c.param("EPOCH_PS") else 0),
    "mbuf_ring": (np.int64, 0, lambda c: c.param("BUF_N") * c.param("BUF_QD")),
    "mbuf_idx": (np.int32, 0, lambda c: c.param("BUF_N")),
    "cache_tag": (np.int64, -1, _cache), "cache_stamp": (np.int64, 0, _cache), "cache_dirty": (np.uint8, 0, _cache),
    # SNIC link QoS, per compute blade's link: the SLA rows in force (SLA events change them), per
    # direction and level the next-free time and the last message's wire interval (strict
    # priority), per direction and queue the virtual finish time (fair) and the token bucket
    # (full-at time: ps, remainder / TB_DEN)
    "qos_sla": (np.int64, 0, lambda c: c.param("QOS_NQ") * len(L.SLA_FIELDS)),
    "qos_free": (np.int64, 0, lambda c: _nb(c) * 2 * _lev(c)), "qos_ls": (np.int64, 0, lambda c: _nb(c) * 2 * _lev(c)),
    "qos_le": (np.int64, 0, lambda c: _nb(c) * 2 * _lev(c)), "qos_fin": (np.int64, 0, lambda c: _nb(c) * 2 * _nq(c)),
    "qos_tb": (np.int64, 0, lambda c: _nb(c) * 4 * _nq(c)),
    # the switch port's: free, ls, le per direction and level, then fin per direction and queue
    "port_qos": (np.int64, 0, lambda c: 6 * _lev(c) + 2 * _nq(c)),
}


def new_state(c: Compiled, start: str = growable.DEFAULT) -> dict:
    """Fresh run state (struct of arrays) for a compiled system, with the initial page placement.
    Per-blade arrays hold every compute blade's slice in turn. Growable arrays start at `start`
    sizes (growable.DEFAULT; SMALL makes a run grow often, FULL never: tests compare them)."""
    n_sets = c.param("N_SETS")
    rows = c.blade_rows()
    st = {name: np.full(max(size(c), 1), fill, dtype) for name, (dtype, fill, size) in STATE_ARRAYS.items()
          if size is not GROWS}
    growable.allocate(st, c, start)
    sla = c.p[c.param("QOS_SLA_AT"):c.param("QOS_SLA_AT") + c.param("QOS_NQ") * len(L.SLA_FIELDS)]
    st["qos_sla"][:len(sla)] = sla
    nd = len(DRAM_NAMES)
    for k in range(len(rows)):
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
        # placement at boot places every guest page: it costs what it places
        vm_cb = c.vm_blades()
        unit = 1 << c.param("UNIT_SHIFT")
        for k, r in enumerate(rows):
            mine = np.flatnonzero(vm_cb == k)   # a blade's VMs are consecutive
            g0 = int(c.vm_base[mine[0]]) // unit
            g1 = g0 + int(c.vm_bytes[mine].sum()) // unit
            _place_low(st, c, g0, g1, n_sets, r, k, c.param("VICTIM"))
    return st


def _place_low(st, c, g0, g1, n_sets, r, k, victim):
    """Blade k's guest units g0..g1-1 in address order: the first `frames` are local (unit i in
    frame i), the next ones on the memory blade in order (slot i), the rest on storage.
    Replacement order starts with frame i older than frame i + n_sets."""
    g = g1 - g0
    ways, per_set = r["WAYS"], r["PER_SET"]
    frames = n_sets * ways
    n_local = min(g, frames)
    n_blade = min(max(g - frames, 0), per_set * n_sets)
    need_f = [0] * len(c.blade_rows())
    need_s = list(need_f)
    need_f[k] = min(ways, -(-n_local // n_sets) + L.GROW_ROOM)
    need_s[k] = min(per_set, -(-n_blade // n_sets) + L.GROW_ROOM)
    growable.reserve_rows(st, c, need_f, need_s)
    growable.claim_leaves(st, c, g0, g1)
    fo, sl = growable.base(st, k, "FRAME"), growable.base(st, k, "SLOT")
    so = k * n_sets
    loc = st["pt_leaf"]
    at = lambda a, b: growable.pt_index(st, np.arange(a, b, dtype=np.int64))
    idx = np.arange(n_local, dtype=np.int32)
    loc[at(g0, g0 + n_local)] = idx
    st["frame_page"][fo:fo + n_local] = g0 + idx
    slots = np.arange(n_blade, dtype=np.int32)
    loc[at(g0 + frames, g0 + frames + n_blade)] = -2 - slots
    st["slot_page"][sl:sl + n_blade] = g0 + frames + slots
    np.add.at(st["blade_next"], so + slots % n_sets, 1)
    loc[at(g0 + frames + n_blade, g1)] = L.ON_STORAGE
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
    fresh = new_state(c, growable.SMALL)
    for k, v in fresh.items():
        if STATE_ARRAYS.get(k, (0, 0, 1))[2] is GROWS:
            continue
        if k not in data or data[k].shape != v.shape or data[k].dtype != v.dtype:
            raise ValueError(f"{path}: array {k!r} is missing or has the wrong shape/type")
        np.copyto(v, data[k])
    for k, (_, _, size) in STATE_ARRAYS.items():
        if size is GROWS:
            if k not in data:
                raise ValueError(f"{path}: array {k!r} is missing")
            fresh[k] = np.ascontiguousarray(data[k])
    growable.check(fresh, c, str(path))
    return fresh, header.get("extra", {})


class Engine:
    """Runs chunks of (time, address, op, vm) through one backend, keeping the state between them."""

    def __init__(self, compiled: Compiled, backend: str | None = None, state: dict | None = None):
        self.c = compiled
        self.core = select_backend(backend)
        self.backend = "reference" if self.core.__name__.endswith("_reference") else "compiled"
        self.state = state if state is not None else new_state(compiled)
        self.open_loop = compiled.param("TIMING") == L.TIMINGS["open"]
        self.virtual = bool(compiled.param("VIRTUAL"))
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
        while done < n:   # the core stops early when its epoch buffer is full or state must grow
            if self.state["scalars"][L.S["grow"]]:
                growable.grow(self.state, self.c)
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
        if code == L.ERR_VM_FULL:
            pages, unit = int(self.c.vm_pages()[sp]), 1 << self.c.param("UNIT_SHIFT")
            path = self.c.vm_paths[sp] if sp < len(self.c.vm_paths) else f"VM {sp}'s memory"
            raise ValueError(f"{where(i)}: VM {sp} touches more virtual pages than its guest-physical memory "
                             f"holds ({pages:,} pages of {unit} B, {path}); give it more (-p {path}=...) or "
                             f"let it grow with its footprint ({path}: auto)")
        if code == L.ERR_NO_ROOM:
            blade = self.c.blade_names[sp] if sp < len(self.c.blade_names) else f"compute blade {sp}"
            raise ValueError(f"{where(i)}: {blade}'s VMs touch more pages than its local memory and its share of "
                             f"the memory blade hold (a VM's memory is auto); enlarge compute.local_memory or "
                             f"memory_blade.capacity, or add a storage tier (storage.device)")
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
        bytes count; no access waits for them)."""
        e = np.zeros(0, np.int64)
        self.core.run_chunk(self.c.p, self.c.dl, self.c.db, self.c.dp, self.state, e, np.zeros(0, np.uint64),
                            np.zeros(0, np.uint8), np.zeros(0, np.uint16), self.c.vm_base, e, dram_log)
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
        if self.virtual:    # the guest's page tables take any virtual page below the limit
            bad = np.flatnonzero(addr >> np.uint64(self.c.param("UNIT_SHIFT") + L.VA_PAGE_BITS))
            if len(bad):
                i = bad[0]
                raise ValueError(f"{where(i)}: virtual address {int(addr[i]):#x} is beyond the "
                                 f"2**{self.c.param('UNIT_SHIFT') + L.VA_PAGE_BITS}-byte virtual address space "
                                 f"(core.addresses: virtual)")
        else:
            bad = np.flatnonzero(addr >= self._vm_bytes[vm])
            if len(bad):
                i = bad[0]
                path = self.c.vm_paths[vm[i]] if vm[i] < len(self.c.vm_paths) else f"compute.vms.{vm[i]}.memory"
                raise ValueError(f"{where(i)}: address {int(addr[i]):#x} is outside VM {vm[i]}'s memory "
                                 f"({int(self._vm_bytes[vm[i]])} bytes); give the VM more memory "
                                 f"(-p {path}=...), or if the trace's addresses are virtual, say so "
                                 f"(-p core.addresses=virtual)")
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


def state_digest(state: dict, c: Compiled | None = None) -> str:
    """A short hash of a whole state, for tests and for noticing drift. With the compiled system,
    of its canonical form (growable.canonical): the same whenever the state grew."""
    if c is not None:
        state = growable.canonical(state, c)
    h = hashlib.sha256()
    for k in sorted(state):
        h.update(k.encode())
        h.update(np.ascontiguousarray(state[k]).tobytes())
    return h.hexdigest()[:16]


def state_bytes(state: dict) -> int:
    return sum(a.nbytes for a in state.values())

