"""One memory controller and its DRAM as a single flat record (`DRAM`), and the DRAMsim3 .ini reader.

`DRAM` is the `dram:` shorthand of a configuration and what the core compiles: the fields of a
`DRAMDevice` (organisation, timing, power; `hwmodel.hardware.device`) and of a `MemoryController`'s
settings (channels, mapping, queues, policies; `hwmodel.hardware.controller`) side by side.
`DRAM.device` and `DRAM.controller` give the two parts; `MemoryController.dram` the whole.

The address mapping is a DRAMsim3-style string read from the most significant field to the least
(`ro` row, `ch` channel, `ra` rank, `bg` bank group, `ba` bank, `co` column) or a Ramulator name
(`RoBaRaCoCh`); see `hwmodel.hardware.address_map`. The column field covers the bytes of one burst too (the
low `log2(bus_bytes * BL)` bits are the burst offset).
"""
from __future__ import annotations

import re
import warnings
from dataclasses import dataclass, fields
from pathlib import Path

from .hardware.address_map import FIELDS, AddressMap
from .hardware.controller import (MODELS, QUEUE_STRUCTURES, REFRESH_POLICIES, ROW_POLICIES, SCHEDULERS,
                                  ControllerPolicy, MemoryController)
from .hardware.device import (POWER, PROTOCOLS, TIMING_ALIASES as _TIMING_ALIASES, TIMINGS, DRAMDevice,
                              check_fields, norm as _norm, ns_to_cycles)
from .units import log2_exact, parse_time

__all__ = ["DRAM", "FIELDS", "TIMINGS", "POWER", "PROTOCOLS", "MODELS", "ns_to_cycles"]

_GDDR = ("GDDR5", "GDDR5X", "GDDR6")
_HBM = ("HBM", "HBM2")


@dataclass(frozen=True)
class DRAM(ControllerPolicy, DRAMDevice):
    """A memory controller's DRAM subsystem in one record: the device's fields, then the
    controller's (see `DRAMDevice` and `ControllerPolicy` for each field). The defaults are the
    DDR4-2400 preset, DRAMsim3's DDR4_8Gb_x8_2400.ini.
    """
    MAX_COUNT = {**DRAMDevice.MAX_COUNT, **ControllerPolicy.POLICY_MAX_COUNT}

    def __post_init__(self):
        check_fields(self, DRAM)
        self.check_device()
        self.check_policy()
        if self.refresh_policy != "none" and self.tREFI <= self.tRFC:
            raise ValueError(f"dram.tREFI: {self.tREFI} cycles must exceed dram.tRFC = {self.tRFC}, "
                             f"or the rank would never leave refresh")
        if self.refresh_policy == "bank_level_staggered" and self.tREFIb <= self.tRFCb:
            raise ValueError(f"dram.tREFIb: {self.tREFIb} cycles must exceed dram.tRFCb = {self.tRFCb}, "
                             f"or the banks would never leave refresh")
        if self.refresh_policy == "rank_level_staggered":
            # each rank refreshes every (tREFI // ranks) * ranks cycles (DRAMsim3's integer stagger)
            every = self.tREFI // self.ranks * self.ranks
            if every <= self.tRFC:
                raise ValueError(f"dram.tREFI: {self.tREFI} cycles staggered over {self.ranks} ranks gives each "
                                 f"rank a refresh every {every} cycles, which must exceed dram.tRFC = {self.tRFC}")
        if self.row_timeout * self.tck_ps > 1 << 40:
            raise ValueError(f"dram.row_timeout: {self.row_timeout} cycles of {self.tck_ps} ps is more than "
                             f"2**40 ps (~1.1 s)")
        if self.capacity_bytes > 1 << 62:
            raise ValueError(f"dram.rows: channels x banks x rows x row bytes = {self.capacity_bytes} bytes, "
                             f"more than 2**62 (the address space the core decodes)")
        self.address_map()  # validates the mapping against the organisation

    # -- the two parts ----------------------------------------------------------------------
    @property
    def device(self) -> DRAMDevice:
        """The DRAM device on the channels: organisation, timing, power."""
        return DRAMDevice(**{f.name: getattr(self, f.name) for f in fields(DRAMDevice)})

    @property
    def controller(self) -> MemoryController:
        """The memory controller driving it, holding the device."""
        return MemoryController(device=self.device,
                                **{f.name: getattr(self, f.name) for f in fields(ControllerPolicy)})

    # -- construction -----------------------------------------------------------------------
    @classmethod
    def preset(cls, name: str, **overrides) -> "DRAM":
        """A built-in preset by name; case, '-', '_' and spaces are ignored ('ddr4_2400' works)."""
        from .hardware.dram_presets import PRESETS
        key = _norm(name)
        for known, params in PRESETS.items():
            if _norm(known) == key:
                params = dict(params)
                in_time = params.pop("ns", {})
                return cls(**{"name": known, **params}).with_ns(**in_time).replace(**overrides)
        raise ValueError(f"dram.preset: unknown preset {name!r}; known presets: {', '.join(PRESETS)}")

    def spec(self) -> dict:
        """This DRAM as a configuration gives it: its preset and the fields that differ from the
        preset ({"preset": "DDR4-2400", "channels": 2, "ranks": 4}), or every field when its name
        is not a preset's."""
        from .hardware.dram_presets import PRESETS
        mine = {f.name: getattr(self, f.name) for f in fields(self)}
        if self.name not in PRESETS:
            return mine
        base = DRAM.preset(self.name)
        return {"preset": self.name, **{k: v for k, v in mine.items() if v != getattr(base, k)}}

    @classmethod
    def from_dramsim3_ini(cls, path, strict: bool = True, **overrides) -> "DRAM":
        """Import a DRAMsim3 configuration file as it is; `overrides` then replace DRAM fields.

        Read: [dram_structure] protocol, bankgroups, banks_per_group, bankgroup_enable, rows,
        columns, device_width, BL; [timing] tCK (ns), CL, CWL, tRCD (GDDR/HBM: tRCDRD, tRCDWR),
        tRP, tRAS, tRC (default tRAS + tRP, as DRAMsim3 always uses), tRFC, tREFI, tRFCb, tREFIb, tRRD_S/L,
        tWTR_S/L, tFAW, tWR, tRTP, tCCD_S/L, tRTRS, tRPRE, tWPRE; [system] channel_size (MiB per
        channel), channels, bus_width, address_mapping, row_buf_policy, queue_structure,
        trans_queue_size, cmd_queue_size, refresh_policy; [power] VDD, IDD0, IDD2P, IDD2N, IDD3P,
        IDD3N, IDD4W, IDD4R, IDD5AB, IDD5PB, IDD6x (missing ones take DRAMsim3's defaults; IPP0 is
        accepted and not used, as in DRAMsim3). Sections [thermal], [other] and [hmc] are
        accepted and ignored (we model no temperature); so are DRAMsim3 keys we do not model
        (tCKE, tXS, unified_queue, ...). Text after ';' is a comment.

        ranks = channel_size / rank size, as DRAMsim3's Config::CalculateSize computes it; a
        channel_size below one rank gets one rank with a warning (DRAMsim3 does the same, and its
        own GDDR6_8Gb_x16.ini needs it); one that is not a power-of-two number of ranks is an error.
        Missing secondary timings take DRAMsim3's defaults. Where the file's intent is plain and
        DRAMsim3 silently falls back to a default, we follow the file (deviations from DRAMsim3):
        `REFI` (DDR3_8Gb_x8_1600.ini) is read as tREFI, and a missing tRTP takes tRTP_L
        (GDDR6, HBM2 files). Unknown sections and keys are errors (strict) or warnings.
        """
        path = Path(path)
        try:
            text = path.read_text()
        except OSError as e:
            raise ValueError(f"{path}: cannot read DRAMsim3 configuration: {e}") from None
        ini = _Ini(text, str(path), strict)
        known = {f.name for f in fields(cls)}
        for k in overrides:
            if k not in known:
                raise ValueError(f"dram.{k}: no such parameter; parameters: {', '.join(sorted(known))}")
        try:
            return cls(**{**_dramsim3_params(ini, path.stem), **overrides})
        except ValueError as e:
            raise ValueError(ini.locate(str(e), set(overrides))) from None

    # -- derived quantities -----------------------------------------------------------------
    @property
    def capacity_bytes(self) -> int:
        return self.channels * self.channel_bytes

    @property
    def peak_bytes_per_s(self) -> float:
        """Data-bus peak of all channels: bus bytes x transfers per tCK (2 for DDR) / tCK."""
        return self.channels * self.bus_bytes * self.transfers_per_tck * 1e12 / self.tck_ps

    def address_map(self) -> AddressMap:
        """The compiled address mapping of this DRAM (shift/mask tables, decode)."""
        return AddressMap.build(self.address_mapping, self._field_widths(),
                                log2_exact(self.burst_bytes, "dram.burst_bytes"), self.bank_xor)

    def field_bits(self) -> dict:
        """Bit position and width of each field in a byte address: {'ch': (shift, bits), ...}.

        The same positions as DRAMsim3's Config::SetAddressMapping (shift_bits = log2(bus_bytes *
        BL), column width log2(columns) - log2(BL)). XOR hashing, if on, is in `address_map()`.
        """
        am = self.address_map()
        return {f: (shift, mask.bit_length()) for f, (shift, mask, _, _) in am.fields().items()}

    def _field_widths(self) -> dict:
        return {
            "ch": log2_exact(self.channels, "dram.channels"),
            "ra": log2_exact(self.ranks, "dram.ranks"),
            "bg": log2_exact(self.bankgroups, "dram.bankgroups"),
            "ba": log2_exact(self.banks_per_group, "dram.banks_per_group"),
            "ro": log2_exact(self.rows, "dram.rows"),
            # columns counted in device-width units; a burst covers BL of them
            "co": log2_exact(self.columns, "dram.columns") - log2_exact(self.BL, "dram.BL"),
        }


# -- DRAMsim3 .ini import ---------------------------------------------------------------------

# Keys DRAMsim3's Config reads (and a few its own files carry), by section; values: the DRAM
# field they feed, or None for keys accepted and ignored.
_DRAMSIM3_KEYS = {
    "dram_structure": {
        "protocol": "protocol", "bankgroups": "bankgroups", "banks_per_group": "banks_per_group",
        "bankgroup_enable": None, "rows": "rows", "columns": "columns", "device_width": "device_width",
        "BL": "BL", "num_dies": None, "hbm_dual_cmd": None,
    },
    "timing": {
        "tCK": "tck_ps", "AL": None, "CL": "CL", "CWL": "CWL", "tRCD": "tRCD", "tRCDRD": "tRCD",
        "tRCDWR": "tRCDWR", "tRP": "tRP", "tRAS": "tRAS", "tRC": "tRC", "tRFC": "tRFC",
        "tREFI": "tREFI", "REFI": "tREFI", "tRRD_S": "tRRD_S", "tRRD_L": "tRRD_L",
        "tWTR_S": "tWTR_S", "tWTR_L": "tWTR_L", "tFAW": "tFAW", "tWR": "tWR", "tRTP": "tRTP",
        "tRTP_L": "tRTP", "tRTP_S": None, "tCCD_S": "tCCD_S", "tCCD_L": "tCCD_L", "tRTRS": "tRTRS",
        "tRPRE": "tRPRE", "tWPRE": "tWPRE",
        # read by DRAMsim3 (or present in its files) but not modelled here
        "tRFC2": None, "tRFC4": None, "tWR2": None, "tCKE": None, "tCKESR": None, "tCKSRE": None,
        "tXS": None, "tXP": None, "tRFCb": "tRFCb", "tREFIb": "tREFIb", "tPPD": None, "t32AW": None,
        "ideal_memory_latency": None,
    },
    "system": {
        "channel_size": "ranks", "channels": "channels", "bus_width": "bus_width",
        "address_mapping": "address_mapping", "queue_structure": "queue_structure",
        "row_buf_policy": "row_policy", "cmd_queue_size": "cmd_queue_size",
        "trans_queue_size": "trans_queue_size", "refresh_policy": "refresh_policy",
        "unified_queue": None, "write_buf_size": "write_buf_size", "enable_self_refresh": None,
        "sref_threshold": None, "aggressive_precharging_enabled": None, "mega_tick": None,
    },
    "power": {k: k for k in POWER} | {"IPP0": None},
}
_IGNORED_SECTIONS = ("thermal", "other", "hmc")
_REQUIRED = {
    "dram_structure": ("protocol", "bankgroups", "banks_per_group", "rows", "columns", "device_width", "BL"),
    "timing": ("tCK", "CL", "tRP", "tRAS"),
    "system": ("channel_size", "bus_width"),
}
# DRAMsim3's defaults (Config::Init*Params) for keys a file may leave out.
_DRAMSIM3_DEFAULTS = {
    "CWL": 12, "tCCD_L": 6, "tCCD_S": 4, "tRTRS": 2, "tRTP": 5, "tWTR_L": 5, "tWTR_S": 5, "tWR": 10,
    "tRRD_L": 4, "tRRD_S": 4, "tRFC": 74, "tREFI": 7800, "tFAW": 50, "tRPRE": 1, "tWPRE": 1,
    "tRFCb": 20, "tREFIb": 1950,
    "tRCDWR": 20, "channels": 1, "address_mapping": "chrobabgraco", "queue_structure": "PER_BANK",
    "row_buf_policy": "OPEN_PAGE", "cmd_queue_size": 16, "trans_queue_size": 32, "write_buf_size": 16,
    "refresh_policy": "RANK_LEVEL_STAGGERED",
    # Config::InitPowerParams (IDD3P is not read there; ours is DDR4_8Gb_x8_2400.ini's)
    "VDD": 1.2, "IDD0": 48, "IDD2P": 25, "IDD2N": 34, "IDD3P": 37, "IDD3N": 43, "IDD4W": 123,
    "IDD4R": 135, "IDD5AB": 250, "IDD5PB": 5, "IDD6x": 31,
}


class _Ini:
    """An .ini file read the way DRAMsim3's inih reader reads it, with positions for messages."""

    def __init__(self, text: str, path: str, strict: bool):
        self.path, self.sections = path, {}
        section = None
        for lineno, raw in enumerate(text.splitlines(), 1):
            line = raw.split(";", 1)[0].strip()  # DRAMsim3 values carry '; comment' tails
            if not line or line.startswith("#"):
                continue
            m = re.match(r"^\[([^\]]+)\]$", line)
            if m:
                section = m.group(1).strip().lower()
                if section not in _DRAMSIM3_KEYS and section not in _IGNORED_SECTIONS:
                    self._unknown(strict, f"{path}:{lineno}: unknown section [{section}]; known: "
                                  f"{', '.join(list(_DRAMSIM3_KEYS) + list(_IGNORED_SECTIONS))}")
                if section in self.sections:
                    raise ValueError(f"{path}:{lineno}: section [{section}] appears twice")
                self.sections[section] = {}
                continue
            m = re.match(r"^([^=:]+?)\s*[=:]\s*(.*?)\s*(?:\s#.*)?$", line)
            if not m:
                raise ValueError(f"{path}:{lineno}: cannot read {raw.strip()!r} as 'key = value'")
            if section is None:
                raise ValueError(f"{path}:{lineno}: {raw.strip()!r} comes before any [section]")
            key, value = m.groups()
            if section in _IGNORED_SECTIONS or section not in _DRAMSIM3_KEYS:
                continue
            known = {k.lower(): k for k in _DRAMSIM3_KEYS[section]}
            if key.lower() not in known:  # inih matches keys case-insensitively
                self._unknown(strict, f"{path} [{section}] {key}: unknown key (line {lineno}); "
                              f"known keys: {', '.join(_DRAMSIM3_KEYS[section])}")
                continue
            key = known[key.lower()]
            if key in self.sections[section]:
                raise ValueError(f"{path} [{section}] {key}: given twice (line {lineno}); "
                                 f"first value {self.sections[section][key]!r}")
            self.sections[section][key] = value
        for sec, keys in _REQUIRED.items():
            if sec not in self.sections:
                raise ValueError(f"{path}: section [{sec}] is missing; it must give {', '.join(keys)}")
            for key in keys:
                if key not in self.sections[sec]:
                    raise ValueError(f"{path} [{sec}] {key}: missing (required)")

    @staticmethod
    def _unknown(strict: bool, message: str):
        if strict:
            raise ValueError(message + " (strict=False turns this into a warning)")
        warnings.warn(message + "; ignored", stacklevel=4)

    def has(self, section: str, key: str) -> bool:
        return key in self.sections.get(section, {})

    def where(self, section: str, key: str) -> str:
        return f"{self.path} [{section}] {key}"

    def get_str(self, section: str, key: str) -> str:
        if self.has(section, key):
            return self.sections[section][key]
        return _DRAMSIM3_DEFAULTS[key]

    def get_int(self, section: str, key: str) -> int:
        if not self.has(section, key):
            return _DRAMSIM3_DEFAULTS[key]
        v = self.sections[section][key]
        try:
            return int(v, 10) if v.strip().isdigit() else int(v, 0)  # inih's strtol takes 0x.. too
        except ValueError:
            raise ValueError(f"{self.where(section, key)}: {v!r} is not an integer") from None

    def get_real(self, section: str, key: str) -> float:
        """A number as inih's GetReal (strtod) reads it; missing: DRAMsim3's default."""
        if not self.has(section, key):
            return float(_DRAMSIM3_DEFAULTS[key])
        v = self.sections[section][key]
        try:
            x = float(v)
        except ValueError:
            raise ValueError(f"{self.where(section, key)}: {v!r} is not a number") from None
        if not 0 <= x < float("inf"):
            raise ValueError(f"{self.where(section, key)}: {v!r} must be a non-negative number")
        return x

    def get_bool(self, section: str, key: str, default: bool) -> bool:
        if not self.has(section, key):
            return default
        v = self.sections[section][key].lower()
        if v in ("true", "yes", "on", "1"):
            return True
        if v in ("false", "no", "off", "0"):
            return False
        raise ValueError(f"{self.where(section, key)}: {self.sections[section][key]!r} is not a boolean")

    def locate(self, message: str, overridden: set = frozenset()) -> str:
        """Prefix a 'dram.<field>: ...' message with the file, section and key that set the field."""
        m = re.match(r"^dram\.(\w+):", message)
        if m and m.group(1) in overridden:
            return message
        if not m:
            return message if message.startswith(self.path) else f"{self.path}: {message}"
        for sec, keys in _DRAMSIM3_KEYS.items():
            for key, field in keys.items():
                if field == m.group(1) and self.has(sec, key):
                    return f"{self.where(sec, key)}: {message}"
        return f"{self.path}: {message}"


def _dramsim3_params(ini: _Ini, name: str) -> dict:
    """DRAM fields from a parsed DRAMsim3 file, deriving what DRAMsim3 derives."""
    ds, tm, sy = "dram_structure", "timing", "system"
    protocol = ini.get_str(ds, "protocol")
    if protocol not in PROTOCOLS:
        raise ValueError(f"{ini.where(ds, 'protocol')}: unknown protocol {protocol!r}; "
                         f"known: {', '.join(PROTOCOLS)}")
    gddr, hbm = protocol in _GDDR, protocol in _HBM
    p = {"name": name, "protocol": protocol, "transfers_per_tck": PROTOCOLS[protocol]}

    for key in ("bankgroups", "banks_per_group", "rows", "columns", "device_width", "BL"):
        p[key] = ini.get_int(ds, key)
        if p[key] <= 0:
            raise ValueError(f"{ini.where(ds, key)}: {p[key]} must be > 0")
    if not ini.get_bool(ds, "bankgroup_enable", True):  # DRAMsim3: all banks in one group
        p["banks_per_group"] *= p["bankgroups"]
        p["bankgroups"] = 1
    # DRAMsim3 counts columns in device-width units: a GDDR column is BL of them, an HBM one 2
    p["columns"] *= p["BL"] if gddr else 2 if hbm else 1

    tck = ini.get_str(tm, "tCK")
    p["tck_ps"] = parse_time(tck, ini.where(tm, "tCK"), default_unit="ns")
    if p["tck_ps"] <= 0:
        raise ValueError(f"{ini.where(tm, 'tCK')}: {tck!r} must be > 0")
    if ini.has(tm, "AL") and ini.get_int(tm, "AL") != 0:
        raise ValueError(f"{ini.where(tm, 'AL')}: additive latency {ini.get_int(tm, 'AL')} is not modelled; "
                         f"fold it into CL and tRCD (AL = 0)")
    rcd = "tRCDRD" if gddr or hbm else "tRCD"  # DRAMsim3 reads tRCDRD/tRCDWR for GDDR and HBM
    if not ini.has(tm, rcd):
        raise ValueError(f"{ini.where(tm, rcd)}: missing (required for {protocol})")
    p["tRCD"] = ini.get_int(tm, rcd)
    if gddr or hbm:
        p["tRCDWR"] = ini.get_int(tm, "tRCDWR")
    elif ini.has(tm, "tRCDRD") or ini.has(tm, "tRCDWR"):
        raise ValueError(f"{ini.where(tm, 'tRCDRD')}: tRCDRD/tRCDWR apply to GDDR and HBM only; "
                         f"{protocol} uses tRCD")
    for key in ("CL", "CWL", "tRP", "tRAS", "tRFC", "tRRD_S", "tRRD_L", "tWTR_S", "tWTR_L", "tFAW",
                "tWR", "tCCD_S", "tCCD_L", "tRTRS", "tRPRE", "tWPRE", "tRFCb", "tREFIb"):
        p[key] = ini.get_int(tm, key)
    for key, alias in (("tREFI", "REFI"), ("tRTP", "tRTP_L")):
        if ini.has(tm, key) and ini.has(tm, alias) and ini.get_int(tm, key) != ini.get_int(tm, alias):
            raise ValueError(f"{ini.where(tm, key)}: {ini.get_int(tm, key)} contradicts {alias} = {ini.get_int(tm, alias)}")
        p[key] = ini.get_int(tm, key if ini.has(tm, key) or not ini.has(tm, alias) else alias)
    # DRAMsim3 always uses tRC = tRAS + tRP; a larger tRC is legal JEDEC, a smaller one is not
    p["tRC"] = ini.get_int(tm, "tRC") if ini.has(tm, "tRC") else p["tRAS"] + p["tRP"]
    if p["tRC"] < p["tRAS"] + p["tRP"]:
        raise ValueError(f"{ini.where(tm, 'tRC')}: {p['tRC']} is less than tRAS + tRP = {p['tRAS'] + p['tRP']}")

    p["channels"] = ini.get_int(sy, "channels")
    p["bus_width"] = ini.get_int(sy, "bus_width")
    if p["bus_width"] <= 0 or p["bus_width"] % p["device_width"]:
        raise ValueError(f"{ini.where(sy, 'bus_width')}: {p['bus_width']} bits is not a whole number of "
                         f"{p['device_width']}-bit devices ([dram_structure] device_width)")
    p["address_mapping"] = ini.get_str(sy, "address_mapping")
    p["ranks"] = _dramsim3_ranks(ini, p)
    for key, field, table in (("row_buf_policy", "row_policy", {"OPEN_PAGE": "open", "CLOSE_PAGE": "closed"}),
                              ("queue_structure", "queue_structure", {"PER_BANK": "per_bank", "PER_RANK": "per_rank"}),
                              ("refresh_policy", "refresh_policy",
                               {k.upper(): k for k in REFRESH_POLICIES if k != "none"})):
        v = ini.get_str(sy, key)
        if v not in table:
            raise ValueError(f"{ini.where(sy, key)}: unknown value {v!r}; known: {', '.join(table)}")
        p[field] = table[v]
    p["trans_queue_size"] = ini.get_int(sy, "trans_queue_size")
    p["cmd_queue_size"] = ini.get_int(sy, "cmd_queue_size")
    p["write_buf_size"] = ini.get_int(sy, "write_buf_size")
    for key in ("enable_self_refresh", "aggressive_precharging_enabled"):
        if ini.get_bool(sy, key, False):
            raise ValueError(f"{ini.where(sy, key)}: true is not modelled; set it to false")
    for key in POWER:
        p[key] = ini.get_real("power", key)
    return p


def _dramsim3_ranks(ini: _Ini, p: dict) -> int:
    """Ranks per channel from channel_size (MiB), as DRAMsim3's Config::CalculateSize derives them."""
    where = ini.where("system", "channel_size")
    channel_mib = ini.get_int("system", "channel_size")
    banks = p["bankgroups"] * p["banks_per_group"]
    rank_bytes = p["columns"] * p["device_width"] // 8 * p["rows"] * banks * (p["bus_width"] // p["device_width"])
    channel_bytes = channel_mib << 20
    if channel_bytes <= 0:
        raise ValueError(f"{where}: {channel_mib} must be > 0")
    if rank_bytes > channel_bytes:
        warnings.warn(f"{where}: {channel_mib} MiB is less than one rank of this organisation "
                      f"({rank_bytes >> 20} MiB); using one rank, as DRAMsim3 does", stacklevel=4)
        return 1
    ranks, rest = divmod(channel_bytes, rank_bytes)
    if rest or ranks & (ranks - 1):
        raise ValueError(f"{where}: {channel_mib} MiB is not a power-of-two number of ranks of "
                         f"{rank_bytes >> 20} MiB (banks x rows x columns x device_width x devices per rank)")
    return ranks
