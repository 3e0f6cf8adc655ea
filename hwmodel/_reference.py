"""Plain-Python twin of `_core.pyx`: the same state layout and the same arithmetic, one access at a
time. It is the test oracle (differential tests require identical results) and the fallback when the
compiled core is missing. Keep it small and literal; any change here is a change to the compiled core.

Like `_core.pyx`, it is composed of parts, one per part of the hardware, each the twin of the
compiled part of the same name (hwmodel/core/<part>.py and <part>.pxi): `state` (the run state and
each compute blade's slices of it), `paging`, `victims`, `link`, `memory_blade`, `storage`,
`checkpoints`, `cache`, `dram_log`, `loop`; the DRAM is `_dram_reference.py`. The compiled core's
functions take its `Core` struct; the twin's are methods of `Core` below, with the struct's fields as
attributes.

Semantics of one access (times in integer ps):
- arrival: the timestamp (open loop), or previous issue + gap, delayed until the access W places
  earlier has completed (closed loop, in-order window of W outstanding accesses);
- static: machine address < local size -> local DRAM, else one line over the link;
- fgra / page_swap / subpage_swap: the hypervisor's table gives a local frame or a blade slot;
  untouched pages take a free local frame (first_touch) or a blade slot;
- fgra: a remote page is read or written a line at a time over the link, never moved;
- page_swap / subpage_swap: a remote unit traps; a victim frame of the unit's set is chosen; the
  victim is copied to the temporary page and sent to the blade into the slot the fetched unit
  vacates (off the critical path, but it holds the outbound link and DRAM); the fetched unit is
  written into the frame once it has arrived and the frame is free; the access then completes
  locally (or, with critical-block-first, when the first packet arrives).
"""
from __future__ import annotations

from ._layout import P, PT_LEAF, PT_LEAF_SHIFT, UNTOUCHED
from .core.cache import LLC
from .core.checkpoints import Checkpoints
from .core.dram_log import DramLog
from .core.link import LinkQoS
from .core.loop import RunLoop
from .core.memory_blade import BladeMemory
from .core.paging import Paging
from .core.state import CoreState
from .core.storage import StorageIO
from .core.victims import Victims

_FAR = 1 << 63     # a time after every other (INT64_MAX_PS in the compiled core)


class Core(RunLoop, Paging, Victims, LinkQoS, BladeMemory, StorageIO, Checkpoints, LLC, DramLog, CoreState):
    """The run state of one chunk and the functions of the core as its methods."""


def run_chunk(p, dl, db, dp, st, t_col, addr, op, vm, vm_base, out, dram_log=None):
    """Advance `st` (dict of numpy arrays, updated in place) over one chunk of accesses.

    p, dl, db, dp: int64 parameter vectors (see _layout; DRAM of local, blade, checkpoint peer); t_col: arrival (open) or gap (closed) in ps;
    addr: guest byte addresses; op: 0 read / 1 write; vm: VM ids; vm_base: machine byte address of
    each VM's guest address 0; out: per-access completion time in ps (length 0 = not wanted).
    dram_log: a list to which the requests every DRAM received are appended, as one int64 array
    of rows of _layout.LOG_FIELDS (None = no log).
    Returns how many accesses ran (fewer than the chunk when the epoch buffer is full). An empty
    chunk ends the run: the victim write-backs still held back are carried out.
    """
    c = Core()
    c.bind_state(p, dl, db, dp, st, vm_base, dram_log)
    n = len(addr)
    if n == 0:
        c.run_deferred(_FAR)
        ran = 0
    elif not c.p[P["VIRTUAL"]]:
        ran = c.run_loop(t_col, addr, op, vm, c.vm_base, out, n, len(out) > 0)
    else:
        ran = c.run_virtual(t_col, addr, op, vm, c.vm_base, out, n, len(out) > 0)
    c.save(st, dram_log)
    return ran


def decode_lookup(p, st, addr, vm, vm_base, lookup):
    """Twin of `_core.decode_lookup` (benchmark stages: decode, or decode + page-table lookup)."""
    ushift = int(p[P["UNIT_SHIFT"]])
    smask = int(p[P["N_SETS"]]) - 1
    umask = (1 << ushift) - 1
    pt_dir, pt_leaf = st["pt_dir"], st["pt_leaf"]
    a = b = c = 0
    for i in range(len(addr)):
        m = int(vm_base[int(vm[i])]) + int(addr[i])
        g = m >> ushift
        if not lookup:
            a += g + (m & umask) + (g & smask)
            continue
        entry = int(pt_leaf[(int(pt_dir[g >> PT_LEAF_SHIFT]) << PT_LEAF_SHIFT) | (g & (PT_LEAF - 1))])
        if entry >= 0:
            a += 1
        elif entry == UNTOUCHED:
            c += 1
        else:
            b += 1
    return a, b, c
