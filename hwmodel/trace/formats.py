"""The text trace formats of the field, each described by its field layouts.

Timing and units per format (what the `time` column holds):
  text           hwmodel text, `0xADDR R|W [time [size [vm]]]`; timing and unit from its header
                 line (`# hwmodel-trace text v1 timing=... time_unit=...`), else timestamp in ns
  dramsim3       `0xADDR READ|WRITE cycle`            timestamp, DRAM cycles
  dramsim2       `0xADDR IFETCH|READ|WRITE cycle`     timestamp, cycles (DRAMSim2 "mase"; IFETCH = read)
  dramsim2_k6    `0xADDR P_MEM_RD|P_MEM_WR|... cycle` timestamp, cycles (P_MEM_WR, BOFF = write)
  dramsim2_misc  `0xADDR read|write [data]`           untimed
  ramulator      `0xADDR R|W`                         untimed
  ramulator_cpu  `bubbles addr [writeback_addr]`      gap, instructions (writeback: a write, gap 0)
  ramulator2     `LD|ST addr`                         untimed (Ramulator 2 LoadStoreTrace)
  usimm          `gap R|W 0xADDR [0xPC]`              gap, instructions
  gem5           `r|w,addr,size[,flags],tick[,pc]`    timestamp, ticks = ps (`u` packets ignored)
  prospero       `cycle R|W addr size [atomic]`       timestamp, cycles (SST prospero text)
  lackey         `I  addr,size` / ` L|S|M addr,size`  gap, instructions (fetches counted, not emitted)

Addresses (`addresses`, what core.addresses: auto follows) are physical except for lackey and
prospero (and the binary ChampSim format), whose producers trace a user process's virtual addresses.
"""
from __future__ import annotations

import re

import numpy as np

from ._textparse import BadLine, LineFormat, v_dec, v_hex, v_keyword

RW = {b"R": 0, b"W": 1}
HEXNUM = rb"(?:0[xX])?[0-9a-fA-F]+"
NUM = rb"(?:0[xX][0-9a-fA-F]+|\d+)"


class DRAMsim3(LineFormat):
    name, timing, time_unit = "dramsim3", "timestamp", "cycle"
    syntax = "0xADDR READ|WRITE cycle"
    layouts = {3: [("addr", "hex", None), ("op", "kw", {b"READ": 0, b"WRITE": 1}), ("time", "dec", None)]}
    detect = re.compile(HEXNUM + rb"\s+(READ|WRITE)\s+\d+")

    def hint(self, tok):
        return " (IFETCH is DRAMSim2 'mase' syntax: use format='dramsim2')" if tok == b"IFETCH" else ""


class DRAMSim2(LineFormat):
    name, timing, time_unit = "dramsim2", "timestamp", "cycle"
    syntax = "0xADDR IFETCH|READ|WRITE cycle"
    layouts = {3: [("addr", "hex", None), ("op", "kw", {b"IFETCH": 0, b"READ": 0, b"WRITE": 1}),
                   ("time", "dec", None)]}
    detect = re.compile(HEXNUM + rb"\s+(IFETCH|READ|WRITE)\s+\d+")
    detect_needs = b"IFETCH"  # otherwise the same lines are DRAMsim3's


class DRAMSim2K6(LineFormat):
    name, timing, time_unit = "dramsim2_k6", "timestamp", "cycle"
    syntax = "0xADDR P_MEM_RD|P_MEM_WR|P_FETCH|P_LOCK_RD|P_LOCK_WR|BOFF cycle"
    _ops = {b"P_MEM_WR": 1, b"BOFF": 1, b"P_FETCH": 0, b"P_MEM_RD": 0, b"P_LOCK_RD": 0, b"P_LOCK_WR": 0}
    layouts = {3: [("addr", "hex", None), ("op", "kw", _ops), ("time", "dec", None)]}
    detect = re.compile(HEXNUM + rb"\s+(P_MEM_WR|BOFF|P_FETCH|P_MEM_RD|P_LOCK_RD|P_LOCK_WR)\s+\d+")


class DRAMSim2Misc(LineFormat):
    name, timing = "dramsim2_misc", "none"
    syntax = "0xADDR read|write [data]"
    _ops = {b"read": 0, b"write": 1}
    layouts = {2: [("addr", "hex", None), ("op", "kw", _ops)],
               3: [("addr", "hex", None), ("op", "kw", _ops), ("data", "skip", None)]}
    detect = re.compile(HEXNUM + rb"\s+(read|write)(\s+\S+)?")


class Ramulator(LineFormat):
    name, timing = "ramulator", "none"
    syntax = "0xADDR R|W"
    layouts = {2: [("addr", "hex", None), ("op", "kw", RW)]}
    detect = re.compile(HEXNUM + rb"\s+[RW]")


class Ramulator2(LineFormat):
    name, timing = "ramulator2", "none"
    syntax = "LD|ST addr"
    layouts = {2: [("op", "kw", {b"LD": 0, b"ST": 1}), ("addr", "auto", None)]}
    detect = re.compile(rb"(LD|ST)\s+" + NUM)


class RamulatorCPU(LineFormat):
    """Ramulator CPU / Ramulator 2 SimpleO3 trace: a read after `bubbles` non-memory instructions,
    plus the write-back (eviction) it caused, issued with it (gap 0)."""
    name, timing, time_unit = "ramulator_cpu", "gap", "instruction"
    syntax = "bubbles addr [writeback_addr]"
    layouts = {2: [("time", "dec", None), ("addr", "auto", None)],
               3: [("time", "dec", None), ("addr", "auto", None), ("wb", "auto", None)]}
    detect = re.compile(rb"\d+\s+" + NUM + rb"(\s+" + NUM + rb")?")

    def fast(self, arr, S, E, k, ok):
        if k == 2:
            return super().fast(arr, S, E, k, ok)
        ok, cols, _ = super().fast(arr, S, E, 3, ok)
        n = int(ok.sum())
        pair = lambda a, b: np.stack([a, b], axis=1).ravel()
        return ok, {"time": pair(cols["time"], np.zeros(n, np.int64)),
                    "addr": pair(cols["addr"], cols["wb"]),
                    "op": pair(np.zeros(n, np.int64), np.ones(n, np.int64))}, np.full(n, 2, np.int64)

    def slow(self, toks, line):
        recs = super().slow(toks, line)
        if len(toks) == 3:
            wb = recs[0].pop("wb")
            recs.append({"time": 0, "addr": wb, "op": 1})
        return recs


class USIMM(LineFormat):
    name, timing, time_unit = "usimm", "gap", "instruction"
    syntax = "gap R|W 0xADDR [0xPC]"
    layouts = {3: [("time", "dec", None), ("op", "kw", RW), ("addr", "hex", None)],
               4: [("time", "dec", None), ("op", "kw", RW), ("addr", "hex", None), ("pc", "skip", "hex")]}
    detect = re.compile(rb"\d+\s+[RW]\s+0[xX][0-9a-fA-F]+(\s+0[xX][0-9a-fA-F]+)?")


class Prospero(LineFormat):
    name, timing, time_unit = "prospero", "timestamp", "cycle"
    addresses = "virtual"     # SST's prospero PIN tool records effective (virtual) addresses
    syntax = "cycle R|W addr size [atomic]"
    _ops = {b"R": 0, b"r": 0, b"W": 1, b"w": 1}
    layouts = {4: [("time", "dec", None), ("op", "kw", _ops), ("addr", "dec", None), ("size", "dec", None)],
               5: [("time", "dec", None), ("op", "kw", _ops), ("addr", "dec", None), ("size", "dec", None),
                   ("atomic", "skip", "dec")]}
    detect = re.compile(rb"\d+\s+[RWrw]\s+\d+\s+\d+(\s+\d+)?")


class Gem5(LineFormat):
    """gem5 packet trace as printed by util/decode_packet_trace.py.  A leading packet id
    (`id,cmd,...`) is accepted; 5 fields after the command mean `flags` precede the tick."""
    name, timing, time_unit = "gem5", "timestamp", "ps"
    syntax = "r|w,addr,size[,flags],tick[,pc]"
    comma = comma_exact = True
    _ops = {b"r": 0, b"w": 1, b"u": None}
    layouts = {4: [("op", "kw", _ops), ("addr", "dec", None), ("size", "dec", None), ("time", "dec", None)],
               5: [("op", "kw", _ops), ("addr", "dec", None), ("size", "dec", None),
                   ("flags", "skip", "dec"), ("time", "dec", None)],
               6: [("op", "kw", _ops), ("addr", "dec", None), ("size", "dec", None),
                   ("flags", "skip", "dec"), ("time", "dec", None), ("pc", "skip", "dec")]}
    detect = re.compile(rb"(\d+,)?[rwu],\d+,\d+,\d+(,\d+){0,2}")

    def slow(self, toks, line):
        if len(toks) >= 5 and toks[1] in self._ops and re.fullmatch(rb"\d+", toks[0]):
            toks = toks[1:]  # packet id
        return super().slow(toks, line)


class Lackey(LineFormat):
    """Valgrind lackey --trace-mem=yes.  Instruction fetches (`I`) are not data accesses: they
    are counted (`instruction_fetches`) and turned into the gap (non-memory instructions before
    each data access, as Ramulator's bubble count).  `M` (modify) is a read then a write.  An
    access that straddles a 64 B line is split into one record per line."""
    name, timing, time_unit = "lackey", "gap", "instruction"
    addresses = "virtual"     # valgrind instruments a user process: its virtual addresses
    syntax = "I  addr,size | ' L|S|M addr,size'"
    comma = True
    LINE = 64
    _kinds = {b"I": 2, b"L": 0, b"S": 1, b"M": 3}
    layouts = {3: [("op", "kw", _kinds), ("addr", "hex", None), ("size", "dec", None)]}
    detect = re.compile(rb"(I  | [LSM] )[0-9a-fA-F]+,\d+\s*")
    ignore_line = re.compile(rb"==\d+==")
    _shape = re.compile(rb"[ILSM][ \t\r]+(?:0[xX])?[0-9a-fA-F]+,[0-9]+")

    def __init__(self, **options):
        super().__init__(**options)
        self.instruction_fetches = 0
        self._pending = 0  # fetches since the last data access (carried across blocks)

    def commas(self, k):
        return 1

    def fast(self, arr, S, E, k, ok):
        kind, ok0 = v_keyword(arr, S[:, 0], E[:, 0], self._kinds)
        addr, ok1 = v_hex(arr, S[:, 1], E[:, 1])
        size, ok2 = v_dec(arr, S[:, 2], E[:, 2])
        ok = (ok & ok0 & ok1 & ok2 & (arr[E[:, 1]] == 44) & (S[:, 2] == E[:, 1] + 1)
              & (size >= 1) & (size <= 1 << 20))
        cols, cnt = self._expand(kind[ok].astype(np.int64), addr[ok], size[ok])
        return ok, cols, cnt

    def _expand(self, kind, addr, size):
        first = addr // np.uint64(self.LINE)
        nl = ((addr + size.astype(np.uint64) - np.uint64(1)) // np.uint64(self.LINE) - first + np.uint64(1)).astype(np.int64)
        cnt = np.where(kind == 2, 1, np.where(kind == 3, 2 * nl, nl))
        rep = np.repeat(np.arange(len(kind)), cnt)
        within = np.arange(int(cnt.sum())) - np.repeat(np.cumsum(cnt) - cnt, cnt)
        k, n = kind[rep], nl[rep]
        piece = np.where(k == 3, within % n, within)
        op = np.where(k == 3, (within >= n).astype(np.int64), k)
        a = addr[rep]
        lstart = (first[rep] + piece.astype(np.uint64)) * np.uint64(self.LINE)
        start = np.maximum(a, lstart)
        end = np.minimum(a + size[rep].astype(np.uint64), lstart + np.uint64(self.LINE))
        return {"op": op, "addr": start, "size": (end - start).astype(np.int64)}, cnt

    def slow(self, toks, line):
        recs = super().slow(toks, line)
        if not self._shape.fullmatch(line.strip(b" \t\r")):
            raise BadLine("expected 'I|L|S|M addr,size'")
        r = recs[0]
        if not 1 <= r["size"] <= 1 << 20:
            raise BadLine(f"access size {r['size']} out of range")
        cols, _ = self._expand(np.array([r["op"]]), np.array([r["addr"]], np.uint64), np.array([r["size"]]))
        return [{"op": int(o), "addr": int(a), "size": int(s)}
                for o, a, s in zip(cols["op"], cols["addr"], cols["size"])]

    def post(self, cols, rec_line):
        is_i = cols["op"] == 2
        n_i = int(np.count_nonzero(is_i))
        self.instruction_fetches += n_i
        data = np.flatnonzero(~is_i)
        if len(data) == 0:
            self._pending += n_i
            return {c: v[data] for c, v in cols.items()}, rec_line[data]
        before = self._pending + np.cumsum(is_i)[data]   # fetches since the block's start (+carry)
        since_prev = np.diff(before, prepend=0)
        # The last fetch before a data access is the instruction that makes it: not a bubble.
        gap = np.maximum(since_prev - 1, 0)
        self._pending = n_i - int(np.cumsum(is_i)[data[-1]])
        out = {c: v[data] for c, v in cols.items()}
        out["time"] = gap.astype(np.int64)
        return out, rec_line[data]


class Text(LineFormat):
    """hwmodel text: `0xADDR R|W [time [size [vm]]]`, `#` comments.  The writer emits a header
    `# hwmodel-trace text v1 timing=T time_unit=U`; without it a time column is a timestamp in ns.
    All data lines must have the same number of fields as the first one."""
    name = "text"
    syntax = "0xADDR R|W [time [size [vm]]]"
    _ops = {b"R": 0, b"W": 1, b"r": 0, b"w": 1, b"READ": 0, b"WRITE": 1}
    _all = [("addr", "hex", None), ("op", "kw", _ops), ("time", "dec", None), ("size", "dec", None),
            ("vm", "dec", None)]
    detect = re.compile(rb"0[xX][0-9a-fA-F]+\s+(R|W|r|w|READ|WRITE)(\s+\d+){0,3}")
    HEADER = re.compile(rb"#\s*hwmodel-trace text v1\s+timing=(\w+)\s+time_unit=(\w+)(?:\s+fields=(\d))?")

    def __init__(self, ncols=3, timing=None, time_unit="ns", **options):
        super().__init__(**options)
        self.layouts = {ncols: self._all[:ncols]}
        self.syntax = " ".join(["0xADDR", "R|W", "time", "size", "vm"][:ncols])
        self.timing = timing or ("timestamp" if ncols >= 3 else "none")
        self.time_unit = time_unit


TEXT_FORMATS = {f.name: f for f in (Text, DRAMsim3, DRAMSim2, DRAMSim2K6, DRAMSim2Misc, Ramulator,
                                    RamulatorCPU, Ramulator2, USIMM, Gem5, Prospero, Lackey)}
# Detection order: the more specific syntax first.
DETECT_ORDER = ("lackey", "gem5", "dramsim2_k6", "dramsim2", "dramsim3", "dramsim2_misc", "ramulator",
                "text", "ramulator2", "usimm", "prospero", "ramulator_cpu")
