"""Address mapping: golden decodes pinned with binary literals (as DRAMsim3's tests/test_config.cc
does), DRAMsim3's own slicing algorithm as a second oracle, Ramulator names, XOR hashing, and the
vectorised decoder against the scalar one."""
import numpy as np
import pytest

from hwmodel.hardware.address_map import FIELDS, MASK, SHIFT, XOR_MASK, XOR_SHIFT, AddressMap, Location, parse_mapping
from hwmodel.dram import DRAM

DDR4 = DRAM.preset("DDR4-2400")   # 1 channel, 2 ranks, 4 bg x 4 banks, 64 Ki rows, 7 column bits


def dramsim3_decode(addr, mapping, widths, shift_bits):
    """DRAMsim3's Config::SetAddressMapping + AddressMapping, restated: the fields are positioned
    from the last one in the string up, after dropping shift_bits."""
    pos, field_pos = 0, {}
    tokens = [mapping[i:i + 2] for i in range(0, 12, 2)]
    while tokens:
        t = tokens.pop()
        field_pos[t] = pos
        pos += widths[t]
    a = addr >> shift_bits
    return tuple((a >> field_pos[f]) & ((1 << widths[f]) - 1) for f in FIELDS)


def test_ddr4_rochrababgco_golden():
    am = DDR4.address_map()
    #        ro (16)            ra  ba  bg  co (7)   burst offset (6, dropped)
    addr = 0b1000000000000101_1_10_01_0000011_101010
    assert am.decode(addr) == Location(ch=0, ra=1, bg=0b01, ba=0b10, ro=0b1000000000000101, co=3)
    assert am.fields()["co"] == (6, 127, 0, 0)
    assert am.fields()["bg"] == (13, 3, 0, 0)
    assert am.fields()["ba"] == (15, 3, 0, 0)
    assert am.fields()["ra"] == (17, 1, 0, 0)
    assert am.fields()["ro"] == (18, 65535, 0, 0)
    assert am.address_bits == 34 and 1 << am.address_bits == DDR4.capacity_bytes


def test_field_bits_matches_dramsim3_for_every_reference_layout():
    rng = np.random.default_rng(1)
    for name in DRAM.presets():
        d = DRAM.preset(name)
        widths = {f: b for f, (_, b) in d.field_bits().items()}
        shift_bits = (d.bus_width // 8 * d.BL).bit_length() - 1
        am = d.address_map()
        for addr in rng.integers(0, 1 << 40, size=200, dtype=np.int64).tolist():
            assert tuple(am.decode(addr)) == dramsim3_decode(addr, d.address_mapping, widths, shift_bits), name


def test_hbm2_rorabgbachco_golden():
    am = DRAM.preset("HBM2").address_map()   # 8 channels, 1 rank, BL4 x 16 B = 64 B bursts
    #       ro (15)          bg  ba  ch   co (5)  offset (6)
    addr = 0b000000000000011_11_01_101_00100_000000
    assert am.decode(addr) == Location(ch=0b101, ra=0, bg=0b11, ba=0b01, ro=3, co=0b00100)


def test_ddr5_two_subchannels_golden():
    am = DRAM.preset("DDR5-4800").address_map()   # rochrababgco, 2 channels, bursts of 4 B x 16
    #       ro (16)           ch  ba  bg   co (6)  offset (6)
    addr = 0b0000000000000001_1_11_101_000111_000000
    assert am.decode(addr) == Location(ch=1, ra=0, bg=0b101, ba=0b11, ro=1, co=0b000111)


def test_ramulator_robaracoch_follows_ramulator2_linear_mapper():
    # Ramulator 2 slices channel, column, then rank, bank group, bank, row from the low bits
    am = DDR4.replace(address_mapping="RoBaRaCoCh").address_map()
    assert am.order == ("ro", "ba", "bg", "ra", "co", "ch")
    #        ro (16)          ba  bg  ra  co (7)    offset
    addr = 0b0000000000000111_10_01_1_1111111_000000
    assert am.decode(addr) == Location(ch=0, ra=1, bg=0b01, ba=0b10, ro=7, co=127)


def test_ramulator_chrabaroco_is_the_plain_hierarchy():
    am = DDR4.replace(address_mapping="ChRaBaRoCo").address_map()
    assert am.order == ("ch", "ra", "bg", "ba", "ro", "co")
    #      ra  bg  ba  ro (16)            co (7)    offset
    addr = 0b1_11_00_0000000000001000_0000001_000000
    assert am.decode(addr) == Location(ch=0, ra=1, bg=0b11, ba=0, ro=8, co=1)


def test_ramulator_other_names_put_bank_group_below_bank_unless_bg_is_named():
    assert parse_mapping("RoCoBaRaCh") == ("ro", "co", "ba", "bg", "ra", "ch")
    assert parse_mapping("RoBgBaRaCoCh") == ("ro", "bg", "ba", "ra", "co", "ch")
    d5 = DRAM.preset("DDR5-4800", address_mapping="RoCoBaRaCh")   # ra has no bits (1 rank)
    am = d5.address_map()
    #       ro (16)           co (6)   ba  bg   ch  offset
    addr = 0b0000000000000010_000011_01_110_1_000000
    assert am.decode(addr) == Location(ch=1, ra=0, bg=0b110, ba=0b01, ro=2, co=3)


def test_ramulator_name_may_leave_out_a_level_with_one_member():
    am = DRAM.preset("DDR4-2400", ranks=1).replace(address_mapping="RoBaCoCh").address_map()
    assert am.decode(0b101_11_00_0000001_000000) == Location(ch=0, ra=0, bg=0, ba=3, ro=5, co=1)
    with pytest.raises(ValueError, match=r"dram.address_mapping: 'RoBaCoCh' has no rank field.*2 ranks"):
        DDR4.replace(address_mapping="RoBaCoCh")


def test_xor_bank_hashing_spreads_same_bank_rows():
    am = DDR4.replace(bank_xor=True).address_map()
    f = am.fields()
    assert f["ba"] == (15, 3, 18, 3) and f["bg"] == (13, 3, 20, 3)
    #        ro (16)            ra  ba  bg  co      offset
    addr = 0b0000000000000110_0_01_10_0000000_000000   # row bits 0..1 = 10, 2..3 = 01
    assert am.decode(addr) == Location(ch=0, ra=0, bg=0b10 ^ 0b01, ba=0b01 ^ 0b10, ro=6, co=0)
    # rows 0..15 of raw bank (0, 0) land in 16 different (bg, ba) pairs
    banks = {am.decode(row << 18)[2:4] for row in range(16)}
    assert len(banks) == 16


def test_encode_inverts_decode_with_and_without_xor():
    rng = np.random.default_rng(7)
    for d in (DDR4, DDR4.replace(bank_xor=True), DRAM.preset("HBM2"), DRAM.preset("DDR5-4800")):
        am = d.address_map()
        for addr in rng.integers(0, 1 << am.address_bits, size=300, dtype=np.int64).tolist():
            base = addr >> am.offset_bits << am.offset_bits
            assert am.encode(**am.decode(addr)._asdict()) == base


@pytest.mark.parametrize("mapping", ["rochrababgco", "chrobabgraco", "robgbarachco", "RoBaRaCoCh",
                                     "ChRaBaRoCo", "RoCoBaRaCh"])
@pytest.mark.parametrize("xor", [False, True])
def test_decode_array_equals_decode(mapping, xor):
    am = DDR4.replace(address_mapping=mapping, bank_xor=xor).address_map()
    rng = np.random.default_rng(3)
    addrs = rng.integers(0, 1 << 40, size=2000, dtype=np.uint64)   # beyond capacity: high bits wrap
    vec = am.decode_array(addrs)
    assert all(v.dtype == np.int64 for v in vec)
    for i in range(0, 2000, 97):
        assert tuple(int(v[i]) for v in vec) == tuple(am.decode(int(addrs[i])))
    for f, v in zip(FIELDS, vec):  # and the whole array by the formula on the table
        s, m, xs, xm = am.table[FIELDS.index(f)]
        a = addrs.astype(np.int64)
        assert np.array_equal(v, ((a >> s) & m) ^ ((a >> xs) & xm))


def test_table_is_int64_for_the_core():
    t = DDR4.replace(bank_xor=True).address_map().table
    assert t.dtype == np.int64 and t.shape == (6, 4) and t.flags.c_contiguous
    assert (SHIFT, MASK, XOR_SHIFT, XOR_MASK) == (0, 1, 2, 3)
    assert list(t[FIELDS.index("ba")]) == [15, 3, 18, 3]


def test_decode_rejects_bad_addresses():
    am = DDR4.address_map()
    with pytest.raises(ValueError, match="non-negative"):
        am.decode(-1)
    with pytest.raises(ValueError, match="non-negative"):
        am.decode_array(np.array([1, -64]))
    with pytest.raises(ValueError, match="integer array"):
        am.decode_array(np.array([1.5]))


@pytest.mark.parametrize("spec, msg", [
    ("rochrababg", "neither a DRAMsim3 string"),
    ("rorochrababg", "names ro more than once"),
    ("RoBaRaCoChRo", "names ro more than once"),
    ("roBaRaCoCh", "neither"),
])
def test_bad_mapping_names(spec, msg):
    with pytest.raises(ValueError, match=f"dram.address_mapping: .*{msg}"):
        DDR4.replace(address_mapping=spec)


def test_mapping_too_wide_for_int64():
    with pytest.raises(ValueError, match="at most 63"):
        AddressMap.build("rochrababgco", dict(ch=0, ra=0, bg=0, ba=0, ro=60, co=3), 6)
