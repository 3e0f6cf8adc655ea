"""Run-state arrays that grow with what a run touches, not with declared or installed memory.

The guest page table has two levels (a directory of `N_DIR` leaf numbers, leaves of PT_LEAF entries
taken at first touch), each compute blade's frame records and memory-blade slots are taken in order
(so a blade needs only as many rows as its busiest set has used), and virtual pages live in an
open-addressing table. The core never allocates: it sets scalars["grow"] when one of them has less
than GROW_ROOM (per access) left, stops before the next access, and `grow` here enlarges what is
short, geometrically. Results do not depend on when that happened; `canonical` gives the state
without its spare room, for digests.
"""
from __future__ import annotations

import numpy as np

from .. import _layout as L

# per frame of a compute blade (element FRAME_BASE + f of each): dtype, value of a frame never taken
FRAME_ARRAYS = {
    "frame_page": (np.int32, -1),     # guest unit held, -1 = none
    "frame_ready": (np.int64, 0),     # ps: its last fill (and map update) is done
    "dirty": (np.uint8, 0),           # written since it was filled
    "ref": (np.uint8, 0),             # CLOCK reference bit
    "lru_prev": (np.int32, -1),       # exact LRU: neighbours in its set's list (frame numbers of the blade)
    "lru_next": (np.int32, -1),
    "ck_dirty": (np.uint8, 0),        # checkpoints: 0 clean, 1 written and listed, 2 listed but clean
    "ck_first": (np.int32, 0),        # first checkpoint that holds it, 0 = none
    "ck_list": (np.int32, 0),         # frames listed since the last checkpoint (ck_sc ck_count of them)
    "ck_pending": (np.uint8, 0),      # in the checkpoint in progress, not yet copied
    "ck_copy_list": (np.int32, 0),    # frames of the checkpoint in progress (ck_sc ck_total of them)
}
# per memory-blade slot of a compute blade (element SLOT_BASE + s)
SLOT_ARRAYS = {"slot_page": (np.int32, -1)}   # guest unit held, -1 = free
START_FRAMES = 1024        # frames (and slots) a blade starts with, before it grows
START_LEAVES = 16          # page-table leaves the state starts with (leaf 0 included)
START_VA = 1024            # virtual-page table entries (a power of two) it starts with
FULL_CAP = 1 << 20         # FULL starts leaves and the virtual-page table at most this large (auto VMs
#                            reserve more guest-physical space than any run touches)
FULL, DEFAULT, SMALL = "full", "default", "small"   # start sizes: all there is, the usual, the least


def rows_at(c, start: str) -> tuple:
    """(frame rows, slot rows) per compute blade to start with."""
    n_sets = c.param("N_SETS")
    out = ([], [])
    for r in c.blade_rows():
        for lst, most in ((out[0], r["WAYS"]), (out[1], r["PER_SET"])):
            want = (most if start == FULL else L.GROW_ROOM if start == SMALL
                    else max(L.GROW_ROOM, -(-START_FRAMES // n_sets)))
            lst.append(min(most, want))
    return out


def leaves_at(c, start: str) -> int:
    most = c.param("N_DIR") + 1 + L.GROW_ROOM
    return min(most, FULL_CAP >> L.PT_LEAF_SHIFT if start == FULL else 1 + L.GROW_ROOM if start == SMALL
               else START_LEAVES)


def va_at(c, start: str) -> int:
    if not c.param("VIRTUAL"):
        return 1
    if start == FULL:
        need = 2 * (int(c.vm_pages().sum()) + 1)
        return min(1 << (need - 1).bit_length(), FULL_CAP)
    return 4 if start == SMALL else START_VA


def start_lengths(c, start: str) -> dict:
    """Length of each growable array in a fresh state (what `allocate` makes; with FULL, also
    what placement at boot reserves)."""
    n_sets = c.param("N_SETS")
    frame_rows, slot_rows = rows_at(c, start)
    n_va = va_at(c, start)
    leaves = c.param("N_DIR") + 1 + L.GROW_ROOM if start == FULL else leaves_at(c, start)
    return {**{name: max(sum(frame_rows) * n_sets, 1) for name in FRAME_ARRAYS},
            **{name: max(sum(slot_rows) * n_sets, 1) for name in SLOT_ARRAYS},
            "pt_leaf": leaves << L.PT_LEAF_SHIFT, "va_key": n_va, "va_page": n_va}


def allocate(st: dict, c, start: str) -> None:
    """The growable arrays of a fresh state (its fixed ones made: cb_grow, pt_dir, scalars), at
    their start sizes, no page placed."""
    n_sets = c.param("N_SETS")
    frame_rows, slot_rows = rows_at(c, start)
    nb = len(frame_rows)
    for name, (dtype, fill) in {**FRAME_ARRAYS, **SLOT_ARRAYS}.items():
        st[name] = np.full(1, fill, dtype)
    _set_rows(st, n_sets, "FRAME", FRAME_ARRAYS, [0] * nb, frame_rows)
    _set_rows(st, n_sets, "SLOT", SLOT_ARRAYS, [0] * nb, slot_rows)
    st["pt_leaf"] = np.full(leaves_at(c, start) << L.PT_LEAF_SHIFT, L.UNTOUCHED, np.int32)
    st["scalars"][L.S["pt_leaves"]] = 1
    n = va_at(c, start)
    st["va_key"] = np.zeros(n, np.int64)
    st["va_page"] = np.full(n, -1, np.int32)


def base(st: dict, k: int, what: str) -> int:
    """Where compute blade k's frames (what = "FRAME") or slots ("SLOT") start in their arrays."""
    return int(st["cb_grow"][k * len(L.GROW_FIELDS) + L.G[what + "_BASE"]])


def blade_rows(st: dict, what: str) -> list:
    """Rows per compute blade of its frames (what = "FRAME") or slots ("SLOT")."""
    return [int(x) for x in st["cb_grow"][L.G[what + "_ROWS"]::len(L.GROW_FIELDS)]]


def _set_rows(st, n_sets, what, arrays, old_rows, new_rows):
    """Lay the per-blade segments of `arrays` out anew with new_rows rows each (old contents kept)."""
    w = len(L.GROW_FIELDS)
    ib, ir = L.G[what + "_BASE"], L.G[what + "_ROWS"]
    old_base = [int(x) for x in st["cb_grow"][ib::w]]
    new_base = np.concatenate([[0], np.cumsum(new_rows)[:-1]]).astype(np.int64) * n_sets
    total = max(int(sum(new_rows)) * n_sets, 1)     # never empty: the core takes &a[0]
    for name, (dtype, fill) in arrays.items():
        old, new = st[name], np.full(total, fill, dtype)
        for k, (ob, orow) in enumerate(zip(old_base, old_rows)):
            new[new_base[k]:new_base[k] + orow * n_sets] = old[ob:ob + orow * n_sets]
        st[name] = new
    st["cb_grow"][ib::w] = new_base
    st["cb_grow"][ir::w] = new_rows


def reserve_rows(st: dict, c, frame_need: list, slot_need: list) -> None:
    """Make room for frame rows and slot rows per blade (placement at boot uses this)."""
    n_sets = c.param("N_SETS")
    for what, arrays, need in (("FRAME", FRAME_ARRAYS, frame_need), ("SLOT", SLOT_ARRAYS, slot_need)):
        old = blade_rows(st, what)
        new = [max(o, n) for o, n in zip(old, need)]
        if new != old:
            _set_rows(st, n_sets, what, arrays, old, new)


def _room(used: int, rows: int, most: int, minimum: int = 0) -> int:
    """Rows that leave GROW_ROOM beyond `used` (or all there is), at least doubling."""
    if rows >= most or used <= rows - L.GROW_ROOM:
        return rows
    return min(most, max(2 * rows, used + L.GROW_ROOM, minimum))


def grow(st: dict, c, limit_bytes: int) -> None:
    """Enlarge every growable array that has less than GROW_ROOM left (scalars["grow"] was set)
    and clear the flag: the core can run the next access. A state that would outgrow
    `limit_bytes` (old and new arrays together while they are copied) is refused."""
    n_sets = c.param("N_SETS")
    rows = c.blade_rows()
    plans = []
    for what, arrays, counts, most in (("FRAME", FRAME_ARRAYS, "set_used", "WAYS"),
                                       ("SLOT", SLOT_ARRAYS, "blade_next", "PER_SET")):
        old = blade_rows(st, what)
        used = [int(st[counts][k * n_sets:(k + 1) * n_sets].max()) for k in range(len(rows))]
        plans.append((what, arrays, old, [_room(u, o, r[most]) for u, o, r in zip(used, old, rows)]))
    sc = st["scalars"]
    cap = len(st["pt_leaf"]) >> L.PT_LEAF_SHIFT
    new = _room(int(sc[L.S["pt_leaves"]]), cap, c.param("N_DIR") + 1 + L.GROW_ROOM)
    extra = 4 * ((new - cap) << L.PT_LEAF_SHIFT) + sum(
        (sum(n) - sum(o)) * n_sets * sum(np.dtype(dt).itemsize for dt, _ in arrays.values())
        for _, arrays, o, n in plans)
    now = sum(a.nbytes for a in st.values())
    if now + extra + max((a.nbytes for a in st.values()), default=0) > limit_bytes:
        raise ValueError(f"the run's footprint needs more state than the {limit_bytes >> 20} MiB allowed (half of "
                         f"this machine's memory, or $HWMODEL_MAX_STATE_BYTES): {now >> 20} MiB so far for "
                         f"{int(sc[L.S['pt_leaves']]) << L.PT_LEAF_SHIFT} page-table entries and "
                         f"{sum(blade_rows(st, 'FRAME')) * n_sets} frames; use a larger compute.page_size or a "
                         f"shorter trace")
    for what, arrays, old, rows_new in plans:
        if rows_new != old:
            _set_rows(st, n_sets, what, arrays, old, rows_new)
    if new != cap:
        leaf = np.full(new << L.PT_LEAF_SHIFT, L.UNTOUCHED, np.int32)
        leaf[:len(st["pt_leaf"])] = st["pt_leaf"]
        st["pt_leaf"] = leaf
    used, cap = int(sc[L.S["va_used"]]), len(st["va_key"])
    if c.param("VIRTUAL") and used >= cap // 2:     # room for a new page: under half full
        while used >= cap // 2:
            cap *= 2
        st["va_key"], st["va_page"] = rehash(st["va_key"], st["va_page"], cap)
    sc[L.S["grow"]] = 0


def va_home(keys: np.ndarray, size: int) -> np.ndarray:
    """Home slots of keys in a table of `size` (a power of two): the core's va_home."""
    with np.errstate(over="ignore"):
        h = keys.astype(np.uint64) * np.uint64(L.VA_HASH)
    return (h >> np.uint64(64 - (size.bit_length() - 1))).astype(np.int64)


def rehash(keys: np.ndarray, pages: np.ndarray, size: int) -> tuple:
    """The virtual-page table moved into `size` slots, with linear probing as the core probes.
    Rounds: every key still to place tries its current slot; of those trying one free slot the
    first in the old table's order takes it, the others move one slot on. A key so stops at the
    first slot that was free when it came, and every slot from its home to there is full: the
    core's lookup finds it."""
    full = keys != 0
    k, v = keys[full], pages[full]
    new_k, new_v = np.zeros(size, np.int64), np.full(size, -1, np.int32)
    pos = va_home(k, size)
    todo = np.arange(len(k))
    while len(todo):
        p = pos[todo]
        free = new_k[p] == 0
        slots, first = np.unique(p[free], return_index=True)
        won = todo[free][first]
        new_k[slots], new_v[slots] = k[won], v[won]
        left = np.ones(len(todo), bool)
        left[np.flatnonzero(free)[first]] = False
        todo = todo[left]
        pos[todo] = (pos[todo] + 1) & (size - 1)
    return new_k, new_v


def pt_index(st: dict, pages) -> np.ndarray:
    """Indices into state["pt_leaf"] of guest pages' entries (leaf 0's for untouched ranges)."""
    g = np.asarray(pages, np.int64)
    return (st["pt_dir"][g >> L.PT_LEAF_SHIFT].astype(np.int64) << L.PT_LEAF_SHIFT) | (g & (L.PT_LEAF - 1))


def page_locations(st: dict, pages) -> np.ndarray:
    """Where guest pages are (_layout's encoding: frame >= 0, UNTOUCHED, ON_STORAGE, blade slot)."""
    return st["pt_leaf"][pt_index(st, pages)]


def claim_leaves(st: dict, c, g0: int, g1: int) -> None:
    """Give every page-table range that overlaps guest pages g0..g1-1 a leaf (placement at boot)."""
    d = st["pt_dir"]
    if g1 <= g0:
        return
    ranges = np.arange(g0 >> L.PT_LEAF_SHIFT, ((g1 - 1) >> L.PT_LEAF_SHIFT) + 1)
    ranges = ranges[d[ranges] == 0]
    sc = st["scalars"]
    first = int(sc[L.S["pt_leaves"]])
    need = first + len(ranges) + L.GROW_ROOM
    if need > len(st["pt_leaf"]) >> L.PT_LEAF_SHIFT:
        leaf = np.full(need << L.PT_LEAF_SHIFT, L.UNTOUCHED, np.int32)
        leaf[:len(st["pt_leaf"])] = st["pt_leaf"]
        st["pt_leaf"] = leaf
    d[ranges] = np.arange(first, first + len(ranges), dtype=np.int32)
    sc[L.S["pt_leaves"]] = first + len(ranges)


def canonical(st: dict, c) -> dict:
    """The state without its spare room: frame and slot records up to the rows their sets have
    used, the leaves in use, the virtual-page table as its (key, page) pairs by key. Two runs that
    grew at different times have the same canonical state."""
    n_sets = c.param("N_SETS")
    out = {k: v for k, v in st.items() if k not in ("cb_grow", "va_key", "va_page")}
    out["scalars"] = st["scalars"].copy()
    out["scalars"][L.S["grow"]] = 0      # growth pending or done: the same state
    nb = len(c.blade_rows())
    for what, arrays, counts in (("FRAME", FRAME_ARRAYS, "set_used"), ("SLOT", SLOT_ARRAYS, "blade_next")):
        for name in arrays:
            parts = []
            for k in range(nb):
                b = base(st, k, what)
                used = int(st[counts][k * n_sets:(k + 1) * n_sets].max())
                parts.append(st[name][b:b + used * n_sets])
            out[name] = np.concatenate(parts)
    out["pt_leaf"] = st["pt_leaf"][:int(st["scalars"][L.S["pt_leaves"]]) << L.PT_LEAF_SHIFT]
    full = st["va_key"] != 0
    order = np.argsort(st["va_key"][full], kind="stable")
    out["va_key"] = st["va_key"][full][order]
    out["va_page"] = st["va_page"][full][order]
    return out


def check(st: dict, c, where: str) -> None:
    """The growable arrays fit the system and their counts (a loaded state); ValueError if not."""
    n_sets = c.param("N_SETS")
    rows = c.blade_rows()
    w = len(L.GROW_FIELDS)
    g = st.get("cb_grow")
    if g is None or g.shape != (len(rows) * w,) or g.dtype != np.int64:
        raise ValueError(f"{where}: array 'cb_grow' is missing or has the wrong shape/type")
    for what, arrays, most in (("FRAME", FRAME_ARRAYS, "WAYS"), ("SLOT", SLOT_ARRAYS, "PER_SET")):
        r = blade_rows(st, what)
        if any(not 0 <= x <= row[most] for x, row in zip(r, rows)):
            raise ValueError(f"{where}: {what.lower()} rows {r} exceed the system's {[row[most] for row in rows]}")
        bases = np.concatenate([[0], np.cumsum(r)[:-1]]) * n_sets
        if not np.array_equal(g[L.G[what + "_BASE"]::w], bases):
            raise ValueError(f"{where}: {what.lower()} bases do not follow the rows")
        for name, (dtype, _) in arrays.items():
            a = st.get(name)
            if a is None or a.dtype != dtype or a.shape != (max(sum(r) * n_sets, 1),):
                raise ValueError(f"{where}: array {name!r} is missing or has the wrong shape/type")
    sc = st["scalars"]
    leaf, d = st.get("pt_leaf"), st.get("pt_dir")
    if (leaf is None or leaf.dtype != np.int32 or leaf.ndim != 1 or len(leaf) % L.PT_LEAF
            or not 1 <= sc[L.S["pt_leaves"]] <= len(leaf) >> L.PT_LEAF_SHIFT):
        raise ValueError(f"{where}: array 'pt_leaf' is missing or does not hold the leaves in use")
    if d is None or d.dtype != np.int32 or d.shape != (max(c.param("N_DIR"), 1),) or d.min() < 0 \
            or d.max() >= sc[L.S["pt_leaves"]]:
        raise ValueError(f"{where}: array 'pt_dir' is missing or names leaves not in use")
    # leaf 0 stands for every untouched range, and leaves not yet taken are untouched too
    spare = np.concatenate([leaf[:L.PT_LEAF], leaf[int(sc[L.S["pt_leaves"]]) << L.PT_LEAF_SHIFT:]])
    if np.any(spare != L.UNTOUCHED):
        raise ValueError(f"{where}: array 'pt_leaf': leaf 0 or a leaf not in use holds a page")
    used = d[d != 0]
    if len(np.unique(used)) != len(used):
        raise ValueError(f"{where}: array 'pt_dir': two ranges share a leaf")
    k, p = st.get("va_key"), st.get("va_page")
    n = 1 if k is None else len(k)
    if (k is None or p is None or k.dtype != np.int64 or p.dtype != np.int32 or k.ndim != 1 or p.shape != k.shape
            or n & (n - 1) or (c.param("VIRTUAL") and n < 2) or int(np.count_nonzero(k)) != sc[L.S["va_used"]]
            or sc[L.S["va_used"]] > n // 2):
        raise ValueError(f"{where}: the virtual-page table ('va_key', 'va_page') is malformed")
