"""DRAM organisation, timing and address mapping of one memory controller's channel(s).

Timings are integers in cycles of tCK, as JEDEC and DRAMsim3 give them; `tck_ps` converts.
The address mapping is a DRAMsim3-style string read from the most significant field to the least
(`ro` row, `ch` channel, `ra` rank, `bg` bank group, `ba` bank, `co` column); the column field
covers the bytes of one burst too (the low `log2(bus_bytes * BL)` bits are the burst offset).
"""
from __future__ import annotations

from dataclasses import dataclass, fields

from .units import log2_exact

FIELDS = ("ch", "ra", "bg", "ba", "ro", "co")


@dataclass(frozen=True)
class DRAM:
    """One DRAM subsystem behind a memory controller: what it is built of and how fast it answers.

    A row hit costs CL + BL/2 cycles to the last data beat, a closed row tRCD more and a row
    conflict tRP more again; each burst holds the channel's data bus for BL/2 cycles (DDR).
    """
    name: str = "DDR4-2400"
    # organisation
    channels: int = 1
    ranks: int = 2
    bankgroups: int = 4
    banks_per_group: int = 4
    rows: int = 65536
    columns: int = 1024
    device_width: int = 8      # bits per device
    bus_width: int = 64        # bits per channel
    BL: int = 8                # burst length (beats)
    # timing, in cycles of tCK
    tck_ps: int = 833
    CL: int = 17
    CWL: int = 12
    tRCD: int = 17
    tRP: int = 17
    tRAS: int = 39
    tRC: int = 56
    tWR: int = 18
    tRTP: int = 9
    tCCD_S: int = 4
    tCCD_L: int = 6
    tRRD_S: int = 4
    tRRD_L: int = 6
    tFAW: int = 26
    tWTR_S: int = 3
    tWTR_L: int = 9
    tRFC: int = 420
    tREFI: int = 9360
    tRTRS: int = 1
    # controller
    address_mapping: str = "rochrababgco"
    row_policy: str = "open"   # open | closed

    def __post_init__(self):
        for f in fields(self):
            v = getattr(self, f.name)
            if f.type == "int" and (not isinstance(v, int) or isinstance(v, bool) or v < 0):
                raise ValueError(f"dram.{f.name}: {v!r} must be a non-negative integer")
        for name in ("channels", "ranks", "bankgroups", "banks_per_group", "rows", "columns", "BL"):
            log2_exact(getattr(self, name), f"dram.{name}")
        if self.tck_ps <= 0:
            raise ValueError(f"dram.tck_ps: {self.tck_ps} must be > 0")
        if self.row_policy not in ("open", "closed"):
            raise ValueError(f"dram.row_policy: {self.row_policy!r} is not one of 'open', 'closed'")
        self.field_bits()  # validates the mapping string

    # -- derived quantities ---------------------------------------------------------------
    @property
    def bus_bytes(self) -> int:
        return self.bus_width // 8

    @property
    def burst_bytes(self) -> int:
        """Bytes one burst (one column access) moves on the channel: bus width x BL."""
        return self.bus_bytes * self.BL

    @property
    def banks(self) -> int:
        """Banks per channel (all ranks)."""
        return self.ranks * self.bankgroups * self.banks_per_group

    @property
    def row_bytes(self) -> int:
        """Bytes of one row across the rank (a DRAM 'page')."""
        return self.columns * self.bus_bytes

    @property
    def capacity_bytes(self) -> int:
        return self.channels * self.banks * self.rows * self.row_bytes

    @property
    def peak_bytes_per_s(self) -> float:
        """Data-bus peak of all channels: bus bytes x 2 transfers per tCK."""
        return self.channels * self.bus_bytes * 2 * 1e12 / self.tck_ps

    def burst_ps(self) -> int:
        return (self.BL // 2) * self.tck_ps

    def field_bits(self) -> dict:
        """Bit position and width of each field in a byte address: {'ch': (shift, bits), ...}."""
        s = self.address_mapping
        if len(s) != 12 or sorted(s[i:i + 2] for i in range(0, 12, 2)) != sorted(FIELDS):
            raise ValueError(f"dram.address_mapping: {s!r} must name each of {', '.join(FIELDS)} once "
                             f"(DRAMsim3 style, e.g. 'rochrababgco')")
        widths = {
            "ch": log2_exact(self.channels, "dram.channels"),
            "ra": log2_exact(self.ranks, "dram.ranks"),
            "bg": log2_exact(self.bankgroups, "dram.bankgroups"),
            "ba": log2_exact(self.banks_per_group, "dram.banks_per_group"),
            "ro": log2_exact(self.rows, "dram.rows"),
            # columns counted in bus-width units; a burst covers BL of them
            "co": log2_exact(self.columns, "dram.columns") - log2_exact(self.BL, "dram.BL"),
        }
        shift = log2_exact(self.burst_bytes, "dram.burst_bytes")
        out = {}
        for i in range(10, -2, -2):  # least significant field last in the string
            name = s[i:i + 2]
            out[name] = (shift, widths[name])
            shift += widths[name]
        return out
