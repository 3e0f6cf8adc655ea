"""The run state the twin's parts share (core/state.pxi in the compiled core): the state dict's
arrays as Python lists on one `Core` (bind_state), each compute blade's slices of them
(bind_blade), written back at the end of the chunk (save), and helpers every part uses.

The twin's `Core` (composed in `hwmodel/_reference.py`) has the compiled `Core` struct's fields
(`hwmodel/_core.pxd`) as attributes, under the same names; its methods, one module per part, mirror
the compiled functions one for one.
"""
from __future__ import annotations

import numpy as np

from .._dram_layout import DRAM_NAMES
from .dram import Dram
from .._layout import CAL_WIDTH, CB, CB_FIELDS, CK_FIELDS, G, GROW_FIELDS, GROW_ROOM, LOG_FIELDS, P, PT_LEAF_SHIFT, S, \
    local_prefix

MASK64 = (1 << 64) - 1


def to_signed(x: int) -> int:
    """An unsigned 64-bit value as the int64 the state holds."""
    return x - (1 << 64) if x >= (1 << 63) else x


def splitmix64(x: int):
    """(new state, output) of SplitMix64; states are unsigned 64-bit."""
    x = (x + 0x9E3779B97F4A7C15) & MASK64
    z = x
    z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & MASK64
    z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & MASK64
    return x, z ^ (z >> 31)


class Sched:
    """The scheduling state of one link (both directions), or of the switch's memory-blade port:
    the `Sched` struct's fields, each a list (qtb None: no token buckets, as on the port)."""

    __slots__ = ("cal", "qfree", "qls", "qle", "qfin", "qtb")

    def __init__(self, cal, qfree, qls, qle, qfin, qtb):
        self.cal, self.qfree, self.qls, self.qle, self.qfin, self.qtb = cal, qfree, qls, qle, qfin, qtb


# per-blade slices of the state arrays (bind_blade binds blade k's), by the attribute that holds them
_FRAME_ARRAYS = {"frame_page": "frame_page", "frame_ready": "frame_ready", "dirty": "dirty", "ref": "ref",
                 "prev": "lru_prev", "nxt": "lru_next", "ck_dirty": "ck_dirty", "ck_first": "ck_first",
                 "ck_list": "ck_list", "ck_pending": "ck_pending", "ck_copy_list": "ck_copy_list"}
_SET_ARRAYS = {"head": "set_head", "tail": "set_tail", "used": "set_used", "hand": "set_hand",
               "blade_next": "blade_next", "blade_hand": "blade_hand"}
_CACHE_ARRAYS = ("cache_tag", "cache_stamp", "cache_dirty")
_SCHED_ARRAYS = ("qos_free", "qos_ls", "qos_le", "qos_fin", "qos_tb")
# whole arrays held as lists, by attribute
_WHOLE = {"cnt": "counters", "hist": "hist", "vm_hist": "vm_hist", "vm_stats": "vm_stats", "sc": "scalars",
          "ring": "ring", "pt_dir": "pt_dir", "pt_leaf": "pt_leaf", "cbg": "cb_grow", "va_key": "va_key",
          "va_page": "va_page", "va_next": "va_next", "dev_unit_free": "dev_unit_free", "dev_ring": "dev_ring",
          "buf_free": "buf_free", "epoch_buf": "epoch_buf", "qsla": "qos_sla", "defer": "defer",
          "sp_owner": "sp_owner", "mbuf_ring": "mbuf_ring", "mbuf_idx": "mbuf_idx"}


class CoreState:
    """The fields of the compiled `Core`, bound to a state dict for one chunk."""

    def bind_state(self, p, dl, db, dp, st, vm_base, dram_log):
        """Load `st` (the state dict) into lists, derive the fields the parts read, make the DRAMs
        (their twin, `core.dram.Dram`; none when `dl` is None: the functional mode) and bind
        the compute blade the state names."""
        self.p = p = [int(x) for x in p]
        for attr, name in _WHOLE.items():
            setattr(self, attr, st[name].tolist())
        self.pt_leaf_lim = (len(self.pt_leaf) >> PT_LEAF_SHIFT) - GROW_ROOM
        n_vm = len(vm_base)
        self.vm_base = [int(x) for x in vm_base]
        self.vm_pages = p[p[P["VM_PAGES_AT"]]:p[P["VM_PAGES_AT"]] + n_vm]
        self.va_size = len(self.va_key)
        self.va_lim = self.va_size // 2     # the table is at most half full
        self.ck_regime = p[P["CK_REGIME"]]
        self.cache_sets, self.cache_ways = p[P["CACHE_SETS"]], p[P["CACHE_WAYS"]]
        self.qos, self.qdisc, self.nq, self.nlev = p[P["QOS"]], p[P["QOS_DISC"]], p[P["QOS_NQ"]], p[P["QOS_LEVELS"]]
        self.bg = n_vm      # the background queue's row follows the VMs'
        self.cur_q = 0
        self.rng = self.sc[S["rng"]] & MASK64
        self.ushift = p[P["UNIT_SHIFT"]]
        self.unit = 1 << self.ushift
        self.n_sets = p[P["N_SETS"]]
        self.smask = self.n_sets - 1
        self.prop = p[P["PROP_PS"]]
        self.victim = p[P["VICTIM"]]
        self.sw = p[P["SW"]]
        self.sp_shift = p[P["SP_SHIFT"]]
        self.nb = p[P["N_CB"]]
        lv = 2 * max(self.nlev, 1)    # port_qos: qfree, qls, qle per direction and level, then qfin
        q = st["port_qos"].tolist()
        self.port = Sched(st["port_cal"].tolist(), q[:lv], q[lv:2 * lv], q[2 * lv:3 * lv], q[3 * lv:], None)
        self.per_blade = [{name: st[name][o:o + n].tolist() for name, (o, n) in self.extents(k).items()}
                          for k in range(self.nb)]
        for b in self.per_blade:
            b["link"] = Sched(b["link_cal"], *(b[name] for name in _SCHED_ARRAYS))
        self.func = False     # functional mode (core/functional.py): no timing, no DRAM
        nd = len(DRAM_NAMES)
        if dl is None:        # functional mode: no DRAM is bound (the compiled core binds none)
            self.locals, self.blade, self.peer = [None] * self.nb, None, None
        else:
            clock = (self.sc, self.defer)    # the detailed DRAM model's horizon comes from them (core.dram_ctrl)
            self.locals = [Dram(dl[k * nd:(k + 1) * nd], st, local_prefix(k), clock) for k in range(self.nb)]
            self.blade = Dram(db, st, "blade_", clock)
            self.peer = Dram(dp, st, "peer_", clock)
        self.log = [] if dram_log is not None else None
        self.bind_blade(self.sc[S["cb"]])

    def extents(self, k):
        """Compute blade k's slices of the per-blade arrays, as (start, length) by state key."""
        p, n_sets, nlev, nq = self.p, self.n_sets, max(self.nlev, 1), max(self.nq, 1)
        r = p[p[P["CB_AT"]] + k * len(CB_FIELDS):p[P["CB_AT"]] + (k + 1) * len(CB_FIELDS)]
        gr = self.cbg[k * len(GROW_FIELDS):(k + 1) * len(GROW_FIELDS)]
        fo, frames, so = gr[G["FRAME_BASE"]], n_sets * gr[G["FRAME_ROWS"]], k * n_sets
        out = {name: (fo, frames) for name in _FRAME_ARRAYS.values()}
        out.update({name: (so, n_sets) for name in _SET_ARRAYS.values()})
        out["slot_page"] = (gr[G["SLOT_BASE"]], gr[G["SLOT_ROWS"]] * n_sets)
        out["sp_map"] = (r[CB["VSP_OFF"]], r[CB["N_VSP"]])
        out["link_cal"] = (2 * CAL_WIDTH * k, 2 * CAL_WIDTH)
        out["ck_sc"] = (len(CK_FIELDS) * k, len(CK_FIELDS))
        ncw = self.cache_sets * self.cache_ways
        out.update({name: (k * ncw, ncw) for name in _CACHE_ARRAYS})
        out.update({name: (k * 2 * nlev, 2 * nlev) for name in ("qos_free", "qos_ls", "qos_le")})
        out["qos_fin"] = (k * 2 * nq, 2 * nq)
        out["qos_tb"] = (k * 4 * nq, 4 * nq)
        return out

    def bind_blade(self, k):
        """Make compute blade k's slices the ones the parts see."""
        b, p = self.per_blade[k], self.p
        r = p[p[P["CB_AT"]] + k * len(CB_FIELDS):p[P["CB_AT"]] + (k + 1) * len(CB_FIELDS)]
        self.cb = k
        self.sc[S["cb"]] = k
        self.local = self.locals[k]
        self.ways, self.local_bytes, self.temp_addr = r[CB["WAYS"]], r[CB["LOCAL_BYTES"]], r[CB["TEMP_ADDR"]]
        self.mbase, self.per_set = r[CB["MBASE"]], r[CB["PER_SET"]]
        # rows of frames and slots the state holds (the engine grows them before a set can run out)
        gw = len(GROW_FIELDS)
        self.frame_rows = self.cbg[k * gw + G["FRAME_ROWS"]]
        self.frame_lim = self.frame_rows - GROW_ROOM if self.frame_rows < self.ways else self.ways
        self.slot_rows = self.cbg[k * gw + G["SLOT_ROWS"]]
        self.slot_lim = self.slot_rows - GROW_ROOM if self.slot_rows < self.per_set else self.per_set
        self.ck_base, self.peer_base, self.cks = r[CB["CK_BASE"]], r[CB["PEER_BASE"]], b["ck_sc"]
        self.link = b["link"]
        for attr, name in _FRAME_ARRAYS.items():
            setattr(self, attr, b[name])
        for attr, name in _SET_ARRAYS.items():
            setattr(self, attr, b[name])
        self.slot_page, self.sp_map = b["slot_page"], b["sp_map"]
        self.cache_tag, self.cache_stamp, self.cache_dirty = (b[name] for name in _CACHE_ARRAYS)

    def stop(self, code, info):
        """The run stops at this access with ERR_* `code` and its detail (the first error stands)."""
        if not self.sc[S["error"]]:
            self.sc[S["error"]], self.sc[S["error_info"]] = code, info

    def save(self, st, dram_log):
        """Write the state back into `st` (in place) and hand the DRAM request log to `dram_log`."""
        self.sc[S["rng"]] = to_signed(self.rng)
        for attr, name in _WHOLE.items():
            st[name][:] = getattr(self, attr)
        st["port_cal"][:] = self.port.cal
        st["port_qos"][:] = self.port.qfree + self.port.qls + self.port.qle + self.port.qfin
        for k in range(self.nb):
            for name, (o, n) in self.extents(k).items():
                st[name][o:o + n] = self.per_blade[k][name]
        if self.blade is not None:
            for d in self.locals:
                d.save()
            self.blade.save()
            self.peer.save()
        if dram_log is not None:
            dram_log.append(np.array(self.log, np.int64).reshape(-1, len(LOG_FIELDS)))
