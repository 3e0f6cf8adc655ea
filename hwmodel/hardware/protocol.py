"""The memory blade's protocol agent: how requests are encoded on the blade link and what that costs.

A `ProtocolAgent` describes one link protocol (PCIe, CXL.mem, a HyperTransport-class coherent
link, RoCEv2 over Ethernet): its PHY rate, lanes and line encoding, the per-packet overhead of
each message, the largest payload per packet, and the latency of encoding and decoding a request
at each end. It answers two questions:

- exact protocol arithmetic: `message_bytes(request, size)` gives the bytes on the wire of each
  request type (read, write, allocate, deallocate, permission) and its response, and
  `round_trip_ps()` the unloaded time of one request;
- what the simulator's `Link` needs: `link_params()` / `to_link()` (bandwidth, header bytes, max
  payload, one-way latency) and the blade-side `agent_latency`.

Latency model: every message pays, one way, `phy_latency` (SerDes/PHY of both ends) +
`encode_latency` (the sender builds the packet) + `decode_latency` (the receiver parses it), plus
the caller's propagation/switch latency. The blade's agent then spends `agent_latency` on the
request (lookup, ordering, DMA set-up) before its memory controller sees it. A read round trip is
therefore 2 x one-way + agent_latency + serialization both ways, plus DRAM.

Units: sizes in bytes, times in integer picoseconds, bandwidths in bytes per second (exact
fractions), as in `hwmodel.units`.
"""
from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from fractions import Fraction

from ..config import build
from .link import Link
from ..units import _split, format_size, parse_size, parse_time, transfer_ps

KINDS = ("pcie", "cxl", "ht", "ethernet")
REQUEST_TYPES = ("read", "write", "allocate", "deallocate", "permission")

#: data bits per line bit of each line code
ENCODINGS = {
    "8b/10b": Fraction(8, 10),        # PCIe Gen1/Gen2 (PCIe Base Spec 2.0, 4.2.1), 1000BASE-X
    "128b/130b": Fraction(128, 130),  # PCIe Gen3-Gen5 (PCIe Base Spec 3.0, 4.2.2); CXL 1.1/2.0 on it
    "64b/66b": Fraction(64, 66),      # 10/25/40/100GBASE-R PCS (IEEE 802.3 clauses 49, 82, 107)
    "none": Fraction(1),              # HyperTransport: DC-coupled / scrambled, no block code
}
RATE_UNITS = {"GT/s": Fraction(10**9), "MT/s": Fraction(10**6), "GBd": Fraction(10**9), "MBd": Fraction(10**6)}



def _POW2(lo: int, hi: int) -> tuple:
    """Powers of two from lo to hi inclusive."""
    return tuple(1 << s for s in range(lo.bit_length() - 1, hi.bit_length()))


# What each protocol family allows (why each limit holds is in the comment).
_RULES = {
    "pcie": dict(
        lanes=(1, 2, 4, 8, 16),                  # PCIe link widths x1..x16 (x12/x32 dropped in practice)
        encodings=("8b/10b", "128b/130b"),
        max_payload=_POW2(128, 4096),            # Max_Payload_Size field: 128 B .. 4 KiB
        max_read_request=_POW2(128, 4096),       # Max_Read_Request_Size field: 128 B .. 4 KiB
        granule=4,                               # TLP payloads are whole DWs
        framing=Fraction(1),                     # framing bytes are in header_bytes
        posted_writes=True,                      # MWr has no completion
    ),
    "cxl": dict(
        lanes=(1, 2, 4, 8, 16),                  # CXL: x16, x8, x4 (x2, x1 degraded)
        encodings=("128b/130b",),
        max_payload=(64,),                       # CXL.mem moves one 64 B cache line per message
        max_read_request=(64,),                  # one MemRd per line
        granule=16,                              # messages occupy whole 16 B slots
        # 68 B flit = 2 B protocol ID (ARB/MUX) + 4 x 16 B slots + 2 B CRC (CXL 1.1/2.0 spec, ch. 4
        # and 6): slot bytes reach the wire at 64/68 of the PHY rate.
        framing=Fraction(64, 68),
        posted_writes=False,                     # MemWr gets an S2M NDR completion
    ),
    "ht": dict(
        lanes=(2, 4, 8, 16, 32),                 # HT link widths in bits (HT I/O Link Spec 3.10)
        encodings=("none",),
        max_payload=(4, 8, 16, 32, 64),          # HT data packets carry 1..16 DWs
        max_read_request=(4, 8, 16, 32, 64),     # sized reads up to 64 B
        granule=4,
        framing=Fraction(1),
        posted_writes=False,                     # non-posted writes answered by TgtDone
    ),
    "ethernet": dict(
        lanes=(1, 2, 4, 8),                      # 10/25GBASE-R 1 lane, 40/100GBASE-R 4 lanes
        encodings=("8b/10b", "64b/66b"),
        max_payload=_POW2(256, 4096),            # InfiniBand/RoCE path MTU 256 .. 4096 B
        max_read_request=_POW2(64, 1 << 31),     # one RDMA READ may ask for up to 2 GiB
        granule=1,
        framing=Fraction(1),
        posted_writes=False,                     # RC transport: every WRITE is ACKed
    ),
}

#: payload bytes of each response that carries data besides a read: an allocate returns the
#: blade address granted (8 B); deallocate and permission change are acknowledged header-only.
ALLOCATE_REPLY_BYTES = 8


def parse_rate(value, path: str) -> Fraction:
    """Transfers per second per lane (exact) from '8GT/s', '2500MT/s', '25.78125GBd'."""
    number, unit = _split(value, path, RATE_UNITS, "transfer rate", None)
    rate = number * RATE_UNITS[unit]
    if rate <= 0:
        raise ValueError(f"{path}: {value!r} must be > 0")
    return rate


def _allowed(values, unit="") -> str:
    return ", ".join(format_size(v) if unit else str(v) for v in values)


@dataclass(frozen=True)
class ProtocolAgent:
    """A link protocol between compute blade and memory blade, and the blade's agent for it.

    Each direction moves `lanes` x `rate` transfers per second, of which the line `encoding`
    leaves its share for data, and `link_efficiency` the share left after link-layer traffic that
    is not modelled packet by packet (PCIe ACK/flow-control DLLPs, HyperTransport CRC windows).
    Each packet carries at most `max_payload` bytes plus `header_bytes` (requests and writes) or
    `response_header_bytes` (responses) of header, framing and CRC. Defaults are `pcie3x8`."""
    SECTION = "protocol"
    name: str = "pcie3x8"               # label (a preset's name, or yours)
    kind: str = "pcie"                   # pcie | cxl | ht | ethernet
    rate: str = "8GT/s"                  # per lane (per bit lane for ht), one direction
    lanes: int = 8                       # link width: lanes (bits for ht), one direction
    encoding: str = "128b/130b"          # line code: 8b/10b | 128b/130b | 64b/66b | none
    link_efficiency: float = 1.0         # 0 < e <= 1: share of line time left for packets
    header_bytes: int = 24               # per request / write packet: header + framing + CRC
    response_header_bytes: int = 20      # per response packet
    max_payload: str = "256B"            # per packet (PCIe Max_Payload_Size, RoCE MTU, ...)
    max_read_request: str = "512B"       # per read request (PCIe Max_Read_Request_Size)
    phy_latency: str = "20ns"            # one way, through both ends' PHYs
    encode_latency: str = "50ns"         # per message, at the sending end
    decode_latency: str = "50ns"         # per message, at the receiving end
    agent_latency: str = "50ns"          # per request at the blade, after decode

    def __post_init__(self):
        if not isinstance(self.name, str) or not self.name:
            raise ValueError(f"protocol.name: {self.name!r} must be a non-empty string")
        if self.kind not in KINDS:
            raise ValueError(f"protocol.kind: {self.kind!r} is not one of {', '.join(KINDS)}")
        rules = _RULES[self.kind]
        parse_rate(self.rate, "protocol.rate")
        if not _is_int(self.lanes) or self.lanes not in rules["lanes"]:
            raise ValueError(f"protocol.lanes: {self.lanes!r} is not one of {_allowed(rules['lanes'])}"
                             f" (for kind {self.kind})")
        if self.encoding not in rules["encodings"]:
            raise ValueError(f"protocol.encoding: {self.encoding!r} is not one of "
                             f"{', '.join(rules['encodings'])} (for kind {self.kind})")
        e = self.link_efficiency
        if isinstance(e, bool) or not isinstance(e, (int, float)) or not 0 < e <= 1:
            raise ValueError(f"protocol.link_efficiency: {e!r} must be a number in (0, 1]")
        if e < 0.001:   # the link would be slower than any transfer time we can hold
            raise ValueError(f"protocol.link_efficiency: {e!r} is below the minimum 0.001")
        for f in ("header_bytes", "response_header_bytes"):
            v = getattr(self, f)
            if not _is_int(v) or v < 0:
                raise ValueError(f"protocol.{f}: {v!r} must be an integer >= 0")
            if v > 1 << 20:
                raise ValueError(f"protocol.{f}: {v} is above the maximum {1 << 20}")
        for f in ("max_payload", "max_read_request"):
            v = parse_size(getattr(self, f), f"protocol.{f}")
            if v not in rules[f]:
                allowed = rules[f]
                text = (_allowed(allowed, "B") if len(allowed) <= 12
                        else f"a power of two from {format_size(allowed[0])} to {format_size(allowed[-1])}")
                raise ValueError(f"protocol.{f}: {getattr(self, f)!r} is not one of {text} (for kind {self.kind})")
        for f in ("phy_latency", "encode_latency", "decode_latency", "agent_latency"):
            parse_time(getattr(self, f), f"protocol.{f}")

    # -- presets ---------------------------------------------------------------------------
    @classmethod
    def presets(cls) -> list:
        return list(PRESETS)

    @classmethod
    def preset(cls, name: str, **overrides) -> "ProtocolAgent":
        """A named preset (see `presets()`), with fields replaced by `overrides`."""
        if name not in PRESETS:
            raise ValueError(f"protocol.preset: unknown preset {name!r}; allowed: {', '.join(PRESETS)}")
        base = PRESETS[name]
        if not overrides:
            return base
        names = {f.name for f in dataclasses.fields(cls)}
        unknown = [k for k in overrides if k not in names]
        if unknown:
            raise ValueError(f"protocol.{unknown[0]}: unknown parameter; allowed: preset, {', '.join(sorted(names))}")
        return dataclasses.replace(base, **overrides)

    @classmethod
    def from_config(cls, value, path: str = "protocol") -> "ProtocolAgent | None":
        """From a preset name, a mapping {preset: NAME, field: value, ...}, or None (no protocol)."""
        if value is None or isinstance(value, cls):
            return value
        if isinstance(value, str):
            value = {"preset": value}
        if not isinstance(value, dict):
            raise ValueError(f"{path}: expected a preset name or a mapping of parameters, got {value!r}")
        value = dict(value)
        name = value.pop("preset", None)
        if name is None:
            return build(cls, value, path)
        try:
            return cls.preset(name, **value)
        except ValueError as e:
            msg = str(e)
            raise ValueError(path + msg[len("protocol"):] if msg.startswith("protocol") else f"{path}: {msg}") from None
        except TypeError as e:
            raise ValueError(f"{path}: {e}") from None

    # -- bandwidth -------------------------------------------------------------------------
    @property
    def lane_bytes_per_s(self) -> Fraction:
        """Data bytes/s of one lane after line encoding (PCIe Gen3: 8e9 x 128/130 / 8 = 0.985e9)."""
        return parse_rate(self.rate, "protocol.rate") * ENCODINGS[self.encoding] / 8

    @property
    def raw_bytes_per_s(self) -> Fraction:
        """Data bytes/s of the link, one direction, after line encoding only."""
        return self.lane_bytes_per_s * self.lanes

    @property
    def framing_efficiency(self) -> Fraction:
        """Share of the encoded bytes that carry packet bytes (CXL flits: 64/68; others 1)."""
        return _RULES[self.kind]["framing"]

    @property
    def bytes_per_s(self) -> Fraction:
        """Packet bytes (payload + the header bytes we count) per second, one direction."""
        return self.raw_bytes_per_s * self.framing_efficiency * Fraction(str(self.link_efficiency))

    def raw_transfer_ps(self, nbytes: int) -> int:
        """Time to move `nbytes` at the encoded rate, no headers (the 'raw' figure of published.md)."""
        return transfer_ps(nbytes, self.raw_bytes_per_s)

    # -- messages --------------------------------------------------------------------------
    @property
    def max_payload_bytes(self) -> int:
        return parse_size(self.max_payload, "protocol.max_payload")

    @property
    def max_read_request_bytes(self) -> int:
        return parse_size(self.max_read_request, "protocol.max_read_request")

    def packet_bytes(self, payload: int, header: int, max_payload: int | None = None) -> int:
        """Packet bytes of one message carrying `payload` bytes (0: one header-only packet):
        payload rounded up to the protocol's granule (DW, CXL slot) plus a header per packet."""
        mp = max_payload or self.max_payload_bytes
        g = _RULES[self.kind]["granule"]
        packets = max(1, -(-payload // mp))
        return packets * header + -(-payload // g) * g

    def to_wire(self, packet_bytes: int) -> int:
        """Bytes on the wire (before line encoding) for `packet_bytes` (CXL adds flit ID and CRC)."""
        w = Fraction(packet_bytes) / self.framing_efficiency
        return -(-w.numerator // w.denominator)

    def message_bytes(self, request: str, size: int = 64) -> tuple:
        """(request, response) bytes on the wire of one `request` of `size` bytes.

        read: header-only requests (one per max_read_request) and data-carrying completions, each
        at most min(max_payload, max_read_request); write: data packets, then a header-only
        completion (none on PCIe, whose memory writes are posted); allocate: a header-only
        request answered with the granted blade address (8 B); deallocate and permission: header-
        only request and acknowledgement. RoCE extension headers (RETH, AETH) are charged on every
        packet of a message, which overstates a multi-packet message by at most 16 B per packet."""
        if request not in REQUEST_TYPES:
            raise ValueError(f"request: {request!r} is not one of {', '.join(REQUEST_TYPES)}")
        if not _is_int(size) or size < 0:
            raise ValueError(f"size: {size!r} must be an integer >= 0")
        rules, h, rh = _RULES[self.kind], self.header_bytes, self.response_header_bytes
        if request == "read":
            mrr = self.max_read_request_bytes
            out = max(1, -(-size // mrr)) * h
            back = self.packet_bytes(size, rh, min(self.max_payload_bytes, mrr))
        elif request == "write":
            out = self.packet_bytes(size, h)
            back = 0 if rules["posted_writes"] else rh
        elif request == "allocate":
            out, back = h, self.packet_bytes(ALLOCATE_REPLY_BYTES, rh)
        else:
            out, back = h, rh
        return self.to_wire(out), self.to_wire(back)

    # -- time ------------------------------------------------------------------------------
    @property
    def one_way_ps(self) -> int:
        """Protocol latency of one message, one way: PHY + encode + decode (no propagation)."""
        return (parse_time(self.phy_latency, "protocol.phy_latency")
                + parse_time(self.encode_latency, "protocol.encode_latency")
                + parse_time(self.decode_latency, "protocol.decode_latency"))

    @property
    def agent_ps(self) -> int:
        return parse_time(self.agent_latency, "protocol.agent_latency")

    def wire_ps(self, wire_bytes: int) -> int:
        """Serialization of `wire_bytes` (as `message_bytes` counts them) on one direction."""
        if wire_bytes == 0:
            return 0
        return transfer_ps(wire_bytes, self.raw_bytes_per_s * Fraction(str(self.link_efficiency)))

    def round_trip_ps(self, request: str = "read", size: int = 64, link_latency="0ns") -> int:
        """Unloaded time of one request, DRAM excluded: request out, agent, response back. A
        posted write (no response) ends when the blade's agent has taken it."""
        prop = parse_time(link_latency, "link_latency")
        out, back = self.message_bytes(request, size)
        t = self.wire_ps(out) + prop + self.one_way_ps + self.agent_ps
        if back:
            t += self.wire_ps(back) + prop + self.one_way_ps
        return t

    # -- the simulator's link --------------------------------------------------------------
    def link_params(self, link_latency="0ns") -> dict:
        """What `hwmodel.hardware.link.Link` and `MemoryBlade.agent_latency` need.

        bandwidth: packet bytes/s (PHY rate x lanes x encoding x framing x link_efficiency / 8);
        header_bytes: the larger of the request and response header, because the Link has one
        header size for both directions (link time is never underestimated); max_payload: per
        packet; latency: `link_latency` (propagation and switches) + PHY + encode + decode;
        agent_latency: the blade agent's per-request time."""
        prop = parse_time(link_latency, "link_latency")
        bw = self.bytes_per_s
        return {
            "bandwidth": f"{float(bw) / 1e9:.12g}GB/s",
            "latency": f"{prop + self.one_way_ps}ps",
            "header_bytes": max(self.header_bytes, self.response_header_bytes),
            "max_payload": format_size(self.max_payload_bytes),
            "agent_latency": f"{self.agent_ps}ps",
        }

    def to_link(self, link_latency="0ns") -> Link:
        """The `Link` with this protocol's bandwidth, header, max payload and one-way latency."""
        p = self.link_params(link_latency)
        return Link(bandwidth=p["bandwidth"], latency=p["latency"], header_bytes=p["header_bytes"],
                    max_payload=p["max_payload"])

    def describe(self) -> str:
        """One line: name, rate x lanes, encoded and packet bandwidth."""
        return (f"{self.name:<10} {self.kind:<8} {self.rate:>12} x{self.lanes:<2} {self.encoding:<9} "
                f"{float(self.raw_bytes_per_s) / 1e9:7.3f} GB/s encoded, "
                f"{float(self.bytes_per_s) / 1e9:7.3f} GB/s packets, hdr {self.header_bytes}/"
                f"{self.response_header_bytes} B, payload {self.max_payload}")


def _is_int(v) -> bool:
    return isinstance(v, int) and not isinstance(v, bool)


# -- presets ----------------------------------------------------------------------------------
def _presets() -> dict:
    out = {}

    # PCIe. Per-lane rate 2.5/5/8/16/32 GT/s and line code from PCI Express Base Specification
    # 2.0 (4.2.1, 8b/10b), 3.0/4.0/5.0 (4.2.2, 128b/130b); published.md's derived per-lane table.
    # Per-TLP overhead, 64-bit addressing, ECRC off: Gen1/2 STP 1 + sequence 2 + 4DW header 16 +
    # LCRC 4 + END 1 = 24 B (Xilinx WP350 "Understanding Performance of PCI Express Systems");
    # Gen3+ STP token 4 (carries the sequence number) + 16 + LCRC 4 = 24 B (Base Spec 3.0, 4.2.2.3).
    # Completions have a 3DW header: 20 B. MPS 256 B and MRRS 512 B are the common BIOS default
    # and the spec's reset value of Max_Read_Request_Size. DLLPs (ACK, flow control) are left at
    # link_efficiency 1.0: their share depends on the ACK coalescing of the parts; set e.g. 0.95.
    # Latency split is our assumption (not a measured figure): 20 ns PHY, 50 ns per layer stack
    # at each end, 50 ns in the agent, so an unloaded 64 B read round trip is ~300 ns before DRAM,
    # the order of the ~0.5 us DMA read latency Neugebauer et al. measured (SIGCOMM 2018,
    # "Understanding PCIe performance for end host networking"), host memory included.
    gens = {1: ("2.5GT/s", "8b/10b"), 2: ("5GT/s", "8b/10b"), 3: ("8GT/s", "128b/130b"),
            4: ("16GT/s", "128b/130b"), 5: ("32GT/s", "128b/130b")}
    for gen, (rate, enc) in gens.items():
        for lanes in (1, 2, 4, 8, 16):
            name = f"pcie{gen}x{lanes}"
            out[name] = ProtocolAgent(name=name, kind="pcie", rate=rate, lanes=lanes, encoding=enc)

    # CXL 1.1 / 2.0 (same 68 B flit and PHY; 2.0 adds switching and pooling, not link bytes):
    # PCIe Gen5 PHY, 32 GT/s, 128b/130b, x16 by default (CXL 2.0 spec, ch. 6). Counted in 16 B
    # slots: a request (M2S Req MemRd) or completion (S2M NDR) takes one slot; a 64 B line takes
    # four data slots plus its header slot (M2S RwD / S2M DRS). We charge one slot per header
    # (no packing of several headers into one slot, which the spec's multi-header slot formats
    # allow), so a 64 B read response costs 5 slots = 85 wire bytes (75% data), an all-data
    # flit 64/68 (94%). Latency is calibrated so that the unloaded round trip adds ~80 ns (with
    # link_latency 0), inside the 70-90 ns CXL.mem adds over local DRAM per Pond (ASPLOS 2023,
    # published.md): 2 x (10 + 7.5 + 7.5) + 30 = 80 ns. The split itself is our assumption.
    for lanes in (4, 8, 16):
        name = f"cxl2x{lanes}"
        out[name] = ProtocolAgent(name=name, kind="cxl", rate="32GT/s", lanes=lanes, encoding="128b/130b",
                                  header_bytes=16, response_header_bytes=16, max_payload="64B",
                                  max_read_request="64B", phy_latency="10ns", encode_latency="7.5ns",
                                  decode_latency="7.5ns", agent_latency="30ns")

    # HyperTransport (HT I/O Link Specification rev. 3.10): 16-bit links; HT 1.0 up to 800 MHz DDR
    # (1.6 GT/s), HT 2.0 1.4 GHz (2.8 GT/s), HT 3.0 2.6 GHz (5.2 GT/s), HT 3.1 3.2 GHz (6.4 GT/s);
    # no block code. Packets: sized read/write request 8 B (40-bit address; 12 B with the 64-bit
    # address extension), read response / target done 4 B, data 4..64 B in DWs. Periodic CRC: 4
    # bit-times per 512-bit-time window, so link_efficiency 512/516. Latency is our assumption,
    # sized to the few tens of ns one coherent hop adds on Opteron-class systems: 2 x (10 + 5 + 5)
    # + 20 = 60 ns round trip.
    for name, rate in (("ht1x16", "1.6GT/s"), ("ht2x16", "2.8GT/s"), ("ht3x16", "5.2GT/s"), ("ht31x16", "6.4GT/s")):
        out[name] = ProtocolAgent(name=name, kind="ht", rate=rate, lanes=16, encoding="none",
                                  link_efficiency=512 / 516, header_bytes=8, response_header_bytes=4,
                                  max_payload="64B", max_read_request="64B", phy_latency="10ns",
                                  encode_latency="5ns", decode_latency="5ns", agent_latency="20ns")

    # RoCEv2 over Ethernet. Lane rates and 64b/66b: 10GBASE-R 10.3125 GBd (IEEE 802.3 cl. 49),
    # 25GBASE-R 25.78125 GBd (cl. 107), 40/100GBASE-R 4 lanes of 10.3125/25.78125 GBd (cl. 82):
    # exactly 10/25/40/100 Gb/s of data. Per packet on the wire: preamble+SFD 8 + inter-frame gap
    # 12 + MAC header 14 + FCS 4 (IEEE 802.3) + IPv4 20 (RFC 791) + UDP 8 (RFC 768) + BTH 12 +
    # ICRC 4 (InfiniBand Arch. Spec. vol. 1, Annex A17 RoCEv2) = 82 B; requests add RETH 16 B
    # (READ request, WRITE) = 98 B, responses AETH 4 B (READ response, ACK) = 86 B. (Without
    # preamble, gap and FCS that is the 58-78 B usually quoted.) Path MTU 4096 B (jumbo frames).
    # Latency: one-sided RDMA read of 4 KiB takes about 2-5 us (published.md, Infiniswap/Fastswap
    # era). Our split (an assumption): NIC doorbell/WQE fetch and packet build 400 ns, parse and
    # DMA set-up 300 ns, PHY with RS-FEC 100 ns each way, responder agent 400 ns: a 64 B read is
    # ~2.0 us, a 4 KiB read ~2.35 us at 100 Gb/s with link_latency 0.
    for name, rate, lanes in (("roce10", "10.3125GBd", 1), ("roce25", "25.78125GBd", 1),
                              ("roce40", "10.3125GBd", 4), ("roce100", "25.78125GBd", 4)):
        out[name] = ProtocolAgent(name=name, kind="ethernet", rate=rate, lanes=lanes, encoding="64b/66b",
                                  header_bytes=98, response_header_bytes=86, max_payload="4KiB",
                                  max_read_request="1GiB", phy_latency="100ns", encode_latency="400ns",
                                  decode_latency="300ns", agent_latency="400ns")
    return out


PRESETS = _presets()
