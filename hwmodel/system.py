"""A whole system: compute blades with their hypervisor and links, a memory blade (behind a switch
when several blades share it); compiled once to the flat numbers of the core and run over a trace
chunk by chunk."""
from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from fractions import Fraction
from pathlib import Path

import numpy as np
import yaml

from . import _layout as L
from .config import apply_overrides, build, check_size, load_yaml, to_plain
from .core.engine import Compiled, load_state, save_state
from .core.sampler import Sampling
from .hardware.blades import ComputeBlade, MemoryBlade
from .hardware.cache import Cache
from .hardware.cpu import CoreModel
from .hardware.hypervisor import Hypervisor
from .hardware.link import Link
from .hardware.protocol import ProtocolAgent
from .hardware.service import ServiceProcessor
from .hardware.snic import DISCIPLINES, Snic, SnicVM
from .hardware.storage import IODriver, StorageDevice
from .hardware.switch import Switch
from .memctrl import LINE_BYTES, dram_params
from .units import MAX_BYTES, format_size, log2_exact, parse_bandwidth, parse_size, parse_time, transfer_ps

SECTIONS = ("compute", "hypervisor", "memory_blade", "protocol", "link", "switch", "core", "cache", "storage",
            "io_driver", "service", "snic", "sampling")


def _default_section(parts) -> dict | None:
    """What a section is when a configuration leaves it out, as `-p` overrides refine it: a DRAM
    as its preset plus the fields its owner changes (the memory blade's has 2 channels of 4 ranks),
    anything else as its defaults (None: build it from nothing)."""
    from .dram import DRAM
    from .hardware.controller import MemoryController
    obj = System()
    for part in parts:
        if isinstance(obj, tuple):
            obj = obj[int(part)] if part.lstrip("-").isdigit() and -len(obj) <= int(part) < len(obj) else None
        else:
            obj = getattr(obj, part, None)
        if obj is None:
            return None
    return obj.spec() if isinstance(obj, (DRAM, MemoryController)) else None


def compile_snic(snic: Snic, vms, wire_max: int) -> tuple:
    """(discipline code, levels, SLA table [n_vm + 1, SLA_FIELDS], events [n, EVENT_FIELDS]) of
    the core. Priorities compile to dense levels over every priority that can occur."""
    from fractions import Fraction

    rname = {v: k for k, v in L.SCHED_DISCIPLINES.items()}[DISCIPLINES[snic.discipline][0]]
    code = L.LINK_DISCIPLINES.get(rname, L.LINK_DISCIPLINES["fair"])
    names = [vm.name for vm in vms]
    by_name = {v.vm: v for v in snic.vms}
    for i, v in enumerate(snic.vms):
        if v.vm not in names:
            raise ValueError(f"snic.vms[{i}].vm: {v.vm!r} is not a VM of compute.vms ({', '.join(names)})")
    slas = []   # mutable dicts: priority, weight, cap, burst
    for i, vm in enumerate(vms):
        v = by_name.get(vm.name, SnicVM(vm=vm.name))
        slas.append({"priority": vm.qos if v.priority is None else v.priority, "weight": v.weight,
                     "cap": v.cap, "burst": v.burst, "path": f"snic.vms.{vm.name}"})
    bg = snic.background
    events = []
    for k, x in enumerate(snic.instructions):
        if x.vm != "background" and x.vm not in names:
            raise ValueError(f"snic.instructions[{k}].vm: {x.vm!r} is not a VM of compute.vms "
                             f"({', '.join(names)}) or 'background'")
        events.append((parse_time(x.at), k, x))
    events.sort(key=lambda e: (e[0], e[1]))
    prios = {s["priority"] for s in slas} | {x.priority for _, _, x in events if x.priority is not None}
    bg_prio = bg.priority if bg.priority is not None else max(prios) + 1
    slas.append({"priority": bg_prio, "weight": bg.weight, "cap": bg.cap, "burst": bg.burst,
                 "path": "snic.background"})
    prios.add(bg_prio)
    level = {p: i for i, p in enumerate(sorted(prios))}

    def row(s):
        num, den, burst = 0, 1, parse_size(s["burst"], s["path"] + ".burst")
        if s["cap"]:
            f = Fraction(10**12) / parse_bandwidth(s["cap"], s["path"] + ".cap")
            num, den = f.numerator, f.denominator
            if den >= 2**40 or burst * num >= 2**61:
                raise ValueError(f"{s['path']}.cap: {s['cap']!r} with burst {s['burst']!r} cannot be "
                                 f"represented exactly; round the rate")
            if burst < wire_max:
                raise ValueError(f"{s['path']}.burst: {s['burst']!r} is below the largest message on the "
                                 f"link ({wire_max} wire bytes: a swap unit with its headers); the bucket "
                                 f"could never send it")
        return [level[s["priority"]], s["weight"], num, den, burst]

    table = [row(s) for s in slas]
    ev = []
    for t, k, x in events:
        q = len(vms) if x.vm == "background" else names.index(x.vm)
        s = slas[q]
        for f in ("priority", "weight", "cap", "burst"):
            if getattr(x, f) is not None:
                s[f] = getattr(x, f)
        if x.uncap:
            s["cap"] = ""
        s["path"] = f"snic.instructions[{k}]"
        ev.append([t, q] + row(s))
    return code, len(level), np.array(table, np.int64).reshape(-1), np.array(ev, np.int64).reshape(-1)


def _check_fair_weights(table, ev, ser_ps, switch, wire):
    """drr / wfq: the core spaces a message by ser x (weights of the busy queues) / its weight in
    int64; refuse weights and serialization times whose product could overflow."""
    w = len(L.SLA_FIELDS)
    weights = table.reshape(-1, w)[:, L.SLA_FIELDS.index("WEIGHT")].copy()
    for row in ev.reshape(-1, len(L.EVENT_FIELDS)):
        q = int(row[1])
        weights[q] = max(weights[q], row[2 + L.SLA_FIELDS.index("WEIGHT")])
    if switch is not None:
        num, den = Fraction(10**12) / parse_bandwidth(switch.port_bandwidth, "switch.port_bandwidth"), 1
        ser_ps = max(ser_ps, -(-wire * num.numerator // num.denominator))
    total = int(weights.astype(object).sum())
    if ser_ps * total >= 1 << 62:
        raise ValueError(f"snic.vms: weights adding up to {total} times the longest message's serialization "
                         f"({ser_ps} ps) overflow the fair scheduler's arithmetic; use smaller weights or a faster "
                         f"link")


@dataclass(frozen=True)
class System:
    """Composition of the hardware; `run(trace)` simulates it and returns a `Result`.

    `compute` is one compute blade, or a tuple of them sharing the memory blade through `switch`
    (a default `Switch()` when there are several and none is given). Every blade has its own local
    DRAM, hypervisor state (same policy and page size), link (same `link`/`protocol`) and LLC
    (same `cache`); trace VM ids number the blades' VMs in order."""
    compute: ComputeBlade | tuple = field(default_factory=ComputeBlade)
    hypervisor: Hypervisor = field(default_factory=Hypervisor)
    memory_blade: MemoryBlade = field(default_factory=MemoryBlade)
    link: Link = field(default_factory=Link)
    protocol: ProtocolAgent | None = None   # if set: the link's bandwidth, headers, payload and
    #                                         PHY/codec latency come from it; link.latency is propagation
    core: CoreModel = field(default_factory=CoreModel)
    cache: Cache = field(default_factory=Cache)
    storage: StorageDevice = field(default_factory=StorageDevice)
    io_driver: IODriver = field(default_factory=IODriver)
    service: ServiceProcessor = field(default_factory=ServiceProcessor)
    snic: Snic = field(default_factory=Snic)
    switch: Switch | None = None
    sampling: Sampling = field(default_factory=Sampling)   # sampled simulation (not hardware: how to run it)

    def __post_init__(self):
        blades = self.compute if isinstance(self.compute, tuple) else (self.compute,)
        if not blades or not all(isinstance(b, ComputeBlade) for b in blades):
            raise ValueError("compute: expected a compute blade or a list of them")
        names = self.blade_names
        if len(set(names)) != len(names):
            raise ValueError(f"compute: compute-blade names must be unique, got {names}")
        if any(not vm.name for vm in self.vms):     # unnamed VMs: vm<trace VM id>
            ids = iter(range(len(self.vms)))
            named = tuple(dataclasses.replace(b, vms=tuple(vm if vm.name else dataclasses.replace(vm, name=f"vm{i}")
                                               for vm, i in zip(b.vms, ids))) for b in blades)
            object.__setattr__(self, "compute", named if isinstance(self.compute, tuple) else named[0])
            blades = named
        for i, b in enumerate(blades[1:], 1):
            if b.page_size != blades[0].page_size:
                raise ValueError(f"compute[{i}].page_size: {b.page_size} differs from compute[0]'s "
                                 f"{blades[0].page_size}; the hypervisor pages every blade alike")
        vms = [vm.name for vm in self.vms]
        if len(set(vms)) != len(vms):
            raise ValueError(f"compute: VM names must be unique over all compute blades, got {vms} (an unnamed "
                             f"VM is named vm<its trace VM id>)")
        if len(vms) > 65535:
            raise ValueError("compute: at most 65535 VMs in all (trace VM ids are 16-bit)")
        if self.service.fail_blade and self.service.fail_blade not in names:
            raise ValueError(f"service.fail_blade: {self.service.fail_blade!r} is not a compute blade "
                             f"({', '.join(names)})")
        for i, x in enumerate(self.memory_blade.permissions):
            if x.blade not in names:
                raise ValueError(f"memory_blade.permissions[{i}].blade: {x.blade!r} is not a compute blade "
                                 f"({', '.join(names)})")
        if self.protocol is not None:
            unset = Link(latency=self.link.latency)
            for f in ("bandwidth", "header_bytes", "max_payload"):
                if getattr(self.link, f) != getattr(unset, f):
                    raise ValueError(f"link.{f}: set by protocol ({self.protocol.name}); with a protocol, "
                                     f"link takes only latency (propagation and switches)")
        from .core.engine import check_state_size
        # cross-component checks, and the size of the state a run needs, fail at construction (for
        # any trace: a timestamped one suits every core.timing, and timing does not size the state)
        check_state_size(self.compile("timestamp"))

    @property
    def blades(self) -> tuple:
        """The compute blades, in order (trace VM ids number their VMs in this order)."""
        return self.compute if isinstance(self.compute, tuple) else (self.compute,)

    @property
    def blade_names(self) -> list:
        return [b.name or f"cb{i}" for i, b in enumerate(self.blades)]

    @property
    def vms(self) -> tuple:
        """Every VM of every compute blade; index = trace VM id."""
        return tuple(vm for b in self.blades for vm in b.vms)

    def vm_blade(self) -> list:
        """Compute blade index of each VM."""
        return [k for k, b in enumerate(self.blades) for _ in b.vms]

    def effective_switch(self) -> Switch | None:
        """The switch the core runs: the configured one, a default one for several blades, or none."""
        if self.switch is None and len(self.blades) > 1:
            return Switch()
        return self.switch

    # -- construction ----------------------------------------------------------------------
    @classmethod
    def from_dict(cls, data: dict, overrides=()) -> "System":
        data = dict(data or {})
        if any(o.startswith("compute.vms.") for o in overrides or ()) and not isinstance(data.get("compute"), list):
            # the VM list is the one list in a configuration: let -p address the default one too
            compute = dict(data.get("compute") or {})
            compute.setdefault("vms", to_plain(ComputeBlade().vms))
            data["compute"] = compute
        try:
            data = apply_overrides(data, overrides, _default_section)
        except RecursionError:
            raise ValueError("-p: a value is nested too deeply") from None
        check_size(data, "configuration")
        unknown = [k for k in data if k not in SECTIONS]
        if unknown:
            raise ValueError(f"{unknown[0]}: unknown section; allowed: {', '.join(SECTIONS)}")
        protocol = ProtocolAgent.from_config(data.get("protocol"))
        link_data = data.get("link")
        if protocol is not None:
            link_data = dict(link_data or {})
            taken = [k for k in link_data if k != "latency"]
            if taken:
                raise ValueError(f"link.{taken[0]}: set by protocol ({protocol.name}); with a protocol, "
                                 f"link takes only latency (propagation and switches)")
            link_data.setdefault("latency", "0ns")   # PHY and codec time are the protocol's
        compute = data.get("compute")
        if isinstance(compute, list):
            if not compute:
                raise ValueError("compute: an empty list; give at least one compute blade")
            compute = tuple(ComputeBlade.from_dict(b, f"compute[{i}]") for i, b in enumerate(compute))
        else:
            compute = ComputeBlade.from_dict(compute)
        return cls(
            compute=compute,
            hypervisor=build(Hypervisor, data.get("hypervisor"), "hypervisor"),
            memory_blade=MemoryBlade.from_dict(data.get("memory_blade")),
            link=build(Link, link_data, "link"),
            protocol=protocol,
            core=build(CoreModel, data.get("core"), "core"),
            cache=build(Cache, data.get("cache"), "cache"),
            storage=build(StorageDevice, data.get("storage"), "storage"),
            io_driver=build(IODriver, data.get("io_driver"), "io_driver"),
            service=ServiceProcessor.from_dict(data.get("service")),
            snic=Snic.from_dict(data.get("snic")),
            switch=None if data.get("switch") is None else build(Switch, data.get("switch"), "switch"),
            sampling=Sampling.from_dict(data.get("sampling")),
        )

    @classmethod
    def from_yaml(cls, path, overrides=()) -> "System":
        data = load_yaml(path)
        try:
            return cls.from_dict(data, overrides)
        except ValueError as e:
            raise ValueError(f"{path}: {e}") from None

    def to_dict(self) -> dict:
        d = to_plain(self)
        if self.switch is None:
            del d["switch"]
        if self.protocol is None:
            del d["protocol"]
        else:
            d["link"] = {"latency": self.link.latency}
        return d

    def effective_link(self) -> Link:
        """The link the core runs: the protocol's numbers when one is set."""
        return self.protocol.to_link(self.link.latency) if self.protocol is not None else self.link

    def to_yaml(self, path=None) -> str:
        text = yaml.safe_dump(self.to_dict(), sort_keys=False)
        if path is not None:
            Path(path).write_text(text)
        return text

    def replace(self, **sections) -> "System":
        return dataclasses.replace(self, **sections)

    # -- compilation -----------------------------------------------------------------------
    def _layout(self) -> dict:
        """Sizes in swap units, checked against each other; names the parameter that is wrong.
        Per compute blade ("rows"): guest, local and remote bytes, frames per set, memory-blade
        slots per set and super pages of its blade-address space."""
        hv, mb, sv = self.hypervisor, self.memory_blade, self.service
        blades = self.blades
        multi = len(blades) > 1
        page = blades[0].page_bytes
        if hv.policy == "subpage_swap":
            unit, sp = page, hv.super_page_bytes
            if sp <= page:
                raise ValueError(f"hypervisor.super_page: {hv.super_page} must be larger than its sub page "
                                 f"(compute.page_size = {blades[0].page_size})")
            n_sets = sp // page
            granule, granule_name = sp, "hypervisor.super_page"
        else:
            unit, n_sets, granule, granule_name = page, 1, page, "compute.page_size"
        spb, cap = mb.super_page_bytes, mb.capacity_bytes
        if spb < unit:
            raise ValueError(f"memory_blade.super_page: {mb.super_page} is smaller than the swap unit "
                             f"({format_size(unit)}); a swap unit must fit one super page")
        rows = []
        for i, cb in enumerate(blades):
            at = f"compute[{i}]" if multi else "compute"
            for j, vm in enumerate(cb.vms):
                if vm.auto and hv.policy == "static":
                    raise ValueError(f"{at}.vms[{j}].memory: auto needs the hypervisor's page table; "
                                     f"hypervisor.policy 'static' splits guest memory by address: give the VM a size")
                if vm.auto and hv.placement == "low":
                    raise ValueError(f"hypervisor.placement: 'low' places every guest page at boot and needs every "
                                     f"VM's size, but {at}.vms[{j}].memory is auto (use first_touch)")
                if not vm.auto and vm.memory_bytes % granule:
                    raise ValueError(f"{at}.vms[{j}].memory: {vm.memory} is not a multiple of {granule_name} "
                                     f"({format_size(granule)})")
            if cb.local_bytes % granule:
                raise ValueError(f"{at}.local_memory: {cb.local_memory} is not a multiple of {granule_name} "
                                 f"({format_size(granule)})")
            auto = any(vm.auto for vm in cb.vms)
            guest = sum(vm.memory_bytes for vm in cb.vms if not vm.auto)
            local = cb.local_bytes if auto else min(cb.local_bytes, guest)
            rows.append({"guest": guest, "local": local, "remote": guest - local, "ways": local // unit // n_sets,
                         "auto": auto})
        n_auto = sum(r["auto"] for r in rows)
        if n_auto:
            # a blade with auto-sized VMs may put on the memory blade an equal share of the super
            # pages that the blades of declared sizes and every checkpoint area leave
            ck = sv.enabled and sv.target == "memory_blade"
            taken = sum(-(-(r["remote"] + ck * r["local"]) // spb) for r in rows if not r["auto"])
            taken += sum(-(-r["local"] // spb) for r in rows if r["auto"] and ck)
            each = max(cap // spb - taken, 0) // n_auto
            for r in rows:
                if r["auto"]:
                    r["remote"] = each * spb
        guest = sum(r["guest"] for r in rows)
        remote = sum(r["remote"] for r in rows)
        local_all = sum(r["local"] for r in rows)
        if self.storage.enabled:
            if hv.policy not in ("page_swap", "subpage_swap"):
                raise ValueError(f"storage.device: a storage tier needs hypervisor.policy page_swap or "
                                 f"subpage_swap (pages move between tiers), not {hv.policy!r}")
        elif remote > cap and mb.allocation == "boot":   # on demand: blades may be given less than all
            raise ValueError(f"memory_blade.capacity: {mb.capacity} cannot hold the remote part of guest memory "
                             f"({format_size(remote)} = VMs' {format_size(guest)} minus local "
                             f"{format_size(local_all)}); enlarge it or add a storage device (storage.device)")
        if guest > MAX_BYTES:   # machine addresses (VM base + guest address) are signed 64-bit in the core
            raise ValueError(f"compute.vms: {format_size(guest)} of guest memory in all is more than 8 EiB "
                             f"(2**63 bytes), the machine address space of the model")
        if guest // unit >= 2**31:
            raise ValueError(f"compute.vms: {format_size(guest)} of guest memory is over 2**31 pages of "
                             f"{format_size(unit)}; use a larger compute.page_size")
        # memory-blade slots a blade may fill: its remote part; with a storage tier below, within the
        # capacity (one blade) or an equal share of the super pages (several), the rest goes down.
        # Without storage the super-page allocator stops the run when the capacity runs out
        share = (cap // spb // len(blades)) * spb if multi else cap
        for r in rows:
            r["per_set"] = r["remote"] // unit // n_sets
            if self.storage.enabled:
                r["per_set"] = min(share // unit // n_sets, r["per_set"])
        if (sv.enabled or sv.fail_at) and hv.policy == "static":
            raise ValueError("service.regime: checkpoints follow pages through the hypervisor's page "
                             "table; hypervisor.policy 'static' has none (use fgra, page_swap or subpage_swap)")
        if sv.enabled and sv.target == "peer" and sv.peer_dram.capacity_bytes < local_all:
            raise ValueError(f"service.peer_dram: {format_size(sv.peer_dram.capacity_bytes)} cannot hold "
                             f"checkpoints of {format_size(local_all)} of local memory")
        if sv.enabled and sv.target == "storage" and not self.storage.enabled:
            raise ValueError("service.target: 'storage' needs a storage device (storage.device)")
        # each blade's blade addresses: its remote part (static) or its slots, then its checkpoint
        # area (as large as its local memory); on a peer, the blades' checkpoints one after another
        ck_area = sv.enabled and sv.target == "memory_blade"
        peer = 0
        for r in rows:
            r["vspace"] = r["remote"] if hv.policy == "static" else r["per_set"] * n_sets * unit
            r["ck_base"], r["peer_base"] = r["vspace"], peer
            peer += r["local"]
            if ck_area:
                r["vspace"] += r["local"]
        for r in rows:
            r["n_vsp"] = -(-r["vspace"] // spb)
        n_sp = cap // spb
        need = sum(r["n_vsp"] for r in rows)
        if mb.allocation == "boot" and need > n_sp:
            if ck_area and not multi:
                spare = cap - rows[0]["ck_base"]
                raise ValueError(f"memory_blade.capacity: {mb.capacity} leaves {format_size(spare)} beside the "
                                 f"remote pages; checkpoints of local memory need {format_size(rows[0]['local'])} "
                                 f"(or use service.target: storage)")
            each = ", ".join(f"{n}: {r['n_vsp']}" for n, r in zip(self.blade_names, rows))
            raise ValueError(f"memory_blade.capacity: {mb.capacity} is {n_sp} super pages of {mb.super_page}; "
                             f"the compute blades need {need} at boot ({each}); enlarge it, or hand them out "
                             f"as used (memory_blade.allocation: on_demand)")
        if hv.policy in ("page_swap", "subpage_swap"):
            for i, r in enumerate(rows):
                if r["ways"] == 0:   # a swap needs a local frame to bring the page into
                    at = f"compute[{i}]" if multi else "compute"
                    raise ValueError(f"{at}.local_memory: {blades[i].local_memory} leaves no local frame in a set "
                                     f"to swap into; {hv.policy} needs at least {format_size(unit * n_sets)} "
                                     f"({'one page' if n_sets == 1 else 'one hypervisor.super_page'})")
        # guest-physical space: each VM's memory, or for an auto-sized VM an equal share of what
        # the 2**31 guest units the page table numbers leave (it costs nothing until touched)
        vm_bytes = [0 if vm.auto else vm.memory_bytes for vm in self.vms]
        n_auto_vms = sum(vm.auto for vm in self.vms)
        if n_auto_vms:
            room = (min(2**31 - 1, 2**62 // unit) - guest // unit) // n_auto_vms
            reserve = (1 << (room.bit_length() - 1)) * unit
            if reserve < granule:
                raise ValueError(f"compute.vms: {n_auto_vms} auto-sized VMs leave no guest-physical space beside "
                                 f"{format_size(guest)} of declared memory; give them sizes")
            vm_bytes = [reserve if vm.auto else b for vm, b in zip(self.vms, vm_bytes)]
        return {"unit": unit, "n_sets": n_sets, "pages": sum(vm_bytes) // unit, "rows": rows, "n_sp": n_sp,
                "vm_bytes": vm_bytes}

    def compile(self, trace_timing: str = "none", epoch_ps: int = 0, epoch_rows: int = 4096,
                trace_addresses: str = "physical") -> Compiled:
        """Flat parameters for the core. `trace_timing` is the trace's: timestamp | gap | none;
        `trace_addresses` what its format records: physical | virtual (core.addresses decides);
        `epoch_ps` > 0 samples every counter at each multiple of it (a time series)."""
        lay = self._layout()
        hv, ln = self.hypervisor, self.effective_link()
        unit = lay["unit"]
        p = np.zeros(len(L.PARAM_NAMES), np.int64)

        def put(name, value):
            p[L.P[name]] = int(value)

        put("POLICY", L.POLICIES[hv.policy])
        put("VICTIM", L.VICTIMS[hv.victim])
        put("PLACEMENT", L.PLACEMENTS[hv.placement])
        put("CBF", hv.critical_block_first)
        put("TIMING", L.TIMINGS["closed" if self.core.is_closed(trace_timing) else "open"])
        put("WINDOW", self.core.window)
        put("UNIT_SHIFT", log2_exact(unit, "swap unit"))
        put("N_SETS", lay["n_sets"])
        put("N_PAGES", lay["pages"])
        put("N_DIR", -(-lay["pages"] // L.PT_LEAF))
        put("VIRTUAL", self.core.is_virtual(trace_addresses))
        put("TRAP_PS", parse_time(hv.trap))
        put("MAP_UPDATE_PS", parse_time(hv.map_update))
        put("FILTER_PS", parse_time(hv.fgra_filter))
        # the blade's address mapping and controller front end, plus the protocol agent's decode
        put("AGENT_PS", self.memory_blade.agent_ps + (self.protocol.agent_ps if self.protocol else 0))
        put("PROP_PS", ln.latency_ps)
        for name, payload in (("REQ", 0), ("LINE", LINE_BYTES), ("WLINE", LINE_BYTES), ("UNIT", unit)):
            wire = ln.wire_bytes(payload)
            put(f"WIRE_{name}_B", wire)
            put(f"SER_{name}_PS", ln.serialize_ps(wire))
        first = min(unit, ln.max_payload_bytes) + ln.header_bytes
        put("SER_FIRST_PS", ln.serialize_ps(first))
        put("LINE_SHIFT", log2_exact(LINE_BYTES, "line"))
        put("SEED", hv.seed)
        put("CACHE_SETS", self.cache.sets)
        put("CACHE_WAYS", self.cache.ways)
        put("CACHE_HIT_PS", self.cache.hit_ps)
        put("CACHE_POLICY", L.CACHE_POLICIES[self.cache.policy])
        sv, mb = self.service, self.memory_blade
        put("CK_REGIME", L.CK_REGIMES[sv.regime])
        put("CK_INTERVAL_PS", parse_time(sv.interval) if sv.enabled else 0)
        put("CK_SETUP_PS", parse_time(sv.setup))
        put("CK_PACE_PS", transfer_ps(unit, parse_bandwidth(sv.copy_bandwidth, "service.copy_bandwidth"),
                                      "service.copy_bandwidth"))
        put("CK_TARGET", L.CK_TARGETS[sv.target])
        put("PEER_PS", parse_time(sv.peer_latency))
        # swap units cross the link and the blade's buffers only where pages move
        moves_units = hv.policy in ("page_swap", "subpage_swap") or sv.enabled or bool(sv.fail_at)
        # the buffers are alike (MemoryBlade checks it): super pages are dealt to them in turn
        put("BUF_N", len(mb.buffers))
        put("BUF_SHIFT", log2_exact(mb.super_page_bytes, "memory_blade.super_page"))
        put("BUF_QD", mb.buffers[0].entries(unit if moves_units else LINE_BYTES, "memory_blade.buffers[0]"))
        put("BUF_LAT_PS", mb.buffers[0].latency_ps)
        put("FAIL_AT_PS", sv.fail_at_ps)
        put("FAIL_CB", self.blade_names.index(sv.fail_blade) if sv.fail_blade else 0)
        put("EPOCH_PS", epoch_ps)
        put("EPOCH_CAP", epoch_rows if epoch_ps else 0)   # the engine drains the buffer when full
        st = self.storage
        put("STORAGE", st.enabled)
        put("ST_VICTIM", L.STORAGE_VICTIMS[st.victim])
        put("DRV_BUFS", self.io_driver.buffer_pages)
        put("DRV_OVERHEAD_PS", parse_time(self.io_driver.overhead))
        if st.enabled:
            v = st.values()
            put("ST_READ_PS", parse_time(v["read_latency"]))
            put("ST_WRITE_PS", parse_time(v["write_latency"]))
            put("ST_XFER_PS", transfer_ps(unit, parse_bandwidth(v["bandwidth"], "storage.bandwidth"),
                                          "storage.bandwidth"))
            put("ST_UNITS", v["units"])
            put("ST_QD", v["queue_depth"])
        else:
            put("ST_UNITS", 1)
            put("ST_QD", 1)
        put("QOS_SLA_AT", len(p))
        if self.snic.active:
            # the largest message a bucket must pass: a swap unit only where units cross the link
            code, levels, table, ev = compile_snic(self.snic, self.vms, max(
                p[L.P[f"WIRE_{n}_B"]] for n in ("REQ", "LINE", "WLINE") + (("UNIT",) if moves_units else ())))
            if code == L.LINK_DISCIPLINES["fair"]:
                _check_fair_weights(table, ev, int(p[L.P["SER_UNIT_PS"]]), self.effective_switch(),
                                    int(p[L.P["WIRE_UNIT_B"]]))
            put("QOS", 1)
            put("QOS_DISC", code)
            put("QOS_NQ", len(self.vms) + 1)
            put("QOS_LEVELS", levels)
            put("QOS_NEV", len(ev) // len(L.EVENT_FIELDS))
            put("QOS_BG", len(self.vms))
            put("QOS_EV_AT", len(p) + len(table))
            p = np.concatenate([p, table, ev]).astype(np.int64)
        else:
            put("QOS_EV_AT", len(p))
        vm_bytes = np.array(lay["vm_bytes"], np.uint64)
        vm_base = np.concatenate([[0], np.cumsum(vm_bytes)[:-1]]).astype(np.int64)
        # compute blades: one row each, and each VM's blade
        sw = self.effective_switch()
        put("SW", sw is not None)
        if sw is not None:
            put("SW_LAT_PS", sw.latency_ps)
            num, den = sw.ps_per_byte(int(p[L.P["WIRE_UNIT_B"]]))
            put("SW_NUM", num)
            put("SW_DEN", den)
        else:
            put("SW_DEN", 1)
        put("AGENT_OCC_PS", parse_time(mb.agent_occupancy, "memory_blade.agent_occupancy"))
        put("SP_SHIFT", log2_exact(mb.super_page_bytes, "memory_blade.super_page"))
        put("N_SP", lay["n_sp"])
        put("SP_MODE", mb.allocation == "on_demand")
        put("STRICT", mb.strict)
        put("N_CB", len(self.blades))
        put("VM_HIST", len(self.vms) <= L.VM_HIST_MAX_VMS)
        cb_rows, off = [], {"VSP_OFF": 0}
        for cb, r, k in zip(self.blades, lay["rows"], range(len(self.blades))):
            row = {"WAYS": r["ways"], "LOCAL_BYTES": r["local"] if hv.policy == "static" else cb.local_bytes,
                   "TEMP_ADDR": cb.local_bytes, "MBASE": int(vm_base[self.vm_blade().index(k)]),
                   "PER_SET": r["per_set"], "N_VSP": r["n_vsp"], "CK_BASE": r["ck_base"],
                   "PEER_BASE": r["peer_base"], **off}
            cb_rows.append([row[f] for f in L.CB_FIELDS])
            off["VSP_OFF"] += r["n_vsp"]
        names = self.blade_names
        perms = sorted((parse_time(x.at), i, x) for i, x in enumerate(mb.permissions))
        for t, i, x in perms:
            n_vsp = lay["rows"][names.index(x.blade)]["n_vsp"]
            if x.super_page >= n_vsp:
                raise ValueError(f"memory_blade.permissions[{i}].super_page: {x.super_page} but {x.blade} has "
                                 f"{n_vsp} super page(s) of blade addresses (0 to {n_vsp - 1})")
        perm_rows = [[t, names.index(x.blade), x.super_page, L.PERM_ACCESS[x.access]] for t, i, x in perms]
        put("PERM_NEV", len(perm_rows))
        put("CB_AT", len(p))
        put("VM_CB_AT", len(p) + len(cb_rows) * len(L.CB_FIELDS))
        put("PERM_EV_AT", p[L.P["VM_CB_AT"]] + len(self.vms))
        put("VM_PAGES_AT", p[L.P["PERM_EV_AT"]] + len(perm_rows) * len(L.PERM_FIELDS))
        p = np.concatenate([p, np.array(cb_rows, np.int64).reshape(-1), np.array(self.vm_blade(), np.int64),
                            np.array(perm_rows, np.int64).reshape(-1),
                            (vm_bytes // np.uint64(unit)).astype(np.int64)]).astype(np.int64)
        multi = isinstance(self.compute, tuple)
        paths = tuple(f"compute.{k}.vms.{j}.memory" if multi else f"compute.vms.{j}.memory"
                      for k, b in enumerate(self.blades) for j in range(len(b.vms)))
        return Compiled(p=p, dl=np.concatenate([dram_params(cb.dram) for cb in self.blades]),
                        db=dram_params(mb.dram), dp=dram_params(self.service.peer_dram),
                        vm_base=vm_base, vm_bytes=vm_bytes, blade_names=tuple(names), vm_paths=paths)

    # -- running ---------------------------------------------------------------------------
    def run(self, trace, *, backend=None, completions=False, slowdown=False, chunk_records=1 << 18,
            progress=False, save_state_to=None, resume_from=None, format=None, timing=None, time_unit=None,
            skip_bad_lines=False, epoch=None, cycle=None, dram_trace=None, dram_trace_format="dramsim3",
            ps_per_unit=None):
        """Simulate `trace` (a path, a `hwmodel.trace` Chunk or reader, or a dict of arrays
        `time`, `addr`, `op`[, `vm`]) and return a `Result`.

        For in-memory traces, `timing` (timestamp | gap | none) and `time_unit` (ps | ns | cycle |
        instruction) say what the time column means; by default an all-zero column is untimed and
        anything else is timestamps in ps. Files carry their own timing. skip_bad_lines=True skips
        malformed lines of a trace file and reports how many in `Result.skipped_lines`.
        epoch="100us" samples every counter at each multiple of it: `Result.time_series()`.

        cycle="0.5ns" says what one cycle of a cycle-stamped trace is (default core.trace_cycle,
        else the local DRAM's tCK); `Result.ps_per_trace_unit` records the scale used.
        dram_trace="out" writes the requests each DRAM received, with their arrival times, to
        out.<dram>.trace (see `hwmodel.core.dram_trace`), in `dram_trace_format` (dramsim3, ramulator,
        text). ps_per_unit imposes the time scale of the trace's time column (compare uses it).

        completions=True keeps each access's completion time (ps) in `Result.completions`;
        slowdown=True (or "all_local") also runs an all-local copy of the system and reports the
        ratio; slowdown="no_checkpoints" compares with the same system without checkpoints.
        """
        from .core.runner import run_system
        return run_system(self, trace, backend=backend, completions=completions, slowdown=slowdown,
                          chunk_records=chunk_records, progress=progress, save_state_to=save_state_to,
                          resume_from=resume_from, format=format, timing=timing, time_unit=time_unit,
                          skip_bad_lines=skip_bad_lines, epoch=epoch, cycle=cycle, dram_trace=dram_trace,
                          dram_trace_format=dram_trace_format, ps_per_unit=ps_per_unit)

    def ps_per_trace_unit(self, time_unit: str, cycle=None):
        """Picoseconds per unit of a trace's time column: `cycle` (a time) for cycle-stamped
        traces if given, else core.trace_cycle, else the first compute blade's DRAM tCK."""
        if cycle is not None and time_unit == "cycle":
            ps = parse_time(cycle, "cycle", default_unit="ns")
            if ps <= 0:
                raise ValueError(f"cycle: {cycle!r} must be > 0")
            from fractions import Fraction
            return Fraction(ps)
        return self.core.ps_per_unit(time_unit, self.blades[0].dram.tck_ps)

    BASELINES = ("all_local", "no_checkpoints")

    def baseline(self, kind: str = "all_local") -> "System":
        """The system a slowdown is measured against: `all_local` or `no_checkpoints`."""
        if kind == "all_local":
            return self.all_local()
        if kind == "no_checkpoints":
            return dataclasses.replace(self, service=ServiceProcessor())
        raise ValueError(f"slowdown: {kind!r} is not one of {', '.join(map(repr, self.BASELINES))}")

    def all_local(self) -> "System":
        """The baseline of slowdowns: the same system with local memory for all guest memory, so
        no page ever leaves (and no storage tier, no checkpoints). The hypervisor keeps its policy
        and placement, so pages land in the same frames and the DRAM sees the same addresses."""
        for k, cb in enumerate(self.blades):
            for j, vm in enumerate(cb.vms):
                if vm.auto:
                    at = f"compute[{k}]" if isinstance(self.compute, tuple) else "compute"
                    raise ValueError(f"slowdown: the all-local baseline gives every blade local memory for all "
                                     f"its VMs' memory, but {at}.vms[{j}].memory is auto; give it a size")
        blades = tuple(dataclasses.replace(cb, local_memory=format_size(cb.guest_bytes)) for cb in self.blades)
        compute = blades if isinstance(self.compute, tuple) else blades[0]
        mb = dataclasses.replace(self.memory_blade, permissions=())
        return dataclasses.replace(self, compute=compute, memory_blade=mb, storage=StorageDevice(),
                                   service=ServiceProcessor())

    save_state = staticmethod(save_state)
    load_state = staticmethod(load_state)
