"""Driving the DRAM subsystem model alone (`dram_run`), for the memory-controller tests."""
import numpy as np

import hwmodel._core as core
import hwmodel.core.dram as ref
from hwmodel import _dram_layout as L
from hwmodel.dram import DRAM
from hwmodel.memctrl import dram_params


def run(dram, t, addr, w=None, backend="compiled", st=None, activity=False):
    """Completion times (ps) of line requests; returns (out, state, counters). `activity`
    compiles the DRAM with rank-activity accounting (energy)."""
    p = dram_params(dram, activity=activity)
    st = L.new_dram_state(p) if st is None else st
    t = np.ascontiguousarray(t, np.int64)
    addr = np.ascontiguousarray(addr, np.int64)
    w = np.zeros(len(t), np.uint8) if w is None else np.ascontiguousarray(w, np.uint8)
    out = np.zeros(len(t), np.int64)
    (core if backend == "compiled" else ref).dram_run(p, st, "", t, addr, w, out)
    return out, st, dict(zip(L.DRAM_COUNTER_NAMES, st["counters"].tolist()))


def row_stride(d: DRAM) -> int:
    """Bytes between consecutive rows of one bank."""
    return 1 << d.field_bits()["ro"][0]


def activity(dram, st, h, backend="compiled"):
    """Per rank, ps with a bank open in [0, h) (-1: folded past h) of a state run with activity."""
    out = np.zeros(dram.channels * dram.ranks, np.int64)
    (core if backend == "compiled" else ref).dram_activity(dram_params(dram, activity=True), st, "", h, out)
    return out.tolist()
