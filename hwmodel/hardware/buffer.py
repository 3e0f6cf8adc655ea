"""A buffer on the memory blade, between its memory controller and the DRAM modules it fronts (S3)."""
from __future__ import annotations

from dataclasses import dataclass

from ..units import parse_size, parse_time


@dataclass(frozen=True)
class Buffer:
    """A buffer chip on the memory blade. The blade's memory controller finds the buffer that manages
    an address (`MemoryBlade.buffer_of`): the blade's super pages are dealt to its buffers in turn,
    so buffer i of n fronts the modules that hold super pages i, i + n, i + 2n, ...

    A request pays the buffer's `latency`, and takes a command-queue entry until the request is
    done: when every entry is taken, it waits for the oldest one to complete, which back-pressures
    the controller. The data buffer stages the data of the commands queued: one holds at most the
    largest transfer that crosses the blade (a swap unit where pages move, else a line), so
    `data_buffer` bytes bound the queue to data_buffer / that transfer entries as well."""
    SECTION = "buffer"
    queue_depth: int = 0       # command-queue entries; 0 = unlimited
    data_buffer: str = "0B"    # bytes of data it stages for the queued commands; 0B = all they carry
    latency: str = "0ns"       # its own latency per request (e.g. ~5-10 ns for a buffer chip)

    def __post_init__(self):
        if not isinstance(self.queue_depth, int) or isinstance(self.queue_depth, bool) \
                or not 0 <= self.queue_depth <= 65536:
            raise ValueError(f"buffer.queue_depth: {self.queue_depth!r} must be an integer from 0 to 65536")
        parse_size(self.data_buffer, "buffer.data_buffer")
        parse_time(self.latency, "buffer.latency")

    @property
    def latency_ps(self) -> int:
        return parse_time(self.latency, "buffer.latency")

    def entries(self, transfer: int, path: str = "buffer") -> int:
        """Command-queue entries the core gives it when the largest transfer through the blade is
        `transfer` bytes: its queue depth, bounded by what its data buffer stages (0 = unlimited)."""
        data = parse_size(self.data_buffer, f"{path}.data_buffer")
        if not data:
            return self.queue_depth
        if data < transfer:
            raise ValueError(f"{path}.data_buffer: {self.data_buffer} cannot stage one {transfer}-byte transfer "
                             f"(a swap unit crosses the blade whole); give it at least {transfer} B or 0B")
        held = data // transfer
        return min(self.queue_depth, held) if self.queue_depth else held
