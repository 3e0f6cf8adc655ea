"""DRAM energy and power from command counts and rank activity, as DRAMsim3 computes them.

DRAMsim3 (Config::InitPowerParams, SimpleStats) charges each command and each cycle a fixed
increment of VDD x current x time, summed over the devices of a rank (bus_width / device_width):

    ACT        VDD x (IDD0 x tRC - (IDD3N x tRAS + IDD2N x tRP))   per ACT
    READ       VDD x (IDD4R - IDD3N) x burst                       per column read (burst = BL / 2 for DDR)
    WRITE      VDD x (IDD4W - IDD3N) x burst                       per column write
    REF        VDD x (IDD5AB - IDD3N) x tRFC                       per all-bank refresh
    active     VDD x IDD3N                                         per rank and cycle with a bank open
    precharged VDD x IDD2N                                         per rank and cycle with every bank closed

with times in cycles of tCK, so an energy is in mA x V x cycles (mW x tCK) and DRAMsim3's
average_power = total_energy / num_cycles is in mW. DRAMsim3 labels its total "pJ"; it is pJ only
when tCK = 1 ns: `to_units` converts (pJ = mA x V x cycles x tCK in ns). Per-bank refresh,
power-down and self refresh are not modelled, so their terms (refb_energy, sref_energy) are 0.
"""
from __future__ import annotations

from .dram import DRAM

# DRAMsim3's energy keys of one channel, in the order it prints them
COMMAND_KEYS = ("act_energy", "read_energy", "write_energy", "ref_energy", "refb_energy")
RANK_KEYS = ("act_stb_energy", "pre_stb_energy", "sref_energy")


def increments(d: DRAM) -> dict:
    """DRAMsim3's energy per command (mA x V x cycles) and per rank-cycle (mA x V) of this DRAM."""
    devices = d.devices_per_rank
    return {
        "act": d.VDD * (d.IDD0 * d.tRC - (d.IDD3N * d.tRAS + d.IDD2N * d.tRP)) * devices,
        "read": d.VDD * (d.IDD4R - d.IDD3N) * d.burst_cycles * devices,
        "write": d.VDD * (d.IDD4W - d.IDD3N) * d.burst_cycles * devices,
        "ref": d.VDD * (d.IDD5AB - d.IDD3N) * d.tRFC * devices,
        "act_stb": d.VDD * d.IDD3N * devices,
        "pre_stb": d.VDD * d.IDD2N * devices,
    }


def channel_energy(d: DRAM, act: int, reads: int, writes: int, refreshes: int,
                   rank_active_cycles, all_bank_idle_cycles, num_cycles: int) -> dict:
    """One channel's energy figures under DRAMsim3's keys and units (mA x V x cycles; power mW).

    rank_active_cycles / all_bank_idle_cycles: per rank of the channel, cycles with at least one
    bank open / with every bank closed."""
    inc = increments(d)
    e = {"act_energy": act * inc["act"], "read_energy": reads * inc["read"],
         "write_energy": writes * inc["write"], "ref_energy": refreshes * inc["ref"], "refb_energy": 0.0}
    act_stb = {str(r): c * inc["act_stb"] for r, c in enumerate(rank_active_cycles)}
    pre_stb = {str(r): c * inc["pre_stb"] for r, c in enumerate(all_bank_idle_cycles)}
    e.update(act_stb_energy=act_stb, pre_stb_energy=pre_stb,
             sref_energy={str(r): 0.0 for r in range(len(act_stb))})
    e["total_energy"] = sum(e[k] for k in COMMAND_KEYS) + sum(act_stb.values()) + sum(pre_stb.values())
    e["average_power"] = e["total_energy"] / num_cycles if num_cycles else 0.0
    return e


def to_units(d: DRAM, e: dict) -> dict:
    """The same energies in pJ and the power in mW, labelled (DRAMsim3's units times tCK)."""
    tck_ns = d.tck_ps / 1000
    pj = {k[:-len("_energy")]: e[k] * tck_ns for k in COMMAND_KEYS}
    for k in RANK_KEYS:
        pj[k[:-len("_energy")]] = sum(e[k].values()) * tck_ns
    pj["total"] = e["total_energy"] * tck_ns
    return {"energy_pJ": pj, "total_energy_nJ": pj["total"] / 1000, "average_power_mW": e["average_power"]}


def notes(d: DRAM) -> list:
    """What a reader of these figures should know about this DRAM's currents."""
    act = increments(d)["act"]
    if act < 0:
        return [f"{d.name}: IDD0 x tRC < IDD3N x tRAS + IDD2N x tRP, so DRAMsim3's formula charges each "
                f"ACT {act * d.tck_ps / 1000:.1f} pJ (negative): the active-standby term already counts "
                f"IDD3N for every cycle a bank is open"]
    return []
