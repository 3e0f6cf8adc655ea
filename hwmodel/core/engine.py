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
import tempfile
import tokenize
import warnings
import zipfile
import zlib
from dataclasses import dataclass

import numpy as np

from .. import _layout as L
from .._layout import local_prefix
from . import growable
from .._dram_layout import D, DRAM_COUNTER_NAMES, DRAM_NAMES, dram_state_bytes, new_dram_state
from .growable import FRAME_ARRAYS, SLOT_ARRAYS, page_locations  # noqa: F401  (page_locations: for callers)
from ..units import MAX_TIME_PS, format_time

# one epoch row: time (ps), then every counter, then the local and the blade DRAM counters
EPOCH_COLUMNS = (("time_ps",) + L.COUNTER_NAMES + tuple("local_" + n for n in DRAM_COUNTER_NAMES)
                 + tuple("blade_" + n for n in DRAM_COUNTER_NAMES))
EPOCH_WIDTH = len(EPOCH_COLUMNS)
STATE_FORMAT = "hwmodel-state"
STATE_VERSION = 11  # 2: SNIC link QoS arrays, vm_stats rows of VM_STAT_NAMES; 3: peer DRAM; 4: blade buffers;
#                     5: several compute blades, super-page map and owners, link calendars;
#                     6: DRAM ranks keep READY (when their banks are free for a refresh);
#                     7: read and write latency apart (histograms, counters, per-VM stats);
#                     8: DRAM rank activity (ract, rev, rmk) and ACT/PRE counters;
#                     9: the header holds a digest of the arrays and of `extra`;
#                     10: state grows with use: a two-level page table (pt_dir, pt_leaf for loc), frame
#                         and slot records in per-blade rows (cb_grow), virtual pages (va_*);
#                     11: DRAM model "detailed" is the controller of _dram_ctrl (its own arrays:
#                         banks, bankgroups, ranks, channels, refq, cmdq_n, cmdq, rdq, wrb, tx, req,
#                         pend, fe); the one-pass model is "fast"; DRAM counter late_arrivals
# Bounds that keep the core's loops short and its memory small whatever the input (see _check):
MAX_EPOCH_ROWS = 1 << 18        # epoch samples in one run (~190 MB of rows)
MAX_TICKS_PER_CHUNK = 1 << 22   # checkpoint ticks the core may have to step through in one chunk


_TOP = __package__.rpartition(".")[0]    # "hwmodel": backends are named from the package's top


def select_backend(name: str | None = None, compiled: str = "_core", reference: str = "_reference"):
    """A compiled module of the package or its plain-Python twin (names relative to `hwmodel`):
    `compiled` (default) or `reference`; HWMODEL_BACKEND sets the default; a missing build falls
    back with a warning."""
    name = name or os.environ.get("HWMODEL_BACKEND", "compiled")
    if name not in ("compiled", "reference"):
        raise ValueError(f"backend {name!r} is not one of 'compiled', 'reference' (HWMODEL_BACKEND)")
    if name == "compiled":
        try:
            return importlib.import_module(f"{_TOP}.{compiled}")
        except ImportError as e:  # a source checkout without a build
            warnings.warn(f"hwmodel: compiled {compiled} not available ({e}); using the slow reference "
                          f"backend", RuntimeWarning, stacklevel=2)
    return importlib.import_module(f"{_TOP}.{reference}")


class TimeOverflow(ValueError, OverflowError):
    """The run's times, or their sums, would outgrow the core's 64-bit integers (a backlog of months
    of simulated time, or latencies adding up to more than ~53 days)."""


# per-access durations of the compiled parameters (ps): how far one access can move the clock
_DURATIONS = ("TRAP_PS", "MAP_UPDATE_PS", "FILTER_PS", "AGENT_PS", "PROP_PS", "SER_REQ_PS", "SER_LINE_PS",
              "SER_WLINE_PS", "SER_UNIT_PS", "SER_FIRST_PS", "CACHE_HIT_PS", "ST_READ_PS", "ST_WRITE_PS", "ST_XFER_PS",
              "DRV_OVERHEAD_PS", "CK_SETUP_PS", "CK_PACE_PS", "PEER_PS", "BUF_LAT_PS", "SW_LAT_PS", "AGENT_OCC_PS")
_DRAM_DURATIONS = tuple(n for n in DRAM_NAMES if n.startswith(("T_", "G_")) and n != "T_REFI")
# the run's clock stays below this, and no time the state holds may pass it: a chunk then ends
# below 2**62 (the DRAM's "never" refresh time, _dram_layout.NO_REFRESH), 2x short of int64
CLOCK_LIMIT = 1 << 61


def clock_step_bound(c: Compiled) -> tuple:
    """(per access, per chunk) upper bounds, in ps, of how far the core's clock can move: an access
    pays every duration a few times over (traps, messages both ways, storage, its DRAM transfers of
    a swap unit); a chunk may add one checkpoint (or restore) of every frame."""
    unit = 1 << c.param("UNIT_SHIFT")
    per = sum(c.param(n) for n in _DURATIONS)
    if c.param("SW"):
        per += -(-(c.param("WIRE_UNIT_B") * c.param("SW_NUM")) // c.param("SW_DEN"))
    nd = len(DRAM_NAMES)

    def dram(d):
        return (unit // max(int(d[D["BURST_BYTES"]]), 1) + 1) * int(sum(int(d[D[n]]) for n in _DRAM_DURATIONS))
    worst_dram = max([dram(c.db), dram(c.dp)] + [dram(c.dl[k * nd:(k + 1) * nd]) for k in range(c.param("N_CB"))])
    frames = sum(c.param("N_SETS") * r["WAYS"] for r in c.blade_rows())
    return 8 * (per + worst_dram), 2 * frames * (c.param("CK_PACE_PS") + worst_dram)


_HIST_HIGH = np.tile([float(L.hist_bin_bounds(b)[1]) for b in range(L.HIST_BINS)], 2)   # reads, then writes


def check_time_sums(state: dict) -> None:
    """TimeOverflow when the run's clock or its sums of times have outgrown 64 bits: a counter
    went negative (the compiled core wraps silently; its twin raises OverflowError), the clock
    passed CLOCK_LIMIT, or the latencies (bounded by their histogram within 0.8%) add up past it."""
    cnt = state["counters"]
    bad = np.flatnonzero(cnt < 0)
    if len(bad):
        raise TimeOverflow(f"the run's times outgrew 64-bit integers ({L.COUNTER_NAMES[bad[0]]} wrapped); "
                           f"simulate a shorter or less saturated run")
    # an elementwise sum, not `@`: a BLAS dot product spins up its threads on every call (~10 ms on a
    # busy 2-core machine), and the engine checks before every chunk and sampled stretch
    if int(cnt[L.C["last_completion_ps"]]) > CLOCK_LIMIT or float((state["hist"] * _HIST_HIGH).sum()) > CLOCK_LIMIT:
        raise TimeOverflow("the run's clock or its latencies added up passed 2**61 ps (about 27 days), beyond "
                           "what its 64-bit sums hold; simulate a shorter or less saturated run")


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


@dataclass(frozen=True)
class Spec:
    """One state array as `new_state` makes it: length (GROWS: it grows with the use, see
    hwmodel.core.growable), dtype, initial value, the values a saved state may hold in it (inclusive;
    None = unbounded; finer rules are in `state_check` and `growable.check`), and the parameters
    that size it (named when the state would need too much memory)."""
    n: int | None
    dtype: type
    fill: int = 0
    lo: int | None = None
    hi: int | None = None
    sized_by: str = ""


GROWS = None
TIME_LO, TIME_HI = -(1 << 62), 1 << 61   # any time the state holds ("long ago" sentinels included; CLOCK_LIMIT)


def state_spec(c: Compiled) -> dict:
    """The arrays of a run state (the DRAM subsystems' aside: `dram_state_bytes`), by name.
    Per-blade arrays hold every compute blade's slice in turn: frame and slot records at the bases
    in cb_grow (GROW_FIELDS), frame sets at blade x N_SETS."""
    g = c.param("N_PAGES")
    n_sets = c.param("N_SETS")
    rows = c.blade_rows()
    nb = len(rows)
    n_vm = len(c.vm_base)
    nq, lev = max(c.param("QOS_NQ"), 1), max(c.param("QOS_LEVELS"), 1)
    cache = nb * c.param("CACHE_SETS") * c.param("CACHE_WAYS")
    t, i32, i64, u8 = (TIME_LO, TIME_HI), np.int32, np.int64, np.uint8
    pages = "compute.page_size"      # guest pages: VM memory / page size
    frm = "compute.local_memory"     # local frames: local memory / page size
    sets = "hypervisor.super_page"   # frame sets: super page / page size
    return {
        "counters": Spec(len(L.COUNTER_NAMES), i64, 0, 0),
        "hist": Spec(2 * L.HIST_BINS, i64, 0, 0),                  # reads, then writes
        "vm_hist": Spec(n_vm * 2 * L.VM_HIST_BINS if c.param("VM_HIST") else 1, i64, 0, 0),
        "vm_stats": Spec((n_vm + 1) * len(L.VM_STAT_NAMES), i64, 0, 0, sized_by="compute.vms"),  # last row: background
        "scalars": Spec(len(L.SCALAR_NAMES), i64),                 # ranges per scalar: state_check
        "ring": Spec(c.param("WINDOW"), i64, 0, *t, sized_by="core.window"),
        "link_cal": Spec(2 * nb * L.CAL_WIDTH, i64, 0, *t),          # per blade and direction (calendars)
        "port_cal": Spec(3 * L.CAL_WIDTH, i64, 0, *t),   # the switch port's two directions, the agent
        "defer": Spec(L.DEFER_CAP * len(L.DEFER_FIELDS), i64, 0, *t),
        "ck_sc": Spec(nb * len(L.CK_FIELDS), i64, 0, *t),           # per blade: CK_FIELDS
        "cb_grow": Spec(nb * len(L.GROW_FIELDS), i64, 0, 0),        # per blade: GROW_FIELDS (growable.check)
        # guest page table: directory (one leaf number per PT_LEAF guest pages) and its leaves; an
        # entry is a frame (>= 0), UNTOUCHED, a blade slot (-2 - slot) or ON_STORAGE
        "pt_dir": Spec(c.param("N_DIR"), i32, 0, 0, None, pages),
        "pt_leaf": Spec(GROWS, i32, L.UNTOUCHED, L.ON_STORAGE, None, pages),
        # virtual pages (core.addresses: virtual): table of keys and guest-physical pages; per VM pages given
        "va_key": Spec(GROWS, i64, 0, 0, None),
        "va_page": Spec(GROWS, i32, -1, -1, None),
        "va_next": Spec(n_vm, i64, 0, 0, None, "compute.vms"),
        # per frame (growable.FRAME_ARRAYS) and per blade slot (SLOT_ARRAYS) of each blade
        "frame_page": Spec(GROWS, i32, -1, -1, g - 1, frm),
        "frame_ready": Spec(GROWS, i64, 0, *t, frm),
        "dirty": Spec(GROWS, u8, 0, 0, 1, frm),
        "ref": Spec(GROWS, u8, 0, 0, 1, frm),
        "lru_prev": Spec(GROWS, i32, -1, -1, None, frm),
        "lru_next": Spec(GROWS, i32, -1, -1, None, frm),
        "ck_dirty": Spec(GROWS, u8, 0, 0, 2, frm),
        "ck_first": Spec(GROWS, i32, 0, 0, None, frm),
        "ck_list": Spec(GROWS, i32, 0, 0, None, frm),
        "ck_pending": Spec(GROWS, u8, 0, 0, 1, frm),
        "ck_copy_list": Spec(GROWS, i32, 0, 0, None, frm),
        "slot_page": Spec(GROWS, i32, -1, -1, g - 1, pages),
        # per frame set of each blade
        "set_head": Spec(nb * n_sets, i32, -1, -1, None, sets),
        "set_tail": Spec(nb * n_sets, i32, -1, -1, None, sets),
        "set_used": Spec(nb * n_sets, i32, 0, 0, None, sets),
        "set_hand": Spec(nb * n_sets, i32, 0, 0, None, sets),
        "blade_next": Spec(nb * n_sets, i32, 0, 0, None, sets),
        "blade_hand": Spec(nb * n_sets, i32, 0, 0, None, sets),
        "sp_map": Spec(sum(r["N_VSP"] for r in rows), i32, -1, -1, c.param("N_SP") - 1, "memory_blade.super_page"),
        "sp_owner": Spec(c.param("N_SP"), i32, 0, -nb, nb, "memory_blade.super_page"),
        "dev_unit_free": Spec(c.param("ST_UNITS"), i64, 0, *t),
        "dev_ring": Spec(c.param("ST_QD"), i64, 0, *t),
        "buf_free": Spec(c.param("DRV_BUFS"), i64, 0, *t),
        "epoch_buf": Spec(c.param("EPOCH_CAP") * EPOCH_WIDTH if c.param("EPOCH_PS") else 0, i64),
        "mbuf_ring": Spec(c.param("BUF_N") * c.param("BUF_QD"), i64, 0, *t,
                          "memory_blade.buffers"),
        "mbuf_idx": Spec(c.param("BUF_N"), i32, 0, 0, max(c.param("BUF_QD") - 1, 0), "memory_blade.buffers"),
        "cache_tag": Spec(cache, i64, -1, -1, None, "cache.size"),
        "cache_stamp": Spec(cache, i64, 0, 0, None, "cache.size"),
        "cache_dirty": Spec(cache, u8, 0, 0, 1, "cache.size"),
        # SNIC link QoS, per compute blade's link: the SLA rows in force (SLA events change them), per
        # direction and level the next-free time and the last message's wire interval (strict
        # priority), per direction and queue the virtual finish time (fair) and the token bucket
        # (full-at time: ps, remainder / TB_DEN)
        "qos_sla": Spec(c.param("QOS_NQ") * len(L.SLA_FIELDS), i64, sized_by="compute.vms"),   # rows: state_check
        "qos_free": Spec(nb * 2 * lev, i64, 0, *t), "qos_ls": Spec(nb * 2 * lev, i64, 0, *t),
        "qos_le": Spec(nb * 2 * lev, i64, 0, *t), "qos_fin": Spec(nb * 2 * nq, i64, 0, *t, "compute.vms"),
        "qos_tb": Spec(nb * 4 * nq, i64, 0, *t, "compute.vms"),
        # the switch port's: free, ls, le per direction and level, then fin per direction and queue
        "port_qos": Spec(6 * lev + 2 * nq, i64, 0, *t, "compute.vms"),
    }


def _start(c: Compiled) -> str:
    """How large growable arrays start: placement at boot (`low`) places every page at once."""
    low = c.param("POLICY") != L.POLICIES["static"] and c.param("PLACEMENT") == L.PLACEMENTS["low"]
    return growable.FULL if low else growable.DEFAULT


def state_bytes_needed(c: Compiled, start: str | None = None) -> list:
    """[(bytes, parameter that sizes it, array), ...] of a fresh state for `c`, largest first: every
    array of `state_spec` (growable ones at their start sizes) and every DRAM subsystem's state."""
    spec = state_spec(c)
    grown = growable.start_lengths(c, start or _start(c))
    parts = [((max(sp.n, 1) if sp.n is not GROWS else grown[name]) * np.dtype(sp.dtype).itemsize,
              sp.sized_by or "compute.vms", name) for name, sp in spec.items()]
    nd = len(DRAM_NAMES)
    names = c.blade_names or tuple(f"cb{k}" for k in range(c.param("N_CB")))
    for k in range(c.param("N_CB")):
        where = "compute.dram" if c.param("N_CB") == 1 else f"compute[{k}].dram ({names[k]})"
        parts.append((dram_state_bytes(c.dl[k * nd:(k + 1) * nd]), where, "DRAM state"))
    parts.append((dram_state_bytes(c.db), "memory_blade.dram", "DRAM state"))
    parts.append((dram_state_bytes(c.dp), "service.peer_dram", "DRAM state"))
    return sorted(parts, key=lambda p: -p[0])


def max_state_bytes() -> int:
    """The largest run state allowed: $HWMODEL_MAX_STATE_BYTES, else half of physical memory."""
    env = os.environ.get("HWMODEL_MAX_STATE_BYTES")
    if env:
        return int(env)
    try:
        return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") // 2
    except (ValueError, OSError, AttributeError):
        return 8 << 30


def check_state_size(c: Compiled, start: str | None = None) -> int:
    """Bytes a fresh state of `c` needs; an error naming what makes it large when that is more
    than `max_state_bytes()` (checked before anything is allocated)."""
    parts = state_bytes_needed(c, start)
    total = sum(b for b, _, _ in parts)
    limit = max_state_bytes()
    if total > limit:
        top = ", ".join(f"{name} {_bytes(b)} ({param})" for b, param, name in parts[:3])
        raise ValueError(f"{parts[0][1]}: the run state would need {_bytes(total)}, more than the {_bytes(limit)} "
                         f"allowed (half of this machine's memory, or $HWMODEL_MAX_STATE_BYTES); largest arrays: "
                         f"{top}")
    return total


def _bytes(n: int) -> str:
    for unit, scale in (("TB", 10**12), ("GB", 10**9), ("MB", 10**6), ("kB", 10**3)):
        if n >= scale:
            return f"{n / scale:.3g} {unit}"
    return f"{n} B"


def new_state(c: Compiled, start: str = growable.DEFAULT) -> dict:
    """Fresh run state (struct of arrays) for a compiled system, with the initial page placement.
    Growable arrays start at `start` sizes (growable.DEFAULT; SMALL makes a run grow often, FULL
    never: tests compare them). Refuses (check_state_size) a state larger than this machine
    should allocate."""
    check_state_size(c, growable.FULL if _start(c) == growable.FULL else start)
    n_sets = c.param("N_SETS")
    rows = c.blade_rows()
    # never empty: the core takes &a[0]
    st = {name: np.full(max(sp.n, 1), sp.fill, dtype=sp.dtype) for name, sp in state_spec(c).items()
          if sp.n is not GROWS}
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


def _pt_range(st, a: int, b: int):
    """Where guest pages a..b-1's entries are in state["pt_leaf"]: a slice when their leaves are
    consecutive (as claim_leaves numbers them at boot), else growable.pt_index's indices."""
    if b <= a:
        return slice(0, 0)
    sh = L.PT_LEAF_SHIFT
    d = st["pt_dir"][a >> sh:((b - 1) >> sh) + 1].astype(np.int64)
    if len(d) == 1 or bool((np.diff(d) == 1).all()):
        i = (int(d[0]) << sh) | (a & (L.PT_LEAF - 1))
        return slice(i, i + b - a)
    return growable.pt_index(st, np.arange(a, b, dtype=np.int64))


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
    at = lambda a, b: _pt_range(st, a, b)
    idx = np.arange(n_local, dtype=np.int32)
    loc[at(g0, g0 + n_local)] = idx
    st["frame_page"][fo:fo + n_local] = g0 + idx
    slots = np.arange(n_blade, dtype=np.int32)
    loc[at(g0 + frames, g0 + frames + n_blade)] = -2 - slots
    st["slot_page"][sl:sl + n_blade] = g0 + frames + slots
    # slots and frames dealt to the sets in turn: set j gets those numbered j, j + S, j + 2S, ...
    per_set_of = lambda count: np.maximum(count - np.arange(n_sets) + n_sets - 1, 0) // n_sets
    st["blade_next"][so:so + n_sets] += per_set_of(n_blade).astype(np.int32)
    loc[at(g0 + frames + n_blade, g1)] = L.ON_STORAGE
    st["set_used"][so:so + n_sets] = per_set_of(n_local)
    if victim == L.VICTIMS["lru"]:
        # per set, frames j, j+S, j+2S, ... pushed to the head in that order: lowest is LRU
        nxt, prv = st["lru_next"][fo:fo + n_local], st["lru_prev"][fo:fo + n_local]
        for j in range(min(n_sets, n_local)):
            members = idx[j::n_sets]
            nxt[j + n_sets::n_sets] = members[:-1]
            prv[j:n_local - n_sets:n_sets] = members[1:]
            nxt[j], prv[members[-1]] = -1, -1
            st["set_head"][so + j] = members[-1]
            st["set_tail"][so + j] = members[0]
    if victim == L.VICTIMS["clock"]:
        st["ref"][fo:fo + n_local] = 1


def save_state(path, state: dict, c: Compiled, extra: dict | None = None) -> None:
    """State as an .npz of plain arrays with a JSON header naming format, version and system, and
    a digest of the arrays and `extra` (a damaged or edited file is refused on load).

    Atomic: written to a temporary file beside `path`, flushed to disk, then renamed over it, so a
    kill during a save leaves the previous state intact."""
    extra = extra or {}
    header = {"format": STATE_FORMAT, "version": STATE_VERSION, "system": c.signature(),
              "digest": _state_file_digest(state, extra), "extra": extra}
    path = os.fspath(path)
    folder = os.path.dirname(os.path.abspath(path))
    fd, tmp = tempfile.mkstemp(prefix="." + os.path.basename(path) + ".", suffix=".part", dir=folder)
    try:
        with os.fdopen(fd, "wb") as f:
            np.savez(f, __header__=np.frombuffer(json.dumps(header).encode(), np.uint8), **state)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        try:
            os.remove(tmp)
        except OSError:
            pass
        raise
    try:   # the rename itself reaches the disk with its directory
        dfd = os.open(folder, os.O_RDONLY)
        try:
            os.fsync(dfd)
        finally:
            os.close(dfd)
    except OSError:
        pass


def _state_file_digest(state: dict, extra: dict) -> str:
    h = hashlib.sha256(json.dumps(extra, sort_keys=True).encode())
    for k in sorted(state):
        a = np.ascontiguousarray(state[k])
        h.update(f"{k}:{a.dtype.str}:{a.shape};".encode())
        h.update(a.tobytes())
    return h.hexdigest()


def load_state(path, c: Compiled) -> tuple:
    """(state, extra) from `save_state`; refuses another format, version or system, a file whose
    arrays or header were changed after it was written, and any state the core could not run
    from (state_check: shapes, ranges, indices and invariants), before the core sees it."""
    from .state_check import BadState, check_shapes, check_state
    check_state_size(c)
    try:
        with zipfile.ZipFile(path) as zf:
            shapes = {}
            for info in zf.infolist():
                if not info.filename.endswith(".npy") or info.filename in shapes:
                    raise ValueError(f"member {info.filename!r} is not one array of a state")
                with zf.open(info) as fp:
                    shapes[info.filename] = _npy_header(fp)
            if "__header__.npy" not in shapes:
                raise ValueError(f"{path}: not a hwmodel state file (no header)")
            dt, shape = shapes.pop("__header__.npy")
            if dt != np.uint8 or len(shape) != 1 or shape[0] > 1 << 26:   # sampled runs keep their record here
                raise ValueError(f"{path}: not a hwmodel state file (bad header array)")
            header = _read_member(zf, "__header__.npy")
            header = json.loads(bytes(header).decode())
            if not isinstance(header, dict):
                raise ValueError(f"{path}: not a hwmodel state file (the header is not a mapping)")
            if header.get("format") != STATE_FORMAT or header.get("version") != STATE_VERSION:
                raise ValueError(f"{path}: state format {header.get('format')!r} version {header.get('version')!r}; "
                                 f"this hwmodel reads {STATE_FORMAT!r} version {STATE_VERSION}")
            if header.get("system") != c.signature():
                raise ValueError(f"{path}: saved for a different system (signature {header.get('system')}, "
                                 f"this system {c.signature()}); resume with the configuration it was saved with")
            try:
                check_shapes({k[:-4]: v for k, v in shapes.items()}, c)
            except BadState as e:
                raise ValueError(f"{path}: not a state this system can resume from: {e}") from None
            data = {k[:-4]: _read_member(zf, k) for k in shapes}
    except ValueError as e:
        if str(e).startswith(str(path)):
            raise
        raise ValueError(f"{path}: not a hwmodel state file ({e})") from None
    except (OSError, EOFError, zipfile.BadZipFile, zlib.error, KeyError, RecursionError, NotImplementedError,
            SyntaxError, tokenize.TokenError) as e:
        raise ValueError(f"{path}: not a hwmodel state file ({type(e).__name__}: {e})") from None
    extra = header.get("extra", {})
    if not isinstance(extra, dict):
        raise ValueError(f"{path}: damaged state file (header 'extra' is not a mapping)")
    if header.get("digest") != _state_file_digest(data, extra):
        raise ValueError(f"{path}: damaged or edited state file: its arrays or header do not match the digest "
                         f"it was saved with")
    try:
        check_state(data, c)
        done = extra.get("records_done", None)
        if done is not None and (not isinstance(done, int) or isinstance(done, bool)
                                 or done != int(data["counters"][L.C["accesses"]])):
            raise BadState(f"header records_done {done!r} is not the {int(data['counters'][L.C['accesses']])} "
                           f"accesses the state has run")
        if "trace" in extra and not isinstance(extra["trace"], str):
            raise BadState(f"header trace {extra['trace']!r} is not a trace name")
    except BadState as e:
        raise ValueError(f"{path}: not a state this system can resume from: {e}") from None
    return data, extra


def _npy_header(fp) -> tuple:
    """(dtype, shape) from the header of one .npy member, without reading its data."""
    version = np.lib.format.read_magic(fp)
    if version == (1, 0):
        shape, fortran, dtype = np.lib.format.read_array_header_1_0(fp)
    elif version == (2, 0):
        shape, fortran, dtype = np.lib.format.read_array_header_2_0(fp)
    else:
        raise ValueError(f"npy version {version} is not written by hwmodel")
    if fortran or dtype.hasobject:
        raise ValueError("an array hwmodel does not write (Fortran order or objects)")
    return dtype, tuple(shape)


def _read_member(zf, name) -> np.ndarray:
    """One .npy member (its header already checked), read and CRC-checked by zipfile."""
    with zf.open(name) as fp:
        a = np.lib.format.read_array(fp, allow_pickle=False)
    return np.ascontiguousarray(a)


# empty trace columns (finish runs the core on none); read-only: the core takes them as const
_EMPTY = tuple(np.zeros(0, d) for d in (np.int64, np.uint64, np.uint8, np.uint16))
for _a in _EMPTY:
    _a.flags.writeable = False
_EMPTY_OUT = np.zeros(0, np.int64)    # the completions of none (the core's `out` is writable)


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
        self._dram = None       # the DRAM module of the backend (finish)

    def run_chunk(self, t_ps, addr, op, vm, want_completions=False, where=None, first_record=0, dram_log=None,
                  check=True, t_const=None):
        """Run one chunk; returns completion times (int64 ps) when asked, else None.

        `where(i)` names record i for error messages (file and line); `first_record` is the index of
        row 0 in the whole trace; `dram_log` (a list) receives the requests every DRAM received
        (arrays of _layout.LOG_FIELDS rows). `check=False`: the caller has checked these accesses
        (check_chunk) as part of a chunk that holds them. `t_const`: as check_chunk's.
        """
        where = where or (lambda i: f"record {first_record + i}")
        t_ps, addr, op, vm = self._columns(t_ps, addr, op, vm, where, check, t_const)
        n = len(addr)
        out = np.empty(n if want_completions else 0, np.int64)
        done = 0
        while done < n:   # the core stops early when its epoch buffer is full or state must grow
            if self.state["scalars"][L.S["grow"]]:
                growable.grow(self.state, self.c, max_state_bytes())
            ran = self.core.run_chunk(self.c.p, self.c.dl, self.c.db, self.c.dp, self.state, t_ps[done:], addr[done:],
                                      op[done:], vm[done:], self.c.vm_base, out[done:] if want_completions else out,
                                      dram_log)
            self.drain_epochs()
            done += ran
            self._raise_core_error(where, done - 1)
        return out if want_completions else None

    def run_functional(self, t_ps, addr, op, vm, stall_ps, latency_ps, where=None, first_record=0, check=True,
                       stall_ck_ps=None, latency_ck_ps=None):
        """Run one chunk in functional mode (core/functional.pxi): the long-lived state changes as
        the detailed mode changes it, without timing and without the DRAM. Closed loop, each access
        issues its gap plus `stall_ps` after the previous one; every access completes `latency_ps`
        (ps) after it arrives; while a checkpoint is being copied, `stall_ck_ps` and `latency_ck_ps`
        (None: the same). Victim write-backs still held back are carried out first. `check`: as
        run_chunk's."""
        where = where or (lambda i: f"record {first_record + i}")
        t_ps, addr, op, vm = self._columns(t_ps, addr, op, vm, where, check)
        n = len(addr)
        if self.state["scalars"][L.S["defer_n"]]:
            self.finish()
        stall_ps, latency_ps = max(int(stall_ps), 0), max(int(latency_ps), 0)
        stall_ck = stall_ps if stall_ck_ps is None else max(int(stall_ck_ps), 0)
        lat_ck = latency_ps if latency_ck_ps is None else max(int(latency_ck_ps), 0)
        done = 0
        while done < n:
            if self.state["scalars"][L.S["grow"]]:
                growable.grow(self.state, self.c, max_state_bytes())
            ran = self.core.run_functional(self.c.p, self.state, t_ps[done:], addr[done:], op[done:], vm[done:],
                                           self.c.vm_base, stall_ps, latency_ps, stall_ck, lat_ck)
            self.drain_epochs()
            done += ran
            self._raise_core_error(where, done - 1)

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
        bytes count; no access waits for them), then let every DRAM serve what it holds (the
        detailed model commits its requests only up to the core's horizon while the run goes on)."""
        e = _EMPTY
        self.core.run_chunk(self.c.p, self.c.dl, self.c.db, self.c.dp, self.state, e[0], e[1], e[2], e[3],
                            self.c.vm_base, _EMPTY_OUT, dram_log)
        if self._dram is None:     # a sampled run finishes at every measured unit's end: looked up once
            self._dram = select_backend(self.backend, compiled="_core", reference="core.dram")
        dram = self._dram
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
            if sum(len(r) for r in self.epoch_rows) > MAX_EPOCH_ROWS:   # closed loop: times unknown up front
                raise ValueError(_too_many_epochs(self.c.param("EPOCH_PS"), int(self.epoch_rows[-1][-1, 0])))

    def epochs(self) -> np.ndarray:
        """All epoch rows so far, shape (rows, EPOCH_WIDTH); columns are EPOCH_COLUMNS."""
        self.drain_epochs()
        return np.concatenate(self.epoch_rows) if self.epoch_rows else np.zeros((0, EPOCH_WIDTH), np.int64)

    def check_chunk(self, t_ps, addr, op, vm, where, t_const=None):
        """The checks run_chunk makes, once for a chunk its caller then runs in pieces (sampling);
        returns the columns in the core's dtypes. `t_const`: every time is this value (the runner's
        gaps of an untimed trace), so the time checks need not read the column."""
        return self._columns(t_ps, addr, op, vm, where, True, t_const)

    def _columns(self, t_ps, addr, op, vm, where, check, t_const=None):
        """The trace columns in the core's dtypes, contiguous, of one length; checked if `check`."""
        cols = (np.ascontiguousarray(t_ps, dtype=np.int64), np.ascontiguousarray(addr, dtype=np.uint64),
                np.ascontiguousarray(op, dtype=np.uint8), np.ascontiguousarray(vm, dtype=np.uint16))
        if not (len(cols[0]) == len(cols[2]) == len(cols[3]) == len(cols[1])):
            raise ValueError("trace columns differ in length")
        if check:
            self._check(*cols, where, t_const)
        return cols

    def _check(self, t, addr, op, vm, where, t_const=None):
        if len(addr) == 0:
            return
        # each check is one reduction over the chunk; the offending record is looked for only
        # when there is one (the reductions cost a few ns per access, the searches several times that)
        bad = np.flatnonzero(op > 1) if op.max() > 1 else ()
        if len(bad):
            raise ValueError(f"{where(bad[0])}: operation {op[bad[0]]} is not 0 (read) or 1 (write)")
        bad = np.flatnonzero(vm >= len(self._vm_bytes)) if vm.max() >= len(self._vm_bytes) else ()
        if len(bad):
            raise ValueError(f"{where(bad[0])}: VM id {vm[bad[0]]} but the system has {len(self._vm_bytes)} VM(s); "
                             f"list one per VM id in compute.vms (several trace files: one per file), e.g. "
                             f"-p 'compute.vms=[{{memory: 4GiB}}, {{memory: 4GiB}}]'")
        if self.virtual:    # the guest's page tables take any virtual page below the limit
            bits = self.c.param("UNIT_SHIFT") + L.VA_PAGE_BITS
            limit = np.uint64(1 << bits) if bits < 64 else None     # 64 bits and more: any address fits
            bad = np.flatnonzero(addr >= limit) if limit is not None and addr.max() >= limit else ()
            if len(bad):
                i = bad[0]
                raise ValueError(f"{where(i)}: virtual address {int(addr[i]):#x} is beyond the "
                                 f"2**{self.c.param('UNIT_SHIFT') + L.VA_PAGE_BITS}-byte virtual address space "
                                 f"(core.addresses: virtual)")
        else:
            if len(self._vm_bytes) == 1:
                bad = np.flatnonzero(addr >= self._vm_bytes[0]) if addr.max() >= self._vm_bytes[0] else ()
            else:
                bad = np.flatnonzero(addr >= self._vm_bytes[vm])
            if len(bad):
                i = bad[0]
                path = self.c.vm_paths[vm[i]] if vm[i] < len(self.c.vm_paths) else f"compute.vms.{vm[i]}.memory"
                raise ValueError(f"{where(i)}: address {int(addr[i]):#x} is outside VM {vm[i]}'s memory "
                                 f"({int(self._vm_bytes[vm[i]])} bytes); give the VM more memory "
                                 f"(-p {path}=...), or if the trace's addresses are virtual, say so "
                                 f"(-p core.addresses=virtual)")
        # the column's extremes (and, when small enough, its sum) read once, or known (t_const)
        t_lo, t_hi = (t_const, t_const) if t_const is not None else (int(t.min()), int(t.max()))
        bad = np.flatnonzero((t < 0) | (t > MAX_TIME_PS)) if t_lo < 0 or t_hi > MAX_TIME_PS else ()
        if len(bad):
            raise ValueError(f"{where(bad[0])}: time {t[bad[0]]} ps is negative or more than 2**60 ps "
                             f"(the longest simulated time, about 13 days)")
        if self.open_loop:
            prev = np.empty_like(t)
            prev[0] = self.state["scalars"][L.S["last_arrival_ps"]] if self.state["scalars"][L.S["started"]] else 0
            prev[1:] = t[:-1]
            bad = np.flatnonzero(t < prev)
            if len(bad):
                raise ValueError(f"{where(bad[0])}: timestamp goes backwards ({t[bad[0]]} ps after "
                                 f"{prev[bad[0]]} ps); open-loop traces must be sorted by time")
        self._check_control_ticks(t, where)
        self._check_clock(t, where, t_const, t_hi)

    def _check_clock(self, t, where, t_const=None, t_hi=None):
        """Refuse a chunk that could carry the core's clock past CLOCK_LIMIT (its arithmetic would
        wrap): the latest time so far plus an upper bound of what the chunk can add. `t_hi`: the
        column's largest value if known (every value is >= 0), `t_const`: its only value."""
        check_time_sums(self.state)       # what the previous chunks did
        if not hasattr(self, "_step"):
            self._step = clock_step_bound(self.c)
        sc = self.state["scalars"]
        if t_hi is None:
            t_hi = int(t.max())
        if self.open_loop:
            last = float(t_hi)
        else:
            # the float64 sum of values >= 0 whose total is below 2**53 is exact (every partial sum
            # is an integer it holds): the int64 sum (or the constant times n) is the same number
            # at a fifth of the cost (no cast per element)
            if t_hi * len(t) < 1 << 53:
                total = float(t_const * len(t) if t_const is not None else int(t.sum(dtype=np.int64)))
            else:
                total = float(t.sum(dtype=np.float64))
            last = float(sc[L.S["last_issue_ps"]]) + total
        clock = max(float(self.state["counters"][L.C["last_completion_ps"]]), last)
        step, background = self._step
        if clock + len(t) * float(step) + float(background) >= CLOCK_LIMIT:
            raise TimeOverflow(f"{where(len(t) - 1)}: the run's clock could pass 2**61 ps in this chunk ({len(t):,} "
                               f"accesses of up to {format_time(step)} each, from {format_time(clock)}); use "
                               f"a smaller chunk (--chunk) or faster resources")

    def _check_control_ticks(self, t, where):
        """The core steps through every epoch sample and checkpoint tick up to each arrival: refuse
        a chunk that would make it take more than MAX_EPOCH_ROWS samples in all or
        MAX_TICKS_PER_CHUNK ticks (arrivals are timestamps, or at least the sum of the gaps)."""
        sc = self.state["scalars"]
        epoch, interval = self.c.param("EPOCH_PS"), self.c.param("CK_INTERVAL_PS")
        if not epoch and not (self.c.param("CK_REGIME") and interval):
            return
        if self.open_loop:
            arr = t.astype(np.float64)
        else:
            arr = float(sc[L.S["last_issue_ps"]]) + np.cumsum(t, dtype=np.float64)
        if epoch:
            before = sum(len(r) for r in self.epoch_rows) + int(sc[L.S["epoch_rows"]])
            rows = before + np.maximum(np.floor((arr - float(sc[L.S["epoch_next"]])) / epoch) + 1, 0)
            over = np.flatnonzero(rows > MAX_EPOCH_ROWS)
            if len(over):
                raise ValueError(f"{where(int(over[0]))}: " + _too_many_epochs(epoch, int(arr[over[0]])))
        if self.c.param("CK_REGIME") and interval:
            ck = self.state["ck_sc"].reshape(-1, len(L.CK_FIELDS))
            nxt = ck[:, L.K["ck_next"]].astype(np.float64) if sc[L.S["started"]] else \
                np.full(len(ck), arr[0] + interval)
            ticks = np.maximum(np.floor((arr[:, None] - nxt[None, :]) / interval) + 1, 0).sum(axis=1)
            over = np.flatnonzero(ticks > MAX_TICKS_PER_CHUNK)
            if len(over):
                i = int(over[0])
                raise ValueError(f"{where(i)}: checkpoints every {format_time(interval)} (service.interval) "
                                 f"would tick {int(ticks[i]):,} times before this access at {format_time(arr[i])}, "
                                 f"more than {MAX_TICKS_PER_CHUNK:,} in one chunk of the trace; use a longer "
                                 f"service.interval")


def _too_many_epochs(epoch_ps: int, at_ps: int) -> str:
    return (f"epoch: samples every {format_time(epoch_ps)} up to {format_time(at_ps)} are more than "
            f"{MAX_EPOCH_ROWS:,} rows; use a longer epoch")


def counters(state: dict) -> dict:
    """All counters of a state by name; DRAM ones prefixed local_ (every compute blade's local
    DRAM together), blade_, peer_. TimeOverflow when they have outgrown 64 bits (check_time_sums)."""
    check_time_sums(state)
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

