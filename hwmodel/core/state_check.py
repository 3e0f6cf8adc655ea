"""Checks of a loaded run state before the compiled core sees it.

The core indexes its arrays with values read from the state and checks nothing, so an edited or
damaged state file could make it write out of bounds or loop. `check_state` refuses such a state:
first every array's shape, dtype and value range as `engine.state_spec` declares them (and as
`_DRAM_FIELDS` declares them for the DRAM subsystems), then the invariants the core relies on,
one small function per group of arrays. Each raises ValueError naming the array (and the element)
that is wrong. The checks are vectorized: a state of millions of frames takes milliseconds.

Extending: a new array gets its range in `engine.state_spec` (or a new DRAM record field in
`_DRAM_FIELDS`; unknown fields are times); an invariant across arrays gets a function here,
called from `check_state`.
"""
from __future__ import annotations

import numpy as np

from .. import _layout as L
from . import growable
from .._dram_layout import (ACT_FIELDS, BANK_FIELDS, CHAN_FIELDS, D, KB_FIELDS, KF_FIELDS, KG_FIELDS, KH_FIELDS,
                           KQ_FIELDS, KR_FIELDS, KT_FIELDS, MODEL_DETAILED, MODEL_SIMPLE, NO_MARK, NO_REFRESH,
                           RA_MARKS, RANK_FIELDS, new_dram_state)
from .engine import TIME_HI, TIME_LO   # any time a state holds


class BadState(ValueError):
    """A saved state that the core must not run from; the message names the array."""


def _fail(name, msg):
    raise BadState(f"array {name!r}: {msg}")


def _range(name, a, lo, hi, what=""):
    """Every value of `a` in [lo, hi] (None = unbounded); the first offender named."""
    if a.size == 0:
        return
    bad = np.zeros(a.shape, bool)
    if lo is not None:
        bad |= a < lo
    if hi is not None:
        bad |= a > hi
    if bad.any():
        i = int(np.flatnonzero(bad.reshape(-1))[0])
        _fail(name, f"element {i}{what} is {int(a.reshape(-1)[i])}, outside [{lo}, {hi}]")


def _drams(c) -> dict:
    """Each DRAM subsystem's state-key prefix and parameter vector."""
    nd, nb = len(c.db), c.param("N_CB")
    drams = {L.local_prefix(k): c.dl[k * nd:(k + 1) * nd] for k in range(nb)}
    drams.update({"blade_": c.db, "peer_": c.dp})
    return drams


def expected_arrays(c) -> dict:
    """{name: (dtype, shape)} of every array of a state of `c` (a DRAM state is small: its
    shapes are taken from a fresh one); shape None: one dimension, as long as the run has grown
    it (hwmodel.core.growable checks it against the rows it records)."""
    from .engine import GROWS, state_spec
    out = {k: (np.dtype(sp.dtype), None if sp.n is GROWS else (max(sp.n, 1),)) for k, sp in state_spec(c).items()}
    for p, d in _drams(c).items():
        out.update({p + n: (v.dtype, v.shape) for n, v in new_dram_state(d).items()})
    return out


def check_shapes(shapes: dict, c) -> None:
    """`shapes` {name: (dtype, shape)} are exactly those of a state of `c`, and together no larger
    than a state may be (checked before the arrays are read, so a file cannot make us allocate
    what it claims)."""
    from .engine import max_state_bytes
    want = expected_arrays(c)
    for k in sorted(want):
        if k not in shapes:
            _fail(k, "missing")
    extra = sorted(set(shapes) - set(want))
    if extra:
        _fail(extra[0], "not part of this system's state")
    for k, (dt, shape) in want.items():
        if shape is None:
            if shapes[k][0] != dt or len(shapes[k][1]) != 1 or shapes[k][1][0] < 1:
                _fail(k, f"{shapes[k][0]}{list(shapes[k][1])}, expected {dt} of one dimension")
        elif shapes[k][0] != dt or tuple(shapes[k][1]) != tuple(shape):
            _fail(k, f"{shapes[k][0]}{list(shapes[k][1])}, expected {dt}{list(shape)}")
    total = sum(int(np.prod(shape, dtype=object)) * dt.itemsize for dt, shape in shapes.values())
    if total > max_state_bytes():
        _fail(max(shapes, key=lambda k: int(np.prod(shapes[k][1], dtype=object)) * shapes[k][0].itemsize),
              f"the state's arrays add up to {total} bytes, more than a state may take here")


def check_state(st: dict, c) -> None:
    """Raise BadState unless `st` (arrays loaded from a file) is a state the core can run for `c`."""
    from .engine import state_spec
    check_shapes({k: (v.dtype, v.shape) for k, v in st.items()}, c)
    try:
        growable.check(st, c, "")
    except ValueError as e:       # name the array, as every check here does
        msg = str(e).lstrip(": ")
        raise BadState(msg if msg.startswith("array") else f"array 'cb_grow': {msg}") from None
    for k, sp in state_spec(c).items():
        _range(k, st[k], sp.lo, sp.hi)
    drams = _drams(c)
    g = _Geometry(c, st)
    check_virtual_pages(st, c)
    check_scalars(st, c, g)
    check_calendars(st)
    check_defer(st, c, g)
    for k in range(g.nb):
        check_service_row(st, c, g, k)
        check_page_table(st, c, g, k)
        check_sets(st, c, g, k)
        check_lru(st, c, g, k)
        check_checkpoint_lists(st, c, g, k)
        check_cache(st, c, g, k)
    check_super_pages(st, c, g)
    check_qos(st, c)
    for prefix, d in drams.items():
        check_dram(st, prefix, d)


class _Geometry:
    """Where each compute blade's slices and pages are (from the compiled CB rows; its frame and
    slot records from the rows the state has grown, cb_grow)."""

    def __init__(self, c, st):
        self.st = st
        self.rows = c.blade_rows()
        self.nb = len(self.rows)
        self.n_sets = c.param("N_SETS")
        self.unit_shift = c.param("UNIT_SHIFT")
        vm_cb = c.vm_blades()
        self.pages = []        # per blade: [g0, g1) of its guest units
        self.machine = []      # per blade: [m0, m1) of its machine addresses
        for k in range(self.nb):
            mine = np.flatnonzero(vm_cb == k)
            m0 = int(c.vm_base[mine[0]])
            m1 = m0 + int(c.vm_bytes[mine].astype(object).sum())
            self.machine.append((m0, m1))
            self.pages.append((m0 >> self.unit_shift, m1 >> self.unit_shift))

    def frames(self, k):
        """(first element, count) of blade k's frame records."""
        return self._grown(k, "FRAME")

    def slots(self, k):
        """(first element, count) of blade k's slot records."""
        return self._grown(k, "SLOT")

    def _grown(self, k, what):
        row = self.st["cb_grow"][k * len(L.GROW_FIELDS):(k + 1) * len(L.GROW_FIELDS)]
        return int(row[L.G[what + "_BASE"]]), int(row[L.G[what + "_ROWS"]]) * self.n_sets


# -- scalars, calendars, held-back write-backs --------------------------------------------------
def check_scalars(st, c, g):
    sc = st["scalars"]
    epoch = c.param("EPOCH_PS")
    ranges = {
        "ring_idx": (0, c.param("WINDOW") - 1), "last_issue_ps": (0, TIME_HI), "last_arrival_ps": (0, TIME_HI),
        "rng": (None, None), "started": (0, 1), "cache_clock": (0, None), "dev_bus_free": (TIME_LO, TIME_HI),
        "dev_ring_idx": (0, c.param("ST_QD") - 1), "epoch_next": (epoch, TIME_HI) if epoch else (0, 0),
        "epoch_rows": (0, c.param("EPOCH_CAP")), "qos_ev": (0, c.param("QOS_NEV")), "cb": (0, g.nb - 1),
        "perm_ev": (0, c.param("PERM_NEV")), "sp_next": (0, c.param("N_SP")),
        "defer_n": (0, L.DEFER_CAP), "defer_head": (0, L.DEFER_CAP - 1), "error": (0, 0),
        "error_info": (None, None),
        "grow": (0, 1), "pt_leaves": (1, len(st["pt_leaf"]) >> L.PT_LEAF_SHIFT),
        "va_used": (0, len(st["va_key"]) // 2),
    }
    for name in L.SCALAR_NAMES:
        lo, hi = ranges[name]
        _range("scalars", sc[L.S[name]:L.S[name] + 1], lo, hi, f" ({name})")
    if epoch and sc[L.S["epoch_next"]] % epoch:
        _fail("scalars", f"epoch_next {int(sc[L.S['epoch_next']])} is not a multiple of the epoch ({epoch} ps)")
    if int(sc[L.S["cache_clock"]]) < int(st["cache_stamp"].max()):
        _fail("scalars", "cache_clock is behind a cache way's last use (cache_stamp)")


def _sorted_disjoint(name, floor, starts, ends, what):
    """Reservations that start at or after `floor`, each ending no earlier than it starts and no
    later than the next one starts: the compiled core's scans skip over them on that premise (its
    twin scans them all), so broken order would make the backends disagree."""
    seq = np.empty(2 * len(starts) + 1, np.int64)
    seq[0] = floor
    seq[1::2], seq[2::2] = starts, ends
    if np.any(np.diff(seq) < 0):
        _fail(name, f"{what}: reservations out of order or overlapping")


def check_calendars(st):
    """Link and port calendars: a count of reservations, the ring index of the earliest, and the
    reservations themselves in order (see _sorted_disjoint)."""
    K = L.LINK_CAL_SLOTS
    for name in ("link_cal", "port_cal"):
        cal = st[name].reshape(-1, L.CAL_WIDTH)
        _range(name, cal[:, 0], 0, K, " (reservations held)")
        _range(name, cal[:, 1], 0, K - 1, " (ring head)")
        for i, row in enumerate(cal):
            n, head = int(row[0]), int(row[1])
            idx = (head + np.arange(n)) & (K - 1)
            _sorted_disjoint(name, int(row[2]), row[3 + 2 * idx], row[4 + 2 * idx], f"calendar {i}")


def check_defer(st, c, g):
    """Held-back victim write-backs: each names a blade, one of its slots and a queue, by time."""
    sc = st["scalars"]
    n, head = int(sc[L.S["defer_n"]]), int(sc[L.S["defer_head"]])
    q = st["defer"].reshape(L.DEFER_CAP, len(L.DEFER_FIELDS))
    live = q[(head + np.arange(n)) & (L.DEFER_CAP - 1)]
    F = {f: i for i, f in enumerate(L.DEFER_FIELDS)}
    _range("defer", live[:, F["CB"]], 0, g.nb - 1, " (blade)")
    _range("defer", live[:, F["QUEUE"]], 0, len(c.vm_base), " (queue)")
    for i, (cb, slot) in enumerate(live[:, [F["CB"], F["SLOT"]]].tolist()):
        if not 0 <= slot < g.slots(cb)[1]:
            _fail("defer", f"held-back write-back {i}: slot {slot} is not one of blade {cb}'s {g.slots(cb)[1]}")
    if np.any(np.diff(live[:, F["T_PS"]]) < 0):
        _fail("defer", "held-back write-backs are not in time order")


# -- one compute blade --------------------------------------------------------------------------
def check_service_row(st, c, g, k):
    row = st["ck_sc"][k * len(L.CK_FIELDS):(k + 1) * len(L.CK_FIELDS)]
    K = L.K
    frames = g.frames(k)[1]
    ranges = {"ck_count": (0, frames), "ck_index": (0, 2**31 - 1), "ck_active": (0, 1), "ck_pos": (0, frames),
              "ck_total": (0, frames), "ck_last_index": (0, 2**31 - 1), "ck_prev_index": (0, 2**31 - 1),
              "failed": (0, 1)}
    for name in L.CK_FIELDS:
        lo, hi = ranges.get(name, (TIME_LO, TIME_HI))
        _range("ck_sc", row[K[name]:K[name] + 1], lo, hi, f" (blade {k} {name})")
    if row[K["ck_pos"]] > row[K["ck_total"]]:
        _fail("ck_sc", f"blade {k}: ck_pos {int(row[K['ck_pos']])} is past ck_total {int(row[K['ck_total']])}")
    if not row[K["ck_prev_index"]] <= row[K["ck_last_index"]] <= row[K["ck_index"]]:
        _fail("ck_sc", f"blade {k}: checkpoint indices out of order (prev <= last <= index)")


def check_page_table(st, c, g, k):
    """Blade k's pages and where they are: the page table <-> frame_page <-> slot_page, one to
    one, each in the frame set (or slot set) of its page. Only the leaves the blade's ranges use
    are read (a page table of untouched ranges costs nothing here either)."""
    g0, g1 = g.pages[k]
    fo, nf = g.frames(k)
    so, ns = g.slots(k)
    S = g.n_sets
    d = st["pt_dir"]
    ranges = np.arange(g0 >> L.PT_LEAF_SHIFT, ((g1 - 1) >> L.PT_LEAF_SHIFT) + 1) if g1 > g0 else np.zeros(0, np.int64)
    ranges = ranges[d[ranges] != 0]
    pages = ((ranges[:, None] << L.PT_LEAF_SHIFT) + np.arange(L.PT_LEAF)).reshape(-1)
    pages = pages[(pages >= g0) & (pages < g1)]
    loc = st["pt_leaf"][growable.pt_index(st, pages)].astype(np.int64)
    storage = bool(c.param("STORAGE"))
    ok = (loc == L.UNTOUCHED) | ((loc >= 0) & (loc < nf)) | ((loc <= -2) & (-2 - loc < ns))
    if storage:
        ok |= loc == L.ON_STORAGE
    if not ok.all():
        i = int(np.flatnonzero(~ok)[0])
        _fail("pt_leaf", f"page {int(pages[i])} of blade {k}: {int(loc[i])} is not a frame (0..{nf - 1}), a slot "
                     f"(-2..{-1 - ns}), untouched (-1)" + (" or on storage" if storage else ""))
    local = loc >= 0
    slot = (loc <= -2) & (loc != L.ON_STORAGE)
    fp = st["frame_page"][fo:fo + nf].astype(np.int64)
    sp = st["slot_page"][so:so + ns].astype(np.int64)
    _check_bijection("pt_leaf/frame_page", pages[local], loc[local], fp, g0, g1, k, "frame")
    _check_bijection("pt_leaf/slot_page", pages[slot], -2 - loc[slot], sp, g0, g1, k, "slot")
    for what, idx, pg in (("frame", loc[local], pages[local]), ("slot", -2 - loc[slot], pages[slot])):
        wrong = np.flatnonzero((idx % S) != (pg % S))
        if len(wrong):
            _fail("pt_leaf", f"page {int(pg[wrong[0]])} sits in {what} {int(idx[wrong[0]])} of another set")


def check_virtual_pages(st, c):
    """The guest kernel's map (core.addresses: virtual): every VM's guest-physical pages handed
    out are 0..va_next-1, each to one virtual page, within what the VM may use."""
    if not c.param("VIRTUAL"):
        return
    key, page = st["va_key"], st["va_page"].astype(np.int64)
    full = key != 0
    vm = (key[full] - 1) & 0xFFFF
    nxt = st["va_next"].astype(np.int64)
    _range("va_next", nxt, 0, None)
    if np.any(nxt > c.vm_pages()):
        _fail("va_next", "a VM has more guest-physical pages than it may use")
    if np.any(vm >= len(nxt)) or np.any(page[~full] != -1):
        _fail("va_key", "an entry names no VM of this system, or an empty slot holds a page")
    pg = page[full]
    if np.any((pg < 0) | (pg >= nxt[np.minimum(vm, len(nxt) - 1)])):
        _fail("va_page", "a virtual page maps to a guest-physical page its VM has not handed out")
    pair = vm.astype(np.int64) << 32 | pg
    if len(np.unique(pair)) != len(pair) or np.any(np.bincount(vm, minlength=len(nxt)) != nxt):
        _fail("va_page", "a VM's guest-physical pages are not each given to exactly one virtual page")


def _check_bijection(name, pages, idx, back, g0, g1, k, what):
    """pages[i] -> idx[i] (a frame or slot of blade k) and back[idx] -> page agree both ways."""
    if np.any(back[idx] != pages):
        i = int(np.flatnonzero(back[idx] != pages)[0])
        _fail(name, f"page {int(pages[i])} is in {what} {int(idx[i])}, which holds page {int(back[idx[i]])}")
    held = np.flatnonzero(back >= 0)
    outside = held[(back[held] < g0) | (back[held] >= g1)]
    if len(outside):
        _fail(name, f"blade {k}'s {what} {int(outside[0])} holds page {int(back[outside[0]])}, not one of its "
                    f"pages {g0}..{g1 - 1}")
    if len(held) != len(pages):
        _fail(name, f"blade {k} has {len(held)} {what}(s) holding a page but {len(pages)} page(s) there")


def check_sets(st, c, g, k):
    """Per frame set: the used frames are the first `set_used` ways; hands point at a way."""
    S = g.n_sets
    r = g.rows[k]
    sl = slice(k * S, (k + 1) * S)
    ways, per_set = r["WAYS"], r["PER_SET"]
    used = st["set_used"][sl].astype(np.int64)
    _range("set_used", used, 0, ways, f" (blade {k})")
    _range("set_hand", st["set_hand"][sl], 0, max(ways - 1, 0), f" (blade {k})")
    _range("blade_next", st["blade_next"][sl], 0, per_set, f" (blade {k})")
    _range("blade_hand", st["blade_hand"][sl], 0, max(per_set - 1, 0), f" (blade {k})")
    fo, nf = g.frames(k)
    f = np.arange(nf)
    held = st["frame_page"][fo:fo + nf] >= 0
    in_use = (f // S) < used[f % S]
    if np.any(held != in_use):
        i = int(np.flatnonzero(held != in_use)[0])
        _fail("frame_page", f"blade {k} frame {i}: {'holds a page' if held[i] else 'is empty'} but set "
                            f"{i % S} uses {int(used[i % S])} way(s)")
    so, ns = g.slots(k)
    s = np.arange(ns)
    beyond = (st["slot_page"][so:so + ns] >= 0) & ((s // S) >= st["blade_next"][sl][s % S])
    if beyond.any():
        _fail("slot_page", f"blade {k} slot {int(np.flatnonzero(beyond)[0])} holds a page beyond its set's blade_next")


def check_lru(st, c, g, k):
    """Exact LRU: per set a doubly linked list of exactly its used frames, from set_head to
    set_tail, without cycles. Other victim policies leave the lists empty."""
    S = g.n_sets
    fo, nf = g.frames(k)
    prev = st["lru_prev"][fo:fo + nf].astype(np.int64)
    nxt = st["lru_next"][fo:fo + nf].astype(np.int64)
    head = st["set_head"][k * S:(k + 1) * S].astype(np.int64)
    tail = st["set_tail"][k * S:(k + 1) * S].astype(np.int64)
    if c.param("VICTIM") != L.VICTIMS["lru"]:
        for name, a in (("lru_prev", prev), ("lru_next", nxt), ("set_head", head), ("set_tail", tail)):
            _range(name, a, -1, -1, f" (blade {k}; only exact LRU keeps lists)")
        return
    used = st["set_used"][k * S:(k + 1) * S].astype(np.int64)
    f = np.arange(nf)
    member = (f // S) < used[f % S]
    for name, a in (("lru_prev", prev), ("lru_next", nxt)):
        _range(name, a, -1, nf - 1, f" (blade {k})")
        if np.any(a[~member] != -1):
            _fail(name, f"blade {k}: an unused frame is linked")
        linked = member & (a >= 0)
        if np.any((a[linked] % S != f[linked] % S) | ~member[a[linked]]):
            _fail(name, f"blade {k}: a frame is linked to a frame of another set or an unused one")
    for name, a in (("set_head", head), ("set_tail", tail)):
        _range(name, a, -1, nf - 1, f" (blade {k})")
        j = np.arange(S)
        bad = np.where(used > 0, (a < 0) | (a % S != j) | ((a // S) >= used), a != -1)
        if bad.any():
            _fail(name, f"blade {k} set {int(np.flatnonzero(bad)[0])}: not a used frame of the set")
    if np.any(nxt[prev[member & (prev >= 0)]] != f[member & (prev >= 0)]) or \
            np.any(prev[nxt[member & (nxt >= 0)]] != f[member & (nxt >= 0)]):
        _fail("lru_next", f"blade {k}: lru_prev and lru_next disagree")
    live = used > 0
    if np.any(prev[head[live]] != -1) or np.any(nxt[tail[live]] != -1):
        _fail("set_head", f"blade {k}: a list's head has a predecessor or its tail a successor")
    # list ranking by pointer jumping: every used frame reaches the end (-1) of its list; a
    # frame on a cycle never does. Then each set's list is exactly as long as the set's use
    dist = np.where(member & (nxt >= 0), 1, 0)
    jump = np.where(member, nxt, -1)
    for _ in range(max(int(nf).bit_length(), 1) + 1):
        go = jump >= 0
        if not go.any():
            break
        dist[go] += dist[jump[go]]
        jump[go] = jump[jump[go]]
    if np.any(jump >= 0):
        _fail("lru_next", f"blade {k}: a list has a cycle")
    if np.any(dist[head[live]] + 1 != used[live]):
        _fail("lru_next", f"blade {k}: a set's list does not hold exactly its used frames")


def check_checkpoint_lists(st, c, g, k):
    """Frames listed since the last checkpoint: each once, exactly those marked in ck_dirty; the
    checkpoint in progress copies frames of this blade."""
    fo, nf = g.frames(k)
    row = st["ck_sc"][k * len(L.CK_FIELDS):(k + 1) * len(L.CK_FIELDS)]
    count, pos, total = (int(row[L.K[n]]) for n in ("ck_count", "ck_pos", "ck_total"))
    listed = st["ck_list"][fo:fo + count].astype(np.int64)
    _range("ck_list", listed, 0, nf - 1, f" (blade {k})")
    if len(np.unique(listed)) != len(listed):
        _fail("ck_list", f"blade {k}: a frame is listed twice")
    marked = np.flatnonzero(st["ck_dirty"][fo:fo + nf])
    if not np.array_equal(np.sort(listed), marked):
        _fail("ck_dirty", f"blade {k}: frames marked written since the last checkpoint are not the listed ones")
    _range("ck_copy_list", st["ck_copy_list"][fo + pos:fo + total], 0, nf - 1, f" (blade {k})")
    _range("ck_first", st["ck_first"][fo:fo + nf], 0, int(row[L.K["ck_index"]]), f" (blade {k})")


def check_cache(st, c, g, k):
    """LLC tags: each a line of blade k's own machine addresses, in its own set; stamps not ahead."""
    sets, ways = c.param("CACHE_SETS"), c.param("CACHE_WAYS")
    if not sets:
        return
    n = sets * ways
    tag = st["cache_tag"][k * n:(k + 1) * n]
    m0, m1 = g.machine[k]
    shift = c.param("LINE_SHIFT")
    valid = tag >= 0
    bad = valid & ((tag < (m0 >> shift)) | (tag > ((m1 - 1) >> shift)))
    bad |= valid & ((tag & (sets - 1)) != np.arange(n) // ways)
    bad |= ~valid & (tag != -1)
    if bad.any():
        i = int(np.flatnonzero(bad)[0])
        _fail("cache_tag", f"blade {k} way {i}: {int(tag[i])} is not a line of this blade's set {i // ways}")


# -- shared by the blades -----------------------------------------------------------------------
def check_super_pages(st, c, g):
    """The address-mapping module: each super page a blade maps is one the blade holds (or held
    before a revoke), no two map the same one, and none below sp_next is free."""
    owner = st["sp_owner"].astype(np.int64)[:c.param("N_SP")]
    if c.param("PERM_NEV") == 0:
        if np.any(owner < 0):      # only a permission change revokes
            _fail("sp_owner", f"super page {int(np.flatnonzero(owner < 0)[0])} is revoked, but no permission "
                              f"change is configured")
        if c.param("SP_MODE") == 0:
            # handed out at boot and never changed: the boot assignment itself (the compiled core
            # does not even look the map up then)
            psp = 0
            for k, r in enumerate(g.rows):
                n = r["N_VSP"]
                if not np.array_equal(st["sp_map"][r["VSP_OFF"]:r["VSP_OFF"] + n], np.arange(psp, psp + n)) or \
                        np.any(owner[psp:psp + n] != k + 1):
                    _fail("sp_map", f"blade {k}'s super pages are not the ones it was given at boot")
                psp += n
            if np.any(owner[psp:] != 0) or int(st["scalars"][L.S["sp_next"]]) != psp:
                _fail("sp_owner", "super pages beyond the boot assignment are held (or sp_next moved)")
    seen = np.zeros(len(owner), bool)
    for k, r in enumerate(g.rows):
        m = st["sp_map"][r["VSP_OFF"]:r["VSP_OFF"] + r["N_VSP"]].astype(np.int64)
        m = m[m >= 0]
        if np.any(np.abs(owner[m]) != k + 1):
            _fail("sp_map", f"blade {k} maps super page {int(m[np.abs(owner[m]) != k + 1][0])}, which it does not hold")
        if np.any(seen[m]) or len(np.unique(m)) != len(m):
            _fail("sp_map", f"a super page is mapped twice (blade {k})")
        seen[m] = True
    if np.any((owner != 0) & ~seen):
        _fail("sp_owner", f"super page {int(np.flatnonzero((owner != 0) & ~seen)[0])} is held but mapped by no blade")
    below = owner[:int(st["scalars"][L.S["sp_next"]])]
    if np.any(below == 0):
        _fail("scalars", "sp_next is past a free super page")


def check_qos(st, c):
    """The SLA rows in force are the compiled ones with the first qos_ev SLA events applied."""
    nq, w = c.param("QOS_NQ"), len(L.SLA_FIELDS)
    if not nq:
        return
    expect = c.p[c.param("QOS_SLA_AT"):c.param("QOS_SLA_AT") + nq * w].reshape(nq, w).copy()
    ew = len(L.EVENT_FIELDS)
    ev = c.p[c.param("QOS_EV_AT"):c.param("QOS_EV_AT") + c.param("QOS_NEV") * ew].reshape(-1, ew)
    for row in ev[:int(st["scalars"][L.S["qos_ev"]])]:
        expect[row[1]] = row[2:]
    if not np.array_equal(st["qos_sla"][:nq * w].reshape(nq, w), expect):
        _fail("qos_sla", "the SLAs in force are not the configured ones with the applied SLA changes")
    tb = st["qos_tb"].reshape(-1, 2)
    _range("qos_tb", tb[:, 1], 0, (1 << 40) - 1, " (token-bucket remainder)")


# -- DRAM subsystems ------------------------------------------------------------------------------
# Value ranges of the DRAM state's record fields, from the parameter vector d; a field not listed
# is a time (TIME_LO..TIME_HI). The core indexes with the listed ones.
_DRAM_FIELDS = {
    "bank": (BANK_FIELDS, {"CQ_IDX": lambda d: (0, d[D["CQ_SIZE"]] - 1),
                           "PREV_ROW": lambda d: (-1, d[D["RO_MASK"]])}),
    "rank": (RANK_FIELDS, {"FAW_IDX": lambda d: (0, 3),
                           "REF_DUE": lambda d: (TIME_LO, NO_REFRESH if d[D["REF_MODE"]] == 0 else TIME_HI)}),
    "chan": (CHAN_FIELDS, {"BUS_HEAD": lambda d: (0, d[D["BUS_SLOTS"]] - 1), "BUS_N": lambda d: (0, d[D["BUS_SLOTS"]]),
                           "TQ_IDX": lambda d: (0, d[D["Q_SIZE"]] - 1), "WB_N": lambda d: (0, d[D["WB_HI"]] - 1),
                           "WB_BLOOM": lambda d: (None, None), "PAD": lambda d: (None, None)}),
}


def check_dram_activity(st, prefix, d):
    """Rank activity (_dram_layout.ACT_FIELDS): the event counts index "rev" and "rmk", and a rank
    has no more banks open than it has."""
    rec = st[prefix + "ract"].reshape(-1, len(ACT_FIELDS))
    special = {"NOPEN": (0, d[D["N_BANKS"]] // d[D["N_RANKS"]]), "N": (0, d[D["RA_SLOTS"]]),
               "MARK_N": (0, RA_MARKS), "MARK": (TIME_LO, NO_MARK), "MARK_PS": (0, NO_MARK),
               "MARK_END": (TIME_LO, NO_MARK), "ACTIVE": (0, TIME_HI)}
    for j, field in enumerate(ACT_FIELDS):
        lo, hi = special.get(field, (TIME_LO, TIME_HI))
        _range(prefix + "ract", rec[:, j], lo, hi, f" ({field})")
    _range(prefix + "rev", st[prefix + "rev"], 2 * TIME_LO, 2 * TIME_HI + 1)
    _range(prefix + "rmk", st[prefix + "rmk"], 0, TIME_HI)


# The detailed controller's records (_dram_layout.KB_FIELDS ...): fields the controller indexes
# with, or counts, by their range from d; a field not listed is a time in cycles or ps.
_ANY = lambda d: (None, None)
_CTL_FIELDS = {
    "banks": (KB_FIELDS, {"ROW": lambda d: (-1, d[D["RO_MASK"]]), "HITS": lambda d: (0, None),
                          "CONFLICT": lambda d: (0, 1), "INREF": lambda d: (0, 1)}),
    "bankgroups": (KG_FIELDS, {}),
    "ranks": (KR_FIELDS, {"FAW_I": lambda d: (0, 3)}),
    "channels": (KH_FIELDS, {
        "CYC": lambda d: (0, TIME_HI), "RR": lambda d: (0, d[D["N_QUEUES"]] - 1),
        "REF_NEXT": lambda d: (0, NO_REFRESH), "REF_ITER": lambda d: (0, d[D["N_BANKS"]] - 1),
        "REF_N": lambda d: (0, d[D["N_BANKS"]]), "REF_HEAD": lambda d: (0, d[D["N_BANKS"]] - 1),
        "WDRAIN": lambda d: (-1, d[D["Q_SIZE"]]),
        "RQ_N": lambda d: (0, d[D["Q_SIZE"]]), "WB_N": lambda d: (0, d[D["Q_SIZE"]]), "SCHED": lambda d: (0, 1),
        "FE_N": lambda d: (0, d[D["FE_SLOTS"]]), "FE_HEAD": lambda d: (0, d[D["FE_SLOTS"]] - 1),
        "TX_FREE": lambda d: (-1, d[D["TX_SLOTS"]] - 1), "REQ_FREE": lambda d: (-1, d[D["TX_SLOTS"]] - 1),
        "LIVE": lambda d: (0, d[D["TX_SLOTS"]]), "SEQ": lambda d: (0, None),
        "FE_TAKEN": lambda d: (0, None), "FE_REQ": lambda d: (-1, d[D["TX_SLOTS"]] - 1)}),
    "tx": (KT_FIELDS, {"ADDR": _ANY, "BANK": lambda d: (0, d[D["N_BANKS"]] - 1), "ROW": lambda d: (0, d[D["RO_MASK"]]),
                       "W": lambda d: (0, 1), "REQ": lambda d: (0, d[D["TX_SLOTS"]] - 1),
                       "NEXT": lambda d: (-1, d[D["TX_SLOTS"]] - 1)}),
    "req": (KQ_FIELDS, {"TICKET": _ANY, "REMAIN": lambda d: (0, None), "W": lambda d: (0, 1),
                        "NEXT": lambda d: (-1, d[D["TX_SLOTS"]] - 1)}),
    "fe": (KF_FIELDS, {"ADDR": _ANY, "NB": lambda d: (0, None), "STEP": _ANY, "W": lambda d: (0, 1), "TICKET": _ANY}),
}


def _free_list(a, what, rec, head, next_field, n):
    """A free list of slots (rec[slot, next_field]) from head ends at -1 within n steps."""
    seen = 0
    while head >= 0:
        seen += 1
        if seen > n:
            _fail(a, f"{what}: the free list of slots loops")
        head = int(rec[head, next_field])


def check_controller(st, prefix, d):
    """The detailed controller's arrays (_dram_layout._controller_state): every index it follows
    is in range, and its free lists end."""
    name = lambda a: prefix + a
    for a, (fields, special) in _CTL_FIELDS.items():
        rec = st[name(a)].reshape(-1, len(fields))
        for j, field in enumerate(fields):
            lo, hi = special[field](d) if field in special else (TIME_LO, TIME_HI)
            if lo is not None or hi is not None:
                _range(name(a), rec[:, j], lo, hi, f" ({field})")
    n_ch, txs = d[D["N_CH"]], d[D["TX_SLOTS"]]
    _range(name("refq"), st[name("refq")], 0, d[D["N_BANKS"]] - 1)
    _range(name("cmdq_n"), st[name("cmdq_n")], 0, d[D["CQ_SIZE"]])
    for a in ("cmdq", "rdq", "wrb"):
        _range(name(a), st[name(a)], 0, txs - 1)
    _range(name("pend"), st[name("pend")].reshape(-1, 2)[:, 1], -1, txs - 1, " (slot)")
    chan = st[name("channels")].reshape(n_ch, len(KH_FIELDS))
    tx = st[name("tx")].reshape(n_ch, txs, len(KT_FIELDS))
    req = st[name("req")].reshape(n_ch, txs, len(KQ_FIELDS))
    for ch in range(n_ch):
        _free_list(name("tx"), f"channel {ch}", tx[ch], int(chan[ch, KH_FIELDS.index("TX_FREE")]),
                   KT_FIELDS.index("NEXT"), txs)
        _free_list(name("req"), f"channel {ch}", req[ch], int(chan[ch, KH_FIELDS.index("REQ_FREE")]),
                   KQ_FIELDS.index("NEXT"), txs)


def check_dram(st, prefix, d):
    """One DRAM subsystem's state (see _dram_layout.new_dram_state)."""
    d = [int(x) for x in d]
    name = lambda a: prefix + a
    _range(name("counters"), st[name("counters")], 0, None)
    check_dram_activity(st, prefix, d)
    if d[D["MODEL"]] == MODEL_DETAILED:
        check_controller(st, prefix, d)
        return
    _range(name("open_row"), st[name("open_row")], -1, d[D["RO_MASK"]])
    if d[D["MODEL"]] == MODEL_SIMPLE:
        for a in ("bank", "chan"):
            _range(name(a), st[name(a)], TIME_LO, TIME_HI)
        return
    for a, (fields, special) in _DRAM_FIELDS.items():
        rec = st[name(a)].reshape(-1, len(fields))
        for j, field in enumerate(fields):
            lo, hi = special[field](d) if field in special else (TIME_LO, TIME_HI)
            _range(name(a), rec[:, j], lo, hi, f" ({field})")
    # without refresh every rank's refresh is due "never", which the core divides by tREFI to reach
    if d[D["REF_MODE"]] == 0 and np.any(st[name("rank")].reshape(-1, len(RANK_FIELDS))[:, RANK_FIELDS.index("REF_DUE")]
                                        != NO_REFRESH):
        _fail(name("rank"), "a rank has a refresh due, but this DRAM does not refresh")
    for a in ("cq", "bg_act", "tq"):
        _range(name(a), st[name(a)], TIME_LO, TIME_HI)
    n_rbg = d[D["N_BANKS"]] >> d[D["BA_BITS"]]
    bus = st[name("bus")].reshape(-1, 3)
    _range(name("bus"), bus[:, :2], TIME_LO, TIME_HI)
    _range(name("bus"), bus[:, 2], 0, 2 * n_rbg - 1, " (tag)")
    chan = st[name("chan")].reshape(-1, len(CHAN_FIELDS))
    K = d[D["BUS_SLOTS"]]
    ring = bus.reshape(d[D["N_CH"]], K, 3)
    H = {f: CHAN_FIELDS.index(f) for f in ("BUS_HEAD", "BUS_N", "BUS_FLOOR", "WB_N", "WB_BLOOM")}
    wb = st[name("wb")].reshape(d[D["N_CH"]], -1, 2)
    for ch in range(d[D["N_CH"]]):
        idx = (int(chan[ch, H["BUS_HEAD"]]) + np.arange(int(chan[ch, H["BUS_N"]]))) & (K - 1)
        _sorted_disjoint(name("bus"), int(chan[ch, H["BUS_FLOOR"]]), ring[ch, idx, 0], ring[ch, idx, 1],
                         f"channel {ch}'s data-bus calendar")
        lines = wb[ch, :int(chan[ch, H["WB_N"]]), 0]
        bits = np.left_shift(1, (lines ^ (lines >> 6) ^ (lines >> 12)) & 31)    # core/dram.pxi dram_bloom
        if np.any((bits & ~int(chan[ch, H["WB_BLOOM"]])) != 0):
            _fail(name("chan"), f"channel {ch}: the write buffer's filter misses a buffered line")
        keys = wb[ch, :int(chan[ch, H["WB_N"]]), 1]
        bank, row = keys >> 32, keys & ((1 << 32) - 1)
        bad = (keys < 0) | (bank < ch * d[D["N_BANKS"]]) | (bank >= (ch + 1) * d[D["N_BANKS"]]) | (row > d[D["RO_MASK"]])
        if bad.any():
            _fail(name("wb"), f"channel {ch}: buffered write {int(np.flatnonzero(bad)[0])} names no bank and row "
                              f"of this channel")


__all__ = ["BadState", "check_state", "new_dram_state"]
