"""Importing DRAMsim3 .ini files: every reference file as it is, DRAMsim3's derivations (ranks from
channel_size, GDDR/HBM columns, bank groups), and clear errors naming file, section and key."""
import re
import warnings
from pathlib import Path

import pytest

from hwmodel.dram import DRAM

REF = Path(__file__).resolve().parent / "data" / "dramsim3"
DDR4_INI = REF / "DDR4_8Gb_x8_2400.ini"


def load(path, **kw):
    with warnings.catch_warnings():
        warnings.simplefilter("error")   # no reference file may need a warning except GDDR6's
        return DRAM.from_dramsim3_ini(path, **kw)


def edited(tmp_path, edits, src=DDR4_INI):
    """A copy of `src` with regex substitutions applied, for the error cases."""
    text = src.read_text()
    for old, new in edits:
        text, n = re.subn(old, new, text, flags=re.M)
        assert n, old
    p = tmp_path / src.name
    p.write_text(text)
    return p


def test_ddr4_8gb_x8_2400():
    d = load(DDR4_INI)
    assert d.name == "DDR4_8Gb_x8_2400" and d.protocol == "DDR4"
    assert (d.channels, d.ranks, d.bankgroups, d.banks_per_group, d.rows, d.columns) == (1, 2, 4, 4, 65536, 1024)
    assert d.capacity_bytes == 16 << 30
    assert (d.tck_ps, d.CL, d.CWL, d.tRCD, d.tRP, d.tRAS, d.tRC) == (830, 17, 12, 17, 17, 39, 56)
    assert (d.tRFC, d.tREFI, d.tFAW, d.tRRD_S, d.tRRD_L, d.tCCD_S, d.tCCD_L) == (420, 9360, 26, 4, 6, 4, 6)
    assert (d.tWTR_S, d.tWTR_L, d.tWR, d.tRTP, d.tRTRS, d.tRPRE, d.tWPRE) == (3, 9, 18, 9, 1, 1, 1)
    assert (d.address_mapping, d.row_policy, d.queue_structure, d.refresh_policy) == \
        ("rochrababgco", "open", "per_bank", "rank_level_staggered")
    assert (d.trans_queue_size, d.cmd_queue_size, d.scheduler) == (32, 8, "frfcfs")
    assert d.peak_bytes_per_s == pytest.approx(19.277e9, rel=1e-4)


EXPECTED = {  # file: (ranks, channels, capacity GiB, tck_ps, columns as DRAMsim3 counts them)
    "DDR3_8Gb_x8_1600.ini": (2, 1, 16, 1250, 2048),
    "DDR4_4Gb_x8_2400.ini": (2, 1, 8, 830, 1024),
    "DDR4_8Gb_x16_3200.ini": (2, 1, 8, 630, 1024),
    "DDR4_8Gb_x8_2400.ini": (2, 1, 16, 830, 1024),
    "DDR4_8Gb_x8_3200.ini": (2, 1, 16, 630, 1024),
    "GDDR6_8Gb_x16.ini": (1, 1, 8, 660, 128 * 16),
    "HBM2_8Gb_x128.ini": (1, 8, 8, 1000, 64 * 2),
    "LPDDR4_8Gb_x16_2400.ini": (2, 1, 8, 830, 1024),
}


def test_every_reference_file_is_covered():
    assert sorted(p.name for p in REF.glob("*.ini")) == sorted(EXPECTED)


@pytest.mark.parametrize("fname", sorted(EXPECTED))
def test_every_reference_file_imports_as_it_is(fname):
    if fname.startswith("GDDR6"):
        with pytest.warns(UserWarning, match=r"\[system\] channel_size: 4096 MiB is less than one rank .*8192 MiB"):
            d = DRAM.from_dramsim3_ini(REF / fname)
    else:
        d = load(REF / fname)
    ranks, channels, gib, tck, columns = EXPECTED[fname]
    assert (d.ranks, d.channels, d.capacity_bytes, d.tck_ps, d.columns) == (ranks, channels, gib << 30, tck, columns)
    # the ranks match DRAMsim3's CalculateSize with its integer arithmetic
    text = (REF / fname).read_text()
    size = int(re.search(r"^channel_size\s*=\s*(\d+)", text, re.M).group(1))
    mib_per_rank = d.row_bytes * d.rows * d.bankgroups * d.banks_per_group >> 20
    assert d.ranks == max(1, size // mib_per_rank)


def test_gddr6_and_hbm_specifics():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        g6 = DRAM.from_dramsim3_ini(REF / "GDDR6_8Gb_x16.ini")
    assert (g6.bankgroups, g6.banks_per_group) == (1, 16)          # bankgroup_enable = false
    assert (g6.tRCD, g6.tRCDWR, g6.tRTP, g6.tRPRE) == (24, 20, 3, 1)   # tRCDRD; tRTP_L; '1; read preamble'
    assert (g6.transfers_per_tck, g6.burst_cycles) == (16, 1)
    hbm = load(REF / "HBM2_8Gb_x128.ini")
    assert (hbm.protocol, hbm.tRCD, hbm.tRCDWR, hbm.tRTP, hbm.tRTRS) == ("HBM", 14, 14, 6, 2)
    assert hbm.address_mapping == "rorabgbachco" and hbm.field_bits()["ch"] == (11, 3)


def test_ddr3_refi_spelling_is_read_as_trefi():
    d = load(REF / "DDR3_8Gb_x8_1600.ini")
    assert (d.tREFI, d.bankgroups, d.banks_per_group, d.tRPRE) == (6240, 1, 8, 0)


def test_overrides_apply_after_import():
    d = load(DDR4_INI, name="x", scheduler="fcfs", bank_xor=True)
    assert (d.name, d.scheduler, d.bank_xor, d.CL) == ("x", "fcfs", True, 17)
    with pytest.raises(ValueError, match="dram.tFOO: no such parameter"):
        load(DDR4_INI, tFOO=1)
    with pytest.raises(ValueError, match=r"^dram.tRAS: 5 cycles is less than dram.tRCD"):
        load(DDR4_INI, tRAS=5)


def test_comments_and_case(tmp_path):
    p = edited(tmp_path, [(r"^CL = 17$", "cl = 18 ; was 17"), (r"^tRCD = 17$", "tRCD = 18; no space")])
    d = load(p)
    assert (d.CL, d.tRCD) == (18, 18)


def test_close_page_and_per_rank(tmp_path):
    p = edited(tmp_path, [(r"OPEN_PAGE", "CLOSE_PAGE"), (r"PER_BANK", "PER_RANK"),
                          (r"RANK_LEVEL_STAGGERED", "RANK_LEVEL_SIMULTANEOUS")])
    d = load(p)
    assert (d.row_policy, d.queue_structure, d.refresh_policy) == ("closed", "per_rank", "rank_level_simultaneous")


def test_more_channel_size_gives_more_ranks(tmp_path):
    d = load(edited(tmp_path, [(r"^channel_size = 16384", "channel_size = 32768")]))
    assert d.ranks == 4 and d.field_bits()["ra"] == (17, 2)


@pytest.mark.parametrize("edits, msg", [
    ([(r"^protocol = DDR4", "protocol = DDR9")], r"\[dram_structure\] protocol: unknown protocol 'DDR9'"),
    ([(r"^protocol = DDR4", "protocol = HMC")], r"\[dram_structure\] protocol: unknown protocol 'HMC'"),
    ([(r"^tRP = 17\n", "")], r"\[timing\] tRP: missing \(required\)"),
    ([(r"^bus_width = 64\n", "")], r"\[system\] bus_width: missing \(required\)"),
    ([(r"^\[timing\]", "[timings]")], r"unknown section \[timings\]"),
    ([(r"^tRCD = 17", "tRCD = 17\ntRDC = 17")], r"\[timing\] tRDC: unknown key"),
    ([(r"^channel_size = 16384", "channel_size = 24576")],
     r"\[system\] channel_size: 24576 MiB is not a power-of-two number of ranks of 8192 MiB"),
    ([(r"^channel_size = 16384", "channel_size = 10000")], r"\[system\] channel_size: 10000 MiB"),
    ([(r"^tRAS = 39", "tRAS = 39\ntRC = 50")], r"\[timing\] tRC: 50 is less than tRAS \+ tRP = 56"),
    ([(r"^tRAS = 39", "tRAS = 10")], r"\[timing\] tRAS: dram.tRAS: 10 cycles is less than dram.tRCD = 17"),
    ([(r"^CL = 17", "CL = 0")], r"\[timing\] CL: dram.CL: 0 must be > 0"),
    ([(r"^CL = 17", "CL = seventeen")], r"\[timing\] CL: 'seventeen' is not an integer"),
    ([(r"^CL = 17", "CL = 17\nCL = 18")], r"\[timing\] CL: given twice"),
    ([(r"^AL = 0", "AL = 2")], r"\[timing\] AL: additive latency 2 is not modelled"),
    ([(r"^tCK = 0.83", "tCK = 0")], r"\[timing\] tCK: '0' must be > 0"),
    ([(r"^address_mapping = rochrababgco", "address_mapping = rochrababgxx")],
     r"\[system\] address_mapping: dram.address_mapping: 'rochrababgxx'"),
    ([(r"^row_buf_policy = OPEN_PAGE", "row_buf_policy = LAZY_PAGE")],
     r"\[system\] row_buf_policy: unknown value 'LAZY_PAGE'; known: OPEN_PAGE, CLOSE_PAGE"),
    ([(r"^refresh_policy = RANK_LEVEL_STAGGERED", "refresh_policy = SOMETIMES")],
     r"\[system\] refresh_policy: unknown value 'SOMETIMES'"),
    ([(r"^bus_width = 64", "bus_width = 60")], r"\[system\] bus_width: 60 bits is not a whole number of 8-bit devices"),
    ([(r"^tRCD = 17", "tRCD = 17\ntRCDRD = 17")], r"\[timing\] tRCDRD: tRCDRD/tRCDWR apply to GDDR and HBM only"),
    ([(r"^tREFI = 9360", "tREFI = 9360\nREFI = 6240")], r"\[timing\] tREFI: 9360 contradicts REFI = 6240"),
    ([(r"^BL = 8", "BL = 6")], r"\[dram_structure\] BL: dram.BL: 6 is not a power of two"),
])
def test_errors_name_file_section_and_key(tmp_path, edits, msg):
    p = edited(tmp_path, edits)
    with pytest.raises(ValueError) as e:
        load(p)
    assert str(e.value).startswith(str(p))
    assert re.search(msg, str(e.value)), str(e.value)


def test_gddr_needs_trcdrd(tmp_path):
    p = edited(tmp_path, [(r"^tRCDRD = 24\n", "")], src=REF / "GDDR6_8Gb_x16.ini")
    with pytest.raises(ValueError, match=r"\[timing\] tRCDRD: missing \(required for GDDR6\)"):
        DRAM.from_dramsim3_ini(p)


def test_lenient_mode_warns_on_unknown_keys(tmp_path):
    p = edited(tmp_path, [(r"^tRCD = 17", "tRCD = 17\nrefchunks = 8192"), (r"^\[other\]", "[vendor]")])
    with pytest.warns(UserWarning) as rec:
        d = DRAM.from_dramsim3_ini(p, strict=False)
    msgs = " | ".join(str(w.message) for w in rec)
    assert "refchunks: unknown key" in msgs and "unknown section [vendor]" in msgs
    assert d == load(DDR4_INI)


def test_missing_file():
    with pytest.raises(ValueError, match="cannot read DRAMsim3 configuration"):
        DRAM.from_dramsim3_ini(REF / "nope.ini")


def test_thermal_and_other_sections_are_ignored(tmp_path):
    p = edited(tmp_path, [(r"^amb_temp = 40", "amb_temp = banana"), (r"^epoch_period = 1204819", "epoch_period = x")])
    assert load(p) == load(DDR4_INI)


def test_power_section_is_read():
    d = load(DDR4_INI)
    assert (d.VDD, d.IDD0, d.IDD2P, d.IDD2N, d.IDD3P, d.IDD3N, d.IDD4W, d.IDD4R, d.IDD5AB, d.IDD6x) == \
        (1.2, 48, 25, 34, 37, 43, 123, 135, 250, 30)
    assert d.IDD5PB == 5            # not in the file: DRAMsim3's default
    with pytest.warns(UserWarning, match="channel_size"):
        g6 = DRAM.from_dramsim3_ini(REF / "GDDR6_8Gb_x16.ini")
    assert (g6.VDD, g6.IDD5PB, g6.IDD4R) == (1.35, 45, 248)


def test_missing_power_keys_take_dramsim3_defaults(tmp_path):
    p = edited(tmp_path, [(r"^IDD6x = 30\n", ""), (r"^VDD = 1.2\n", ""), (r"^IDD0 = 48\n", "IDD0 = 50.5\n")])
    d = load(p)
    assert (d.IDD6x, d.VDD, d.IDD0) == (31, 1.2, 50.5)


@pytest.mark.parametrize("edit, message", [
    ((r"^VDD = 1.2", "VDD = banana"), r"\[power\] VDD: 'banana' is not a number"),
    ((r"^IDD3N = 43", "IDD3N = -4"), r"\[power\] IDD3N: '-4' must be a non-negative number"),
    ((r"^VDD = 1.2", "VDD = 0"), r"\[power\] VDD: dram.VDD: 0.0 V must be > 0"),
    ((r"^IDD0 = 48", "IDD0 = 48\nIDD7 = 100"), r"\[power\] IDD7: unknown key \(line \d+\)"),
])
def test_bad_power_values_name_the_key(tmp_path, edit, message):
    with pytest.raises(ValueError, match=message):
        load(edited(tmp_path, [edit]))


def test_power_fields_validate():
    assert DRAM(IDD0=50).IDD0 == 50.0 and isinstance(DRAM(IDD0=50).IDD0, float)
    for bad in (True, "48mA", -1, float("inf"), float("nan")):
        with pytest.raises(ValueError, match="dram.IDD0: .* must be a non-negative number"):
            DRAM(IDD0=bad)
