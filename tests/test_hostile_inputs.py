"""Inputs that must not hurt the core: each class of bad input the compiled core used to crash on,
hang on, run out of memory with or silently misread, now refused with a clear error (file and
line, or parameter path) on both backends, and a one-line `hwmodel: error:` with exit 1 from the
CLI. The seeded fuzz tests that mutate such inputs are in test_fuzz_inputs.py."""
import bz2
import gzip
import json
import lzma
import os
import zipfile

import numpy as np
import pytest

from hwmodel import DRAM, System
from hwmodel import _layout as L
from hwmodel._layout import PT_LEAF
from hwmodel.cli import main
from hwmodel._dram_layout import dram_state_bytes
from hwmodel.core.engine import (Engine, _state_file_digest, check_state_size, load_state, new_state,
                            save_state, state_bytes_needed, state_digest)
from hwmodel.trace import Chunk, TraceError, generate, read_all, write_trace
from hwmodel.units import MAX_TIME_PS, parse_size, parse_time


def small(**over):
    data = {"compute": {"local_memory": "256KiB", "vms": [{"name": "vm0", "memory": "1MiB"}]},
            "hypervisor": {"super_page": "64KiB"},
            "memory_blade": {"capacity": "16MiB", "super_page": "1MiB"}}
    for k, v in over.items():
        data[k] = {**data.get(k, {}), **v}
    return System.from_dict(data)


def cli_error(capsys, args):
    """Run the CLI in-process: exit 1 and exactly one line on stderr, `hwmodel: error: ...`."""
    assert main(args) == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("hwmodel: error: "), err
    return err[0]


# -- configurations the core cannot run ----------------------------------------------------------
@pytest.mark.parametrize("policy", ["page_swap", "subpage_swap"])
def test_no_local_frame_to_swap_into(policy, capsys):
    # the compiled core wrote past its frame arrays ("free(): invalid next size") after a summary
    with pytest.raises(ValueError, match=r"^compute.local_memory: 0B leaves no local frame"):
        small(compute={"local_memory": "0B"}, hypervisor={"policy": policy})
    err = cli_error(capsys, ["run", "-p", "compute.local_memory=0B", "-p", f"hypervisor.policy={policy}"])
    assert "compute.local_memory" in err
    # policies that never swap run without local memory
    for ok in ("static", "fgra"):
        r = small(compute={"local_memory": "0B"}, hypervisor={"policy": ok}).run(
            {"time": [0, 10], "addr": [0, 4096], "timing": "timestamp"})
        assert r.counters["remote_accesses"] == 2


def test_guest_memory_beyond_8_eib(capsys):
    # addresses >= 2**63 reached the core as negative numbers (segfault, or a "successful" run)
    with pytest.raises(ValueError, match=r"compute.vms\[0\].memory: '16777215TiB' is more than 8 EiB"):
        System.from_dict({"compute": {"vms": [{"memory": "16777215TiB"}]}})
    two = {"compute": {"local_memory": "256GiB", "page_size": "256GiB",
                       "vms": [{"name": "a", "memory": "6291456TiB"}, {"name": "b", "memory": "6291456TiB"}],
                       "dram": {"preset": "DDR4-2400", "channels": 64}},
           "memory_blade": {"capacity": "0B", "super_page": "256GiB"}, "storage": {"device": "nvme-gen4"}}
    with pytest.raises(ValueError, match=r"^compute.vms: .* in all is more than 8 EiB"):
        System.from_dict(two)
    cli_error(capsys, ["run", "-p", "compute.vms.0.memory=9223372036854775808B"])


def test_refresh_that_would_divide_by_zero(capsys):
    # tREFI < ranks staggers to a refresh every 0 cycles: SIGFPE in the compiled refresh logic
    with pytest.raises(ValueError, match=r"dram.tREFI: 1 cycles staggered over 2 ranks"):
        DRAM(tREFI=1, tRFC=0)
    err = cli_error(capsys, ["run", "-p", "compute.dram.tREFI=1", "-p", "compute.dram.tRFC=0"])
    assert "compute.dram.tREFI" in err
    DRAM(tREFI=1, tRFC=0, refresh_policy="none")     # no refresh: no interval to divide by


@pytest.mark.parametrize("field, value, match", [
    ("tck_ps", 10**9, "dram.tck_ps"), ("tREFI", 2**31 - 1, "dram.tREFI"), ("CL", 10**12, "dram.CL"),
    ("channels", 1 << 20, "dram.channels: 1048576 is above the maximum 1024"),
    ("trans_queue_size", 1 << 20, "dram.trans_queue_size"), ("rows", 1 << 40, "dram.rows"),
])
def test_dram_values_the_core_cannot_hold(field, value, match):
    with pytest.raises(ValueError, match=match):
        DRAM(**{field: value})


@pytest.fixture
def half_gib(monkeypatch):
    monkeypatch.setenv("HWMODEL_MAX_STATE_BYTES", str(1 << 29))


@pytest.mark.parametrize("override, names", [
    ({"memory_blade": {"buffers": [{"queue_depth": 65536}] * 4096}}, "memory_blade.buffers"),
    # placement at boot places every page (the page table is sparse until a page is touched)
    ({"compute": {"page_size": "64B", "local_memory": "64MiB", "vms": [{"memory": "64GiB"}]},
      "hypervisor": {"placement": "low"}, "memory_blade": {"capacity": "64GiB"}}, "compute.page_size"),
    ({"cache": {"size": "64GiB", "ways": 16}}, "cache.size"),
    ({"compute": {"dram": {"channels": 1024, "cmd_queue_size": 65536}}}, "compute.dram"),
])
def test_state_too_large_is_refused_up_front_naming_the_parameter(half_gib, override, names):
    # these ended in MemoryError tracebacks (or the OOM killer) instead of a clear error
    with pytest.raises(ValueError, match=rf"^{names}: the run state would need .* more than the 537 MB allowed"):
        small(**override)


def test_construction_checks_fit_every_trace_timing():
    # construction compiles the system to size its state: that must not need a trace yet
    s = small(core={"timing": "open"})
    with pytest.raises(ValueError, match="core.timing: 'open' needs a timestamped trace"):
        s.run({"time": [0, 0], "addr": [0, 64], "timing": "none"})
    assert s.run({"time": [0, 5], "addr": [0, 64], "timing": "timestamp"}).accesses == 2
    assert small(core={"timing": "closed"}).run({"time": [0, 5], "addr": [0, 64]}).accesses == 2


def test_page_smaller_than_a_line():
    with pytest.raises(ValueError, match="compute.page_size: 1B is smaller than the 64 B line"):
        small(compute={"page_size": "1B"})


SYSTEMS = [
    dict(),
    dict(compute={"dram": {"model": "simple"}}, hypervisor={"policy": "subpage_swap"}),
    dict(cache={"size": "8KiB", "ways": 4}, memory_blade={"buffers": [{"queue_depth": 5}] * 3}),
    dict(snic={"discipline": "wfq", "vms": {"vm0": {"weight": 2}}}, storage={"device": "hdd"},
         memory_blade={"capacity": "1MiB"}),
]


@pytest.mark.parametrize("over", SYSTEMS)
def test_state_estimate_is_what_new_state_allocates(over):
    s = small(**over)
    for epoch in (0, 1000):
        c = s.compile("timestamp", epoch)
        st = new_state(c)
        assert sum(b for b, _, _ in state_bytes_needed(c)) == sum(a.nbytes for a in st.values())
        assert check_state_size(c) == sum(a.nbytes for a in st.values())
    many = System.from_dict({"compute": [{"name": "a", "vms": [{"name": "x"}]},
                                         {"name": "b", "dram": "DDR5-4800", "vms": [{"name": "y"}]}]})
    c = many.compile()
    from hwmodel._dram_layout import new_dram_state
    for d in (c.db, c.dp, c.dl[:len(c.db)], c.dl[len(c.db):]):
        assert dram_state_bytes(d) == sum(a.nbytes for a in new_dram_state(d).values())
    from hwmodel.dram import DRAM
    from hwmodel.memctrl import dram_params
    for model in ("detailed", "fast", "simple"):   # each model allocates its own arrays
        for d in (dram_params(DRAM.preset("DDR4-2400", model=model)),
                  dram_params(DRAM.preset("DDR5-4800", model=model, channels=2, queue_structure="per_rank"))):
            assert dram_state_bytes(d) == sum(a.nbytes for a in new_dram_state(d).values()), model


# -- times ---------------------------------------------------------------------------------------
def test_dramsim3_cycle_that_overflows_the_ps_conversion(tmp_path, capsys, backend):
    # 2.2e16 cycles x 830 ps wrapped to 83,794 ps and the run reported 0.0001 ms
    t = tmp_path / "far.trace"
    t.write_text("0x40 READ 10\n0x80 WRITE 22000000000000000\n")
    with pytest.raises(ValueError, match=r"far.trace:2: time 22000000000000000 x 830 ps .* exceeds 2\*\*60 ps"):
        small().run(str(t), backend=backend)
    assert "far.trace:2" in cli_error(capsys, ["run", str(t), "--backend", backend])


def test_timestamp_near_the_int64_limit(tmp_path, backend):
    # the compiled run looped forever; the reference died in an OverflowError
    ch = Chunk.from_arrays(time=[0, 10, 2**63 - 100], addr=[0, 64, 128], op=[0, 1, 0])
    write_trace(tmp_path / "big.npz", ch, timing="timestamp", time_unit="ps")
    with pytest.raises(ValueError, match=r"big.npz:3: time 9223372036854775708 x 1 ps"):
        small().run(str(tmp_path / "big.npz"), backend=backend)
    with pytest.raises(ValueError, match=r"record 1: time .* is negative or more than 2\*\*60 ps"):
        Engine(small().compile("timestamp"), backend).run_chunk(np.array([0, MAX_TIME_PS + 1]), [0, 64], [0, 0], [0, 0])


def test_time_columns_are_checked_not_cast(tmp_path, backend):
    s = small()
    with pytest.raises(ValueError, match=r"record 1: time 1.5 is not a whole number"):
        s.run({"time": [0, 1.5], "addr": [0, 64]}, backend=backend)
    with pytest.raises(ValueError, match=r"record 0: time .* exceeds 2\*\*60 ps"):
        s.run({"time": np.array([2**63 + 5], np.uint64), "addr": [0]}, backend=backend)
    with pytest.raises(ValueError, match=r"record 2: the issue gaps up to this record add up to more than 2\*\*60"):
        s.run({"time": [2**59, 2**59, 2**59], "addr": [0, 64, 128], "timing": "gap"}, backend=backend)
    # a native trace with a uint64 time column is read when its values fit
    np.savez(tmp_path / "u.npz", time=np.array([0, 7, 20], np.uint64), addr=np.array([0, 64, 128], np.uint64),
             op=np.zeros(3, np.uint8))
    assert s.run(str(tmp_path / "u.npz"), backend=backend).accesses == 3
    np.savez(tmp_path / "w.npz", time=np.array([0, 2**63], np.uint64), addr=np.array([0, 64], np.uint64),
             op=np.zeros(2, np.uint8))
    with pytest.raises(TraceError, match=r"w.npz: record 2: time 9223372036854775808 is out of range"):
        s.run(str(tmp_path / "w.npz"), backend=backend)


@pytest.mark.parametrize("text, kind", [("1e999999999ns", "time"), ("1" * 5000 + "ns", "time"),
                                        ("1e999999999KiB", "size"), (float("inf"), "time"),
                                        ("10000000s", "time"), ("9223372036854775809B", "size")],
                         ids=["exponent", "digits", "size exponent", "inf", "13 days+", "8 EiB+"])
def test_unit_values_out_of_range(text, kind):
    # '1e999999999ns' made a billion-digit integer (minutes of CPU, then memory)
    parse = parse_time if kind == "time" else parse_size
    with pytest.raises(ValueError, match=r"^a\.b: .*(out of range|not a finite|more than 8 EiB|cannot read)"):
        parse(text, "a.b")


def test_epoch_and_checkpoint_loops_stay_bounded(tmp_path, backend):
    # an epoch of 1 ps sampled every ps of the run (MemoryError); checkpoint ticks every 1 us over
    # a 13-day gap stepped through 10**12 ticks (hours)
    tr = {"time": [0, 10**9], "addr": [0, 64], "timing": "timestamp"}
    with pytest.raises(ValueError, match=r"record 1: epoch: samples every 1 ps up to 1 ms are more than"):
        small().run(tr, backend=backend, epoch="1ps")
    s = small(service={"regime": "incremental", "interval": "1us"})
    with pytest.raises(ValueError, match=r"record 1: checkpoints every 1 us \(service.interval\) would tick"):
        s.run({"time": [0, 10**18], "addr": [0, 64], "timing": "timestamp"}, backend=backend)
    assert s.run(tr, backend=backend).counters["checkpoints"] > 300     # 1 ms of 1 us ticks (2 us each): fine


# -- saved state ---------------------------------------------------------------------------------
def _run_half(system, backend, path, n=600):
    rng = np.random.default_rng(5)
    cols = [np.cumsum(rng.integers(0, 3000, n)).astype(np.int64), (rng.integers(0, 1 << 14, n) * 64).astype(np.uint64),
            (rng.random(n) < 0.3).astype(np.uint8), np.zeros(n, np.uint16)]
    c = system.compile("timestamp")
    e = Engine(c, backend)
    e.run_chunk(*[x[:n // 2] for x in cols])
    save_state(path, e.state, c, {"trace": "t", "records_done": n // 2})
    return c, cols, e


def _rewrite(path, c, st, extra):
    """What a deliberate editor does: change arrays and re-sign the file (digest recomputed)."""
    save_state(path, st, c, extra)


def test_state_save_is_atomic(tmp_path, monkeypatch):
    s = small()
    c, _, e = _run_half(s, "compiled", tmp_path / "s.npz")
    before = (tmp_path / "s.npz").read_bytes()

    def killed(f, **arrays):           # the process dies half-way through writing the file
        f.write(b"PK\x03\x04 partial")
        raise KeyboardInterrupt
    monkeypatch.setattr(np, "savez", killed)
    with pytest.raises(KeyboardInterrupt):
        save_state(tmp_path / "s.npz", e.state, c, {"trace": "t", "records_done": 300})
    assert (tmp_path / "s.npz").read_bytes() == before          # the last good state survives
    assert os.listdir(tmp_path) == ["s.npz"]                    # and no temporary file is left


def test_edited_state_is_refused_without_a_digest(tmp_path):
    s = small()
    c, _, _ = _run_half(s, "compiled", tmp_path / "s.npz")
    with zipfile.ZipFile(tmp_path / "s.npz") as z:
        members = {n: z.read(n) for n in z.namelist()}
    raw = bytearray(members["pt_leaf.npy"])
    raw[-4:] = (10**9).to_bytes(4, "little", signed=True)        # one page points far outside the frames
    members["pt_leaf.npy"] = bytes(raw)
    with zipfile.ZipFile(tmp_path / "e.npz", "w") as z:
        for n, b in members.items():
            z.writestr(n, b)
    with pytest.raises(ValueError, match="e.npz: damaged or edited state file"):
        load_state(tmp_path / "e.npz", c)


def _edit(name, fn):
    return pytest.param(name, fn, id=name)


def _touched(st):
    """Index in pt_leaf of the first page-table entry a run has written (leaf 0 stays untouched)."""
    leaf = st["pt_leaf"]
    return int(np.flatnonzero(leaf[PT_LEAF:] != -1)[0]) + PT_LEAF


EDITS = [   # (what, edit of the state dict) -- each made the core crash, hang or misrun
    _edit("page-table frame", lambda st, c: st["pt_leaf"].__setitem__(_touched(st), 10**6)),
    _edit("page-table slot", lambda st, c: st["pt_leaf"].__setitem__(_touched(st), -10**6)),
    _edit("page-table leaf 0", lambda st, c: st["pt_leaf"].__setitem__(0, 0)),
    _edit("page-table directory", lambda st, c: st["pt_dir"].__setitem__(0, 10**6)),
    _edit("frame rows", lambda st, c: st["cb_grow"].__setitem__(1, 10**6)),
    _edit("grow flag", lambda st, c: st["scalars"].__setitem__(L.S["grow"], 7)),
    _edit("frame_page", lambda st, c: st["frame_page"].__setitem__(0, 999)),
    _edit("lru cycle", lambda st, c: st["lru_next"].__setitem__(int(st["set_tail"][0]), int(st["set_head"][0]))),
    _edit("set_used", lambda st, c: st["set_used"].__setitem__(0, 10**6)),
    _edit("ring_idx", lambda st, c: st["scalars"].__setitem__(0, 10**9)),
    _edit("epoch_next", lambda st, c: st["scalars"].__setitem__(8, -(2**62))),
    _edit("defer_n", lambda st, c: st["scalars"].__setitem__(14, 1000)),
    _edit("ck_count", lambda st, c: st["ck_sc"].__setitem__(1, 10**6)),
    _edit("calendar", lambda st, c: st["link_cal"].__setitem__(0, 10**6)),
    _edit("sp_map", lambda st, c: st["sp_map"].__setitem__(0, 10**5)),
    _edit("cache tag", lambda st, c: st["cache_tag"].__setitem__(0, 2**60)),
    _edit("dram cq index", lambda st, c: st["local_bank"].__setitem__(7, 10**6)),
    _edit("dram bus tag", lambda st, c: st["blade_bus"].__setitem__(2, 10**6)),
    _edit("dram faw index", lambda st, c: st["local_rank"].__setitem__(1, 99)),
    _edit("dram rank activity events", lambda st, c: st["local_ract"].__setitem__(3, 10**6)),
    _edit("dram rank open banks", lambda st, c: st["blade_ract"].__setitem__(1, -1)),
    _edit("dram wb count", lambda st, c: st["local_chan"].__setitem__(5, 10**6)),
    _edit("calendar order", lambda st, c: _swap_first_reservation(st["link_cal"])),
    _edit("bus calendar order", lambda st, c: st["local_bus"].__setitem__(
        3 * int(st["local_chan"][0]), st["local_bus"][3 * int(st["local_chan"][0]) + 1] + 10)),
    _edit("write-buffer filter", lambda st, c: st["local_chan"].__setitem__(6, 0)),
    _edit("counter", lambda st, c: st["counters"].__setitem__(0, -5)),
    _edit("error", lambda st, c: st["scalars"].__setitem__(16, 1)),
    _edit("dtype", lambda st, c: st.__setitem__("pt_dir", st["pt_dir"].astype(np.int64))),
    _edit("shape", lambda st, c: st.__setitem__("hist", st["hist"][:-1])),
    _edit("missing", lambda st, c: st.pop("dirty")),
    _edit("extra", lambda st, c: st.__setitem__("evil", np.zeros(3))),
]


def _swap_first_reservation(cal):
    """The earliest reservation of a link calendar ends before it starts (its twin scans all of
    them, the compiled core skips back over the latest: order is what makes them agree)."""
    head = int(cal[1])
    assert cal[0] > 0
    cal[3 + 2 * head], cal[4 + 2 * head] = cal[4 + 2 * head] + 10, cal[3 + 2 * head]


@pytest.mark.parametrize("what, edit", EDITS)
def test_edited_and_resigned_state_is_refused(tmp_path, what, edit):
    # editing values inside a --save-state file gave segfaults and hangs on --resume
    s = small(cache={"size": "8KiB", "ways": 2}, service={"regime": "incremental", "interval": "50us"})
    c, _, e = _run_half(s, "compiled", tmp_path / "s.npz")
    st = {k: v.copy() for k, v in e.state.items()}
    assert st["local_chan"][5] > 0 and st["local_chan"][1] > 0    # buffered writes, a bus reservation
    edit(st, c)
    _rewrite(tmp_path / "x.npz", c, st, {"trace": "t", "records_done": 300})
    with pytest.raises(ValueError, match=r"x.npz: not a state this system can resume from: array"):
        load_state(tmp_path / "x.npz", c)


def test_edited_header_count_is_not_believed(tmp_path):
    s = small()
    c, _, e = _run_half(s, "compiled", tmp_path / "s.npz")
    _rewrite(tmp_path / "x.npz", c, e.state, {"trace": "t", "records_done": 10**9})
    with pytest.raises(ValueError, match=r"header records_done 1000000000 is not the 300 accesses"):
        load_state(tmp_path / "x.npz", c)


@pytest.mark.parametrize("member, message", [
    ("pt_dir", r"array 'pt_dir': int32\[1099511627776\], expected int32\["),
    ("pt_leaf", r"array 'pt_leaf': the state's arrays add up to 4398\d+ bytes, more than a state may take"),
])
def test_a_state_member_claiming_a_huge_array_is_not_allocated(tmp_path, member, message):
    s = small()
    c, _, _ = _run_half(s, "compiled", tmp_path / "s.npz")
    with zipfile.ZipFile(tmp_path / "s.npz") as z:
        members = {n: z.read(n) for n in z.namelist()}
    header = "{'descr': '<i4', 'fortran_order': False, 'shape': (1099511627776,), }"
    members[member + ".npy"] = b"\x93NUMPY\x01\x00" + len(header.ljust(118) + "\n").to_bytes(2, "little") + \
        (header.ljust(118) + "\n").encode()
    with zipfile.ZipFile(tmp_path / "h.npz", "w") as z:
        for n, b in members.items():
            z.writestr(n, b)
    with pytest.raises(ValueError, match=message):
        load_state(tmp_path / "h.npz", c)


@pytest.mark.parametrize("damage", ["truncate", "garbage", "not zip", "empty"])
def test_damaged_state_files(tmp_path, damage, capsys):
    s = small()
    c, _, _ = _run_half(s, "compiled", tmp_path / "s.npz")
    raw = (tmp_path / "s.npz").read_bytes()
    bad = {"truncate": raw[:len(raw) // 2], "garbage": raw[:100] + os.urandom(3000) + raw[3100:],
           "not zip": b"hello", "empty": b""}[damage]
    (tmp_path / "s.npz").write_bytes(bad)
    with pytest.raises(ValueError, match=r"s.npz: (not a hwmodel state file|damaged or edited)"):
        load_state(tmp_path / "s.npz", c)


def test_resume_round_trip_still_exact(tmp_path, backend):
    s = small(service={"regime": "cow", "interval": "40us"})
    c, cols, _ = _run_half(s, backend, tmp_path / "s.npz")
    whole = Engine(c, backend)
    whole.run_chunk(*cols)
    st, extra = load_state(tmp_path / "s.npz", c)
    assert extra == {"trace": "t", "records_done": 300}
    second = Engine(c, backend, st)
    second.run_chunk(*[x[300:] for x in cols])
    assert state_digest(second.state) == state_digest(whole.state)


# -- compressed and binary inputs ----------------------------------------------------------------
TEXT = "".join(f"0x{i * 64:X} READ {i}\n" for i in range(3000)).encode()
CUT = TEXT.rfind(b"\n", 0, len(TEXT) // 2) + 1


@pytest.mark.parametrize("kind, comp", [("xz", lzma.compress), ("bz2", bz2.compress), ("gz", gzip.compress)])
def test_concatenated_streams_damage_and_trailing_garbage(tmp_path, kind, comp):
    p = tmp_path / f"t.{kind}"
    p.write_bytes(comp(TEXT[:CUT]) + comp(TEXT[CUT:]))            # two streams: one trace
    assert len(read_all(p, format="dramsim3")) == 3000
    second = bytearray(comp(TEXT[CUT:]))
    second[len(second) // 2] ^= 0xFF
    for name, data in (("damaged second stream", comp(TEXT[:CUT]) + bytes(second)),
                       ("trailing garbage", comp(TEXT) + b"garbage after the stream"),
                       ("one byte of garbage", comp(TEXT) + b"x"),
                       ("truncated second stream", comp(TEXT[:CUT]) + comp(TEXT[CUT:])[:-8])):
        p.write_bytes(data)
        # lzma.LZMAFile and bz2.BZ2File dropped these silently: a shorter trace
        with pytest.raises(TraceError, match=rf"t.{kind}: truncated or corrupt"):
            read_all(p, format="dramsim3")


def test_xz_stream_padding_is_allowed(tmp_path):
    p = tmp_path / "t.xz"
    p.write_bytes(lzma.compress(TEXT[:CUT]) + b"\0" * 8 + lzma.compress(TEXT[CUT:]) + b"\0" * 4)
    assert len(read_all(p, format="dramsim3")) == 3000
    p.write_bytes(lzma.compress(TEXT) + b"\0" * 3)
    with pytest.raises(TraceError, match="padding of 3 bytes"):
        read_all(p, format="dramsim3")


@pytest.mark.parametrize("fields, values, match", [
    ([("addr", "<u8"), ("op", "<u2")], [(0, 257)], "record 1: operation 257 is out of range"),
    ([("addr", "<u8"), ("op", "u1"), ("vm", "<u4")], [(0, 0, 65536)], "record 1: VM id 65536 is out of range"),
    ([("addr", "<f8"), ("op", "u1")], [(64.5, 0)], "record 1: address 64.5 is not a whole number"),
    ([("addr", "<i8"), ("op", "u1")], [(-64, 0)], "record 1: address -64 is out of range"),
    ([("addr", "<u8"), ("op", "u1"), ("time", "<f8")], [(0, 0, 1e300)], "record 1: time 1e\\+300"),
])
def test_structured_npy_fields_are_not_cast_silently(tmp_path, fields, values, match):
    # op 257 became a write, vm 65536 became 0, fractional addresses were truncated
    np.save(tmp_path / "s.npy", np.array(values, dtype=fields))
    with pytest.raises(TraceError, match=match):
        read_all(tmp_path / "s.npy")


@pytest.mark.parametrize("compressed", [False, True])
def test_damaged_npz_member(tmp_path, compressed, capsys):
    # a corrupted member gave BadZipFile / zlib tracebacks
    ch = generate("uniform", 4000, 1 << 20, seed=1, interval=5)
    p = tmp_path / "t.npz"
    (np.savez_compressed if compressed else np.savez)(p, **ch.columns())
    raw = bytearray(p.read_bytes())
    with zipfile.ZipFile(p) as z:
        info = z.getinfo("addr.npy")
    raw[info.header_offset + 30 + len(info.filename) + info.compress_size // 2] ^= 0xFF
    p.write_bytes(bytes(raw))
    with pytest.raises(TraceError, match=r"t.npz\[addr.npy\]: corrupt data"):
        read_all(p)
    assert "t.npz[addr.npy]" in cli_error(capsys, ["run", str(p)])


def test_yaml_alias_bomb_and_self_reference(tmp_path, capsys):
    lines = ["compute:", "  local_memory:", '    - &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]']
    for prev, cur in zip("abcdefgh", "bcdefghi"):
        lines.append(f"    - &{cur} [" + ",".join([f"*{prev}"] * 9) + "]")
    (tmp_path / "bomb.yaml").write_text("\n".join(lines) + "\n")
    err = cli_error(capsys, ["run", str(tmp_path / "bomb.yaml")])
    assert "bomb.yaml: the configuration expands to more than 100,000 values" in err
    (tmp_path / "self.yaml").write_text("compute: &c\n  vms: [*c]\n")
    assert "refers to the mapping or list that holds it" in cli_error(capsys, ["run", str(tmp_path / "self.yaml")])
    deep = "[" * 5000 + "]" * 5000
    assert "nested too deeply" in cli_error(capsys, ["run", "-p", f"compute.local_memory={deep}"])


# -- the CLI: one line, exit 1, for each class ---------------------------------------------------
def test_cli_state_file_errors_are_one_line(tmp_path, capsys):
    t = tmp_path / "t.trace"
    t.write_text("".join(f"0x{i * 64:X} READ {i * 10}\n" for i in range(3000)))
    state = tmp_path / "s.npz"
    assert main(["run", str(t), "--chunk", "1000", "--save-state", str(state)]) == 0
    capsys.readouterr()
    raw = bytearray(state.read_bytes())
    raw[len(raw) // 3] ^= 0x5A
    state.write_bytes(bytes(raw))
    err = cli_error(capsys, ["run", str(t), "--chunk", "1000", "--resume", str(state)])
    assert "s.npz:" in err
