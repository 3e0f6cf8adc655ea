"""A DRAM device as a rank of it is built: organisation, timing in cycles of tCK, and power.

What DRAMsim3 reads from `[dram_structure]`, `[timing]` and `[power]` (and the rank's width from
`[system] bus_width`), and what Ramulator 2 calls the DRAM: it knows nothing of how a controller
schedules it (`hwmodel.hardware.controller.MemoryController` does). Timings are integers in cycles
of tCK, as JEDEC and DRAMsim3 give them; `tck_ps` converts, and `with_ns` turns nanosecond
figures into cycles.

`columns` counts device-width columns of one row, as DRAMsim3 does after its own normalisation
(DRAMsim3 multiplies the ini's `columns` by BL for GDDR and by 2 for HBM; `from_dramsim3_ini`
does the same), so that a row of one rank holds `columns * bus_bytes` bytes.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, fields, replace

from ..units import log2_exact, parse_time

# Protocols DRAMsim3 knows (HMC aside: its burst comes from a link block size we do not model),
# plus DDR5. Value: data transfers per tCK per pin, i.e. BL / DRAMsim3's burst_cycle.
PROTOCOLS = {
    "DDR3": 2, "DDR4": 2, "DDR5": 2, "LPDDR": 2, "LPDDR3": 2, "LPDDR4": 2, "HBM": 2, "HBM2": 2,
    "GDDR5": 4, "GDDR5X": 8, "GDDR6": 16,  # DRAMsim3: burst_cycle = BL/4, BL/8, BL/16
}

# Timing fields (cycles of tCK), in declaration order.
TIMINGS = ("CL", "CWL", "tRCD", "tRCDWR", "tRP", "tRAS", "tRC", "tWR", "tRTP", "tCCD_S", "tCCD_L",
           "tRRD_S", "tRRD_L", "tFAW", "tWTR_S", "tWTR_L", "tRFC", "tREFI", "tRFCb", "tREFIb", "tRTRS",
           "tRPRE", "tWPRE")
TIMING_ALIASES = {"tCL": "CL", "tCWL": "CWL", "tRCDRD": "tRCD"}

# Power fields (DRAMsim3's [power] keys): VDD in V, the IDD currents in mA per device.
POWER = ("VDD", "IDD0", "IDD2P", "IDD2N", "IDD3P", "IDD3N", "IDD4W", "IDD4R", "IDD5AB", "IDD5PB", "IDD6x")
UNLOADED_STATES = ("hit", "closed", "conflict")

# The core computes in int64 ps and sizes its state from these numbers without checking them:
# bound each so that no product overflows and no count is absurd.
MAX_TCK_PS = 1 << 20            # a 1 MHz clock
MAX_TIMING_PS = 1 << 40         # ~1.1 s: any DRAM timing, in ps
MAX_INT = 2**31 - 1


@dataclass(frozen=True)
class DRAMDevice:
    """The devices of one rank: how they are organised, how fast they answer and what they draw.

    A read that hits the open row costs CL + burst cycles to its last data beat, one to a closed
    bank tRCD more, and a row conflict tRP more again (`unloaded_read_ps`); each burst holds the
    channel's data bus for burst = BL / transfers_per_tck cycles (BL/2 for DDR). The defaults are
    the DDR4-2400 preset's device, DRAMsim3's DDR4_8Gb_x8_2400.ini.
    """
    name: str = "DDR4-2400"     # label (a preset name)
    protocol: str = "DDR4"      # JEDEC family, as DRAMsim3 names it
    # organisation
    ranks: int = 2              # ranks per channel
    bankgroups: int = 4         # bank groups per rank
    banks_per_group: int = 4    # banks per bank group
    rows: int = 65536           # rows per bank
    columns: int = 1024         # device-width columns per row (see module docstring)
    device_width: int = 8       # bits per device
    bus_width: int = 64         # bits per rank (and channel): bus_width / device_width devices
    BL: int = 8                 # burst length (beats)
    transfers_per_tck: int = 2  # data beats per tCK: 2 for DDR; DRAMsim3 uses 4/8/16 for GDDR5/5X/6
    # timing, in cycles of tCK
    tck_ps: int = 830           # DRAMsim3's 0.83 ns (JEDEC DDR4-2400: 0.833 ns)
    CL: int = 17                # read CAS latency (ACT'ed row to first data)
    CWL: int = 12               # write CAS latency
    tRCD: int = 17              # ACT to READ (GDDR/HBM: tRCDRD)
    tRCDWR: int = 0             # ACT to WRITE where it differs (GDDR/HBM); 0 = same as tRCD
    tRP: int = 17               # precharge to ACT
    tRAS: int = 39              # ACT to precharge, minimum
    tRC: int = 56               # ACT to ACT, same bank
    tWR: int = 18               # end of write data to precharge
    tRTP: int = 9               # read to precharge
    tCCD_S: int = 4             # column to column, other bank group
    tCCD_L: int = 6             # column to column, same bank group
    tRRD_S: int = 4             # ACT to ACT, other bank group
    tRRD_L: int = 6             # ACT to ACT, same bank group
    tFAW: int = 26              # window holding at most four ACTs per rank
    tWTR_S: int = 3             # end of write data to read, other bank group
    tWTR_L: int = 9             # end of write data to read, same bank group
    tRFC: int = 420             # refresh command duration
    tREFI: int = 9360           # interval between refreshes of a rank
    tRFCb: int = 20             # per-bank refresh duration (bank_level_staggered; DRAMsim3's default)
    tREFIb: int = 1950          # interval between per-bank refreshes, one bank after another (DRAMsim3's default)
    tRTRS: int = 1              # rank-to-rank data-bus turnaround
    tRPRE: int = 1              # read preamble (DRAMsim3 adds it to read-to-write turnaround)
    tWPRE: int = 1              # write preamble (DRAMsim3: write-to-write across ranks)
    # power: one device's supply and datasheet currents (DRAMsim3's [power]); energy as DRAMsim3
    # computes it (hwmodel.dram_energy), per device times bus_width / device_width devices per rank
    VDD: float = 1.2            # supply voltage (V)
    IDD0: float = 48.0          # one bank ACTIVATE-to-PRECHARGE current (mA)
    IDD2P: float = 25.0         # precharge power-down current (mA; power-down is not modelled)
    IDD2N: float = 34.0         # precharge standby current: all banks closed (mA)
    IDD3P: float = 37.0         # active power-down current (mA; power-down is not modelled)
    IDD3N: float = 43.0         # active standby current: a bank open (mA)
    IDD4W: float = 123.0        # burst write current (mA)
    IDD4R: float = 135.0        # burst read current (mA)
    IDD5AB: float = 250.0       # all-bank refresh current (mA)
    IDD5PB: float = 5.0         # per-bank refresh current (mA; per-bank refresh is not modelled)
    IDD6x: float = 30.0         # self-refresh current (mA; self refresh is not modelled)

    MAX_COUNT = {"BL": 1024, "device_width": 1024, "bus_width": 4096, "transfers_per_tck": 1024}

    def __post_init__(self):
        check_fields(self, DRAMDevice)
        self.check_device()

    def check_device(self):
        """The device's own rules (a `DRAM` runs them on its device fields too)."""
        for name in ("ranks", "bankgroups", "banks_per_group", "rows", "columns", "BL", "device_width",
                     "bus_width", "transfers_per_tck"):
            log2_exact(getattr(self, name), f"dram.{name}")
        choice("protocol", self.protocol, tuple(PROTOCOLS))
        if self.tck_ps <= 0:
            raise ValueError(f"dram.tck_ps: {self.tck_ps} must be > 0")
        if self.VDD <= 0:
            raise ValueError(f"dram.VDD: {self.VDD} V must be > 0")
        if self.bus_width < self.device_width:
            raise ValueError(f"dram.bus_width: {self.bus_width} bits is narrower than one device "
                             f"(dram.device_width = {self.device_width})")
        if self.BL < self.transfers_per_tck:
            raise ValueError(f"dram.BL: {self.BL} beats is less than one tCK of transfers "
                             f"(dram.transfers_per_tck = {self.transfers_per_tck})")
        if self.columns < self.BL:
            raise ValueError(f"dram.columns: {self.columns} is less than one burst (dram.BL = {self.BL})")
        for name in ("CL", "tRCD", "tRP"):
            if getattr(self, name) <= 0:
                raise ValueError(f"dram.{name}: {getattr(self, name)} must be > 0")
        if self.tRAS < self.tRCD:
            raise ValueError(f"dram.tRAS: {self.tRAS} cycles is less than dram.tRCD = {self.tRCD}; "
                             f"a row must stay open at least until it can be read")
        if self.tRC < self.tRAS + self.tRP:
            raise ValueError(f"dram.tRC: {self.tRC} cycles is less than tRAS + tRP = "
                             f"{self.tRAS} + {self.tRP} = {self.tRAS + self.tRP}")
        if self.tck_ps > MAX_TCK_PS:
            raise ValueError(f"dram.tck_ps: {self.tck_ps} ps is above the maximum {MAX_TCK_PS} (a 1 MHz clock)")
        for name in TIMINGS:
            if getattr(self, name) * self.tck_ps > MAX_TIMING_PS:
                raise ValueError(f"dram.{name}: {getattr(self, name)} cycles of {self.tck_ps} ps is more than "
                                 f"2**40 ps (~1.1 s)")
        if self.ranks * self.bankgroups * self.banks_per_group > 4096:
            raise ValueError(f"dram.ranks: {self.ranks} ranks x {self.bankgroups} bank groups x "
                             f"{self.banks_per_group} banks = {self.banks} banks per channel; at most 4096")

    # -- construction -----------------------------------------------------------------------
    @classmethod
    def presets(cls) -> list:
        """Names of the built-in presets."""
        from .dram_presets import PRESETS
        return list(PRESETS)

    @classmethod
    def preset(cls, name: str, **overrides) -> "DRAMDevice":
        """The device of a built-in preset ('ddr4_2400' works: case, '-', '_', spaces ignored)."""
        from ..dram import DRAM
        return DRAM.preset(name).device.replace(**overrides)

    @classmethod
    def from_dramsim3_ini(cls, path, strict: bool = True, **overrides) -> "DRAMDevice":
        """The device a DRAMsim3 configuration file describes ([dram_structure], [timing],
        [power], and the ranks and bus width [system] gives it); see `DRAM.from_dramsim3_ini`."""
        from ..dram import DRAM
        return DRAM.from_dramsim3_ini(path, strict).device.replace(**overrides)

    def replace(self, **changes):
        """A copy with some fields changed; an unknown field name is an error."""
        known = {f.name for f in fields(self)}
        for k in changes:
            if k not in known:
                raise ValueError(f"dram.{k}: no such parameter; parameters: {', '.join(sorted(known))}")
        return replace(self, **changes) if changes else self

    def with_ns(self, **timings):
        """A copy with timings given in time units ('13.75ns', '7.8us', '500ps'); ints stay cycles.

        `tCK` (or `tck`) sets the clock first. Times become cycles by JEDEC's rounding algorithm
        (DDR4 SPD annex): nCK = floor((t_ps * 1000 / tCK_ps + 974) / 1000), i.e. round up unless
        the fraction is below 0.026, which absorbs a truncated tCK (0.833 for 0.8333 ns).
        """
        changes = {}
        tck = timings.pop("tCK", timings.pop("tck", None))
        tck_ps = self.tck_ps if tck is None else parse_time(tck, "dram.tCK", default_unit="ns")
        if tck is not None:
            if tck_ps <= 0:
                raise ValueError(f"dram.tCK: {tck!r} must be > 0")
            changes["tck_ps"] = tck_ps
        for key, value in timings.items():
            name = TIMING_ALIASES.get(key, key)
            if name not in TIMINGS:
                raise ValueError(f"dram.{key}: not a timing; timings: {', '.join(TIMINGS)}")
            if isinstance(value, int) and not isinstance(value, bool):
                changes[name] = value
            else:
                changes[name] = ns_to_cycles(parse_time(value, f"dram.{key}"), tck_ps)
        return self.replace(**changes)

    # -- derived quantities -----------------------------------------------------------------
    @property
    def bus_bytes(self) -> int:
        return self.bus_width // 8

    @property
    def burst_bytes(self) -> int:
        """Bytes one burst (one column access) moves on the channel: bus width x BL."""
        return self.bus_bytes * self.BL

    @property
    def banks(self) -> int:
        """Banks per channel (all ranks)."""
        return self.ranks * self.bankgroups * self.banks_per_group

    @property
    def devices_per_rank(self) -> int:
        return self.bus_width // self.device_width

    @property
    def row_bytes(self) -> int:
        """Bytes of one row across the rank (a DRAM 'page')."""
        return self.columns * self.bus_bytes

    @property
    def channel_bytes(self) -> int:
        """Bytes behind one channel: all its ranks."""
        return self.banks * self.rows * self.row_bytes

    @property
    def burst_cycles(self) -> int:
        """Cycles one burst holds the data bus: BL / transfers_per_tck (BL/2 for DDR)."""
        return self.BL // self.transfers_per_tck

    @property
    def rcd_write(self) -> int:
        """ACT-to-WRITE cycles: tRCDWR where given, else tRCD."""
        return self.tRCDWR or self.tRCD

    def burst_ps(self) -> int:
        """Data-bus time of one burst, ps."""
        return self.burst_cycles * self.tck_ps

    def t_ps(self, name: str) -> int:
        """A timing in integer ps: 'tRCD', 'CL' (or 'tCL'), 'tRFC', ..., 'tCK', 'tBL' (one burst)."""
        if name in ("tCK", "tck"):
            return self.tck_ps
        if name in ("tBL", "burst"):
            return self.burst_ps()
        key = TIMING_ALIASES.get(name, name)
        if key not in TIMINGS:
            raise ValueError(f"dram.{name}: not a timing; timings: tCK, tBL, {', '.join(TIMINGS)}")
        return (self.rcd_write if key == "tRCDWR" else getattr(self, key)) * self.tck_ps

    def unloaded_read_ps(self, state: str = "hit") -> int:
        """Idle-system read latency in ps, command issue to last data beat, by row-buffer state.

        hit:      (CL + burst) x tCK
        closed:   (tRCD + CL + burst) x tCK           (ACT first)
        conflict: (tRP + tRCD + CL + burst) x tCK     (PRE, then ACT)
        with burst = BL / transfers_per_tck cycles. This is DRAMsim3's read_delay (RL + burst_cycle,
        AL = 0) plus the ACT and PRE it needs. tRAS/tRC may delay a conflict further when the row
        was opened less than tRAS ago; an idle system has no such recent row.
        """
        cycles = {"hit": 0, "closed": self.tRCD, "conflict": self.tRP + self.tRCD}
        if state not in cycles:
            raise ValueError(f"state {state!r} is not one of {', '.join(UNLOADED_STATES)}")
        return (cycles[state] + self.CL + self.burst_cycles) * self.tck_ps


def check_fields(obj, cls):
    """Type and range of each field `cls` declares, as its annotation says; `dram.<field>` names it."""
    limits = getattr(obj, "MAX_COUNT", {})
    for f in fields(cls):
        v = getattr(obj, f.name)
        if f.type == "int":
            if not isinstance(v, int) or isinstance(v, bool) or v < 0:
                raise ValueError(f"dram.{f.name}: {v!r} must be a non-negative integer")
            if v > limits.get(f.name, MAX_INT):
                raise ValueError(f"dram.{f.name}: {v} is above the maximum {limits.get(f.name, MAX_INT)}")
        if f.type == "bool" and not isinstance(v, bool):
            raise ValueError(f"dram.{f.name}: {v!r} must be True or False")
        if f.type == "str" and not isinstance(v, str):
            raise ValueError(f"dram.{f.name}: {v!r} must be a string")
        if f.type == "float":
            if not isinstance(v, (int, float)) or isinstance(v, bool) or not 0 <= v < float("inf"):
                raise ValueError(f"dram.{f.name}: {v!r} must be a non-negative number")
            object.__setattr__(obj, f.name, float(v))   # 48 and 48.0 are one value


def choice(name: str, value: str, allowed: tuple):
    if value not in allowed:
        raise ValueError(f"dram.{name}: {value!r} is not one of {', '.join(map(repr, allowed))}")


def ns_to_cycles(t_ps: int, tck_ps: int) -> int:
    """Whole tCK cycles covering `t_ps`, by JEDEC's rounding (see DRAMDevice.with_ns)."""
    return (t_ps * 1000 // tck_ps + 974) // 1000


def norm(name) -> str:
    """A preset name compared loosely: case, '-', '_' and spaces ignored."""
    return re.sub(r"[-_\s]", "", str(name)).upper()
