"""The vectorized fast path must agree exactly with the per-line slow path, which is the authority."""
import random

import numpy as np
import pytest

from hwmodel.trace import TraceError, concat, open_trace
from hwmodel.trace._textparse import LineFormat

SAMPLES = {
    "dramsim3": ["0x2000D5C0 READ  30", "0x1FF96FC0 WRITE\t160", "1ff96fc0 READ 7", "0xFFFFFFFFFFFFFFFF WRITE 999999999999999999"],
    "ramulator": ["0x12345680 R", "0x4cbd56c0 W", "12345 R"],
    "ramulator_cpu": ["3 20734016", "8 20841280 20841280", "0 0x10 0x20"],
    "usimm": ["0 R 0x7f001040 0x400100", "12 W 0x7f001080"],
    "gem5": ["r,4096,64,1000", "w,8192,32,2000", "u,0,0,2500", "r,12288,64,2,3000"],
    "prospero": ["100 R 4096 8", "250 w 8192 4 0"],
    "lackey": ["I  0401ab70,3", " S 1fff000688,8", " M 0000103c,8", " L 04032440,1"],
    "dramsim2_k6": ["0x1000 P_MEM_RD 5", "0x2000 P_LOCK_WR 9"],
    "dramsim2_misc": ["0x1000 read", "0x2000 write 0123456789abcdef0123456789abcdef"],
    "ramulator2": ["LD 0x1000", "ST 8192"],
    "text": ["0x40 R 3", "0x80 W 10", "0xabc r 0"],
}


def _mutate(line: str, rng: random.Random) -> str:
    choice = rng.randrange(6)
    i = rng.randrange(len(line) + 1)
    if choice == 0:
        return line[:i] + rng.choice("xg-,; \t0Z#\x00") + line[i:]
    if choice == 1:
        return line[:i] + line[i + 1:]
    if choice == 2:
        return line + rng.choice([" 1", ",1", " x", "\r", "  "])
    if choice == 3:
        return line.replace("0x", "0x" + "F" * rng.randrange(1, 12), 1)
    if choice == 4:
        return ""
    return line


def _read(path, fmt, slow_only, monkeypatch):
    if slow_only:
        monkeypatch.setattr(LineFormat, "fast",
                            lambda self, arr, S, E, k, ok: (np.zeros(len(S), bool), {}, None))
        for cls in LineFormat.__subclasses__():
            if "fast" in cls.__dict__:
                monkeypatch.setattr(cls, "fast", LineFormat.fast)
    try:
        r = open_trace(path, format=fmt, skip_bad_lines=True)
        import warnings
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            ch = concat(list(r))
        return ch, r.skipped_examples, r.skipped_lines
    finally:
        monkeypatch.undo()


@pytest.mark.parametrize("fmt", sorted(SAMPLES))
def test_fast_equals_slow_under_mutation(fmt, tmp_path, monkeypatch):
    rng = random.Random(fmt)
    lines = []
    for _ in range(2000):
        line = rng.choice(SAMPLES[fmt])
        while rng.random() < 0.4:
            line = _mutate(line, rng)
        lines.append(line)
    p = tmp_path / "t.trace"
    p.write_bytes(("\n".join(lines) + "\n").encode("latin-1"))
    fast = _read(p, fmt, False, monkeypatch)
    slow = _read(p, fmt, True, monkeypatch)
    assert fast[0].equals(slow[0])
    assert fast[2] == slow[2] and fast[1] == slow[1]
    assert len(fast[0]) > 500


def test_crlf_and_tabs(tmp_path):
    p = tmp_path / "t.trace"
    p.write_bytes(b"0x40\tREAD\t5\r\n  0x80 WRITE 6 \r\n")
    ch = concat(list(open_trace(p)))
    assert ch.addr.tolist() == [0x40, 0x80] and ch.time.tolist() == [5, 6]


def test_control_character_is_an_error(tmp_path):
    p = tmp_path / "t.trace"
    p.write_bytes(b"0x40 READ 5\n0x80\x00 WRITE 6\n")
    with pytest.raises(TraceError, match=":2: "):
        concat(list(open_trace(p, format="dramsim3")))
