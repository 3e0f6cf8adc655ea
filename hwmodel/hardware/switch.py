"""The switch in front of the memory blade, shared by several compute blades' links (S4)."""
from __future__ import annotations

from dataclasses import dataclass

from ..units import MAX_TIME_PS, parse_bandwidth, parse_time


@dataclass(frozen=True)
class Switch:
    """The switch in front of the memory blade when several compute blades share it (S4): each
    blade's link ends at the switch; a message crosses it in `latency` (store and forward), then
    serializes on the one port to the memory blade at `port_bandwidth`, in each direction on a
    calendar (the first idle time that holds it). That port is where the compute blades contend."""
    SECTION = "switch"
    latency: str = "100ns"           # traversal, input to output, plus the cable to the memory blade
    port_bandwidth: str = "16GB/s"   # per direction, wire bytes (same framing as the links)

    def __post_init__(self):
        parse_time(self.latency, "switch.latency")
        parse_bandwidth(self.port_bandwidth, "switch.port_bandwidth")

    @property
    def latency_ps(self) -> int:
        return parse_time(self.latency, "switch.latency")

    def ps_per_byte(self, max_wire: int = 1) -> tuple:
        """(numerator, denominator) of the port's ps per wire byte, exact. The core computes
        ceil(wire x numerator / denominator) in int64: refused when that could overflow for a
        message of `max_wire` bytes, or take longer than MAX_TIME_PS."""
        f = 10**12 / parse_bandwidth(self.port_bandwidth, "switch.port_bandwidth")
        if max_wire * f.numerator >= 1 << 62 or f.denominator >= 1 << 62 or max_wire * f > MAX_TIME_PS:
            raise ValueError(f"switch.port_bandwidth: {self.port_bandwidth!r} cannot be represented exactly for "
                             f"messages of up to {max_wire} bytes; round it")
        return f.numerator, f.denominator
