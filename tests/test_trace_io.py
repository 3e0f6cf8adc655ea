"""Writers and round trips, compression, error reporting, and the formats without a real sample."""
import lzma
import re

import numpy as np
import pytest

from hwmodel.trace import TraceError, concat, generate, open_trace, read_all, write_trace


def _sample(n=1000, seed=3):
    ch = generate("uniform", n, 1 << 34, seed=seed, interval=5)
    return ch


# ---------------------------------------------------------------- round trips
@pytest.mark.parametrize("fmt,timing,unit", [("native", "timestamp", "ps"), ("dramsim3", "timestamp", "cycle"),
                                             ("text", "gap", "ns"), ("usimm", "gap", "instruction"),
                                             ("gem5", "timestamp", "ps"), ("prospero", "timestamp", "cycle")])
def test_round_trip(tmp_path, fmt, timing, unit):
    ch = _sample()
    p = tmp_path / f"t.{fmt}"
    assert write_trace(p, ch, format=fmt, timing=timing, time_unit=unit) == len(ch)
    r = open_trace(p)
    assert (r.format, r.timing, r.time_unit) == (fmt, timing, unit)
    assert read_all(p).equals(ch)


def test_round_trip_untimed(tmp_path):
    ch = _sample()
    ch.time[:] = 0
    for fmt in ("ramulator", "ramulator2", "text"):
        p = tmp_path / f"t.{fmt}"
        write_trace(p, ch, format=fmt, timing="none")
        assert open_trace(p).format == fmt and open_trace(p).timing == "none"
        assert read_all(p).equals(ch)


def test_native_sizes_vm_and_chunked_write(tmp_path):
    ch = _sample(5000)
    ch.size[:] = np.arange(5000) % 100 + 1
    ch.vm[:] = np.arange(5000) % 7
    p = tmp_path / "t.npz"
    write_trace(p, (ch[i:i + 333] for i in range(0, 5000, 333)), timing="gap", time_unit="instruction")
    r = open_trace(p, chunk_records=1000)
    assert (r.format, r.timing, r.time_unit) == ("native", "gap", "instruction")
    chunks = list(r)
    assert [len(c) for c in chunks] == [1000] * 5 and [c.first_line for c in chunks] == [1, 1001, 2001, 3001, 4001]
    assert concat(chunks).equals(ch)
    with np.load(p, allow_pickle=False) as z:  # a plain npz, readable by numpy without pickle
        assert np.array_equal(z["addr"], ch.addr)
    p5 = tmp_path / "t5.txt"
    write_trace(p5, ch, format="text", timing="gap", time_unit="instruction")
    assert read_all(p5).equals(ch)


def test_structured_npy(tmp_path):
    ch = _sample(100)
    arr = np.zeros(100, dtype=[("time", "<i8"), ("addr", "<u8"), ("op", "u1")])
    arr["time"], arr["addr"], arr["op"] = ch.time, ch.addr, ch.op
    np.save(tmp_path / "s.npy", arr)
    r = open_trace(tmp_path / "s.npy", chunk_records=30)
    assert (r.format, r.timing, r.time_unit) == ("native", "timestamp", "ps")
    out = concat(list(r))
    assert np.array_equal(out.addr, ch.addr) and np.array_equal(out.time, ch.time) and np.all(out.size == 64)


def test_lossy_writes_refused(tmp_path):
    ch = _sample()
    with pytest.raises(TraceError, match="no time column"):
        write_trace(tmp_path / "r.trace", ch, format="ramulator", timing="timestamp", time_unit="cycle")
    with pytest.raises(TraceError, match="cycle"):
        write_trace(tmp_path / "d.trace", ch, format="dramsim3", timing="timestamp", time_unit="ps")
    ch.size[0] = 32
    with pytest.raises(TraceError, match="size"):
        write_trace(tmp_path / "d.trace", ch, format="dramsim3", timing="timestamp", time_unit="cycle")
    assert not (tmp_path / "d.trace").exists() and not (tmp_path / "d.trace.part").exists()
    write_trace(tmp_path / "r.trace", ch, format="ramulator", timing="timestamp", time_unit="cycle", lossy=True)
    assert np.array_equal(read_all(tmp_path / "r.trace").addr, ch.addr)


# ---------------------------------------------------------------- compression
@pytest.mark.parametrize("suffix,kind", [(".gz", "gzip"), (".xz", "xz"), (".bz2", "bz2"), (".zst", "zstd")])
def test_compressed_round_trip(tmp_path, suffix, kind):
    ch = _sample(3000)
    p = tmp_path / ("t.trace" + suffix)
    write_trace(p, ch, format="dramsim3", timing="timestamp", time_unit="cycle")
    r = open_trace(p, chunk_records=1000)
    assert (r.format, r.compression) == ("dramsim3", kind)
    assert concat(list(r)).equals(ch)
    # detected by magic bytes, not by the name
    q = tmp_path / "renamed.trace"
    q.write_bytes(p.read_bytes())
    assert open_trace(q).compression == kind and read_all(q).equals(ch)


@pytest.mark.parametrize("suffix", [".gz", ".xz", ".zst"])
def test_truncated_compressed_raises(tmp_path, suffix):
    ch = _sample(20000)
    p = tmp_path / ("t.trace" + suffix)
    write_trace(p, ch, format="dramsim3", timing="timestamp", time_unit="cycle")
    data = p.read_bytes()
    p.write_bytes(data[: len(data) * 2 // 3])
    with pytest.raises(TraceError, match=r"t\.trace.*truncated or corrupt"):
        read_all(p)


def test_zstd_missing_module_message(monkeypatch, tmp_path):
    import builtins
    real = builtins.__import__

    def fake(name, *a, **k):
        if name == "zstandard":
            raise ImportError("no")
        return real(name, *a, **k)
    monkeypatch.setattr(builtins, "__import__", fake)
    p = tmp_path / "t.zst"
    p.write_bytes(b"\x28\xb5\x2f\xfd" + b"\0" * 20)
    with pytest.raises(TraceError, match="pip install zstandard"):
        read_all(p)


# ---------------------------------------------------------------- errors
def test_malformed_line_names_file_line_text(tmp_path):
    p = tmp_path / "trace.txt"
    lines = [f"0x{0x1000 + 64 * i:X} READ {i}" for i in range(30)]
    lines[16] = "0xzz12 READ 5"
    p.write_text("\n".join(lines) + "\n")
    with pytest.raises(TraceError) as e:
        read_all(p, format="dramsim3")
    assert str(e.value) == f"{p}:17: cannot read address 'zz12' in line '0xzz12 READ 5'"


@pytest.mark.parametrize("bad,msg", [
    ("0x10000000000000000 READ 5", "wider than 64 bits"),
    ("0x40 READ -5", "negative time '-5'"),
    ("0x40 READ 99999999999999999999", "out of range"),
    ("0x40 FETCH 5", "unknown operation 'FETCH'"),
    ("0x40 IFETCH 5", "format='dramsim2'"),
    ("0x40 READ", "expected 3 fields"),
    ("0x40 READ 5 7", "expected 3 fields"),
])
def test_bad_values(tmp_path, bad, msg):
    p = tmp_path / "t.trace"
    p.write_text("0x0 READ 1\n" * 5 + bad + "\n" + "0x0 WRITE 9\n")
    with pytest.raises(TraceError, match=re.escape(msg)) as e:
        read_all(p, format="dramsim3")
    assert ":6: " in str(e.value) and bad in str(e.value)


def test_skip_bad_lines_counts(tmp_path):
    p = tmp_path / "t.trace"
    p.write_text("# comment\n0x0 READ 1\nnonsense here\n\n0x40 WRITE 2\n0xZZ READ 3\n0x80 READ 4\n")
    r = open_trace(p, format="dramsim3", skip_bad_lines=True)
    with pytest.warns(UserWarning, match="skipped 2 malformed"):
        ch = concat(list(r))
    assert r.skipped_lines == 2 and ":3:" in r.skipped_examples[0] and ":6:" in r.skipped_examples[1]
    assert ch.addr.tolist() == [0, 0x40, 0x80] and ch.time.tolist() == [1, 2, 4]


def test_error_in_late_block_and_comments(tmp_path, monkeypatch):
    from hwmodel.trace import reader
    monkeypatch.setattr(reader, "BLOCK_BYTES", 4096)  # many blocks: line numbers must carry over
    lines = ["# header", ""] + [f"0x{i:X} WRITE {i}" for i in range(5000)]
    lines[4000] = "0x12 WRITE x7"
    p = tmp_path / "t.trace"
    p.write_text("\n".join(lines))  # no final newline
    with pytest.raises(TraceError, match=r"t\.trace:4001: cannot read time 'x7'"):
        read_all(p, format="dramsim3")
    lines[4000] = "  # comment in the middle"
    p.write_text("\n".join(lines))
    ch = read_all(p)
    assert len(ch) == 4999 and ch.addr[-1] == 4999


def test_unknown_format_lists_known(tmp_path):
    p = tmp_path / "t.trace"
    p.write_text("0x0 R\n")
    with pytest.raises(TraceError, match="unknown trace format 'foo'.*dramsim3.*lackey"):
        open_trace(p, format="foo")


def test_undetectable(tmp_path):
    p = tmp_path / "t.trace"
    p.write_text("hello world\n")
    with pytest.raises(TraceError, match=r"t\.trace:1: cannot detect the trace format"):
        open_trace(p)


def test_missing_file():
    with pytest.raises(TraceError, match="cannot open"):
        open_trace("/nonexistent/t.trace")


# ---------------------------------------------------------------- formats without a real sample
@pytest.mark.parametrize("fmt,text,addr,op,time,size", [
    ("usimm", "0 R 0x7f001040 0x400100\n12 W 0x7f001080\n", [0x7F001040, 0x7F001080], [0, 1], [0, 12], 64),
    ("gem5", "r,4096,64,1000\nw,8192,32,2000\nu,0,0,2500\nr,12288,64,2,3000\n17,r,64,8,4,3500\n",
     [4096, 8192, 12288, 64], [0, 1, 0, 0], [1000, 2000, 3000, 3500], None),
    ("prospero", "100 R 4096 8\n250 W 8192 4 0\n", [4096, 8192], [0, 1], [100, 250], None),
    ("ramulator2", "LD 0x1000\nST 8192\n", [0x1000, 8192], [0, 1], [0, 0], 64),
    ("dramsim2_k6", "0x1000 P_MEM_RD 5\n0x2000 P_MEM_WR 9\n0x3000 BOFF 11\n0x40 P_LOCK_RD 12\n",
     [0x1000, 0x2000, 0x3000, 0x40], [0, 1, 1, 0], [5, 9, 11, 12], 64),
    ("dramsim2_misc", "0x1000 read\n0x2000 write 0123456789abcdef0123456789abcdef0123\n", [0x1000, 0x2000], [0, 1], [0, 0], 64),
])
def test_other_formats_detected_and_read(tmp_path, fmt, text, addr, op, time, size):
    p = tmp_path / "t.trace"
    p.write_text(text)
    r = open_trace(p)
    assert r.format == fmt
    ch = read_all(p)
    assert ch.addr.tolist() == addr and ch.op.tolist() == op and ch.time.tolist() == time
    if size:
        assert np.all(ch.size == size)
    if fmt == "gem5":
        assert ch.size.tolist() == [64, 32, 64, 8]
        for _ in r:
            pass
        assert r.ignored_records == 1


def test_champsim_binary(tmp_path):
    from hwmodel.trace.champsim import RECORD
    rec = np.zeros(6, RECORD)
    rec["ip"] = 0x400000 + np.arange(6)
    rec["src_mem"][1, 0] = 0x1000          # instr 1: a read after one non-memory instruction
    rec["src_mem"][1, 2] = 0x2000          # ... and a second read
    rec["dst_mem"][1, 0] = 0x3000          # ... and a write
    rec["dst_mem"][4, 1] = 0x4000          # instr 4: a write after two non-memory instructions
    rec["is_branch"][5] = 1
    raw = rec.tobytes()
    p = tmp_path / "t.champsimtrace.xz"
    with lzma.open(p, "wb") as f:
        f.write(raw)
    r = open_trace(p)
    assert (r.format, r.timing, r.time_unit, r.compression) == ("champsim", "gap", "instruction", "xz")
    ch = read_all(p)
    assert ch.addr.tolist() == [0x1000, 0x2000, 0x3000, 0x4000]
    assert ch.op.tolist() == [0, 0, 1, 1] and ch.time.tolist() == [1, 0, 0, 2]
    chunks = list(open_trace(p, chunk_records=1))
    assert [c.first_line for c in chunks] == [2, 2, 2, 5]
    with lzma.open(p, "wb") as f:
        f.write(raw[:-10])
    with pytest.raises(TraceError, match="record 6 is incomplete"):
        read_all(p)


def test_text_header_and_columns(tmp_path):
    p = tmp_path / "t.txt"
    p.write_text("# hwmodel-trace text v1 timing=gap time_unit=cycle\n0x40 R 3 32 2\n0x80 w 0 64 1\n")
    r = open_trace(p)
    assert (r.format, r.timing, r.time_unit) == ("text", "gap", "cycle")
    ch = read_all(p)
    assert ch.size.tolist() == [32, 64] and ch.vm.tolist() == [2, 1] and ch.op.tolist() == [0, 1]
