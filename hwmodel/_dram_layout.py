"""Flat layout of one DRAM subsystem (a memory controller and its channels) as the core sees it:
parameter indices, counter names and state arrays. Shared by `_dram.pxi` (compiled) and
`_dram_reference.py` (Python twin); setup.py generates the Cython enums from this file.
"""
import numpy as np

DRAM_NAMES = (
    "CH_SHIFT", "CH_MASK", "RA_SHIFT", "RA_MASK", "BG_SHIFT", "BG_MASK", "BA_SHIFT", "BA_MASK",
    "RO_SHIFT", "RO_MASK",
    "BG_XSHIFT", "BG_XMASK", "BA_XSHIFT", "BA_XMASK",   # XOR bank hashing: field ^= (addr >> xshift) & xmask
    "BG_BITS", "BA_BITS",    # to flatten (rank, bank group, bank) into one bank index
    "N_CH", "N_BANKS",       # channels; banks per channel
    "T_CL", "T_CWL", "T_RCD", "T_RP", "T_BURST",   # ps
    "BURST_BYTES", "BURST_SHIFT",
    "LINE_BURSTS",           # bursts to move one cache line
    "SEG_SHIFT",             # log2 of the largest aligned run of bytes in one (channel, bank, row)
    "CLOSED",                # 1 = closed-page policy
)
D = {name: i for i, name in enumerate(DRAM_NAMES)}

DRAM_COUNTER_NAMES = ("row_hits", "row_misses", "row_conflicts", "dram_bytes")
DC = {name: i for i, name in enumerate(DRAM_COUNTER_NAMES)}


def new_dram_state(d: np.ndarray) -> dict:
    """Fresh state arrays of one DRAM subsystem from its parameter vector (names without prefix)."""
    n_ch, n_banks = int(d[D["N_CH"]]), int(d[D["N_BANKS"]])
    return {
        "open_row": np.full(n_ch * n_banks, -1, np.int64),   # per bank, channel-major; -1 = precharged
        "bank_free": np.zeros(n_ch * n_banks, np.int64),     # per bank: earliest next column command, ps
        "bus_free": np.zeros(n_ch, np.int64),                # per channel: data bus free, ps
        "counters": np.zeros(len(DRAM_COUNTER_NAMES), np.int64),
    }
