"""A memory controller: its channels of a DRAM device, and how it schedules them.

What DRAMsim3 reads from `[system]` (channels, address mapping, queues, row-buffer policy,
refresh) and Ramulator 2 splits into Controller, Scheduler, RowPolicy, AddrMapper and
RefreshManager. `MemoryController` holds a `DRAMDevice` and these settings; `DRAM` (in
`hwmodel.dram`) is the same thing flattened into one record, the `dram:` shorthand of a
configuration, and what the core compiles. Each converts to the other (`MemoryController.dram`,
`DRAM.controller`).
"""
from __future__ import annotations

from dataclasses import dataclass, field, fields

from ..units import log2_exact
from .device import DRAMDevice, check_fields, choice

ROW_POLICIES = ("open", "closed", "timeout")
SCHEDULERS = ("fcfs", "frfcfs")
QUEUE_STRUCTURES = ("per_bank", "per_rank")
REFRESH_POLICIES = ("rank_level_staggered", "rank_level_simultaneous", "bank_level_staggered", "none")
MODELS = ("simple", "fast", "detailed")


@dataclass(frozen=True)
class ControllerPolicy:
    """The controller's settings, apart from the device it drives."""
    channels: int = 1           # independent channels, each with its own data bus
    address_mapping: str = "rochrababgco"  # DRAMsim3 string (MSB first) or Ramulator name
    bank_xor: bool = False      # XOR bank bits with low row bits (permutation interleaving)
    row_policy: str = "open"    # open | closed | timeout (a row closes row_timeout cycles after its last access)
    row_timeout: int = 50       # timeout policy: idle cycles before the controller precharges (Ramulator's default)
    scheduler: str = "frfcfs"   # fcfs | frfcfs (first-ready, then first-come)
    queue_structure: str = "per_bank"   # per_bank | per_rank command queues
    trans_queue_size: int = 32  # transactions the controller accepts before it back-pressures
    cmd_queue_size: int = 8     # commands per command queue
    write_buf_size: int = 16    # fast model: buffered writes that start a drain while no read waits (the key of
                                # DRAMsim3 versions after 2981759); it drains regardless when it holds trans_queue_size
    write_low_mark: int = 8     # detailed model: the write buffer also drains when it holds more than this many
                                # writes and no command is queued (DRAMsim3's lower threshold); always when full
    refresh_policy: str = "rank_level_staggered"  # rank_level_staggered | rank_level_simultaneous | none
    # fidelity of the timing model (see hwmodel.memctrl): "detailed" = the memory controller as
    # DRAMsim3 builds it, simulated cycle by cycle where anything happens (transaction queue and
    # write buffer, per-bank or per-rank command queues, FR-FCFS over what is queued, refresh,
    # DRAMsim3's timing table; cross-checked against DRAMsim3 on one configuration and on five
    # variants of it); "fast" = a one-pass approximation of it that answers each request as it
    # comes (several times faster, agrees on light loads, misses queue effects: README);
    # "simple" = per-bank open row and the row-buffer formula (hit CL, closed tRCD + CL, conflict
    # tRP + tRCD + CL; CWL for writes), a per-bank next-column time and a per-channel data bus;
    # no queues, posted writes, refresh, tRAS/tRC/tRRD/tFAW or bus turnarounds. Fastest.
    # The default stays "fast" for now: in a whole system the detailed model answers each request by
    # simulating ahead through every request held past the core's horizon, which page swaps make
    # hundreds long (a page_swap system runs ~100x slower; issue 16 lists it as remaining).
    model: str = "fast"         # fast (one-pass) | detailed (DRAMsim3's controller) | simple (row-buffer formulas)

    POLICY_MAX_COUNT = {"channels": 1024, "trans_queue_size": 65536, "cmd_queue_size": 65536,
                        "write_buf_size": 65536, "write_low_mark": 65536}

    def check_policy(self):
        """The settings' own rules (a `DRAM` runs them on its settings too)."""
        log2_exact(self.channels, "dram.channels")
        choice("row_policy", self.row_policy, ROW_POLICIES)
        if self.row_policy == "timeout" and self.row_timeout < 1:
            raise ValueError(f"dram.row_timeout: {self.row_timeout} cycles; the timeout policy needs >= 1")
        choice("scheduler", self.scheduler, SCHEDULERS)
        choice("queue_structure", self.queue_structure, QUEUE_STRUCTURES)
        choice("refresh_policy", self.refresh_policy, REFRESH_POLICIES)
        choice("model", self.model, MODELS)
        for name in ("trans_queue_size", "cmd_queue_size", "write_buf_size"):
            if getattr(self, name) <= 0:
                raise ValueError(f"dram.{name}: {getattr(self, name)} must be > 0")
        if self.write_low_mark < 0:
            raise ValueError(f"dram.write_low_mark: {self.write_low_mark} must be >= 0")


@dataclass(frozen=True)
class MemoryController(ControllerPolicy):
    """A memory controller and the DRAM device on its channels.

    `MemoryController.from_dramsim3_ini(path)` builds both from one DRAMsim3 file; `preset(name)`
    from a built-in preset. Its figures (capacity, peak bandwidth, address decoding) are its
    `dram`'s, the flat record the core compiles.
    """
    device: DRAMDevice = field(default_factory=DRAMDevice)   # the DRAM on each channel

    def __post_init__(self):
        object.__setattr__(self, "device", DRAMDevice(**self._device_fields(self.device)))
        object.__setattr__(self, "_dram", self._flat())   # validates the whole, as the core needs it

    def _flat(self):
        from ..dram import DRAM
        dev = {f.name: getattr(self.device, f.name) for f in fields(DRAMDevice)}
        return DRAM(**dev, **{f.name: getattr(self, f.name) for f in fields(ControllerPolicy)})

    @property
    def dram(self):
        """This controller and its device as one `DRAM` record (the `dram:` shorthand)."""
        return self._dram

    @property
    def name(self) -> str:
        return self.device.name

    @property
    def capacity_bytes(self) -> int:
        return self._dram.capacity_bytes

    @property
    def peak_bytes_per_s(self) -> float:
        return self._dram.peak_bytes_per_s

    def address_map(self):
        """How an address decodes into channel, rank, bank group, bank, row and column."""
        return self._dram.address_map()

    def replace(self, **changes) -> "MemoryController":
        """A copy with some settings (or `device`) changed; an unknown name is an error."""
        device = changes.pop("device", None)
        policy = {f.name for f in fields(ControllerPolicy)}
        for k in changes:
            if k not in policy:
                raise ValueError(f"controller.{k}: not a controller setting (a device field is changed "
                                 f"through device=...); settings: device, {', '.join(sorted(policy))}")
        return self._dram.replace(**changes, **(self._device_fields(device) if device else {})).controller

    @staticmethod
    def _device_fields(device) -> dict:
        if not isinstance(device, DRAMDevice):
            raise ValueError(f"controller.device: expected a DRAMDevice, got {type(device).__name__}")
        return {f.name: getattr(device, f.name) for f in fields(DRAMDevice)}

    def spec(self) -> dict:
        """As a configuration gives it: the preset and the settings that differ from it, the
        device's differing fields under `device` (every field when the name is not a preset's)."""
        flat = self._dram.spec()
        policy = {f.name for f in fields(ControllerPolicy)} | {"preset"}
        out = {k: v for k, v in flat.items() if k in policy}
        device = {k: v for k, v in flat.items() if k not in policy}
        if device:
            out["device"] = device
        return out

    @classmethod
    def preset(cls, name: str, **overrides) -> "MemoryController":
        """A built-in preset's device with the preset's controller settings."""
        from ..dram import DRAM
        return DRAM.preset(name, **overrides).controller

    @classmethod
    def from_dramsim3_ini(cls, path, strict: bool = True, **overrides) -> "MemoryController":
        """The controller and device one DRAMsim3 configuration file describes (all its sections)."""
        from ..dram import DRAM
        return DRAM.from_dramsim3_ini(path, strict, **overrides).controller
