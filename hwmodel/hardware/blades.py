"""Blades: the compute blade (local DRAM, its VMs) and the memory blade (remote capacity behind a
protocol agent and its own DRAM)."""
from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field

from .. import _layout as L
from ..config import build
from ..dram import DRAM
from ..units import format_size, log2_exact, parse_size, parse_time
from .buffer import Buffer
from .controller import ControllerPolicy, MemoryController


def dram_from_config(value, path: str) -> DRAM:
    """A DRAM from a preset name, a DRAMsim3 .ini path, or a mapping {preset|ini: ..., field: value}."""
    if isinstance(value, DRAM):
        return value
    if isinstance(value, MemoryController):
        return value.dram
    if value is None:
        return DRAM()
    if isinstance(value, str):
        value = {"ini": value} if value.endswith(".ini") else {"preset": value}
    if not isinstance(value, dict):
        raise ValueError(f"{path}: expected a preset name, an .ini path or a mapping, got {value!r}")
    value = dict(value)
    preset, ini = value.pop("preset", None), value.pop("ini", None)
    try:
        if ini is not None:
            base = DRAM.from_dramsim3_ini(ini)
        elif preset is not None:
            base = DRAM.preset(preset)
        else:
            base = DRAM()
        names = {f.name for f in dataclasses.fields(DRAM)}
        unknown = [k for k in value if k not in names]
        if unknown:
            raise ValueError(f"dram.{unknown[0]}: unknown parameter; allowed: preset, ini, {', '.join(sorted(names))}")
        return dataclasses.replace(base, **value) if value else base
    except ValueError as e:
        msg = str(e)
        raise ValueError(path + msg[len("dram"):] if msg.startswith("dram") else f"{path}: {msg}") from None


def controller_from_config(value, path: str) -> DRAM:
    """The `controller:` spelling of a blade's DRAM: a preset name or DRAMsim3 .ini path (device and
    settings from it), or a mapping {preset|ini: ..., device: <preset, .ini or mapping of device
    fields>, <controller settings>}. Returns the flat DRAM the blade holds."""
    if isinstance(value, dict):
        value = dict(value)
        device = value.pop("device", None)
        policy = {f.name for f in dataclasses.fields(ControllerPolicy)}
        stray = [k for k in value if k not in policy | {"preset", "ini"}]
        if stray:
            raise ValueError(f"{path}.{stray[0]}: not a controller setting; device fields go under "
                             f"{path}.device; settings: device, preset, ini, {', '.join(sorted(policy))}")
        base = dram_from_config(value, path)
        if device is None:
            return base
        if isinstance(device, dict) and not {"preset", "ini"} & device.keys():
            # fields refining the controller's own device
            dev = _prefixed(lambda: base.device.replace(**device), lambda name: f"{path}.device")
        else:
            dev = dram_from_config(device, f"{path}.device").device
        return _prefixed(lambda: base.controller.replace(device=dev).dram,
                         lambda name: path if name in policy else f"{path}.device")
    return dram_from_config(value, path)


def _prefixed(make, where):
    """make(), its 'dram.<name>: ...' errors renamed to where(name) + '.<name>: ...'."""
    try:
        return make()
    except ValueError as e:
        msg = str(e)
        if not msg.startswith("dram."):
            raise
        name = msg[5:].split(":")[0]
        raise ValueError(f"{where(name)}.{msg[5:]}") from None


def _one_controller(data, path):
    """A blade section with its DRAM as `controller:` gets it as `dram:` (one of the two spellings)."""
    if isinstance(data, dict) and "controller" in data:
        if "dram" in data:
            raise ValueError(f"{path}.controller: give the DRAM as controller or as dram, not both")
        data = dict(data)
        data["dram"] = controller_from_config(data.pop("controller"), f"{path}.controller")
    return data


@dataclass(frozen=True)
class VM:
    """A guest virtual machine: its guest-physical memory and the QoS class of its traffic.
    `memory: auto` sizes it from its footprint as it grows: as many pages as it touches, up to what
    its compute blade's local memory and share of the memory blade hold (or without bound with a
    storage tier); the run stops with an error naming what to enlarge when it touches more."""
    SECTION = "vm"
    name: str = ""           # label in per-VM results; default vm0, vm1, ... by trace VM id
    memory: str = "4GiB"     # guest-physical memory (physical trace addresses fall below it), or auto
    qos: int = 0             # QoS class (0 = highest priority)

    def __post_init__(self):
        if self.memory != "auto" and parse_size(self.memory, "vm.memory") == 0:
            raise ValueError(f"vm.memory: {self.memory!r} must be > 0 (or auto)")
        if not isinstance(self.qos, int) or isinstance(self.qos, bool) or self.qos < 0:
            raise ValueError(f"vm.qos: {self.qos!r} must be an integer >= 0")

    @property
    def auto(self) -> bool:
        """Its memory grows with its footprint (memory: auto)."""
        return self.memory == "auto"

    @property
    def memory_bytes(self) -> int:
        if self.auto:
            raise ValueError(f"vm.memory: VM {self.name or '(unnamed)'} is auto-sized; it has no declared size")
        return parse_size(self.memory, "vm.memory")


@dataclass(frozen=True)
class ComputeBlade:
    """A server blade: CPUs, a little local DRAM managed by the hypervisor in pages, and its VMs.
    `compute` is one blade or a list of them sharing the memory blade through the `switch`; trace
    VM ids number their VMs blade after blade."""
    SECTION = "compute"
    name: str = ""                  # label in per-blade results; default cb0, cb1, ... by position
    local_memory: str = "1GiB"      # guest-usable local memory (the hypervisor's temporary page is extra)
    page_size: str = "4KiB"         # the hypervisor's page (and sub page for subpage_swap)
    dram: DRAM = field(default_factory=DRAM)   # local DRAM (or `controller:`): preset name, DRAMsim3 .ini or mapping
    vms: tuple = (VM(),)            # guests; trace VM id i is vms[i]

    def __post_init__(self):
        object.__setattr__(self, "dram", dram_from_config(self.dram, "compute.dram"))
        object.__setattr__(self, "vms", tuple(self.vms))
        log2_exact(self.page_bytes, "compute.page_size")
        if self.page_bytes < 64:
            raise ValueError(f"compute.page_size: {self.page_size} is smaller than the 64 B line the hypervisor "
                             f"moves at least")
        if self.local_bytes % self.page_bytes:
            raise ValueError(f"compute.local_memory: {self.local_memory} is not a whole number of "
                             f"{self.page_size} pages")
        if not self.vms:
            raise ValueError("compute.vms: a compute blade needs at least one VM")
        names = [vm.name for vm in self.vms if vm.name]     # (unnamed ones are named by System)
        if len(set(names)) != len(names):
            raise ValueError(f"compute.vms: VM names must be unique, got {names} (an unnamed VM is named vm<its "
                             f"trace VM id>)")
        if len(self.vms) > 65535:
            raise ValueError("compute.vms: at most 65535 VMs (trace VM ids are 16-bit)")
        need = self.local_bytes + self.page_bytes
        if need > self.dram.capacity_bytes:
            raise ValueError(f"compute.local_memory: {self.local_memory} plus one temporary page does "
                             f"not fit the local DRAM ({self.dram.name}, {format_size(self.dram.capacity_bytes)})")

    @property
    def controller(self) -> MemoryController:
        """The local memory controller and its DRAM device."""
        return self.dram.controller

    @property
    def local_bytes(self) -> int:
        return parse_size(self.local_memory, "compute.local_memory")

    @property
    def page_bytes(self) -> int:
        return parse_size(self.page_size, "compute.page_size")

    @property
    def guest_bytes(self) -> int:
        return sum(vm.memory_bytes for vm in self.vms)

    @classmethod
    def from_dict(cls, data, path="compute"):
        return build(cls, _one_controller(data, path), path, dram=dram_from_config, vms=_vms)


def _vms(value, path):
    if not isinstance(value, (list, tuple)):
        raise ValueError(f"{path}: expected a list of VMs")
    return tuple(build(VM, v, f"{path}[{i}]") for i, v in enumerate(value))


@dataclass(frozen=True)
class PermissionChange:
    """An address-mapping-module request at time `at` about compute blade `blade`'s super page
    `super_page` (its own numbering, 0 = its first): `revoke` (the blade may no longer touch it;
    its hypervisor keeps mapping pages there, their requests are refused), `grant` (it may again),
    `release` (the blade de-allocates it: it returns to the free pool, and the blade's next request
    there allocates a new one, an allocate round trip)."""
    SECTION = "permission"
    at: str = "0ns"
    blade: str = "cb0"       # compute blade name
    super_page: int = 0
    access: str = "revoke"   # revoke | grant | release

    def __post_init__(self):
        parse_time(self.at, "permission.at")
        if not isinstance(self.super_page, int) or isinstance(self.super_page, bool) or self.super_page < 0:
            raise ValueError(f"permission.super_page: {self.super_page!r} must be an integer >= 0")
        if self.access not in L.PERM_ACCESS:
            raise ValueError(f"permission.access: {self.access!r} is not one of {', '.join(L.PERM_ACCESS)}")


@dataclass(frozen=True)
class MemoryBlade:
    """A memory blade: capacity handed out in super pages, a protocol agent that decodes each
    request (agent_latency per request), and DRAM behind its memory controller and `buffers`.
    Capacity 0 means there is no memory blade (with a storage device: the classic swap-to-disk
    system).

    The memory controller finds the buffer that manages an address (super pages are dealt to the
    `buffers` in turn, each buffer fronting its memory modules: `buffer_of`); a request pays that
    buffer's latency and waits for an entry of its command queue (see `Buffer`). The core models
    buffers alike: they differ in the addresses they manage, not in their parameters.

    The address-mapping module hands capacity to compute blades in super pages: all a blade's
    remote memory can need at boot (`allocation: boot`), or one at a time when its hypervisor first
    puts a page there (`on_demand`: an allocate request round trip, charged to that access). A
    request to a super page its blade does not own is refused and counted (permission_faults);
    `strict: true` stops the run with an error instead. `permissions` revoke, grant and release
    (de-allocate) super pages at run time. `agent_occupancy` > 0 keeps the agent busy that long with
    each request, so compute blades contend there."""
    SECTION = "memory_blade"
    capacity: str = "64GiB"          # remote memory it offers; 0B = no memory blade
    super_page: str = "16MiB"        # unit in which capacity is handed to compute blades
    agent_latency: str = "50ns"     # protocol-agent decode + address mapping, per request
    agent_occupancy: str = "0ns"     # agent busy per request (1 / its request rate); 0 = no limit
    allocation: str = "boot"         # boot | on_demand: when super pages are handed to compute blades
    strict: bool = False             # a permission fault stops the run (else: refused and counted)
    permissions: tuple = ()          # [{at: 1ms, blade: cb1, super_page: 0, access: revoke|grant|release}]
    buffers: tuple = (Buffer(),)     # buffers in front of the memory modules: [{queue_depth, data_buffer, latency}, ...]
    dram: DRAM = field(default_factory=lambda: DRAM(channels=2, ranks=4))   # the blade's DRAM (or `controller:`)

    def __post_init__(self):
        object.__setattr__(self, "dram", dram_from_config(self.dram, "memory_blade.dram"))
        cap = self.capacity_bytes
        sp = parse_size(self.super_page, "memory_blade.super_page")
        log2_exact(sp, "memory_blade.super_page")
        if cap % sp:
            raise ValueError(f"memory_blade.capacity: {self.capacity} must be a multiple of the "
                             f"super page ({self.super_page}); 0 means no memory blade")
        if cap > self.dram.capacity_bytes:
            raise ValueError(f"memory_blade.capacity: {self.capacity} exceeds its DRAM "
                             f"({self.dram.name}, {format_size(self.dram.capacity_bytes)})")
        parse_time(self.agent_latency, "memory_blade.agent_latency")
        parse_time(self.agent_occupancy, "memory_blade.agent_occupancy")
        if self.allocation not in ("boot", "on_demand"):
            raise ValueError(f"memory_blade.allocation: {self.allocation!r} is not one of boot, on_demand")
        if not isinstance(self.strict, bool):
            raise ValueError(f"memory_blade.strict: {self.strict!r} must be true or false")
        object.__setattr__(self, "permissions", tuple(self.permissions))
        for i, x in enumerate(self.permissions):
            if not isinstance(x, PermissionChange):
                raise ValueError(f"memory_blade.permissions[{i}]: expected a PermissionChange")
        object.__setattr__(self, "buffers", tuple(self.buffers))
        if not 1 <= len(self.buffers) <= 65536:
            raise ValueError(f"memory_blade.buffers: {len(self.buffers)} buffers; from 1 to 65536 allowed")
        for i, b in enumerate(self.buffers):
            if not isinstance(b, Buffer):
                raise ValueError(f"memory_blade.buffers[{i}]: expected a Buffer, got {type(b).__name__}")
            if b != self.buffers[0]:
                name = next(f for f in ("queue_depth", "data_buffer", "latency")
                            if getattr(b, f) != getattr(self.buffers[0], f))
                raise ValueError(f"memory_blade.buffers[{i}].{name}: {getattr(b, name)!r} differs from buffers[0]'s "
                                 f"{getattr(self.buffers[0], name)!r}; the core models alike buffers (they differ "
                                 f"in the addresses they manage)")

    @property
    def controller(self) -> MemoryController:
        """The blade's memory controller and its DRAM device."""
        return self.dram.controller

    @property
    def capacity_bytes(self) -> int:
        return parse_size(self.capacity, "memory_blade.capacity")

    @property
    def agent_ps(self) -> int:
        return parse_time(self.agent_latency, "memory_blade.agent_latency")

    @property
    def super_page_bytes(self) -> int:
        return parse_size(self.super_page, "memory_blade.super_page")

    def buffer_of(self, address: int) -> int:
        """The buffer that manages a memory-blade address: its super page's turn among them."""
        return (address // self.super_page_bytes) % len(self.buffers)

    @classmethod
    def from_dict(cls, data, path="memory_blade"):
        def perms(v, p):
            if not isinstance(v, (list, tuple)):
                raise ValueError(f"{p}: expected a list")
            return tuple(build(PermissionChange, x, f"{p}[{i}]") for i, x in enumerate(v))
        def buffers(v, p):
            if not isinstance(v, (list, tuple)):
                raise ValueError(f"{p}: expected a list of buffers ({{queue_depth, data_buffer, latency}} each)")
            return tuple(build(Buffer, x, f"{p}[{i}]") for i, x in enumerate(v))
        return build(cls, _one_controller(data, path), path, dram=dram_from_config, permissions=perms,
                     buffers=buffers)
