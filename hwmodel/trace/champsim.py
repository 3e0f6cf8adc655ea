"""ChampSim binary traces (usually .xz): one 64-byte `input_instr` record per instruction.

Layout (little endian, ChampSim inc/trace_instruction.h):
  ip u64 | is_branch u8 | branch_taken u8 | destination_registers u8[2] | source_registers u8[4]
  | destination_memory u64[2] | source_memory u64[4]
Each nonzero source_memory is a read and each nonzero destination_memory a write, in that
order within an instruction.  Timing is a gap in instructions: the first access of an
instruction carries the number of instructions without memory access since the previous
instruction that had one (Ramulator's bubble count); its further accesses carry 0.
first_line of a chunk is the 1-based instruction (record) number.  Size is 64 (not recorded).
"""
from __future__ import annotations

import numpy as np

from ._types import DEFAULT_SIZE, TraceError

RECORD = np.dtype([("ip", "<u8"), ("is_branch", "u1"), ("branch_taken", "u1"), ("dst_reg", "u1", 2),
                   ("src_reg", "u1", 4), ("dst_mem", "<u8", 2), ("src_mem", "<u8", 4)])
assert RECORD.itemsize == 64


def looks_like_champsim(head: bytes) -> bool:
    n = len(head) // 64
    if n == 0:
        return False
    rec = np.frombuffer(head[:n * 64], RECORD)
    return bool(np.all(rec["is_branch"] <= 1) and np.all(rec["branch_taken"] <= rec["is_branch"]))


class ChampSimReader:
    timing, time_unit = "gap", "instruction"
    addresses = "virtual"     # ChampSim's PIN tracer records virtual addresses (its VMEM translates them)

    def __init__(self, stream, head: bytes, chunk_records):
        self.stream, self.path = stream, stream.path
        self._buf = head
        self.block_records = max(chunk_records, 1 << 16)
        self.instructions = 0
        self._bubbles = 0  # instructions without memory access since the last one with

    def blocks(self):
        """Yield (columns, record-number-per-access) per block of instructions."""
        first = 1
        eof = False
        while not eof:
            want = self.block_records * 64
            while len(self._buf) < want:
                more = self.stream.read(want - len(self._buf))
                if not more:
                    eof = True
                    break
                self._buf += more
            n = len(self._buf) // 64
            if eof and len(self._buf) % 64:
                raise TraceError(f"{self.path}: record {n + 1} is incomplete "
                                 f"({len(self._buf) % 64} of 64 bytes): truncated ChampSim trace")
            if n == 0:
                return
            rec = np.frombuffer(self._buf[:n * 64], RECORD)
            self._buf = self._buf[n * 64:]
            mem = np.concatenate([rec["src_mem"], rec["dst_mem"]], axis=1)       # (n, 6)
            isw = np.broadcast_to(np.array([0, 0, 0, 0, 1, 1], np.uint8), mem.shape)
            has = mem != 0
            cnt = has.sum(axis=1)
            instr = np.flatnonzero(cnt)                                            # instructions with accesses
            # bubbles before each memory instruction: distance to the previous one, minus one
            prev = np.concatenate(([-1 - self._bubbles], instr[:-1]))
            gaps = instr - prev - 1
            self._bubbles = (n - 1 - instr[-1]) if len(instr) else self._bubbles + n
            t = np.zeros(mem.shape, np.int64)
            t[instr, np.argmax(has[instr], axis=1)] = gaps
            m = int(cnt.sum())
            cols = {"time": t[has], "addr": mem[has], "op": isw[has],
                    "size": np.full(m, DEFAULT_SIZE, np.uint32), "vm": np.zeros(m, np.uint16)}
            line = np.repeat(np.arange(n, dtype=np.int64) + first, cnt)
            first += n
            self.instructions += n
            yield cols, line
