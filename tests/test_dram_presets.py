"""DRAM presets: names, lookup, and agreement with the DRAMsim3 files they come from."""
import warnings
from dataclasses import fields
from pathlib import Path

import pytest

from hwmodel.dram import DRAM
from hwmodel.hardware.dram_presets import DRAMSIM3_SOURCES, PRESETS

REF = Path(__file__).resolve().parent / "data" / "dramsim3"


def test_preset_names():
    assert DRAM.presets() == ["DDR3-1600", "DDR4-2400", "DDR4-3200", "DDR5-4800", "LPDDR4-2400",
                              "HBM2", "GDDR6"]
    for name in DRAM.presets():
        assert DRAM.preset(name).name == name


@pytest.mark.parametrize("spelling", ["DDR4-2400", "ddr4_2400", "ddr4-2400", "DDR4 2400", "Ddr42400"])
def test_preset_lookup_ignores_case_and_separators(spelling):
    assert DRAM.preset(spelling) == DRAM.preset("DDR4-2400")


def test_unknown_preset_lists_the_known_ones():
    with pytest.raises(ValueError, match=r"dram.preset: unknown preset 'DDR9-9999'; known presets: DDR3-1600, "
                                         r"DDR4-2400, .*GDDR6"):
        DRAM.preset("DDR9-9999")


def test_preset_overrides_and_unknown_override():
    d = DRAM.preset("DDR4-3200", scheduler="fcfs", row_policy="closed")
    assert (d.scheduler, d.row_policy, d.CL) == ("fcfs", "closed", 22)
    with pytest.raises(ValueError, match="dram.tXYZ: no such parameter"):
        DRAM.preset("DDR4-3200", tXYZ=3)


def test_defaults_are_the_ddr4_2400_preset():
    assert DRAM() == DRAM.preset("DDR4-2400")


@pytest.mark.parametrize("name", sorted(DRAMSIM3_SOURCES))
def test_preset_equals_its_dramsim3_file(name):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # GDDR6: channel_size below one rank (see test_dram_ini)
        imported = DRAM.from_dramsim3_ini(REF / DRAMSIM3_SOURCES[name], name=name)
    preset = DRAM.preset(name)
    diff = {f.name: (getattr(preset, f.name), getattr(imported, f.name))
            for f in fields(DRAM) if getattr(preset, f.name) != getattr(imported, f.name)}
    assert diff == {}


def test_ddr4_2400_figures():
    d = DRAM.preset("DDR4-2400")
    assert (d.ranks, d.capacity_bytes, d.tck_ps, d.CL, d.tRCD, d.tRP) == (2, 16 << 30, 830, 17, 17, 17)
    assert d.row_bytes == 8192 and d.burst_bytes == 64 and d.banks == 32
    # x64 at 2400 MT/s is 19.2 GB/s; DRAMsim3's tCK of 0.83 ns (not 0.8333) gives 16 B / 0.83 ns
    assert d.peak_bytes_per_s == pytest.approx(16 / 0.83e-9)
    assert d.peak_bytes_per_s == pytest.approx(19.277e9, rel=1e-4)
    assert d.peak_bytes_per_s == pytest.approx(19.2e9, rel=0.005)
    assert d.replace(tck_ps=833).peak_bytes_per_s == pytest.approx(19.21e9, rel=1e-3)


def test_ddr5_4800_figures():
    d = DRAM.preset("DDR5-4800")
    assert (d.channels, d.bus_width, d.BL, d.burst_bytes, d.capacity_bytes) == (2, 32, 16, 64, 16 << 30)
    assert (d.CL, d.tRCD, d.tRP, d.tRAS, d.tRC, d.tck_ps) == (40, 39, 39, 77, 116, 416)
    # JEDEC ns figures through with_ns at 416 ps: 5 ns -> 12, 295 ns -> 710, 3.9 us -> 9375
    assert (d.tCCD_L, d.tRRD_L, d.tWTR_S, d.tWTR_L, d.tRFC, d.tREFI) == (12, 12, 6, 25, 710, 9375)
    assert d.peak_bytes_per_s == pytest.approx(38.46e9, rel=1e-3)   # two 32-bit sub-channels


def test_other_preset_figures():
    hbm = DRAM.preset("HBM2")
    assert (hbm.channels, hbm.capacity_bytes, hbm.burst_bytes) == (8, 8 << 30, 64)
    assert hbm.peak_bytes_per_s == pytest.approx(256e9)
    g6 = DRAM.preset("GDDR6")
    assert (g6.burst_cycles, g6.burst_bytes, g6.capacity_bytes) == (1, 256, 8 << 30)
    assert DRAM.preset("DDR3-1600").peak_bytes_per_s == pytest.approx(12.8e9)
    assert DRAM.preset("LPDDR4-2400").burst_bytes == 128


def test_every_preset_has_a_source_comment():
    src = Path(__file__).resolve().parents[1].joinpath("hwmodel", "hardware", "dram_presets.py").read_text()
    for name in PRESETS:
        i = src.index(f'    "{name}": dict(')
        assert src[:i].rstrip().splitlines()[-1].lstrip().startswith("#"), name


@pytest.mark.parametrize("bad, msg", [
    (dict(tRC=50), r"dram.tRC: 50 cycles is less than tRAS \+ tRP = 39 \+ 17 = 56"),
    (dict(tRAS=16), r"dram.tRAS: 16 cycles is less than dram.tRCD = 17"),
    (dict(CL=0), r"dram.CL: 0 must be > 0"),
    (dict(CL=-1), r"dram.CL: -1 must be a non-negative integer"),
    (dict(address_mapping="robabgco"), r"dram.address_mapping"),
    (dict(address_mapping="RoBaCoCh"), r"dram.address_mapping: 'RoBaCoCh' has no rank field"),
    (dict(ranks=3), r"dram.ranks: 3 is not a power of two"),
    (dict(row_policy="lazy"), r"dram.row_policy: 'lazy' is not one of 'open', 'closed', 'timeout'"),
    (dict(row_policy="timeout", row_timeout=0), r"dram.row_timeout: 0 cycles; the timeout policy needs >= 1"),
    (dict(scheduler="fifo"), r"dram.scheduler: 'fifo' is not one of 'fcfs', 'frfcfs'"),
    (dict(protocol="DDR9"), r"dram.protocol: 'DDR9'"),
    (dict(queue_structure="shared"), r"dram.queue_structure"),
    (dict(refresh_policy="never"), r"dram.refresh_policy"),
    (dict(trans_queue_size=0), r"dram.trans_queue_size: 0 must be > 0"),
    (dict(tREFI=400), r"dram.tREFI: 400 cycles must exceed dram.tRFC = 420"),
    (dict(device_width=128), r"dram.bus_width: 64 bits is narrower than one device"),
    (dict(bank_xor=1), r"dram.bank_xor: 1 must be True or False"),
    (dict(columns=4), r"dram.columns: 4 is less than one burst"),
])
def test_validation_names_the_field(bad, msg):
    with pytest.raises(ValueError, match=msg):
        DRAM.preset("DDR4-2400", **bad)
