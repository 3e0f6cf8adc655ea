"""Plain-Python twin of `_core.pyx`: the same state layout and the same arithmetic, one access at a
time. It is the test oracle (differential tests require identical results) and the fallback when the
compiled core is missing. Keep it small and literal; any change here is a change to the compiled core.

Like `_core.pyx`, it is composed of parts, one per part of the hardware, each the twin of the
compiled part of the same name (hwmodel/core/<part>.py and <part>.pxi): `state` (the run state and
each compute blade's slices of it), `paging`, `victims`, `link`, `memory_blade`, `storage`,
`checkpoints`, `cache`, `dram_log`, `loop`, `functional`; the DRAM is `core/dram.py`. The compiled core's
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

from ._layout import ERR_VM_FULL, P, PT_LEAF, PT_LEAF_SHIFT, S, UNTOUCHED, local_prefix
from .core.cache import LLC
from .core.checkpoints import Checkpoints
from .core.dram_log import DramLog
from .core.functional import Functional
from .core.link import LinkQoS
from .core.loop import RunLoop
from .core.memory_blade import BladeMemory
from .core.paging import Paging
from .core.state import CoreState
from .core.storage import StorageIO
from .core.victims import Victims

_FAR = 1 << 63     # a time after every other (INT64_MAX_PS in the compiled core)


class Core(Functional, RunLoop, Paging, Victims, LinkQoS, BladeMemory, StorageIO, Checkpoints, LLC, DramLog, CoreState):
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


def run_functional(p, st, t_col, addr, op, vm, vm_base, stall_ps, latency_ps, stall_ck_ps=-1, latency_ck_ps=-1):
    """Advance `st` over one chunk in functional mode (core/functional.py): the long-lived state as
    run_chunk leaves it, without timing and without the DRAM. Closed loop, an access issues its gap
    plus `stall_ps` after the previous one; every access completes `latency_ps` after it arrives;
    while a checkpoint is being copied, `stall_ck_ps` and `latency_ck_ps` instead (-1: the same).
    Returns how many accesses ran, as run_chunk. Victim write-backs held back must have been
    carried out first (an empty run_chunk)."""
    n = len(addr)
    if not (len(t_col) == len(op) == len(vm) == n):
        raise ValueError("run_functional: trace columns differ in length")
    if stall_ps < 0 or latency_ps < 0:
        raise ValueError("run_functional: the estimated stall and latency must be >= 0")
    if st["scalars"][S["defer_n"]]:
        raise ValueError("run_functional: victim write-backs are still held back (run an empty chunk first)")
    c = Core()
    c.bind_state(p, None, None, None, st, vm_base, None)
    c.func = True
    c.fx_stall, c.fx_lat = int(stall_ps), int(latency_ps)
    c.fx_stall_ck = c.fx_stall if stall_ck_ps < 0 else int(stall_ck_ps)
    c.fx_lat_ck = c.fx_lat if latency_ck_ps < 0 else int(latency_ck_ps)
    c.fx_dcnt = [st[local_prefix(b) + "counters"].tolist() for b in range(c.nb)] + [st["blade_counters"].tolist()]
    if n == 0:
        ran = 0
    elif not c.p[P["VIRTUAL"]]:
        ran = c.func_loop(t_col, addr, op, vm, c.vm_base, n)
    else:
        mach, why = c.va_map(addr, vm, n)
        k = len(mach)
        ran = c.func_loop(t_col, mach, op, vm, [0] * len(vm_base), k)
        if ran == k < n and not c.sc[S["error"]]:
            if why == "table":
                c.sc[S["grow"]] = 1
            else:
                c.stop(ERR_VM_FULL, int(vm[k]))
                ran = k + 1
    c.save(st, None)
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
