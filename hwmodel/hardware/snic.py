"""The switch NIC (S4): per-VM queues pulled by a link scheduler according to each VM's SLA, and
the network-management device that changes SLAs at run time.

Two descriptions of the same hardware at two fidelities:
- in a system (the `snic` section of `System`: `Snic`, `SnicVM`, `SnicInstruction`): every remote-
  memory message of each compute blade's link (and of the switch port) is scheduled by its VM's
  SLA, in the one-pass core (hwmodel/core/link.pxi and link.py);
- on packet traces (`hwmodel qos`: `SNIC`, `QoSClass`, `LinkScheduler`, `NetworkManager`,
  `Instruction`): an exact event-order scheduler (hwmodel/core/_linksched.pyx, run by
  `hwmodel.core.linksched.run_qos`).

Disciplines are looked up in a registry (`DISCIPLINES`, `register_discipline`): a name maps to the
integer code the exact scheduler switches on (`_layout.SCHED_DISCIPLINES`), so adding one is an
entry, not an edit of Python code paths.
"""
from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field

from .._layout import SCHED_DISCIPLINES
from ..config import build
from ..units import parse_bandwidth, parse_size, parse_time

# ---------------------------------------------------------------------------------------- registry

DISCIPLINES: dict = {}


def register_discipline(name: str, code: int, help: str = "") -> None:
    """Make `name` select core algorithm `code` (an alias or a new algorithm added to the core)."""
    if code not in SCHED_DISCIPLINES.values():
        raise ValueError(f"discipline {name!r}: core code {code} is not implemented by the link scheduler (_linksched) "
                         f"(known codes {sorted(SCHED_DISCIPLINES.values())})")
    DISCIPLINES[name] = (code, help)


for _name, _help in (("fifo", "first come, first served across all VM queues"),
                     ("strict_priority", "lowest priority number first; FIFO within a level"),
                     ("wrr", "weighted round robin: `weight` packets per turn"),
                     ("drr", "deficit round robin: `weight` x quantum bytes per turn"),
                     ("wfq", "weighted fair queuing: GPS virtual finish tags")):
    register_discipline(_name, SCHED_DISCIPLINES[_name], _help)
register_discipline("sp", SCHED_DISCIPLINES["strict_priority"], "alias of strict_priority")


def _int(value, path, lo):
    if not isinstance(value, int) or isinstance(value, bool) or value < lo:
        raise ValueError(f"{path}: {value!r} must be an integer >= {lo}")


# -------------------------------------------------------------------------------------- components

@dataclass(frozen=True)
class QoSClass:
    """The SLA of one VM: its priority class, its share, what it is promised and what it may use.

    priority: strict-priority level, 0 = most important. weight: share under wrr/drr/wfq.
    guaranteed: the rate the SLA promises (checked in management responses). cap, burst: a token
    bucket shaping the VM's traffic (any discipline); no cap = unshaped."""
    SECTION = "qos"
    name: str = "vm"                 # label in results; VM ids are list positions (0, 1, ...)
    priority: int = 0                # strict_priority level, 0 = most important
    weight: int = 1                  # share under wrr (packets) / drr / wfq (bytes)
    guaranteed: str | None = None    # rate the SLA promises, checked in management responses; unset = none
    cap: str | None = None           # token-bucket rate shaping the VM (any discipline); unset = unshaped
    burst: str = "16KiB"             # token-bucket depth

    def __post_init__(self):
        if not isinstance(self.name, str) or not self.name:
            raise ValueError(f"qos.name: {self.name!r} must be a non-empty string")
        _int(self.priority, "qos.priority", 0)
        _int(self.weight, "qos.weight", 1)
        if self.weight > 1 << 20:
            raise ValueError(f"qos.weight: {self.weight} is above the maximum {1 << 20}")
        g = parse_bandwidth(self.guaranteed, "qos.guaranteed") if self.guaranteed is not None else None
        c = parse_bandwidth(self.cap, "qos.cap") if self.cap is not None else None
        if not 0 < parse_size(self.burst, "qos.burst") <= 1 << 40:
            raise ValueError(f"qos.burst: {self.burst!r} must be > 0 and at most 1 TiB")
        if g is not None and c is not None and c < g:
            raise ValueError(f"qos.cap: {self.cap!r} is below the guaranteed rate {self.guaranteed!r}")


SLA = QoSClass


@dataclass(frozen=True)
class LinkScheduler:
    """One direction of the SNIC's link and the discipline that picks the next packet."""
    SECTION = "scheduler"
    discipline: str = "drr"      # fifo | strict_priority (sp) | wrr | drr | wfq
    bandwidth: str = "25Gbps"    # the link direction's rate
    propagation: str = "500ns"   # after serialization, to the far end
    quantum: str = "1500B"       # drr: bytes per turn per unit of weight

    def __post_init__(self):
        if self.discipline not in DISCIPLINES:
            raise ValueError(f"scheduler.discipline: {self.discipline!r} is not one of {', '.join(DISCIPLINES)}")
        parse_bandwidth(self.bandwidth, "scheduler.bandwidth")
        parse_time(self.propagation, "scheduler.propagation")
        if not 0 < parse_size(self.quantum, "scheduler.quantum") <= 1 << 32:
            raise ValueError(f"scheduler.quantum: {self.quantum!r} must be > 0 and at most 4 GiB")


@dataclass(frozen=True)
class SNIC:
    """Switch NIC: one input queue per VM (VM id = queue index), pulled by the link scheduler
    according to each VM's QoS class. queue_depth > 0 bounds every queue (packets waiting);
    an arrival that finds it full is dropped and counted."""
    SECTION = "snic"
    vms: tuple = (QoSClass("vm0"),)      # per VM queue: its SLA (the configuration's `vms:` list)
    scheduler: LinkScheduler = LinkScheduler()   # the link (the configuration's `scheduler:` section)
    queue_depth: int = 0                 # packets each queue holds; an arrival that finds it full is dropped; 0 = unlimited

    def __post_init__(self):
        if not isinstance(self.vms, tuple):
            object.__setattr__(self, "vms", tuple(self.vms))
        if not 1 <= len(self.vms) <= 65535:
            raise ValueError(f"snic.vms: {len(self.vms)} VMs; between 1 and 65535 allowed")
        for i, v in enumerate(self.vms):
            if not isinstance(v, QoSClass):
                raise ValueError(f"snic.vms[{i}]: expected a QoSClass, got {type(v).__name__}")
        if not isinstance(self.scheduler, LinkScheduler):
            raise ValueError(f"snic.scheduler: expected a LinkScheduler, got {type(self.scheduler).__name__}")
        _int(self.queue_depth, "snic.queue_depth", 0)

    def by_priority(self) -> list:
        """VM ids ordered by priority (most important first), ties by VM id."""
        return sorted(range(len(self.vms)), key=lambda i: (self.vms[i].priority, i))


@dataclass(frozen=True)
class Instruction:
    """A management instruction: at time `at`, set the given SLA fields of VM `vm`."""
    SECTION = "instruction"
    at: str                      # simulated time of the change
    vm: int                      # VM id (position in `vms:`)
    priority: int | None = None  # new strict_priority level; unset = unchanged
    weight: int | None = None    # new weight; unset = unchanged
    guaranteed: str | None = None  # new guaranteed rate; unset = unchanged
    cap: str | None = None       # new token-bucket rate; unset = unchanged
    burst: str | None = None     # new token-bucket depth; unset = unchanged
    uncap: bool = False          # remove the VM's cap

    def __post_init__(self):
        parse_time(self.at, "instruction.at")
        _int(self.vm, "instruction.vm", 0)
        if self.priority is not None:
            _int(self.priority, "instruction.priority", 0)
        if self.weight is not None:
            _int(self.weight, "instruction.weight", 1)
        for f in ("guaranteed", "cap"):
            if getattr(self, f) is not None:
                parse_bandwidth(getattr(self, f), f"instruction.{f}")
        if self.burst is not None and not 0 < parse_size(self.burst, "instruction.burst") <= 1 << 40:
            raise ValueError(f"instruction.burst: {self.burst!r} must be > 0 and at most 1 TiB")

    @property
    def at_ps(self) -> int:
        return parse_time(self.at, "instruction.at")

    def apply(self, sla: QoSClass) -> QoSClass:
        changes = {f: getattr(self, f) for f in ("priority", "weight", "guaranteed", "cap", "burst")
                   if getattr(self, f) is not None}
        if self.uncap:
            changes["cap"] = None
        return dataclasses.replace(sla, **changes)


@dataclass(frozen=True)
class NetworkManager:
    """The network-management device: timed instructions (control-plane events) and, optionally,
    a management response every `report_every` besides the one at each instruction and at the end."""
    SECTION = "manager"
    instructions: tuple = ()          # timed SLA changes: [{at: 1ms, vm: 1, weight: 2}, ...]
    report_every: str | None = None   # a management response every this much simulated time; unset = at changes only

    def __post_init__(self):
        if not isinstance(self.instructions, tuple):
            object.__setattr__(self, "instructions", tuple(self.instructions))
        for i, ins in enumerate(self.instructions):
            if not isinstance(ins, Instruction):
                raise ValueError(f"manager.instructions[{i}]: expected an Instruction")
        if self.report_every is not None and parse_time(self.report_every, "manager.report_every") == 0:
            raise ValueError(f"manager.report_every: {self.report_every!r} must be > 0")

    def events(self, end_ps: int) -> list:
        """Sorted (time_ps, instruction or None) control events up to end_ps."""
        ev = [(ins.at_ps, k, ins) for k, ins in enumerate(self.instructions)]
        end_ps = max([end_ps] + [e[0] for e in ev])
        if self.report_every is not None:
            step = parse_time(self.report_every, "manager.report_every")
            ev += [(t, -1, None) for t in range(step, end_ps + 1, step)]
        return [(t, ins) for t, _, ins in sorted(ev, key=lambda e: (e[0], e[1]))]


# ------------------------------------------------------------------------- in a system: `snic`

MAX_BURST = 1 << 40    # a token bucket's depth, bytes (the core keeps it in int64 beside rates)


def _mapping(value, path) -> dict:
    if not isinstance(value, (dict, type(None))):
        raise ValueError(f"{path}: expected a mapping of parameters, got {type(value).__name__}")
    return value or {}


def _opt_int(value, path, lo):
    if value is not None and (not isinstance(value, int) or isinstance(value, bool) or value < lo):
        raise ValueError(f"{path}: {value!r} must be an integer >= {lo}")


@dataclass(frozen=True)
class SnicVM:
    """The SLA of one queue of the SNIC on the memory-blade link: a VM's remote-memory traffic
    (line requests and responses, page requests and transfers, victim write-backs, the blade's
    evictions to storage that its swaps cause), or the `background` queue (service-processor
    checkpoint copies and restores)."""
    SECTION = "vm"
    vm: str = "vm0"              # compute.vms[].name this SLA is for
    priority: int | None = None  # strict_priority level, 0 = most important; unset = compute.vms[].qos
    weight: int = 1              # share of the link under drr / wfq
    cap: str = ""                # token-bucket rate (e.g. "2Gbps"); empty = unshaped
    burst: str = "16KiB"         # token-bucket depth (at least one page transfer's wire bytes)

    def __post_init__(self):
        if not isinstance(self.vm, str) or not self.vm:
            raise ValueError(f"vm.vm: {self.vm!r} must be a VM name")
        _opt_int(self.priority, "vm.priority", 0)
        _opt_int(self.weight, "vm.weight", 1)
        if self.weight > 1 << 20:
            raise ValueError(f"vm.weight: {self.weight} is above the maximum {1 << 20}")
        if self.cap:
            parse_bandwidth(self.cap, "vm.cap")
        if not 0 < parse_size(self.burst, "vm.burst") <= MAX_BURST:
            raise ValueError(f"vm.burst: {self.burst!r} must be > 0 and at most 1 TiB")


@dataclass(frozen=True)
class SnicInstruction:
    """A management instruction of the network manager: at time `at`, set these SLA fields of
    queue `vm` (a VM name, or 'background'). Unset fields keep their value; uncap removes a cap."""
    SECTION = "instruction"
    at: str = "0ns"
    vm: str = "vm0"
    priority: int | None = None
    weight: int | None = None
    cap: str | None = None
    burst: str | None = None
    uncap: bool = False

    def __post_init__(self):
        parse_time(self.at, "instruction.at")
        if not isinstance(self.vm, str) or not self.vm:
            raise ValueError(f"instruction.vm: {self.vm!r} must be a VM name")
        _opt_int(self.priority, "instruction.priority", 0)
        _opt_int(self.weight, "instruction.weight", 1)
        if self.cap is not None:
            parse_bandwidth(self.cap, "instruction.cap")
        if self.burst is not None and not 0 < parse_size(self.burst, "instruction.burst") <= MAX_BURST:
            raise ValueError(f"instruction.burst: {self.burst!r} must be > 0 and at most 1 TiB")
        if not isinstance(self.uncap, bool):
            raise ValueError(f"instruction.uncap: {self.uncap!r} must be true or false")


@dataclass(frozen=True)
class Snic:
    """The switch NIC of each compute blade's link to the memory blade (S4): it schedules every
    message of each link direction by the QoS of the VM it belongs to. `fifo` (default) is one queue
    per direction, first ready first served (a calendar of the link's reservations). With several
    compute blades the discipline also orders the switch's port to the memory blade.
    `strict_priority`: lowest priority number first, non-preemptive, FIFO within a level.
    `drr` / `wfq` (one scheme): each VM's messages leave at its weighted share of the link.
    A `cap` on any queue shapes it with a token bucket (cap, burst) under every discipline.
    `instructions` change SLAs at run time (the network manager)."""
    SECTION = "snic"
    discipline: str = "fifo"     # fifo | strict_priority (sp) | drr | wfq
    vms: tuple = ()              # SLAs by VM name (a list, or a mapping name -> SLA); unlisted VMs: defaults
    background: SnicVM = field(default_factory=lambda: SnicVM(vm="background"))   # checkpoint copies (priority unset: below every VM)
    instructions: tuple = ()     # timed SLA changes: [{at: 2ms, vm: vm1, priority: 0, cap: 1Gbps}]

    def __post_init__(self):
        object.__setattr__(self, "vms", tuple(self.vms))
        object.__setattr__(self, "instructions", tuple(self.instructions))
        if self.discipline not in DISCIPLINES or self.discipline == "wrr":
            allowed = [d for d in DISCIPLINES if d != "wrr"]
            raise ValueError(f"snic.discipline: {self.discipline!r} is not one of {', '.join(allowed)} "
                             f"(wrr counts packets and runs only in the standalone scheduler, hwmodel qos)")
        for i, v in enumerate(self.vms):
            if not isinstance(v, SnicVM):
                raise ValueError(f"snic.vms[{i}]: expected a SnicVM, got {type(v).__name__}")
        names = [v.vm for v in self.vms]
        if len(set(names)) != len(names):
            raise ValueError(f"snic.vms: a VM is listed twice: {names}")
        if not isinstance(self.background, SnicVM):
            raise ValueError("snic.background: expected a SnicVM")
        for i, x in enumerate(self.instructions):
            if not isinstance(x, SnicInstruction):
                raise ValueError(f"snic.instructions[{i}]: expected a SnicInstruction")

    @classmethod
    def from_dict(cls, data, path="snic") -> "Snic":
        if isinstance(data, cls):
            return data
        if not isinstance(data, (dict, type(None))):
            raise ValueError(f"{path}: expected a mapping of parameters, got {type(data).__name__}")
        data = dict(data or {})
        vms = data.get("vms") or []
        if isinstance(vms, dict):   # {vm0: {priority: 0}, ...}
            for k, v in vms.items():
                if not isinstance(v, (dict, type(None))):
                    raise ValueError(f"{path}.vms.{k}: expected a mapping of SLA fields, got {type(v).__name__}")
            vms = [{"vm": k, **(v or {})} for k, v in vms.items()]
        if not isinstance(vms, (list, tuple)):
            raise ValueError(f"{path}.vms: expected a list or a mapping of VM SLAs")
        nested = {
            "vms": lambda v, p: tuple(build(SnicVM, x, f"{p}[{i}]") for i, x in enumerate(vms)),
            "background": lambda v, p: build(SnicVM, {"vm": "background", **_mapping(v, p)}, p),
            "instructions": lambda v, p: tuple(build(SnicInstruction, x, f"{p}[{i}]")
                                               for i, x in enumerate(v or [])),
        }
        if "instructions" in data and not isinstance(data["instructions"], (list, tuple)):
            raise ValueError(f"{path}.instructions: expected a list")
        data["vms"] = vms
        return build(cls, data, path, **nested)

    @property
    def active(self) -> bool:
        """False when the link is plain FIFO (the core's fast path)."""
        return (self.discipline != "fifo" or bool(self.background.cap) or any(v.cap for v in self.vms)
                or any(x.cap for x in self.instructions))
