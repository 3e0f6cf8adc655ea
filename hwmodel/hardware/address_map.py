"""Physical address -> DRAM location (channel, rank, bank group, bank, row, column).

Owns the parsing of address-mapping names and their compilation to shift/mask tables, the form
the compiled core reads. Two spellings are accepted:

- DRAMsim3 strings, six two-letter lowercase fields from the most significant to the least,
  e.g. ``"rochrababgco"`` (``ro`` row, ``ch`` channel, ``ra`` rank, ``bg`` bank group, ``ba``
  bank, ``co`` column). Decoding is exactly DRAMsim3's ``Config::AddressMapping``: drop the low
  ``log2(bus_bytes * BL)`` bits (the bytes of one burst), then slice the fields from the least
  significant one up; the column field counts bursts, so it is ``log2(columns) - log2(BL)`` wide.
- Ramulator names, capitalised fields from the most significant to the least, e.g.
  ``"RoBaRaCoCh"``. Ramulator has no bank-group letter: ``Ba`` covers bank group and bank. The two
  names Ramulator 2 implements decode exactly as its linear mappers do (read in
  ``src/addr_mapper/impl/linear_mappers.cpp``): ``ChRaBaRoCo`` walks the hierarchy
  (``ch ra bg ba ro co``) and ``RoBaRaCoCh`` puts the bank group *below* the bank
  (``ro ba bg ra co ch``). Any other name expands ``Ba`` the second way (bank group in the low
  bits, so consecutive bank indices alternate bank groups and dodge tCCD_L); write ``Bg``
  explicitly (``"RoBgBaRaCoCh"``) to choose the order yourself.

Optional XOR bank hashing (permutation-based interleaving, Zhang, Zhu and Zhang, MICRO 2000): the
bank bits are XORed with the lowest row bits (``ba ^= row[0:ba_bits]``, ``bg ^= row[ba_bits:
ba_bits + bg_bits]``), so rows that conflict in one bank under the plain mapping spread over banks.

Addresses wider than the mapped capacity wrap (their high bits are ignored), as in DRAMsim3.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from typing import NamedTuple

import numpy as np

FIELDS = ("ch", "ra", "bg", "ba", "ro", "co")

# Columns of AddressMap.table, one row per field in FIELDS order.
SHIFT, MASK, XOR_SHIFT, XOR_MASK = 0, 1, 2, 3

# Ramulator 2's two linear mappers, spelled out field by field (most significant first).
RAMULATOR_MAPPERS = {
    "ChRaBaRoCo": ("ch", "ra", "bg", "ba", "ro", "co"),
    "RoBaRaCoCh": ("ro", "ba", "bg", "ra", "co", "ch"),
}
_RAMULATOR_TOKEN = {"Ch": ("ch",), "Ra": ("ra",), "Bg": ("bg",), "Ro": ("ro",), "Co": ("co",)}
_NOUN = {"ch": "channel", "ra": "rank", "bg": "bank group", "ba": "bank", "ro": "row", "co": "column"}
_DRAMSIM3 = re.compile(r"^(?:ch|ra|bg|ba|ro|co){6}$")
_RAMULATOR = re.compile(r"^(?:Ch|Ra|Bg|Ba|Ro|Co)+$")


class Location(NamedTuple):
    """One decoded address (ints), or one decoded array of addresses (int64 arrays)."""
    ch: object
    ra: object
    bg: object
    ba: object
    ro: object
    co: object


def parse_mapping(spec: str, path: str = "dram.address_mapping") -> tuple:
    """Field order, most significant first, of a DRAMsim3 string or a Ramulator name."""
    if not isinstance(spec, str):
        raise ValueError(f"{path}: expected a mapping name such as 'rochrababgco' or 'RoBaRaCoCh', got {spec!r}")
    if _DRAMSIM3.match(spec):
        order = tuple(spec[i:i + 2] for i in range(0, 12, 2))
    elif spec in RAMULATOR_MAPPERS:
        order = RAMULATOR_MAPPERS[spec]
    elif _RAMULATOR.match(spec):
        tokens = [spec[i:i + 2] for i in range(0, len(spec), 2)]
        order = ()
        for t in tokens:
            # 'Ba' alone stands for bank group and bank (Ramulator has no bank-group letter)
            order += (("ba",) if "Bg" in tokens else ("ba", "bg")) if t == "Ba" else _RAMULATOR_TOKEN[t]
    else:
        raise ValueError(f"{path}: {spec!r} is neither a DRAMsim3 string (six of ch, ra, bg, ba, ro, co, "
                         f"e.g. 'rochrababgco') nor a Ramulator name (Ch, Ra, Ba, Ro, Co, optional Bg, "
                         f"e.g. 'RoBaRaCoCh')")
    twice = sorted({f for f in order if order.count(f) > 1})
    if twice:
        raise ValueError(f"{path}: {spec!r} names {', '.join(twice)} more than once")
    return order


@dataclass(frozen=True)
class AddressMap:
    """Compiled address mapping: per field a shift and mask on the byte address, plus an XOR source.

    field = ((addr >> shift) & mask) ^ ((addr >> xor_shift) & xor_mask); xor_mask is 0 when the
    field is not hashed. Shifts count from bit 0 of the byte address (the burst offset included).
    """
    spec: str                  # the name it was compiled from
    order: tuple               # field names, most significant first
    bits: tuple                # field widths in FIELDS order
    offset_bits: int           # log2 of the bytes of one burst, dropped before the fields
    bank_xor: bool = False     # XOR bank group and bank with the low row bits

    @classmethod
    def build(cls, spec: str, widths: dict, offset_bits: int, bank_xor: bool = False,
              path: str = "dram.address_mapping") -> "AddressMap":
        """Compile `spec` for field widths `widths` ({'ch': bits, ...}) after `offset_bits` burst bits."""
        order = parse_mapping(spec, path)
        for f in FIELDS:
            w = widths.get(f)
            if not isinstance(w, int) or isinstance(w, bool) or w < 0:
                raise ValueError(f"{path}: field {f!r} width {w!r} must be a non-negative integer")
            if f not in order:  # a Ramulator name may leave out a level that has one member
                if w:
                    raise ValueError(f"{path}: {spec!r} has no {_NOUN[f]} field, but the organisation "
                                     f"has {1 << w} {_NOUN[f]}s ({w} address bit{'s' if w > 1 else ''})")
                order = (f,) + order
        if not isinstance(offset_bits, int) or offset_bits < 0:
            raise ValueError(f"{path}: burst offset {offset_bits!r} must be a non-negative integer")
        total = offset_bits + sum(widths[f] for f in FIELDS)
        if total > 63:  # the core and the numpy table hold addresses as int64
            raise ValueError(f"{path}: the mapping spans {total} address bits; at most 63 are supported")
        if bank_xor and widths["ro"] < widths["bg"] + widths["ba"]:
            raise ValueError(f"{path}: XOR bank hashing needs at least {widths['bg'] + widths['ba']} row bits, "
                             f"the row field has {widths['ro']}")
        return cls(spec, order, tuple(widths[f] for f in FIELDS), offset_bits, bool(bank_xor))

    # -- compiled form ----------------------------------------------------------------------
    def _layout(self) -> dict:
        width = dict(zip(FIELDS, self.bits))
        shift, pos = {}, self.offset_bits
        for f in reversed(self.order):  # least significant field first, as DRAMsim3 slices them
            shift[f] = pos
            pos += width[f]
        xor = {f: (0, 0) for f in FIELDS}
        if self.bank_xor:
            xor["ba"] = (shift["ro"], (1 << width["ba"]) - 1)
            xor["bg"] = (shift["ro"] + width["ba"], (1 << width["bg"]) - 1)
        return {f: (shift[f], (1 << width[f]) - 1) + xor[f] for f in FIELDS}

    def fields(self) -> dict:
        """{'ch': (shift, mask, xor_shift, xor_mask), ...} as plain ints."""
        return self._layout()

    @property
    def table(self) -> np.ndarray:
        """int64 array (6, 4): rows in FIELDS order, columns SHIFT, MASK, XOR_SHIFT, XOR_MASK."""
        lay = self._layout()
        return np.ascontiguousarray([lay[f] for f in FIELDS], dtype=np.int64)

    @property
    def address_bits(self) -> int:
        """Bits of byte address the mapping covers (burst offset included)."""
        return self.offset_bits + sum(self.bits)

    @property
    def dramsim3(self) -> str:
        """The same order as a DRAMsim3 string."""
        return "".join(self.order)

    # -- decoding ---------------------------------------------------------------------------
    def decode(self, addr: int) -> Location:
        """Location of one byte address (pure Python)."""
        if isinstance(addr, bool) or not isinstance(addr, (int, np.integer)) or addr < 0:
            raise ValueError(f"address {addr!r} must be a non-negative integer")
        addr, lay = int(addr), self._layout()
        return Location(*(((addr >> s) & m) ^ ((addr >> xs) & xm) for s, m, xs, xm in (lay[f] for f in FIELDS)))

    def decode_array(self, addrs) -> Location:
        """Locations of an array of byte addresses (unsigned or non-negative ints): int64 arrays."""
        a = np.asarray(addrs)
        if a.dtype.kind not in "ui":
            raise ValueError(f"addresses must be an integer array, got dtype {a.dtype}")
        if a.dtype.kind == "i" and a.size and a.min() < 0:
            raise ValueError("addresses must be non-negative")
        a, lay, out = a.astype(np.uint64, copy=False), self._layout(), []
        for f in FIELDS:
            s, m, xs, xm = lay[f]
            v = (a >> np.uint64(s)) & np.uint64(m)
            if xm:
                v = v ^ ((a >> np.uint64(xs)) & np.uint64(xm))
            out.append(v.astype(np.int64))
        return Location(*out)

    def encode(self, ch: int = 0, ra: int = 0, bg: int = 0, ba: int = 0, ro: int = 0, co: int = 0) -> int:
        """Byte address of the first byte of a location: the inverse of `decode`."""
        lay, loc = self._layout(), dict(ch=ch, ra=ra, bg=bg, ba=ba, ro=ro, co=co)
        addr = 0
        for f in FIELDS:
            s, m, xs, xm = lay[f]
            if not 0 <= loc[f] <= m:
                raise ValueError(f"{f} = {loc[f]!r} does not fit in {m.bit_length()} bits")
        for f in FIELDS:
            s, m, xs, xm = lay[f]
            raw = loc[f]
            if xm:  # the XOR source is row bits, which are never hashed themselves
                raw ^= (ro << lay["ro"][0] >> xs) & xm
            addr |= raw << s
        return addr
