"""The service processor: a controller on the compute blade's board, with its own memory controller
to the same DRAM, that checkpoints memory while the host runs and restores it after a failure (S6)."""
from __future__ import annotations

from dataclasses import dataclass, field

from .._layout import CK_REGIMES, CK_TARGETS
from ..dram import DRAM
from ..units import parse_bandwidth, parse_time


@dataclass(frozen=True)
class ServiceProcessor:
    """Checkpoints every `interval` of simulated time. Pages are read through the service
    processor's own memory controller, contending for the same banks and data bus as the host, at
    most one swap unit per `copy_bandwidth` slot of its DMA engine, and written to `target`.

    Regimes: `stop_and_copy` stops the host and copies every resident page; `incremental` stops
    the host and copies the pages written since the last checkpoint; `cow` (copy on write) copies
    those in the background while the host runs, and a host write to a page not yet copied copies
    it first. `fail_at` injects a failure: the last completely stored checkpoint (one still being
    written is never used) is fetched back into local DRAM and the host resumes after it; lost
    work is the time since that checkpoint was taken.

    With several compute blades every blade has its own service processor with these settings,
    its own checkpoint area (on the memory blade, above its slots; on a peer, after the blades
    before it) and host; `fail_blade` names the blade that fails (default: the first).
    """
    SECTION = "service"
    regime: str = "none"            # none | stop_and_copy | incremental | cow
    interval: str = "1ms"
    target: str = "memory_blade"    # memory_blade | storage | peer (another node's memory over the link)
    setup: str = "2us"              # to start a checkpoint or a restore (pause, scan, set up DMA)
    copy_bandwidth: str = "4GB/s"   # the service processor's DMA engine
    fail_at: str = ""               # simulated time of an injected failure; empty = none
    fail_blade: str = ""            # the compute blade that fails; empty = the first
    peer_latency: str = "1us"       # peer target: one way through the switch and the peer's NIC
    peer_dram: DRAM = field(default_factory=DRAM)   # peer target: the peer node's memory

    def __post_init__(self):
        if self.regime not in CK_REGIMES:
            raise ValueError(f"service.regime: {self.regime!r} is not one of {', '.join(map(repr, CK_REGIMES))}")
        if self.target not in CK_TARGETS:
            raise ValueError(f"service.target: {self.target!r} is not one of {', '.join(map(repr, CK_TARGETS))}")
        if self.enabled and parse_time(self.interval, "service.interval") == 0:
            raise ValueError(f"service.interval: {self.interval!r} must be > 0")
        parse_time(self.setup, "service.setup")
        parse_bandwidth(self.copy_bandwidth, "service.copy_bandwidth")
        if self.fail_at:
            parse_time(self.fail_at, "service.fail_at")
        parse_time(self.peer_latency, "service.peer_latency")

    @classmethod
    def from_dict(cls, data, path="service"):
        from .blades import dram_from_config
        from ..config import build
        return build(cls, data, path, peer_dram=dram_from_config)

    @property
    def enabled(self) -> bool:
        return self.regime != "none"

    @property
    def fail_at_ps(self) -> int:
        return parse_time(self.fail_at, "service.fail_at") if self.fail_at else -1
