"""Every reader on the real sample traces in tests/data, plus chunking invariants."""
from pathlib import Path

import numpy as np
import pytest

from hwmodel.trace import FORMATS, concat, open_trace, read_all

REF = Path(__file__).resolve().parent / "data"
TRACES = REF / "traces"
CROSSCHECK = REF / "crosscheck"



def _rw(ch):
    return int(np.count_nonzero(ch.op == 0)), int(np.count_nonzero(ch.op == 1))


def test_dramsim3_example():
    r = open_trace(TRACES / "dramsim3_example.trace")
    assert (r.format, r.timing, r.time_unit) == ("dramsim3", "timestamp", "cycle")
    ch = read_all(TRACES / "dramsim3_example.trace")
    assert len(ch) == 38374
    assert _rw(ch) == (5365, 33009)
    assert ch.addr[:3].tolist() == [0x2000D5C0, 0x1FF96FC0, 0x2000D600]
    assert ch.op[:3].tolist() == [0, 1, 0]
    assert ch.time[:3].tolist() == [30, 160, 165]
    assert (int(ch.addr[-1]), int(ch.time[-1])) == (0x2000F700, 14712444)
    assert np.all(ch.size == 64) and np.all(ch.vm == 0)


def test_dramsim2_mase_ifetch_is_read():
    r = open_trace(TRACES / "mase_art_head.trc")
    assert (r.format, r.timing, r.time_unit) == ("dramsim2", "timestamp", "cycle")
    ch = read_all(TRACES / "mase_art_head.trc")
    assert len(ch) == 3000
    assert _rw(ch) == (962 + 171, 1867)
    assert ch.addr[:4].tolist() == [0x2000D5C0, 0x1FF96FC0, 0x2000D600, 0x1FF97000]
    assert ch.time[-1] == 600487


def test_ramulator_dram():
    r = open_trace(TRACES / "ramulator_dram.trace")
    assert (r.format, r.timing) == ("ramulator", "none")
    ch = read_all(TRACES / "ramulator_dram.trace")
    assert ch.addr.tolist() == [0x12345680, 0x4CBD56C0, 0x35D46F00, 0x696FED40, 0x7876AF80]
    assert ch.op.tolist() == [0, 1, 0, 1, 0]
    assert not ch.time.any()


@pytest.mark.parametrize("name,n_lines", [("ramulator_cpu.trace", 6), ("ramulator2_example_inst.trace", 8)])
def test_ramulator_cpu_writebacks(name, n_lines):
    r = open_trace(TRACES / name)
    assert (r.format, r.timing, r.time_unit) == ("ramulator_cpu", "gap", "instruction")
    ch = read_all(TRACES / name)
    # "8 20841280 20841280" and "2 20918976 20734016": a read plus a write-back with gap 0
    assert len(ch) == n_lines + 2
    assert ch.time[:3].tolist() == [3, 1, 6] and ch.addr[:3].tolist() == [20734016, 20846400, 20734208]
    i = int(np.flatnonzero(ch.op == 1)[0])
    assert (ch.time[i - 1], ch.addr[i - 1], ch.time[i], ch.addr[i]) == (8, 20841280, 0, 20841280)
    assert ch.first_line == 1


def test_lackey_ls():
    path = TRACES / "valgrind_lackey_ls.trace"
    ch = read_all(path)
    r = open_trace(path)
    assert (r.format, r.timing, r.time_unit) == ("lackey", "gap", "instruction")
    # independent count: 3152 L, 170 S, 20 M (read + write), no line-straddling access
    assert len(ch) == 3362 and _rw(ch) == (3172, 190)
    assert ch.addr[0] == 0x1FFF000688 and ch.op[0] == 1 and ch.size[0] == 8
    # I I S: one bubble; I S: none; seven I then S: six bubbles
    assert ch.time[:3].tolist() == [1, 0, 6]
    for _ in r:
        pass
    assert r.instruction_fetches == 16658


def test_lackey_straddle_and_modify(tmp_path):
    p = tmp_path / "l.trace"
    p.write_text("==1== Lackey\nI  00400000,4\n M 0000103c,8\nI  00400004,2\nI  00400006,2\n L 00002000,4\n")
    ch = read_all(p)
    # M at 0x103c, 8 bytes, straddles 0x1040: read 0x103c(4) 0x1040(4), then the same as writes
    assert ch.addr.tolist() == [0x103C, 0x1040, 0x103C, 0x1040, 0x2000]
    assert ch.op.tolist() == [0, 0, 1, 1, 0]
    assert ch.size.tolist() == [4, 4, 4, 4, 4]
    assert ch.time.tolist() == [0, 0, 0, 0, 1]


@pytest.mark.parametrize("name", sorted(p.name for p in CROSSCHECK.glob("*.trace.gz")))
def test_crosscheck_traces(name):
    r = open_trace(CROSSCHECK / name)
    assert (r.format, r.compression) == ("dramsim3", "gzip")
    ch = read_all(CROSSCHECK / name)
    assert len(ch) == 100_000
    writes = {"random_rw30_gap12.trace.gz": 30185, "hotrows_rw20_gap6.trace.gz": 19833}.get(name, 0)
    assert _rw(ch) == (100_000 - writes, writes)
    assert np.all(np.diff(ch.time) >= 0)
    if name == "stream_read_gap8.trace.gz":
        assert np.array_equal(ch.addr, 0x10000000 + 64 * np.arange(100_000, dtype=np.uint64))
        assert np.array_equal(ch.time, 8 * np.arange(100_000))


@pytest.mark.parametrize("name", ["dramsim3_example.trace", "valgrind_lackey_ls.trace", "ramulator_cpu.trace"])
@pytest.mark.parametrize("chunk", [1, 7, 1000])
def test_chunks_equal_read_all(name, chunk, tmp_path):
    path = TRACES / name
    if chunk == 1:  # keep the suite fast: a 3,000-line prefix
        path = tmp_path / name
        path.write_bytes(b"\n".join((TRACES / name).read_bytes().split(b"\n")[:3000]) + b"\n")
    whole = read_all(path)
    chunks = list(open_trace(path, chunk_records=chunk))
    assert all(len(c) == chunk for c in chunks[:-1]) and 0 < len(chunks[-1]) <= chunk
    assert concat(chunks).equals(whole)
    if name == "dramsim3_example.trace":  # one record per line: first_line follows the row count
        assert [c.first_line for c in chunks[:3]] == [1, 1 + chunk, 1 + 2 * chunk]


def test_formats_listed():
    for name in ("native", "text", "dramsim3", "dramsim2", "ramulator", "ramulator_cpu", "ramulator2",
                 "usimm", "gem5", "prospero", "lackey", "champsim"):
        assert name in FORMATS
