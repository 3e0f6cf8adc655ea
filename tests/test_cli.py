"""The `hwmodel` command: runs with no arguments, reads configs and traces, fails loudly on bad input."""
import json
import subprocess
import sys

import pytest

from hwmodel.cli import main
from hwmodel.trace import generate, write_trace
from conftest import REFERENCE


def test_run_with_no_arguments_prints_a_summary(capsys):
    assert main(["run"]) == 0
    out = capsys.readouterr().out
    assert "built-in zipf workload" in out
    for word in ("accesses", "faults", "read latency (ns)", "write latency (ns)", "p99", "simulated time",
                 "link out / in", "simulated accesses per wall second"):
        assert word in out


@pytest.mark.parametrize("module", ["hwmodel.cli", "hwmodel"])
def test_console_script_is_installed(module):
    proc = subprocess.run([sys.executable, "-m", module, "--version"], capture_output=True, text=True)
    assert proc.returncode == 0 and proc.stdout.startswith("hwmodel ")


@pytest.fixture
def files(tmp_path):
    cfg = tmp_path / "blade.yaml"
    cfg.write_text("compute:\n  local_memory: 16MiB\n  vms:\n    - {name: vm0, memory: 64MiB}\n"
                   "hypervisor:\n  policy: page_swap\n  victim: clock\n")
    trace = tmp_path / "t.trace"
    chunk = generate("uniform", 5000, 64 << 20, read_ratio=0.7, seed=3, interval=10)
    write_trace(trace, chunk, format="dramsim3", timing="timestamp", time_unit="cycle")
    npz = tmp_path / "t.npz"
    write_trace(npz, chunk, format="native", timing="timestamp", time_unit="cycle")
    return cfg, trace, npz


def test_run_config_and_trace_with_overrides_and_json(files, tmp_path, capsys):
    cfg, trace, npz = files
    out = tmp_path / "r.json"
    assert main(["run", str(cfg), str(trace), "-p", "hypervisor.policy=fgra", "--json", str(out)]) == 0
    d = json.loads(out.read_text())
    assert d["accesses"] == 5000 and d["config"]["hypervisor"]["policy"] == "fgra"
    assert d["config"]["hypervisor"]["victim"] == "clock"
    assert d["timing"] == "open" and d["counters"]["faults"] == 0 and d["counters"]["remote_accesses"] > 0
    for kind in ("read", "write", "all"):
        lat = d["latency_ns"][kind]
        assert lat["p50"] <= lat["p99"] <= lat["max"]
    assert d["latency_ns"]["read"]["max"] <= d["latency_ns"]["all"]["max"]
    assert d["wall_s"] > 0 and d["sim_speed_maccess_per_s"] > 0
    assert d["trace_time"] == {"unit": "cycle", "ps_per_unit": 830.0}     # the local DRAM's tCK
    # the native format gives the same result as the text format of the same trace
    out2 = tmp_path / "r2.json"
    assert main(["run", str(cfg), str(npz), "-p", "hypervisor.policy=fgra", "--json", str(out2)]) == 0
    assert json.loads(out2.read_text())["counters"] == d["counters"]
    capsys.readouterr()
    assert main(["run", str(cfg), str(trace), "--json", "-"]) == 0
    assert json.loads(capsys.readouterr().out)["config"]["hypervisor"]["policy"] == "page_swap"


def test_slowdown_against_all_local(files, capsys):
    cfg, trace, _ = files
    assert main(["run", str(cfg), str(trace), "--slowdown"]) == 0
    assert "slowdown vs all-local" in capsys.readouterr().out


@pytest.mark.parametrize("args,match", [
    (["run", "nope.trace"], "nope.trace: no such trace file"),
    (["run", "-p", "hypervisor.policy=magic"], "hypervisor.policy: 'magic' is not one of"),
    (["run", "-p", "link.bandwidth=0GB/s"], "link.bandwidth"),
    (["run", "missing.yaml"], "missing.yaml: cannot read configuration"),
])
def test_bad_input_exits_nonzero_with_a_clear_message(args, match, capsys):
    assert main(args) == 1
    assert match in capsys.readouterr().err


def test_malformed_trace_line_names_file_and_line(tmp_path, capsys):
    bad = tmp_path / "bad.trace"
    bad.write_text("0x1000 READ 10\n0x2000 READ 20\n0xZZ READ 30\n")
    assert main(["run", str(bad), "--format", "dramsim3"]) == 1
    err = capsys.readouterr().err
    assert "bad.trace:3" in err and "0xZZ" in err


def test_address_outside_the_vm_names_the_line(tmp_path, capsys):
    t = tmp_path / "far.trace"
    t.write_text("0x1000 READ 10\n0x400000000 READ 20\n")   # 16 GiB: beyond the default 4 GiB VM
    assert main(["run", str(t)]) == 1
    err = capsys.readouterr().err
    assert "far.trace:2" in err and "outside VM 0's memory" in err


def test_save_state_and_resume(files, tmp_path, capsys):
    cfg, trace, _ = files
    state = tmp_path / "s.npz"
    whole = tmp_path / "whole.json"
    assert main(["run", str(cfg), str(trace), "--chunk", "1000", "--json", str(whole)]) == 0
    part = tmp_path / "part.json"
    assert main(["run", str(cfg), str(trace), "--chunk", "1000", "--save-state", str(state)]) == 0
    # resuming a finished run redoes nothing and reports the same counters
    assert main(["run", str(cfg), str(trace), "--chunk", "1000", "--resume", str(state), "--json", str(part)]) == 0
    assert json.loads(part.read_text())["counters"] == json.loads(whole.read_text())["counters"]
    assert main(["run", str(trace), "--resume", str(state)]) == 1
    assert "different system" in capsys.readouterr().err


def test_the_built_in_workload_fits_the_system_s_vms(capsys):
    # a smaller VM than the workload's 4 GiB, and two of them: the workload shrinks to the smallest
    # and the VMs take turns (it once ran 4 GiB of addresses into VM 0 alone, and stopped)
    # (the workload's sizing is the CLI's; the compiled core runs its million accesses in a second)
    assert main(["run", "--quiet", "--backend", "compiled", "-p", "compute.vms=[{memory: 1GiB}, {memory: 2GiB}]"]) == 0
    out = capsys.readouterr().out
    assert "built-in zipf workload (1M accesses over 1GiB, 2 VMs in turn)" in out
    assert out.count("500,000 accesses") == 2


def test_config_and_presets_commands(capsys):
    assert main(["config", "-p", "hypervisor.policy=fgra"]) == 0
    assert "policy: fgra" in capsys.readouterr().out
    assert main(["presets"]) == 0
    out = capsys.readouterr().out
    assert "DDR4-2400" in out and "page_swap" in out


def test_trace_gen_info_convert(tmp_path, capsys):
    out = tmp_path / "g.npz"
    assert main(["trace", "gen", "zipf", str(out), "-n", "5000", "--footprint", "64MiB", "--seed", "2",
                 "--interval", "10"]) == 0
    assert main(["trace", "info", str(out), "--json"]) == 0
    info = json.loads(capsys.readouterr().out.split("\n", 1)[1])
    assert info["records"] == 5000 and info["timing"] == "timestamp" and info["addr_max"] < 64 << 20
    txt = tmp_path / "g.trace.gz"
    assert main(["trace", "convert", str(out), str(txt), "--to", "dramsim3"]) == 0
    assert main(["trace", "info", str(txt)]) == 0
    text = capsys.readouterr().out
    assert "dramsim3 (gzip)" in text and "5,000" in text and "timing timestamp in cycles" in text
    ns = tmp_path / "ns.npz"
    assert main(["trace", "gen", "uniform", str(ns), "-n", "10", "--interval", "5", "--time-unit", "ns"]) == 0
    capsys.readouterr()
    assert main(["trace", "info", str(ns)]) == 0      # ns stays ns (it once read 'nss')
    text = capsys.readouterr().out
    assert "timing timestamp in ns\n" in text and "45 ns\n" in text


def test_skip_bad_lines_is_reported(tmp_path, capsys):
    bad = tmp_path / "bad.trace"
    bad.write_text("0x1000 READ 10\n0xZZ READ 20\n0x2000 WRITE 30\n")
    with pytest.warns(UserWarning, match="skipped 1 malformed line"):
        assert main(["run", str(bad), "--format", "dramsim3", "--skip-bad-lines"]) == 0
    out = capsys.readouterr().out
    assert "1 malformed trace lines were skipped" in out and "accesses                         2" in out


# every real sample in tests/data/traces runs on the default system as it comes (the lackey trace's
# stack near 128 GiB is a virtual address: the guest maps it at first touch)
SAMPLES = sorted(p.name for p in (REFERENCE / "traces").iterdir() if not p.name.startswith(("LICENSE", "README")))


def test_the_samples_are_all_there():
    assert SAMPLES == ["dramsim3_example.trace", "mase_art_head.trc", "ramulator2_example_inst.trace",
                       "ramulator_cpu.trace", "ramulator_dram.trace", "valgrind_lackey_ls.trace"]


@pytest.mark.parametrize("name", SAMPLES)
def test_run_accepts_every_real_sample(reference_dir, name, tmp_path, capsys):
    out = tmp_path / "r.json"
    assert main(["run", str(reference_dir / "traces" / name), "--json", str(out)]) == 0
    d = json.loads(out.read_text())
    assert d["accesses"] > 0 and d["sim_time_ns"] > 0
    assert d["addresses"] == ("virtual" if name.startswith("valgrind") else "physical")


def test_a_reader_that_stops_early_ends_the_command_quietly():
    """`hwmodel ... | head`: the output was cut by its reader, which is not an error."""
    from pathlib import Path
    trace = Path(__file__).parent / "data" / "crosscheck" / "random_read_gap50.trace.gz"
    p = subprocess.Popen([sys.executable, "-m", "hwmodel", "dram", "DDR4-2400", str(trace), "--epoch", "10000",
                          "--json", "-"], stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    p.stdout.read(100)
    p.stdout.close()
    assert p.wait(timeout=120) == 0
    assert p.stderr.read() == b""


def test_run_says_when_the_detailed_dram_controller_will_be_slow(tmp_path, capsys):
    trace = tmp_path / "t.trace"
    trace.write_text("0x40 READ 0\n0x80 WRITE 10\n")
    assert main(["run", str(trace), "-p", "compute.dram.model=detailed"]) == 0
    assert "dram.model detailed (DRAMsim3's controller) on cb0 (compute.dram)" in capsys.readouterr().err
    assert main(["run", str(trace)]) == 0
    assert "dram.model detailed" not in capsys.readouterr().err


def test_two_traces_need_two_vms_and_the_error_says_how(tmp_path, capsys):
    files = []
    for i, kind in enumerate(("zipf", "stream")):
        files.append(str(tmp_path / f"{kind}.npz"))
        assert main(["trace", "gen", kind, files[-1], "-n", "2000", "--footprint", "16MiB", "--interval", "30",
                     "--time-unit", "ns", "--seed", str(i)]) == 0
    capsys.readouterr()
    assert main(["run", "--quiet", *files]) == 1
    err = capsys.readouterr().err
    hint = "-p 'compute.vms=[{memory: 4GiB}, {memory: 4GiB}]'"
    assert "VM id 1 but the system has 1 VM(s)" in err and hint in err
    assert main(["run", "--quiet", "-p", hint[4:-1], *files]) == 0     # the hint, as given, runs
    out = capsys.readouterr().out
    assert "vm vm0" in out and "vm vm1" in out


def test_convert_turns_ns_times_into_a_dram_clock_s_cycles(tmp_path, capsys):
    # DRAMsim3's trace counts its DRAM's cycles: a ns-stamped trace needs its clock to be written
    src, out = tmp_path / "ns.npz", tmp_path / "out.trace"
    assert main(["trace", "gen", "stream", str(src), "-n", "4", "--interval", "30", "--time-unit", "ns"]) == 0
    assert main(["trace", "convert", str(src), str(out), "--to", "dramsim3"]) == 1
    assert "trace convert --cycle TIME" in capsys.readouterr().err
    assert main(["trace", "convert", str(src), str(out), "--to", "dramsim3", "--cycle", "0.833ns"]) == 0
    assert [line.split()[2] for line in out.read_text().splitlines()] == ["0", "36", "72", "108"]
    bad = tmp_path / "cyc.npz"      # already in cycles: --cycle has nothing to turn
    assert main(["trace", "gen", "stream", str(bad), "-n", "4", "--interval", "30"]) == 0
    assert main(["trace", "convert", str(bad), str(out), "--to", "dramsim3", "--cycle", "1ns"]) == 1
    assert "this trace's are in cycles" in capsys.readouterr().err
