"""The hypervisor of a compute blade: where guest pages live and how remote ones are reached."""
from __future__ import annotations

from dataclasses import dataclass

from .._layout import PLACEMENTS, POLICIES, VICTIMS
from ..units import log2_exact, parse_size, parse_time


def _choice(value, allowed: dict, path: str):
    if value not in allowed:
        raise ValueError(f"{path}: {value!r} is not one of {', '.join(repr(k) for k in allowed)}")


@dataclass(frozen=True)
class Hypervisor:
    """Placement and swapping of guest memory between local DRAM and the memory blade.

    Policies: `static` (guest address below local memory size is local, the rest is reached a line
    at a time), `fgra` (pages placed once, remote ones reached a line at a time through a coherence
    filter), `page_swap` (a remote page traps and is swapped with a victim page), `subpage_swap`
    (super pages of sub pages; a remote sub page is swapped with the local sub page at the same
    offset in one of the local super pages). A swap costs `trap` before the transfer and
    `map_update` after it.
    """
    SECTION = "hypervisor"
    policy: str = "page_swap"        # static | fgra | page_swap | subpage_swap
    victim: str = "lru"              # lru (exact) | clock | fifo | random (seeded)
    placement: str = "first_touch"   # first_touch: free local frames at first touch; low: guest-physical order, all at boot
    trap: str = "1us"                # VM exit + fault handler before the transfer starts
    map_update: str = "100ns"        # page-table / super-page-table update and TLB shootdown after it
    fgra_filter: str = "20ns"        # coherence-filter lookup before a fine-grained remote access
    super_page: str = "2MiB"         # subpage_swap: super-page size (sub page = compute page size)
    critical_block_first: bool = False  # the faulting line is forwarded as soon as its packet arrives
    seed: int = 1                    # random victim choice

    def __post_init__(self):
        _choice(self.policy, POLICIES, "hypervisor.policy")
        _choice(self.victim, VICTIMS, "hypervisor.victim")
        _choice(self.placement, PLACEMENTS, "hypervisor.placement")
        for name in ("trap", "map_update", "fgra_filter"):
            parse_time(getattr(self, name), f"hypervisor.{name}")
        log2_exact(parse_size(self.super_page, "hypervisor.super_page"), "hypervisor.super_page")
        if not isinstance(self.critical_block_first, bool):
            raise ValueError(f"hypervisor.critical_block_first: {self.critical_block_first!r} must be true or false")
        if not isinstance(self.seed, int) or isinstance(self.seed, bool) or not 0 <= self.seed < 2**63:
            raise ValueError(f"hypervisor.seed: {self.seed!r} must be an integer in [0, 2**63)")

    @property
    def super_page_bytes(self) -> int:
        return parse_size(self.super_page, "hypervisor.super_page")
