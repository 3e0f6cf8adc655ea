# cython: language_level=3
"""Compiled data plane: one nogil loop over a chunk of the trace.

The core is cut into parts, one per part of the hardware, each included here from hwmodel/core/
(`state`, `paging`, `victims`, `link`, `memory_blade`, `storage`, `checkpoints`, `cache`,
`dram_log`, `loop`, `functional`; the DRAM subsystem is `core/dram.pxi`); their shared structs are in `_core.pxd`.
Each part mirrors the twin's module of the same name (hwmodel/core/*.py, composed by
`_reference.py`) function for function: read those for the semantics. The differential tests
require identical counters, histograms, state and completion times. Inputs are validated by the
caller (`hwmodel.core.engine`) before they reach this module; here nothing is checked per access.
State is struct-of-arrays in a dict of numpy arrays owned by the engine.
"""
from libc.stdint cimport int64_t, uint64_t, int32_t, uint8_t, uint16_t
from libc.string cimport memcpy
from libc.stdlib cimport malloc, calloc, free, realloc

import numpy as np

from hwmodel._layout import local_prefix

include "_layout.pxi"
include "core/dram.pxi"

cdef extern from *:
    """
    static inline int hw_bitlen(unsigned long long v) { return v ? 64 - __builtin_clzll(v) : 0; }
    #define hw_prefetch(p) __builtin_prefetch((const void*)(p), 1, 3)
    """
    int hw_bitlen(unsigned long long v) noexcept nogil
    void hw_prefetch(const void* p) noexcept nogil

# constants the parts share (DEF: compile-time, so they fold into the code)
DEF OUT = 0
DEF IN = 1
DEF ON_STORAGE = -2147483648   # _layout.ON_STORAGE
DEF INT64_MAX_PS = 9223372036854775807
DEF VA_TABLE_FULL = 1   # va_map stopped: the virtual-page table is half full
DEF VA_VM_FULL = 2      # ... a VM has no free guest-physical page
# _layout.SLA_FIELDS, EVENT_FIELDS, VM_STAT_NAMES (tests/test_snic.py checks these against it)
DEF QW = 5
DEF EVW = 7
DEF VS_ACCESSES = 0
DEF VS_LATENCY = 1
DEF VS_LINK_BYTES = 2
DEF VS_LINK_QUEUE = 3
DEF VS_LINK_MSGS = 4
DEF VS_WRITES = 5
DEF VS_WRITE_LATENCY = 6
DEF VSW = 7

include "core/state.pxi"
include "core/paging.pxi"
include "core/victims.pxi"
include "core/link.pxi"
include "core/memory_blade.pxi"
include "core/storage.pxi"
include "core/checkpoints.pxi"
include "core/cache.pxi"
include "core/dram_log.pxi"
include "core/loop.pxi"
include "core/functional.pxi"


def run_chunk(const int64_t[::1] p, const int64_t[::1] dl, const int64_t[::1] db, const int64_t[::1] dp, dict st,
              const int64_t[::1] t_col, const uint64_t[::1] addr, const uint8_t[::1] op,
              const uint16_t[::1] vm, const int64_t[::1] vm_base, int64_t[::1] out, list dram_log=None):
    """Advance the state dict `st` over one chunk; same contract as `_reference.run_chunk`
    (returns how many accesses ran: fewer than the chunk when the epoch buffer is full). An empty
    chunk ends the run: the victim write-backs still held back are carried out. With `dram_log`
    (a list), the requests every DRAM received are appended to it as one array of LOG_FIELDS rows.
    """
    cdef Core c
    cdef Dram blade, peer
    cdef ReqLog log
    cdef int64_t dummy = 0
    cdef int64_t* outp = &dummy
    cdef Py_ssize_t ran
    cdef int64_t k
    cdef Py_ssize_t n = addr.shape[0]
    if t_col.shape[0] != n or op.shape[0] != n or vm.shape[0] != n:
        raise ValueError("run_chunk: trace columns differ in length")
    if out.shape[0] != 0 and out.shape[0] != n:
        raise ValueError("run_chunk: out must be empty or as long as the chunk")
    if dl.shape[0] != p[P_N_CB] * N_DRAM_PARAMS:
        raise ValueError("run_chunk: dl must hold one local DRAM parameter vector per compute blade")
    bind_state(&c, p, st, vm_base.shape[0])
    if out.shape[0]:
        outp = &out[0]
    if dram_log is not None:
        log.n, log.cap, log.failed = 0, 4096, False
        log.rows = <int64_t*>malloc(log.cap * LOG_W * sizeof(int64_t))
        if log.rows == NULL:
            raise MemoryError("the DRAM request log")
        c.log = &log
    c.locals = <Dram*>malloc(c.nb * sizeof(Dram))
    if c.locals == NULL:
        if c.log != NULL:
            free(log.rows)
        raise MemoryError()
    c.blade = &blade
    c.peer = &peer
    try:
        for k in range(c.nb):
            bind_dram(&c.locals[k], dl[k * N_DRAM_PARAMS:(k + 1) * N_DRAM_PARAMS], st, local_prefix(k))
        bind_dram(c.blade, db, st, "blade_")
        bind_dram(c.peer, dp, st, "peer_")
        bind_blade(&c, c.sc[S_CB])
        if n == 0:                    # the end of the run: carry out what was held back
            with nogil:
                run_deferred(&c, INT64_MAX_PS)
            ran = 0
        elif not p[P_VIRTUAL]:
            with nogil:
                ran = run_loop(&c, &t_col[0], &addr[0], &op[0], &vm[0], &vm_base[0], outp, n, out.shape[0] != 0)
        else:
            ran = run_virtual(&c, t_col, addr, op, vm, vm_base, outp, n, out.shape[0] != 0)
        if c.log != NULL:
            if log.failed:
                raise MemoryError("out of memory for the DRAM request log; use smaller chunks (--chunk)")
            rows = np.empty((log.n, LOG_W), np.int64)
            if log.n:
                copy_rows(rows, log.rows, log.n)
            dram_log.append(rows)
    finally:
        ctl_settle()                  # the DRAMs live for this call only: no run-ahead may be kept past it
        free(c.locals)
        if c.log != NULL:
            free(log.rows)
    c.sc[S_RNG] = <int64_t>c.rng
    return ran


def decode_lookup(const int64_t[::1] p, dict st, const uint64_t[::1] addr, const uint16_t[::1] vm,
                  const int64_t[::1] vm_base, bint lookup):
    """Benchmark stages without timing or state change: decode (machine address -> swap unit,
    offset, set) and, with `lookup`, the page-table lookup. Returns (a, b, c): a checksum of the
    decoded fields and 0, 0 for decode; counts of local, remote and untouched units for lookup."""
    cdef int32_t[::1] pt_dir = st["pt_dir"]
    cdef int32_t[::1] pt_leaf = st["pt_leaf"]
    cdef Py_ssize_t i, n = addr.shape[0]
    cdef int64_t ushift = p[P_UNIT_SHIFT], smask = p[P_N_SETS] - 1, umask = ((<int64_t>1) << p[P_UNIT_SHIFT]) - 1
    cdef int64_t m, g, a = 0, b = 0, c = 0
    cdef int32_t l
    with nogil:
        for i in range(n):
            m = vm_base[vm[i]] + <int64_t>addr[i]
            g = m >> ushift
            if not lookup:
                a += g + (m & umask) + (g & smask)
                continue
            l = pt_leaf[(<int64_t>pt_dir[g >> PT_LEAF_SHIFT] << PT_LEAF_SHIFT) | (g & PT_MASK)]
            if l >= 0:
                a += 1
            elif l == -1:
                c += 1
            else:
                b += 1
    return a, b, c


def run_functional(const int64_t[::1] p, dict st, const int64_t[::1] t_col, const uint64_t[::1] addr,
                   const uint8_t[::1] op, const uint16_t[::1] vm, const int64_t[::1] vm_base,
                   int64_t stall_ps, int64_t latency_ps, int64_t stall_ck_ps=-1, int64_t latency_ck_ps=-1):
    """Advance `st` over one chunk in functional mode (core/functional.pxi): the long-lived state
    as run_chunk leaves it, without timing and without the DRAM. Closed loop, an access issues its
    gap plus `stall_ps` after the previous one; every access completes `latency_ps` after it
    arrives; while a checkpoint is being copied, `stall_ck_ps` and `latency_ck_ps` instead (-1: the
    same). Returns how many accesses ran, as run_chunk. Same contract as
    `_reference.run_functional`. Victim write-backs held back must have been carried out first
    (an empty run_chunk)."""
    cdef Core c
    cdef Func fx
    cdef Py_ssize_t n = addr.shape[0]
    cdef Py_ssize_t ran = 0, k
    cdef int64_t b
    cdef int64_t[::1] dc
    cdef int64_t* mach = NULL
    cdef int64_t* zero = NULL
    cdef int why = 0
    if t_col.shape[0] != n or op.shape[0] != n or vm.shape[0] != n:
        raise ValueError("run_functional: trace columns differ in length")
    if stall_ps < 0 or latency_ps < 0:
        raise ValueError("run_functional: the estimated stall and latency must be >= 0")
    if st["scalars"][S_DEFER_N]:
        raise ValueError("run_functional: victim write-backs are still held back (run an empty chunk first)")
    bind_state(&c, p, st, vm_base.shape[0])
    c.func = True
    c.locals = c.local = c.blade = c.peer = NULL     # the functional mode never reaches a DRAM
    fx.stall, fx.lat = stall_ps, latency_ps
    fx.stall_ck = stall_ps if stall_ck_ps < 0 else stall_ck_ps
    fx.lat_ck = latency_ps if latency_ck_ps < 0 else latency_ck_ps
    fx.dcnt = <int64_t**>malloc((c.nb + 1) * sizeof(int64_t*))
    if fx.dcnt == NULL:
        raise MemoryError()
    try:
        for b in range(c.nb + 1):
            dc = st[local_prefix(b) + "counters" if b < c.nb else "blade_counters"]
            fx.dcnt[b] = &dc[0]
        bind_blade(&c, c.sc[S_CB])
        if n == 0:
            ran = 0
        elif not p[P_VIRTUAL]:
            with nogil:
                if func_loop_fits(&c):
                    ran = func_loop_paged(&c, &fx, &t_col[0], &addr[0], &op[0], &vm[0], &vm_base[0], n)
                else:
                    ran = func_loop(&c, &fx, &t_col[0], &addr[0], &op[0], &vm[0], &vm_base[0], n)
        else:
            mach = <int64_t*>malloc(n * sizeof(int64_t))
            zero = <int64_t*>calloc(vm_base.shape[0], sizeof(int64_t))
            if mach == NULL or zero == NULL:
                raise MemoryError("virtual addresses of a chunk")
            with nogil:
                k = va_map(&c, &addr[0], &vm[0], &vm_base[0], mach, n, &why)
                if func_loop_fits(&c):
                    ran = func_loop_paged(&c, &fx, &t_col[0], <const uint64_t*>mach, &op[0], &vm[0], zero, k)
                else:
                    ran = func_loop(&c, &fx, &t_col[0], <const uint64_t*>mach, &op[0], &vm[0], zero, k)
            if ran == k < n and not c.sc[S_ERROR]:
                if why == VA_TABLE_FULL:
                    c.sc[S_GROW] = 1
                else:
                    stop(&c, ERR_VM_FULL, vm[k])
                    ran = k + 1
    finally:
        free(fx.dcnt)
        free(mach)
        free(zero)
    c.sc[S_RNG] = <int64_t>c.rng
    return ran
