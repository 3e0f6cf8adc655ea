"""Links between the compute blades and the memory blade, and the switch between them."""
from __future__ import annotations

from dataclasses import dataclass

from .units import MAX_TIME_PS, parse_bandwidth, parse_size, parse_time, transfer_ps


@dataclass(frozen=True)
class Link:
    """A full-duplex link: each direction serializes one packet at a time at `bandwidth`, then it
    propagates for `latency`. Payloads are cut into packets of at most `max_payload` bytes, each
    with `header_bytes` of protocol overhead (default: PCIe-like TLP header, sequence and CRC)."""
    SECTION = "link"
    bandwidth: str = "8GB/s"     # per direction, raw payload+header bytes
    latency: str = "250ns"       # one-way propagation through PHYs and switch
    header_bytes: int = 24
    max_payload: str = "256B"

    def __post_init__(self):
        parse_bandwidth(self.bandwidth, "link.bandwidth")
        parse_time(self.latency, "link.latency")
        if not isinstance(self.header_bytes, int) or isinstance(self.header_bytes, bool) or self.header_bytes < 0:
            raise ValueError(f"link.header_bytes: {self.header_bytes!r} must be an integer >= 0")
        if self.header_bytes > 1 << 20:
            raise ValueError(f"link.header_bytes: {self.header_bytes} is above the maximum {1 << 20}")
        if parse_size(self.max_payload, "link.max_payload") == 0:
            raise ValueError(f"link.max_payload: {self.max_payload!r} must be > 0")

    @property
    def max_payload_bytes(self) -> int:
        return parse_size(self.max_payload, "link.max_payload")

    @property
    def latency_ps(self) -> int:
        return parse_time(self.latency, "link.latency")

    def wire_bytes(self, payload: int) -> int:
        """Bytes on the wire for a message carrying `payload` bytes (0 = a header-only request)."""
        packets = max(1, -(-payload // self.max_payload_bytes))
        return payload + packets * self.header_bytes

    def serialize_ps(self, wire: int) -> int:
        return transfer_ps(wire, parse_bandwidth(self.bandwidth, "link.bandwidth"), "link.bandwidth")


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
