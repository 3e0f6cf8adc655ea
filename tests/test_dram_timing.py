"""DRAM timing helpers: integer ps, the unloaded-latency formula, nanosecond input."""
import pytest

from hwmodel.dram import DRAM, TIMINGS, ns_to_cycles

D = DRAM.preset("DDR4-2400")   # tCK 830 ps, CL = tRCD = tRP = 17, BL8 -> 4-cycle bursts


def test_t_ps_is_cycles_times_tck():
    assert D.t_ps("tRCD") == 17 * 830
    assert D.t_ps("CL") == D.t_ps("tCL") == 17 * 830
    assert D.t_ps("tRFC") == 420 * 830
    assert D.t_ps("tCK") == 830
    assert D.t_ps("tBL") == D.burst_ps() == 4 * 830
    for name in TIMINGS:
        assert isinstance(D.t_ps(name), int)
    with pytest.raises(ValueError, match="dram.tFOO: not a timing"):
        D.t_ps("tFOO")


def test_rcd_write_defaults_to_rcd():
    assert D.t_ps("tRCDWR") == D.t_ps("tRCD")
    g6 = DRAM.preset("GDDR6")
    assert (g6.tRCD, g6.rcd_write, g6.t_ps("tRCDWR")) == (24, 20, 20 * 660)


def test_unloaded_read_formula():
    assert D.unloaded_read_ps("hit") == (17 + 4) * 830 == 17430
    assert D.unloaded_read_ps("closed") == (17 + 17 + 4) * 830
    assert D.unloaded_read_ps("conflict") == (17 + 17 + 17 + 4) * 830
    assert D.unloaded_read_ps() == D.unloaded_read_ps("hit")
    with pytest.raises(ValueError, match="'open' is not one of hit, closed, conflict"):
        D.unloaded_read_ps("open")


@pytest.mark.parametrize("name", DRAM.presets())
def test_unloaded_read_ordering_for_every_preset(name):
    d = DRAM.preset(name)
    hit, closed, conflict = (d.unloaded_read_ps(s) for s in ("hit", "closed", "conflict"))
    assert hit == (d.CL + d.burst_cycles) * d.tck_ps
    assert conflict - closed == d.t_ps("tRP") and closed - hit == d.t_ps("tRCD")


def test_burst_is_bl_over_transfers_per_tck():
    assert DRAM.preset("DDR4-2400").burst_cycles == 4
    assert DRAM.preset("LPDDR4-2400").burst_cycles == 8
    assert DRAM.preset("HBM2").burst_cycles == 2
    assert DRAM.preset("GDDR6").burst_cycles == 1     # DRAMsim3: GDDR6 burst_cycle = BL/16


def test_jedec_rounding():
    assert ns_to_cycles(13750, 830) == 17     # 16.57 -> 17
    assert ns_to_cycles(13750, 625) == 22     # exactly 22
    assert ns_to_cycles(15000, 625) == 24
    assert ns_to_cycles(5000, 416) == 12      # 12.02: a truncated tCK does not cost a cycle
    assert ns_to_cycles(10000, 416) == 25     # 24.04: past JEDEC's 0.026 guard band, rounds up
    assert ns_to_cycles(7800_000, 1250) == 6240


def test_with_ns_converts_and_keeps_ints_as_cycles():
    d = D.with_ns(tRCD="13.75ns", tRP="13.75ns", tRFC="350ns", tREFI="7.8us", CL=18)
    assert (d.tRCD, d.tRP, d.tRFC, d.tREFI, d.CL) == (17, 17, 422, 9398, 18)
    assert d.tck_ps == 830 and d.name == D.name


def test_with_ns_sets_the_clock_first():
    d = D.with_ns(tCK="0.625ns", CL="13.75ns", tRCD="13.75ns", tRP="13.75ns", tRAS="32ns",
                  tRC="45.75ns", tRFC="350ns", tREFI="7.8us")
    assert (d.tck_ps, d.CL, d.tRCD, d.tRP, d.tRAS, d.tRC, d.tRFC, d.tREFI) == (625, 22, 22, 22, 52, 74, 560, 12480)


def test_with_ns_errors_name_the_parameter():
    with pytest.raises(ValueError, match="dram.tFOO: not a timing"):
        D.with_ns(tFOO="1ns")
    with pytest.raises(ValueError, match="dram.tRCD: unknown unit"):
        D.with_ns(tRCD="13.75 parsecs")
    with pytest.raises(ValueError, match=r"dram.tRC: \d+ cycles is less than tRAS \+ tRP"):
        D.with_ns(tRC="10ns")
