"""`hwmodel dram` (hwmodel.dramsim): the DRAM tool against DRAMsim3's outputs, its energy, its
inputs and its errors.

Figures checked against DRAMsim3 (tests/data/crosscheck, DDR4_8Gb_x8_2400.ini):
- the tool returns and prints exactly the figures tests/test_crosscheck_dramsim3.py computes from
  the model (row-hit rates, average read latency from acceptance, bandwidth over DRAMsim3's
  num_cycles), when run with --cycles = DRAMsim3's num_cycles;
- total_energy and average_power within 0.5% of DRAMsim3's (the detailed model; measured: within 0.001%);
  where a trace misses, KNOWN states the tolerance reached and WHY, as the cross-check test does;
- REF commands exactly DRAMsim3's (the refresh schedule is the same).
"""
import contextlib
import gzip
import io
import json

import numpy as np
import pytest

from conftest import REFERENCE
from test_crosscheck_dramsim3 import TRACES, metrics

from hwmodel import run_dram
from hwmodel.cli import main
from hwmodel.dram import DRAM
from hwmodel.dram_energy import increments
from hwmodel.dramsim import resolve_dram

INI = REFERENCE / "dramsim3" / "DDR4_8Gb_x8_2400.ini"
OUT = REFERENCE / "crosscheck" / "dramsim3_out"
# energy disagreements beyond the 0.5% target: (tolerance reached, reason); none so far
KNOWN = {}
WHY = {}


def dramsim3(name):
    return json.loads((OUT / f"{name}.json").read_text())["0"]


def cli(*argv):
    """(exit code, stdout, stderr) of `hwmodel ...` run in this process."""
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        rc = main([str(a) for a in argv])
    return rc, out.getvalue(), err.getvalue()


@pytest.fixture(scope="module")
def runs():
    """The tool's JSON and summary on each cross-check trace, run as DRAMsim3 was (-c CYCLES)."""
    res = {}
    for name in TRACES:
        trace = REFERENCE / "crosscheck" / f"{name}.trace.gz"
        # compiled: the twin takes minutes over six full traces (tests/test_crosscheck_dramsim3.py holds
        # the two backends equal on the real traces)
        rc, text, _ = cli("dram", INI, trace, "--cycles", dramsim3(name)["num_cycles"], "-p", "model=detailed",
                          "--backend", "compiled", "--json", "-")
        assert rc == 0
        rc, summary, _ = cli("dram", INI, trace, "--cycles", dramsim3(name)["num_cycles"], "-p", "model=detailed",
                             "--backend", "compiled")
        assert rc == 0
        res[name] = json.loads(text), summary
    return res


@pytest.mark.parametrize("name", TRACES)
def test_cli_gives_the_crosscheck_figures(runs, name):
    js, summary = runs[name]
    ch = js["0"]
    ours, _ = metrics(REFERENCE, name, "detailed")
    assert ch["num_read_row_hits"] / max(ch["num_read_cmds"], 1) == ours["read_hits"]
    assert ch["num_write_row_hits"] / max(ch["num_write_cmds"], 1) == ours["write_hits"]
    assert ch["average_read_latency"] == ours["latency"]
    assert ch["average_bandwidth"] == ours["bandwidth"]
    # and prints them, with their units
    assert f"read latency mean (cycles / ns)" in summary and f"{ours['latency']:.2f} /" in summary
    assert f"{ours['bandwidth']:.3f}" in summary and "bandwidth (GB/s)" in summary
    assert f"{ch['num_read_row_hits']:,} / {ch['num_read_cmds']:,}" in summary
    # one channel: the total is that channel
    for k in ("num_reads_done", "num_act_cmds", "total_energy", "average_bandwidth"):
        assert js["total"][k] == ch[k]


@pytest.mark.parametrize("name", TRACES)
def test_energy_agrees_with_dramsim3(runs, name):
    ch, theirs = runs[name][0]["0"], dramsim3(name)
    assert ch["num_cycles"] == theirs["num_cycles"]
    assert ch["num_ref_cmds"] == theirs["num_ref_cmds"]
    for key in ("total_energy", "average_power"):
        rel = ch[key] / theirs[key] - 1
        err = abs(rel)
        print(f"{name} {key}: ours {ch[key]:.6g} DRAMsim3 {theirs[key]:.6g} ({rel:+.2%})")
        reached = KNOWN.get((name, key))
        if reached is None:
            # the detailed model issues DRAMsim3's commands at its cycles: the issue's 0.5% holds
            assert err <= 0.005, f"{name} {key}: off by {err:.3g}, target 0.005"
        else:
            assert err <= reached, f"{name} {key}: off by {err:.3g}, beyond {reached} ({WHY[(name, key)]})"
            assert err > 0.005, f"{name} {key} now meets the target: drop it from KNOWN"


@pytest.mark.parametrize("name", TRACES)
def test_energy_follows_dramsim3s_formulas(runs, name):
    d = DRAM.from_dramsim3_ini(INI)
    inc = increments(d)
    ch = runs[name][0]["0"]
    assert ch["act_energy"] == ch["num_act_cmds"] * inc["act"]
    assert ch["read_energy"] == ch["num_read_cmds"] * inc["read"]
    assert ch["write_energy"] == ch["num_write_cmds"] * inc["write"]
    assert ch["ref_energy"] == ch["num_ref_cmds"] * inc["ref"]
    for r in ("0", "1"):
        assert ch["rank_active_cycles"][r] + ch["all_bank_idle_cycles"][r] == ch["num_cycles"]
        assert ch["act_stb_energy"][r] == ch["rank_active_cycles"][r] * inc["act_stb"]
        assert ch["pre_stb_energy"][r] == ch["all_bank_idle_cycles"][r] * inc["pre_stb"]
    parts = [ch[k] for k in ("act_energy", "read_energy", "write_energy", "ref_energy")]
    parts += list(ch["act_stb_energy"].values()) + list(ch["pre_stb_energy"].values())
    assert ch["total_energy"] == pytest.approx(sum(parts), rel=1e-12)
    assert ch["average_power"] == pytest.approx(ch["total_energy"] / ch["num_cycles"], rel=1e-12)
    # labelled units: pJ = mA x V x cycles x tCK (ns); mW = mA x V
    assert ch["energy_pJ"]["total"] == pytest.approx(ch["total_energy"] * 0.83, rel=1e-12)
    assert ch["average_power_mW"] == ch["average_power"]


def test_dramsim3s_formulas_on_its_own_numbers():
    # the increments reproduce DRAMsim3's energies from its own counts (stream_read_gap8.json)
    inc = increments(DRAM.from_dramsim3_ini(INI))
    js = dramsim3("stream_read_gap8")
    assert js["act_energy"] == pytest.approx(js["num_act_cmds"] * inc["act"], rel=1e-12)
    assert js["read_energy"] == pytest.approx(js["num_read_cmds"] * inc["read"], rel=1e-12)
    assert js["ref_energy"] == pytest.approx(js["num_ref_cmds"] * inc["ref"], rel=1e-12)
    for r in ("0", "1"):
        assert js["act_stb_energy"][r] == pytest.approx(js["rank_active_cycles"][r] * inc["act_stb"], rel=1e-12)
        assert js["pre_stb_energy"][r] == pytest.approx(js["all_bank_idle_cycles"][r] * inc["pre_stb"], rel=1e-12)


# -- the Python API, channels and epochs ----------------------------------------------------------
def write_trace(path, cycles, addrs, writes=None, fmt="dramsim3"):
    ops = np.zeros(len(addrs), bool) if writes is None else np.asarray(writes, bool)
    with open(path, "w") as f:
        for c, a, w in zip(cycles, addrs, ops):
            if fmt == "dramsim3":
                f.write(f"{int(a):#x} {'WRITE' if w else 'READ'} {int(c)}\n")
            elif fmt == "ramulator":
                f.write(f"{int(a):#x} {'W' if w else 'R'}\n")
    return path


def random_trace(tmp_path, d, n=20_000, gap=10, seed=1, name="t.trace"):
    rng = np.random.default_rng(seed)
    hot = rng.integers(0, d.capacity_bytes // 64, 64) * 64
    addr = np.where(rng.random(n) < 0.4, hot[rng.integers(0, 64, n)], rng.integers(0, d.capacity_bytes // 64, n) * 64)
    cyc = np.cumsum(rng.integers(0, 2 * gap, n))
    return write_trace(tmp_path / name, cyc, addr, rng.random(n) < 0.3)


def test_api_result_and_json(tmp_path):
    d = DRAM.preset("DDR4-2400")
    r = run_dram("DDR4-2400", random_trace(tmp_path, d))
    js = json.loads(r.to_json())
    assert set(js) == {"0", "total"}
    assert js["0"]["num_reads_done"] + js["0"]["num_writes_done"] == 20_000
    assert js["total"]["hwmodel"]["dram"] == "DDR4-2400"
    assert r.cycles == js["0"]["num_cycles"] and r.cycles * d.tck_ps >= 0
    s = r.summary()
    for label in ("bandwidth (GB/s)", "energy (nJ)", "average power (mW)", "read latency p50/p95/p99 (ns)"):
        assert label in s
    p = js["0"]["read_latency_percentiles_cycles"]
    assert p["p50"] <= p["p95"] <= p["p99"]
    assert sum(js["0"]["read_latency"].values()) == js["0"]["num_reads_done"]


def test_channels_add_up_to_a_joint_run(tmp_path):
    # per-channel figures come from running each channel's requests apart; channels are
    # independent, so their sums equal the model run on the whole trace at once
    import hwmodel._core as core
    from hwmodel import _dram_layout as L
    from hwmodel.memctrl import dram_params
    d = DRAM.preset("DDR4-2400", channels=4, ranks=1, address_mapping="rorabgbacoch", model="detailed")
    path = random_trace(tmp_path, d, n=12_000, gap=3)
    r = run_dram(d, path)
    raw = np.loadtxt(path, dtype=str)
    addr = np.array([int(a, 16) for a in raw[:, 0]], np.int64)
    t = raw[:, 2].astype(np.int64) * d.tck_ps
    w = (raw[:, 1] == "WRITE").astype(np.uint8)
    p = dram_params(d, activity=True)
    st = L.new_dram_state(p)
    out = np.zeros(len(t), np.int64)
    # the tool simulates every channel to the run's end; a channel idle before then still drains
    # its write buffer (the detailed model), so the joint run goes as far
    core.dram_run(p, st, "", t, addr, w, out, until=r.cycles * d.tck_ps)
    c = dict(zip(L.DRAM_COUNTER_NAMES, st["counters"].tolist()))
    tot = r.total
    assert tot["num_act_cmds"] == c["act_cmds"] and tot["num_pre_cmds"] == c["pre_cmds"]
    assert tot["num_read_cmds"] == c["read_cmds"] and tot["num_write_row_hits"] == c["write_row_hits"]
    assert r.cycles == -(-int(out.max()) // d.tck_ps)
    act = np.zeros(4, np.int64)
    core.dram_activity(p, st, "", r.cycles * d.tck_ps, act)
    assert sorted(int(v) for v in tot["rank_active_cycles"].values()) == sorted((act // d.tck_ps).tolist())
    assert [ch["channel"] for ch in r.channels] == [0, 1, 2, 3]
    assert tot["total_energy"] == pytest.approx(sum(ch["total_energy"] for ch in r.channels), rel=1e-12)


def test_epochs_add_up_to_the_run(tmp_path):
    d = DRAM.preset("DDR4-2400")
    path = random_trace(tmp_path, d, n=30_000, gap=4)
    whole = run_dram(d, path, cycles=150_000)
    r = run_dram(d, path, cycles=150_000, epoch=20_000)
    e = r.epochs
    assert [x["start_cycle"] for x in e] == list(range(0, 150_000, 20_000))
    assert e[-1]["end_cycle"] == 150_000 and e[-1]["total"]["num_cycles"] == 10_000
    for key in ("num_reads_done", "num_writes_done", "num_act_cmds", "num_pre_cmds", "num_ref_cmds",
                "num_read_cmds", "num_read_row_hits"):
        assert sum(x["0"][key] for x in e) == whole.channels[0][key], key
    for r_ in ("0", "1"):
        assert sum(x["0"]["rank_active_cycles"][r_] for x in e) == whole.channels[0]["rank_active_cycles"][r_]
    assert sum(x["0"]["total_energy"] for x in e) == pytest.approx(whole.channels[0]["total_energy"], rel=1e-9)
    assert r.channels == whole.channels
    # an epoch given as a time
    r2 = run_dram(d, path, cycles=150_000, epoch="16.6us")
    assert [x["start_cycle"] for x in r2.epochs] == [x["start_cycle"] for x in e]


def test_epochs_under_a_backlog_keep_exact_activity(tmp_path, monkeypatch):
    # saturating: the controller's frontier runs far past the epoch being closed; the ranks'
    # marks give their activity at each boundary, so the epochs still add up
    d = DRAM.preset("DDR4-2400")
    rng = np.random.default_rng(5)
    n = 20_000
    path = write_trace(tmp_path / "sat.trace", np.arange(n) * 2, rng.integers(0, 1 << 26, n) * 64)
    whole = run_dram(d, path)
    r = run_dram(d, path, epoch=5_000)
    for r_ in ("0", "1"):
        assert sum(x["0"]["rank_active_cycles"][r_] for x in r.epochs) == whole.channels[0]["rank_active_cycles"][r_]
    assert sum(x["0"]["num_reads_done"] for x in r.epochs) == n
    # latencies beyond what the compiled tally counts itself, counted the same by the twin's path
    import hwmodel.dram_report as rp
    monkeypatch.setattr(rp, "HIST_CYCLES", 64)
    short = run_dram(d, path)
    hist = short.channels[0]["read_latency"]
    assert max(map(int, hist)) > 64 and sum(hist.values()) == n
    assert short.to_dict()["0"] == whole.to_dict()["0"]
    assert run_dram(d, path, backend="reference").to_dict()["0"] == whole.to_dict()["0"]


def test_simple_model_gives_energy_too(tmp_path):
    d = DRAM.preset("DDR4-2400", model="simple")
    r = run_dram(d, random_trace(tmp_path, d))
    ch = r.channels[0]
    assert ch["num_act_cmds"] > 0 and ch["total_energy"] > 0 and ch["average_power_mW"] > 0
    assert ch["num_ref_cmds"] > 0            # the refresh schedule, which the simple timing ignores
    assert sum(ch["rank_active_cycles"].values()) > 0


def test_fast_scanner_and_the_trace_readers_agree(tmp_path, monkeypatch):
    d = DRAM.preset("DDR4-2400")
    path = random_trace(tmp_path, d, n=5000)
    a = run_dram(d, path).to_dict()
    assert a == run_dram(d, path, fast=False).to_dict()
    # small pieces and blocks: the scanner fills its buffers and resumes, blocks split lines
    import hwmodel.dram_requests as rq
    monkeypatch.setattr(rq, "PIECE", 777)
    monkeypatch.setattr(rq, "BLOCK_BYTES", 4096)
    assert run_dram(d, path).to_dict() == a
    # a comment and a blank line in the middle: the authority reads the rest of that block
    text = path.read_text().splitlines(keepends=True)
    mixed = tmp_path / "mixed.trace"
    mixed.write_text("".join(text[:2500]) + "# half way\n\n" + "".join(text[2500:]))
    assert run_dram(d, mixed).to_dict()["0"] == a["0"]


@pytest.mark.parametrize("seed", range(20))
def test_scanner_takes_only_what_the_authority_reads_the_same(seed):
    # random lines near the format's edges: whatever the scanner takes, the trace package's parser
    # reads identically; where the scanner stops, the parser reads the line (or names its error)
    from hwmodel._dramtool import scan_lines
    from hwmodel.trace.formats import TEXT_FORMATS
    from hwmodel.trace._textparse import parse_block
    from hwmodel.trace import TraceError
    rng = np.random.default_rng(seed)
    parts = {"addr": ["0x1f", "0X1F", "1f", "0x", "0xg1", "ffffffffffffffff", "1ffffffffffffffff", "0x0",
                      "00000000000000000001", "0x40"],
             "op": ["READ", "WRITE", "read", "READS", "R", "IFETCH"],
             "time": ["0", "17", "123456789012345678", "1234567890123456789", "-3", "1e3", "0017", ""],
             "sep": [" ", "\t", "  ", " \t "]}
    lines = []
    for _ in range(300):
        f = [rng.choice(parts["addr"]), rng.choice(parts["op"]), rng.choice(parts["time"])]
        seps = [rng.choice(parts["sep"]) for _ in range(2)]
        line = (rng.choice(["", " ", "\t"]) + f[0] + seps[0] + f[1] + (seps[1] + f[2] if f[2] else "")
                + rng.choice(["", " ", "\r", " \r"]))
        lines.append(line.encode())
    fmt = TEXT_FORMATS["dramsim3"]()
    kw = ((b"READ", 0), (b"WRITE", 1))
    for line in lines:
        block = line + b"\n"
        t, a, w = np.zeros(1, np.int64), np.zeros(1, np.int64), np.zeros(1, np.uint8)
        n, stop, status = scan_lines(block, 0, len(block), kw, 3, 1, -1, 1 << 63, True, t, a, w)
        try:
            cols, _, _ = parse_block(fmt, block, 1, "x", False, [])
            ref = (int(cols["time"][0]), int(cols["addr"][0]) & ((1 << 63) - 1), int(cols["op"][0])) \
                if len(cols["time"]) else None
        except TraceError:
            ref = "error"
        if n:
            assert (int(t[0]), int(a[0]), int(w[0])) == ref, line
        else:
            assert stop == 0 and status != 0, line


def test_untimed_ns_and_gap_traces(tmp_path):
    d = DRAM.preset("DDR4-2400")
    rng = np.random.default_rng(2)
    addr = rng.integers(0, 1 << 24, 2000) * 64
    # untimed (Ramulator): every request at 0, back to back
    r = run_dram(d, write_trace(tmp_path / "u.trace", [0] * 2000, addr, fmt="ramulator"))
    assert r.channels[0]["num_reads_done"] == 2000 and r.info["timing"] == "none"
    # ns-stamped (hwmodel text): 10 ns apart
    p = tmp_path / "n.trace"
    p.write_text("".join(f"{a:#x} R {10 * i}\n" for i, a in enumerate(addr.tolist())))
    r = run_dram(d, p)
    assert r.info["time_unit"] == "ns" and r.cycles * d.tck_ps >= 19_990 * 1000
    with pytest.raises(ValueError, match="--cycle: .* is stamped in ns"):
        run_dram(d, p, cycle="1ns")
    # cycle-stamped with --cycle: one trace cycle is 2 ns
    dt = write_trace(tmp_path / "c.trace", np.arange(2000) * 5, addr)
    assert run_dram(d, dt, cycle="2ns").cycles > run_dram(d, dt).cycles
    # instruction gaps (USIMM) need --cycle
    g = tmp_path / "g.trace"
    g.write_text("".join(f"3 R {a:#x}\n" for a in addr.tolist()))
    with pytest.raises(ValueError, match="gap in instructions.*--cycle"):
        run_dram(d, g)
    r = run_dram(d, g, cycle="1ns")
    assert r.channels[0]["num_reads_done"] == 2000


def test_large_records_are_one_request_per_line(tmp_path):
    from hwmodel.trace import Chunk
    d = DRAM.preset("DDR4-2400", refresh_policy="none")
    c = Chunk.from_arrays(time=[0, 100], addr=[0, 4096 + 32], op=[0, 1], size=[256, 64])
    r = run_dram(d, c, time_unit="cycle")
    ch = r.channels[0]
    assert ch["reads_offered"] == 4 and ch["writes_offered"] == 2


def test_configs_presets_yaml_and_overrides(tmp_path):
    assert resolve_dram("ddr4_2400") == DRAM.preset("DDR4-2400")
    assert resolve_dram(INI, ["tRCD=20", "row_policy=closed"]).replace(tRCD=17, row_policy="open") == \
        DRAM.from_dramsim3_ini(INI)
    d = resolve_dram("DDR4-2400", ["tRCD=13.75ns", "IDD0=50", "tCK=0.75"])
    assert (d.tck_ps, d.tRCD, d.IDD0) == (750, 19, 50.0)
    y = tmp_path / "d.yaml"
    y.write_text(f"ini: {INI}\ntRCD: 16\nVDD: 1.25\n")
    assert resolve_dram(y) == DRAM.from_dramsim3_ini(INI, tRCD=16, VDD=1.25)
    (tmp_path / "p.yaml").write_text("dram: {preset: DDR5-4800, row_policy: closed}\n")
    assert resolve_dram(tmp_path / "p.yaml") == DRAM.preset("DDR5-4800", row_policy="closed")


# -- bad input: a clear error and exit 1 ----------------------------------------------------------
@pytest.fixture
def small(tmp_path):
    return write_trace(tmp_path / "s.trace", [0, 10, 20], [0, 64, 128])


@pytest.mark.parametrize("argv, message", [
    (["DDR9-9999", "{t}"], "unknown preset 'DDR9-9999'; known presets: DDR3-1600"),
    (["{bad_ini}", "{t}"], r"bad.ini \[timing\] CL: 'x' is not an integer"),
    (["nope.ini", "{t}"], "cannot read DRAMsim3 configuration"),
    (["DDR4-2400", "{t}", "--cycles", "-5"], "--cycles -5: expected a positive whole number of cycles"),
    (["DDR4-2400", "{t}", "--cycles", "1e6"], "--cycles 1e6: expected a positive whole number"),
    (["DDR4-2400", "{t}", "--cycle", "3"], "--cycle 3: give a time with its unit"),
    (["DDR4-2400", "{t}", "--cycle", "fast"], "--cycle: cannot read 'fast' as a time"),
    (["DDR4-2400", "{t}", "--epoch", "0"], "--epoch 0: must be > 0"),
    (["DDR4-2400", "{t}", "--epoch", "1.5"], "--epoch 1.5: give a whole number of cycles"),
    (["DDR4-2400", "{t}", "--epoch", "1ps"], "--epoch 1ps: 1 ps is not a whole number of tCK"),
    (["DDR4-2400", "{t}", "-p", "tXYZ=1"], "-p: dram.tXYZ: no such parameter"),
    (["DDR4-2400", "{t}", "-p", "tRCD"], "-p 'tRCD': expected key=value"),
    (["DDR4-2400", "nope.trace"], "nope.trace: no such trace file"),
    (["DDR4-2400", "{far}"], r"far.trace:2: address 0x400000000 is beyond the 16 GiB of the DRAM"),
    (["DDR4-2400", "{back}"], r"back.trace:3: time 5 goes backwards \(after 20\)"),
    (["DDR4-2400", "{malformed}"], r"malformed.trace:2: cannot detect the trace format from line '0x80 RAED 2'"),
    (["DDR4-2400", "{malformed}", "--format", "dramsim3"], r"malformed.trace:2: unknown operation 'RAED'"),
])
def test_bad_inputs_are_one_line_errors(tmp_path, small, argv, message):
    bad_ini = tmp_path / "bad.ini"
    bad_ini.write_text(INI.read_text().replace("CL = 17", "CL = x"))
    write_trace(tmp_path / "far.trace", [0, 1, 2], [0, 16 << 30, 64])
    write_trace(tmp_path / "back.trace", [0, 20, 5], [0, 64, 128])
    (tmp_path / "malformed.trace").write_text("0x40 READ 1\n0x80 RAED 2\n0xc0 READ 3\n")
    names = dict(t=small, bad_ini=bad_ini, far=tmp_path / "far.trace", back=tmp_path / "back.trace",
                 malformed=tmp_path / "malformed.trace")
    rc, out, err = cli("dram", *[a.format(**names) for a in argv])
    assert rc == 1 and out == ""
    assert err.startswith("hwmodel: error: ") and err.count("\n") == 1, err
    import re
    assert re.search(message, err), err


def test_high_bits_can_be_ignored_as_dramsim3_does(tmp_path):
    p = write_trace(tmp_path / "far.trace", [0, 1000], [64, (16 << 30) + 64])
    r = run_dram("DDR4-2400", p, ignore_high_bits=True, cycles=5000)
    # the second address aliases the first line: a row hit
    assert r.channels[0]["num_read_row_hits"] == 1


def test_skip_bad_lines_reports_them(tmp_path):
    p = tmp_path / "m.trace"
    p.write_text("# a comment\n0x40 READ 1\n0x80 RAED 2\n\n0xc0 READ 3\n")
    r = run_dram("DDR4-2400", p, skip_bad_lines=True, format="dramsim3")
    assert r.channels[0]["num_reads_done"] == 2 and r.info["skipped_lines"] == 1
    assert "1 malformed line(s) skipped" in r.summary()


def test_cycles_stops_like_dramsim3(tmp_path):
    d = DRAM.preset("DDR4-2400")
    p = write_trace(tmp_path / "c.trace", np.arange(100) * 100, np.arange(100) * 4096)
    r = run_dram(d, p, cycles=5000)
    ch = r.channels[0]
    assert ch["reads_offered"] == 50             # arrivals at cycles 0 .. 4900
    assert ch["num_cycles"] == 5000 and ch["num_reads_done"] <= 50
    assert ch["average_bandwidth"] == pytest.approx(ch["num_reads_done"] * 64 / (5000 * 0.83))


def test_gzip_and_plain_traces_give_the_same_figures(tmp_path):
    d = DRAM.preset("DDR4-2400")
    p = random_trace(tmp_path, d, n=3000)
    g = tmp_path / "t.trace.gz"
    g.write_bytes(gzip.compress(p.read_bytes()))
    assert run_dram(d, p).to_dict()["0"] == run_dram(d, g).to_dict()["0"]


def test_the_tool_runs_the_detailed_controller_unless_a_model_is_named(tmp_path):
    d = DRAM.preset("DDR4-2400")
    trace = random_trace(tmp_path, d, n=2_000)
    assert run_dram("DDR4-2400", trace).model == "detailed"
    assert run_dram("DDR4-2400", trace, overrides=["model=fast"]).model == "fast"
    assert run_dram({"preset": "DDR4-2400", "model": "simple"}, trace).model == "simple"
    assert run_dram(d, trace).model == d.model == "fast"     # a DRAM object is run as it is
    assert "model detailed" in run_dram("DDR4-2400", trace).summary().splitlines()[0]
