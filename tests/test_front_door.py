"""The smaller front-door faults: failed sweeps say so, pool workers go with their sweep, `hwmodel
qos` documents its configuration and keeps --json - clean, `trace gen` offers every kind and the
flag its hint names."""
import dataclasses
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from hwmodel.study import docs
from hwmodel.cli import main
from hwmodel.core.linksched import load_qos_config
from hwmodel.study import SweepWarning, sweep
from hwmodel.trace import generate, read_all, write_trace
from hwmodel.trace.gen import KINDS

REPO = Path(__file__).resolve().parent.parent
BASE = {"compute": {"local_memory": "256KiB", "vms": [{"name": "vm0", "memory": "1MiB"}]}}


@pytest.fixture
def trace(tmp_path):
    p = tmp_path / "t.npz"
    write_trace(p, generate("uniform", 300, 1 << 20, seed=2, interval=1000), timing="timestamp", time_unit="ps")
    return p


# -- sweeps ---------------------------------------------------------------------------------------
@pytest.mark.parametrize("executor", ["serial", "process"])
def test_a_sweep_whose_points_all_fail_exits_1_with_the_first_error(trace, tmp_path, capsys, executor):
    out = tmp_path / "r.jsonl"
    assert main(["sweep", str(trace), "-p", "hypervisor.policy=magic,nope", "--out", str(out),
                 "--executor", executor, "--workers", "1", "--no-progress"]) == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("hwmodel: error: all 2 of 2 points failed")
    assert "first: " in err[0] and "hypervisor.policy: 'magic' is not one of" in err[0]


def test_the_python_sweep_says_so_too(trace):
    with pytest.warns(SweepWarning, match=r"all 2 of 2 points failed; first: .*'magic' is not one of"):
        rows = sweep(BASE, {"hypervisor.policy": ["magic", "nope"]}, [str(trace)], executor="serial",
                     progress=False, as_frame=False)
    assert [r["status"] for r in rows] == ["error", "error"]
    with pytest.warns(SweepWarning, match=r"^1 of 2 points failed"):
        sweep(BASE, {"hypervisor.policy": ["fgra", "nope"]}, [str(trace)], executor="serial", progress=False)


def _descendants(pid):
    """Live descendants of pid (Linux /proc)."""
    parent = {}
    for d in os.listdir("/proc"):
        if d.isdigit():
            try:
                fields = Path(f"/proc/{d}/stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if fields[0] != "Z":
                parent[int(d)] = int(fields[1])
    out, todo = set(), [pid]
    while todo:
        p = todo.pop()
        for child, pp in parent.items():
            if pp == p and child not in out:
                out.add(child)
                todo.append(child)
    return out


def _alive(pids):
    alive = set()
    for p in pids:
        try:
            state = Path(f"/proc/{p}/stat").read_text().rsplit(")", 1)[1].split()[0]
        except OSError:
            continue
        if state != "Z":
            alive.add(p)
    return alive


@pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="reads the process tree from Linux /proc")
def test_killing_a_sweep_ends_its_pool_workers(tmp_path):
    big = tmp_path / "big.npz"     # a point of minutes on the reference backend: it runs when we kill
    write_trace(big, generate("uniform", 2_000_000, 1 << 20, seed=1, interval=1000), timing="timestamp",
                time_unit="ps")
    proc = subprocess.Popen([sys.executable, "-m", "hwmodel.cli", "sweep", str(big), "-p",
                             "hypervisor.policy=fgra,page_swap", "-p", "compute.vms.0.memory=1MiB",
                             "-p", "compute.local_memory=256KiB", "--backend", "reference",
                             "--executor", "process", "--workers", "2", "--out", str(tmp_path / "r.jsonl")],
                            cwd=REPO, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.time() + 60
        kids = set()
        while time.time() < deadline and len(kids) < 3:     # the forkserver and two workers (at least)
            time.sleep(0.3)
            kids = _descendants(proc.pid)
        assert len(kids) >= 3, "the sweep did not start its pool"
        time.sleep(1.0)
        kids = _descendants(proc.pid)
        proc.send_signal(signal.SIGKILL)     # no chance to shut the pool down
        proc.wait()
        deadline = time.time() + 20
        while _alive(kids) and time.time() < deadline:
            time.sleep(0.2)
        left = _alive(kids)
        for p in left:
            os.kill(p, signal.SIGKILL)
        assert not left, f"workers outlived their sweep: {left}"
    finally:
        if proc.poll() is None:
            proc.kill()


def test_readme_guards_the_python_sweep():
    text = (REPO / "README.md").read_text()
    block = text.split("from hwmodel.study import sweep", 1)[1].split("```", 1)[0]
    assert 'if __name__ == "__main__":' in block and "sweep(" in block.split('if __name__ == "__main__":')[1]


# -- hwmodel qos ----------------------------------------------------------------------------------
QOS = """
scheduler: {discipline: strict_priority, bandwidth: 25Gbps, propagation: 500ns}
vms:
  - {name: critical, priority: 0, weight: 4, guaranteed: 1Gbps}
  - {name: batch, priority: 1, weight: 1}
generator: {duration: 200us, batch_vms: 1, batch_load: 1.2}
"""


def test_qos_json_to_stdout_is_json_alone(tmp_path, capsys, backend):
    cfg = tmp_path / "q.yaml"
    cfg.write_text(QOS)
    assert main(["qos", str(cfg), "--gen", "--json", "-", "--backend", backend]) == 0
    out = json.loads(capsys.readouterr().out)
    assert [v["name"] for v in out["vms"]] == ["critical", "batch"]


def test_qos_configuration_schema_is_documented():
    text = (REPO / "docs" / "configuration.md").read_text()
    assert "# `hwmodel qos` configuration" in text
    for path, cls, _, only in docs.qos_sections():
        block = text.split(f"\n## qos: {path}\n", 1)[1].split("\n## ", 1)[0]
        for f in dataclasses.fields(cls):
            if only is None or f.name in only:
                assert f"| `{f.name}` |" in block, f"qos {path}.{f.name} missing"
    example = text.split("# `hwmodel qos` configuration", 1)[1].split("```yaml\n", 1)[1].split("```", 1)[0]
    import yaml
    snic, manager, gen = load_qos_config(yaml.safe_load(example))
    assert len(snic.vms) == 2 and manager.instructions and gen["duration"] == "2ms"


@pytest.mark.parametrize("bad, match", [
    ({"generator": {"batch_burst": 0}}, "generator.batch_burst: 0 must be an integer from 1"),
    ({"generator": {"bursts": 3}}, "generator.bursts: unknown parameter"),
    ({"generator": {"duration": "100s"}}, "generator.duration: 100s of this mix is about"),
    ({"generator": {"batch_load": float("nan")}}, "generator.batch_load"),
])
def test_qos_generator_section_is_checked(bad, match):
    with pytest.raises(ValueError, match=match):
        load_qos_config(bad)


@pytest.mark.parametrize("text, match", [
    ("0 0 64\ninf 0 64\n", r"p.txt:2: expected 'time_ns vm bytes'"),
    ("0 0 64\n1e20 0 64\n", r"p.txt:2: expected 'time_ns vm bytes'"),
    ("0 0 64\n\xff\xfe 0 64\n", r"p.txt:2: expected 'time_ns vm bytes'"),
])
def test_qos_packet_traces_out_of_range(tmp_path, capsys, text, match):
    cfg = tmp_path / "q.yaml"
    cfg.write_text(QOS)
    (tmp_path / "p.txt").write_bytes(text.encode("latin-1"))
    assert main(["qos", str(cfg), str(tmp_path / "p.txt")]) == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and __import__("re").search(match, err)
    np.savez(tmp_path / "p.npz", time=np.array([0, 2**62], np.int64), vm=np.zeros(2, np.uint16),
             bytes=np.full(2, 64, np.uint32))
    assert main(["qos", str(cfg), str(tmp_path / "p.npz")]) == 1
    assert "p.npz: packet 2" in capsys.readouterr().err


# -- trace gen ------------------------------------------------------------------------------------
def test_trace_gen_lists_and_makes_every_kind(tmp_path, capsys):
    with pytest.raises(SystemExit):
        main(["trace", "gen", "--help"])
    help_text = " ".join(capsys.readouterr().out.split())
    for kind in KINDS:
        assert kind in help_text, kind
    out = tmp_path / "m.npz"
    assert main(["trace", "gen", "mix", str(out), "-n", "1000", "--footprint", "1MiB",
                 "--phase", "stream:0.25", "--phase", "zipf:0.75:alpha=1.2"]) == 0
    ch = read_all(out)
    assert len(ch) == 1000 and np.array_equal(ch.addr[:250], (np.arange(250) % 16384) * 64)
    assert main(["trace", "gen", "mix", str(out), "-n", "10"]) == 1
    assert "--phase" in capsys.readouterr().err


def test_trace_gen_lossy_hint_names_a_flag_that_exists(tmp_path, capsys):
    out = tmp_path / "z.trace"
    assert main(["trace", "gen", "zipf", str(out), "-n", "100", "--interval", "5", "--to", "ramulator"]) == 1
    err = capsys.readouterr().err
    assert "--lossy" in err
    assert main(["trace", "gen", "zipf", str(out), "-n", "100", "--interval", "5", "--to", "ramulator",
                 "--lossy"]) == 0
    assert len(read_all(out)) == 100


@pytest.mark.parametrize("args, match", [
    (["-n", "100", "--interval", str(2**62)], "interval .* does not fit the 64-bit time column"),
    (["-n", str(10**15)], "n: .* records need about"),
    (["--kw", "alpha=x"], "--kw 'alpha=x': 'x' is not a number"),
    (["--kw", "alpha=nan"], "alpha: nan must be a finite number"),
])
def test_trace_gen_arguments_that_would_wrap_or_exhaust_memory(tmp_path, capsys, args, match):
    assert main(["trace", "gen", "zipf", str(tmp_path / "g.npz"), *args]) == 1
    assert __import__("re").search(match, capsys.readouterr().err)
