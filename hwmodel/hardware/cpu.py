"""How trace records become arrival times: open loop (timestamps) or a simple core (gaps + window)."""
from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction

from .._layout import ADDRESSES
from ..units import parse_frequency, parse_time, period_ps


@dataclass(frozen=True)
class CoreModel:
    """The processor side of a trace.

    Timestamped traces run open loop: an access arrives at its timestamp. Traces without time, or
    with gaps (instruction bubbles, cycles), run closed loop: each access issues `gap` after the
    previous one, but at most `window` accesses are outstanding, retired in order (a ROB-like
    window); a full window stalls issue until the oldest access completes.

    `addresses: virtual` treats trace addresses as each VM's virtual addresses: the guest kernel
    maps a virtual page to the VM's next free guest-physical page at its first touch (the
    hypervisor then places guest pages as for physical addresses). `auto` is virtual for the
    formats whose producers record virtual addresses (lackey, ChampSim, prospero; see the
    README's trace table) and physical for the rest and for arrays.
    """
    SECTION = "core"
    timing: str = "auto"        # auto (from the trace) | open | closed
    window: int = 16            # outstanding memory accesses (MLP)
    clock: str = "2GHz"         # CPU clock, for instruction gaps
    cpi: float = 1.0            # cycles per non-memory instruction
    gap: str = "0ns"            # issue gap for traces that carry no time at all
    trace_cycle: str = ""       # one 'cycle' of a cycle-stamped trace; empty = the local DRAM's tCK
    addresses: str = "auto"     # auto (from the trace format) | virtual (mapped at first touch) | physical

    def __post_init__(self):
        if self.timing not in ("auto", "open", "closed"):
            raise ValueError(f"core.timing: {self.timing!r} is not one of 'auto', 'open', 'closed'")
        if not isinstance(self.window, int) or isinstance(self.window, bool) or not 1 <= self.window <= 4096:
            raise ValueError(f"core.window: {self.window!r} must be an integer from 1 to 4096")
        parse_frequency(self.clock, "core.clock")
        if not isinstance(self.cpi, (int, float)) or isinstance(self.cpi, bool) or not self.cpi > 0:
            raise ValueError(f"core.cpi: {self.cpi!r} must be a number > 0")
        if not 1e-6 <= self.cpi <= 1e6:   # a time column in instructions converts exactly through it
            raise ValueError(f"core.cpi: {self.cpi!r} is outside 1e-6 .. 1e6 cycles per instruction")
        period_ps(parse_frequency(self.clock, "core.clock"), "core.clock")
        parse_time(self.gap, "core.gap")
        if self.addresses not in ADDRESSES:
            raise ValueError(f"core.addresses: {self.addresses!r} is not one of "
                             f"{', '.join(map(repr, ADDRESSES))}")
        if self.trace_cycle:
            if parse_time(self.trace_cycle, "core.trace_cycle") == 0:
                raise ValueError(f"core.trace_cycle: {self.trace_cycle!r} must be > 0")

    def ps_per_unit(self, time_unit: str, dram_tck_ps: int) -> Fraction:
        """Picoseconds per unit of a trace's time column."""
        if time_unit == "ps":
            return Fraction(1)
        if time_unit == "ns":
            return Fraction(1000)
        if time_unit == "cycle":
            return Fraction(parse_time(self.trace_cycle, "core.trace_cycle") if self.trace_cycle else dram_tck_ps)
        if time_unit == "instruction":
            return Fraction(str(self.cpi)) * period_ps(parse_frequency(self.clock, "core.clock"), "core.clock")
        raise ValueError(f"trace time unit {time_unit!r} is not one of ps, ns, cycle, instruction")

    def is_virtual(self, trace_addresses: str) -> bool:
        """Whether the run maps trace addresses as virtual ones; `trace_addresses` is what the
        trace's format records (virtual | physical)."""
        if self.addresses == "auto":
            return trace_addresses == "virtual"
        return self.addresses == "virtual"

    def is_closed(self, trace_timing: str) -> bool:
        if self.timing == "auto":
            return trace_timing != "timestamp"
        if self.timing == "open" and trace_timing != "timestamp":
            raise ValueError(f"core.timing: 'open' needs a timestamped trace; this trace's timing is {trace_timing!r}")
        return self.timing == "closed"
