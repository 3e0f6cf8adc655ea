"""ProtocolAgent: bandwidth and wire bytes against published.md's derived figures and the
protocols' packet arithmetic; presets; validation; the Link it hands to the simulator."""
import dataclasses
from fractions import Fraction

import pytest

from hwmodel import Link, System
from hwmodel.hardware.protocol import PRESETS, REQUEST_TYPES, ProtocolAgent

# published.md: "PCIe per-lane bandwidth per direction, Gen1/2/3/4/5", derived
PER_LANE_GBPS = {1: 0.250, 2: 0.500, 3: 0.985, 4: 1.969, 5: 3.938}


@pytest.mark.parametrize("gen", [1, 2, 3, 4, 5])
@pytest.mark.parametrize("lanes", [1, 2, 4, 8, 16])
def test_pcie_bandwidth_matches_published_per_lane_table(gen, lanes):
    p = ProtocolAgent.preset(f"pcie{gen}x{lanes}")
    assert round(float(p.lane_bytes_per_s) / 1e9, 3) == PER_LANE_GBPS[gen]
    assert p.raw_bytes_per_s == p.lane_bytes_per_s * lanes
    # no framing or DLLP factor by default: the Link gets the encoded rate
    assert p.bytes_per_s == p.raw_bytes_per_s


def test_pcie_exact_rates():
    assert ProtocolAgent.preset("pcie2x1").lane_bytes_per_s == Fraction(5 * 10**9 * 8, 10 * 8)
    assert ProtocolAgent.preset("pcie3x1").lane_bytes_per_s == Fraction(8 * 10**9 * 128, 130 * 8)


@pytest.mark.parametrize("name,us", [("pcie2x4", 2.05), ("pcie3x4", 1.04), ("pcie4x4", 0.52)])
def test_4kib_page_over_x4_raw(name, us):
    # published.md: 4 KiB over PCIe x4, Gen2/3/4, raw = 2.05 / 1.04 / 0.52 us
    assert ProtocolAgent.preset(name).raw_transfer_ps(4096) / 1e6 == pytest.approx(us, abs=0.005)


def test_pcie_page_wire_bytes_256B_mps():
    p = ProtocolAgent.preset("pcie3x8")
    assert p.max_payload_bytes == 256
    # a 4 KiB write: 16 MWr TLPs of 256 B, each with 24 B of header, framing and LCRC; posted
    assert p.message_bytes("write", 4096) == (4096 + 16 * 24, 0)
    # a 4 KiB read: 8 MRd of the 512 B max read request, 16 CplD of 256 B with a 3DW header
    assert p.message_bytes("read", 4096) == (8 * 24, 4096 + 16 * 20)
    # the simulator's Link charges the same data packets (with the larger header)
    link = p.to_link()
    assert link.wire_bytes(4096) == 4096 + 16 * 24
    # larger MPS: fewer headers
    big = ProtocolAgent.preset("pcie3x8", max_payload="1KiB", max_read_request="4KiB")
    assert big.message_bytes("write", 4096) == (4096 + 4 * 24, 0)
    assert big.message_bytes("read", 4096) == (24, 4096 + 4 * 20)


def test_pcie_payload_rounds_to_dwords():
    p = ProtocolAgent.preset("pcie3x8")
    assert p.message_bytes("write", 1) == (24 + 4, 0)
    assert p.message_bytes("write", 0) == (24, 0)


def test_request_types_wire_sizes():
    p = ProtocolAgent.preset("pcie3x8")
    got = {r: p.message_bytes(r, 64) for r in REQUEST_TYPES}
    assert got == {
        "read": (24, 64 + 20),        # header-only MRd, data-carrying CplD
        "write": (64 + 24, 0),        # posted MWr
        "allocate": (24, 8 + 20),     # the granted blade address comes back
        "deallocate": (24, 20),       # header-only request and acknowledgement
        "permission": (24, 20),
    }
    with pytest.raises(ValueError, match="request: 'erase' is not one of read, write"):
        p.message_bytes("erase")
    with pytest.raises(ValueError, match="size: -1"):
        p.message_bytes("read", -1)


def test_cxl_flit_efficiency():
    c = ProtocolAgent.preset("cxl2x16")
    assert c.rate == "32GT/s" and c.lanes == 16 and c.encoding == "128b/130b"
    # 68 B flit: 64 B of slots; an all-data flit carries 64/68 = 94% payload
    assert c.framing_efficiency == Fraction(64, 68)
    assert c.bytes_per_s == c.raw_bytes_per_s * Fraction(64, 68)
    # a 64 B line: 4 data slots + a header slot = 5 x 17 wire bytes; requests and NDR 1 slot
    assert c.message_bytes("read", 64) == (17, 85)
    assert c.message_bytes("write", 64) == (85, 17)
    assert 64 / 85 == pytest.approx(0.753, abs=1e-3)
    # a 4 KiB page is 64 lines, each asked for by its own MemRd
    assert c.message_bytes("read", 4096) == (64 * 17, 64 * 85)
    # the Link charges slot bytes at 64/68 of the rate: same serialization time as the wire bytes
    link = c.to_link()
    assert link.wire_bytes(64) == 80
    assert link.serialize_ps(80) == c.wire_ps(85)
    # unloaded added latency inside Pond's 70-90 ns (published.md)
    assert 70_000 <= c.round_trip_ps("read", 64) <= 90_000


def test_ethernet_header_overhead():
    e = ProtocolAgent.preset("roce100")
    assert e.raw_bytes_per_s == Fraction(100 * 10**9, 8)     # 4 x 25.78125 GBd x 64/66
    # 82 B per packet on the wire (preamble+SFD 8, gap 12, MAC 14, FCS 4, IPv4 20, UDP 8, BTH 12,
    # ICRC 4); +RETH 16 on requests, +AETH 4 on responses
    assert e.header_bytes == 82 + 16 and e.response_header_bytes == 82 + 4
    # without preamble, gap and FCS: the 58-78 B usually quoted
    assert 58 <= e.header_bytes - 20 - 4 <= 78 and 58 <= e.response_header_bytes - 20 - 4 <= 78
    # one READ request for a whole page, answered by one 4 KiB MTU packet
    assert e.message_bytes("read", 4096) == (98, 4096 + 86)
    assert e.message_bytes("write", 8192) == (8192 + 2 * 98, 86)
    # published.md: one-sided RDMA read of 4 KiB about 2-5 us; small reads about 1-2 us
    assert 2e6 <= e.round_trip_ps("read", 4096) <= 5e6
    assert 1e6 <= e.round_trip_ps("read", 64) <= 2.1e6


def test_hypertransport():
    h = ProtocolAgent.preset("ht31x16")
    assert h.raw_bytes_per_s == Fraction(12_800 * 10**6)     # 6.4 GT/s x 16 bits
    assert h.message_bytes("read", 64) == (8, 4 + 64)
    assert h.message_bytes("read", 4096) == (64 * 8, 64 * 4 + 4096)


def test_link_params_and_to_link():
    p = ProtocolAgent.preset("pcie3x8")
    lp = p.link_params("100ns")
    assert lp["bandwidth"].startswith("7.87692307") and lp["bandwidth"].endswith("GB/s")
    # one way: propagation + PHY 20 + encode 50 + decode 50
    assert lp["latency"] == "220000ps"
    assert lp["header_bytes"] == 24 and lp["max_payload"] == "256B" and lp["agent_latency"] == "50000ps"
    link = p.to_link("100ns")
    assert isinstance(link, Link)
    assert link.latency_ps == 220_000
    assert float(link.serialize_ps(7877)) == pytest.approx(1e6, rel=1e-3)    # 7877 B in ~1 us
    # the Link runs in a System as it is
    link_dict = dataclasses.asdict(link)
    s = System.from_dict({"compute": {"local_memory": "16MiB", "vms": [{"name": "vm0", "memory": "64MiB"}]},
                          "memory_blade": {"capacity": "64MiB", "agent_latency": lp["agent_latency"]},
                          "link": link_dict})
    r = s.run({"addr": [0, 20 << 20, 40 << 20], "op": [0, 0, 1]}, backend="reference")
    assert r.accesses == 3


def test_round_trip_is_sum_of_parts():
    p = ProtocolAgent.preset("pcie3x8")
    out, back = p.message_bytes("read", 64)
    expect = 2 * (100_000 + 120_000) + 50_000 + p.wire_ps(out) + p.wire_ps(back)
    assert p.round_trip_ps("read", 64, "100ns") == expect
    # a posted write ends at the blade's agent
    out, back = p.message_bytes("write", 64)
    assert back == 0
    assert p.round_trip_ps("write", 64) == p.wire_ps(out) + 120_000 + 50_000


def test_link_efficiency_scales_bandwidth():
    p = ProtocolAgent.preset("pcie3x8", link_efficiency=0.95)
    assert p.bytes_per_s == p.raw_bytes_per_s * Fraction("0.95")


def test_presets_list():
    names = ProtocolAgent.presets()
    assert [f"pcie{g}x{n}" for g in range(1, 6) for n in (1, 2, 4, 8, 16)] == names[:25]
    for n in ("cxl2x16", "cxl2x8", "cxl2x4", "ht31x16", "ht3x16", "roce100", "roce25"):
        assert n in names
    for n in names:
        assert PRESETS[n].name == n
        assert ProtocolAgent.preset(n) == PRESETS[n]
    assert ProtocolAgent() == PRESETS["pcie3x8"]


def test_from_config():
    assert ProtocolAgent.from_config(None) is None
    assert ProtocolAgent.from_config("cxl2x8") == PRESETS["cxl2x8"]
    p = ProtocolAgent.from_config({"preset": "pcie4x16", "max_payload": "512B"})
    assert p.max_payload == "512B" and p.rate == "16GT/s"
    p = ProtocolAgent.from_config({"kind": "pcie", "rate": "16GT/s", "lanes": 4, "name": "mine"})
    assert p.name == "mine" and p.lanes == 4
    with pytest.raises(ValueError, match=r"^protocol.preset: unknown preset 'pcie9x4'"):
        ProtocolAgent.from_config("pcie9x4")
    with pytest.raises(ValueError, match=r"^protocol.mps: unknown parameter"):
        ProtocolAgent.from_config({"preset": "pcie3x4", "mps": 256})
    with pytest.raises(ValueError, match=r"^protocol.colour: unknown parameter"):
        ProtocolAgent.from_config({"colour": 1})
    with pytest.raises(ValueError, match=r"^x.protocol.lanes: 3 is not one of 1, 2, 4, 8, 16"):
        ProtocolAgent.from_config({"preset": "pcie3x4", "lanes": 3}, "x.protocol")
    with pytest.raises(ValueError, match="protocol: expected a preset name or a mapping"):
        ProtocolAgent.from_config(5)


@pytest.mark.parametrize("field,value,message", [
    ("lanes", 3, r"protocol.lanes: 3 is not one of 1, 2, 4, 8, 16"),
    ("lanes", True, r"protocol.lanes: True is not one of"),
    ("kind", "usb", r"protocol.kind: 'usb' is not one of pcie, cxl, ht, ethernet"),
    ("rate", "8GHz", r"protocol.rate: unknown unit 'GHz'"),
    ("rate", "0GT/s", r"protocol.rate: '0GT/s' must be > 0"),
    ("rate", 8, r"protocol.rate: 8 has no unit"),
    ("encoding", "64b/66b", r"protocol.encoding: '64b/66b' is not one of 8b/10b, 128b/130b"),
    ("link_efficiency", 0, r"protocol.link_efficiency: 0 must be a number in \(0, 1\]"),
    ("link_efficiency", 1.2, r"protocol.link_efficiency"),
    ("header_bytes", -1, r"protocol.header_bytes: -1 must be an integer >= 0"),
    ("response_header_bytes", 2.5, r"protocol.response_header_bytes"),
    ("max_payload", "8KiB", r"protocol.max_payload: '8KiB' is not one of 128B, 256B, 512B, 1KiB, 2KiB, 4KiB"),
    ("max_payload", "100B", r"protocol.max_payload: '100B' is not one of"),
    ("max_read_request", "64B", r"protocol.max_read_request: '64B' is not one of 128B"),
    ("phy_latency", "-1ns", r"protocol.phy_latency: '-1ns' is negative"),
    ("encode_latency", "fast", r"protocol.encode_latency: cannot read 'fast'"),
    ("agent_latency", 5, r"protocol.agent_latency: 5 has no unit"),
    ("name", "", r"protocol.name"),
])
def test_bad_values(field, value, message):
    with pytest.raises(ValueError, match="^" + message):
        ProtocolAgent(**{field: value})


def test_kind_specific_limits():
    with pytest.raises(ValueError, match=r"protocol.max_payload: '128B' is not one of 64B \(for kind cxl\)"):
        ProtocolAgent.preset("cxl2x16", max_payload="128B")
    with pytest.raises(ValueError, match=r"protocol.lanes: 16 is not one of 1, 2, 4, 8 \(for kind ethernet\)"):
        ProtocolAgent.preset("roce100", lanes=16)
    with pytest.raises(ValueError, match=r"protocol.encoding: '128b/130b' is not one of none"):
        ProtocolAgent.preset("ht31x16", encoding="128b/130b")
    with pytest.raises(ValueError, match=r"protocol.max_read_request: '3GiB' is not one of a power of two"):
        ProtocolAgent.preset("roce100", max_read_request="3GiB")


def test_frozen():
    with pytest.raises(dataclasses.FrozenInstanceError):
        PRESETS["pcie3x8"].lanes = 4
