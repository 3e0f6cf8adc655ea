"""The link between a compute blade and the memory blade (or the switch in front of it)."""
from __future__ import annotations

from dataclasses import dataclass

from ..units import parse_bandwidth, parse_size, parse_time, transfer_ps


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
