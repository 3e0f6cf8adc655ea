"""Sweeps: grids, point keys, the same numbers on every executor, resume, recorded failures, CLI."""
import argparse
import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from hwmodel.study import sweeps as study
from hwmodel.cli.study import add_commands
from hwmodel.study import SweepWarning, expand_grid, load_grid, load_results, parse_axes, sweep
from hwmodel.trace import generate, write_trace

ROOT = Path(__file__).resolve().parent.parent
BASE = {"compute": {"local_memory": "512KiB", "vms": [{"name": "vm0", "memory": "1MiB"}]},
        "hypervisor": {"super_page": "16KiB"}}
# 4 x 2 x 2 x 2 = 32 configurations, times 2 traces = 64 points
GRID = {"hypervisor.policy": ["static", "fgra", "page_swap", "subpage_swap"],
        "compute.local_memory": ["256KiB", "512KiB"],
        "hypervisor.victim": ["lru", "fifo"],
        "link.latency": ["250ns", "500ns"]}
VOLATILE = ("elapsed_s", "worker", "finished_at", "trace", "wall_s", "sim_speed_maccess_per_s")


def _trace(path, seed, n=2000, footprint=1 << 20):
    write_trace(path, generate("zipf", n, footprint, seed=seed, interval=1000))
    return str(path)


@pytest.fixture(scope="module")
def traces(tmp_path_factory):
    d = tmp_path_factory.mktemp("traces")
    return [_trace(d / "a.npz", 1), _trace(d / "b.npz", 2)]


def _numbers(rows):
    """Everything a point computed, without when/where it ran."""
    return {r["key"]: {k: v for k, v in r.items() if k not in VOLATILE} for r in rows}


def _parser():
    ap = argparse.ArgumentParser()
    add_commands(ap.add_subparsers(dest="command"))
    return ap


def _cli(*argv):
    args = _parser().parse_args([str(a) for a in argv])
    return args.func(args)


# -- grids and keys ---------------------------------------------------------------------------
def test_expand_grid_is_the_cartesian_product_in_order():
    pts = expand_grid({"a": [1, 2], "b": ["x", "y", "z"], "c": 5})
    assert len(pts) == 6
    assert pts[0] == {"a": 1, "b": "x", "c": 5} and pts[-1] == {"a": 2, "b": "z", "c": 5}
    with pytest.raises(ValueError, match="grid a: empty"):
        expand_grid({"a": []})


def test_parse_axes_reads_typed_values_and_keeps_bracketed_commas():
    g = parse_axes(["hypervisor.policy=fgra,page_swap", "core.cpi=0.5,2", "x.y=[1, 2],[3]",
                    "core.timing='a,b'"])
    assert g == {"hypervisor.policy": ["fgra", "page_swap"], "core.cpi": [0.5, 2], "x.y": [[1, 2], [3]],
                 "core.timing": ["a,b"]}
    for bad in ("novalue", "a..b=1", "k=1,,2", "k=[1,2"):
        with pytest.raises(ValueError, match="-p"):
            parse_axes([bad])


def test_override_strings_read_back_to_the_typed_value():
    from hwmodel.config import apply_overrides
    for v in ("fgra", "8", True, 0.5, [1, 2], "true", "4KiB"):
        assert apply_overrides({}, [study._override("k", v)])["k"] == v


def test_keys_follow_resolved_config_and_trace_content_not_spelling_or_place(traces, tmp_path):
    copy = tmp_path / "a.npz"
    shutil.copy(traces[0], copy)
    k1 = study.make_points(BASE, {"hypervisor.policy": ["fgra"], "link.latency": ["250ns"]}, [traces[0]])[0]["key"]
    # same resolved system from another order of the axes and from a copy of the trace elsewhere
    k2 = study.make_points(BASE, {"link.latency": ["250ns"], "hypervisor.policy": ["fgra"]}, [copy])[0]["key"]
    assert k1 == k2
    k3 = study.make_points(BASE, {"hypervisor.policy": ["page_swap"]}, [traces[0]])[0]["key"]
    k4 = study.make_points(BASE, {"hypervisor.policy": ["fgra"]}, [_trace(tmp_path / "c.npz", 9)])[0]["key"]
    k5 = study.make_points(BASE, {"hypervisor.policy": ["fgra"]}, [traces[0]], slowdown=True)[0]["key"]
    assert len({k1, k3, k4, k5}) == 4


# -- the same numbers everywhere ----------------------------------------------------------------
def test_64_points_same_numbers_serial_process_and_local_dask_cluster(traces, tmp_path):
    from distributed import LocalCluster
    serial = sweep(BASE, GRID, traces, out=tmp_path / "serial.jsonl", executor="serial", progress=False,
                   as_frame=False)
    assert len(serial) == 64 and all(r["status"] == "ok" for r in serial), [r["error"] for r in serial]
    assert len({r["key"] for r in serial}) == 64
    procs = sweep(BASE, GRID, traces, out=tmp_path / "process.jsonl", executor="process", workers=2,
                  progress=False, as_frame=False)
    with LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None) as cluster:
        dask = sweep(BASE, GRID, traces, out=tmp_path / "dask.jsonl", executor="dask",
                     scheduler=cluster.scheduler_address, progress=False, as_frame=False)
    assert _numbers(procs) == _numbers(serial)
    assert _numbers(dask) == _numbers(serial)
    assert {r["worker"] for r in serial} == {f"{os.uname().nodename}:{os.getpid()}"}
    assert all(r["worker"].split(":")[1] != str(os.getpid()) for r in procs + dask)
    for name in ("serial", "process", "dask"):      # each point written once, as it finished
        assert len((tmp_path / f"{name}.jsonl").read_text().splitlines()) == 64
    # traceable: the resolved configuration and the version are in every row
    r = serial[0]
    assert r["config"]["hypervisor"]["policy"] == r["params"]["hypervisor.policy"]
    assert r["hwmodel_version"] == __import__("hwmodel").__version__
    assert len(r["latency_cdf"]["ns"]) == len(study.CDF_Q)
    assert r["latency_cdf"]["ns"] == sorted(r["latency_cdf"]["ns"])


def test_returns_a_dataframe_with_grid_columns(traces):
    import pandas as pd
    df = sweep(BASE, {"hypervisor.policy": ["fgra", "page_swap"]}, traces, executor="serial", progress=False)
    assert isinstance(df, pd.DataFrame) and len(df) == 4
    assert list(df["hypervisor.policy"]) == ["fgra", "fgra", "page_swap", "page_swap"]
    assert (df["status"] == "ok").all() and (df["latency_ns.read.mean"] > 0).all()


# -- resume ------------------------------------------------------------------------------------
def _counting(monkeypatch):
    ran = []
    real = study.run_point

    def run_point(task):
        ran.append(task["key"])
        return real(task)
    monkeypatch.setattr(study, "run_point", run_point)
    return ran


def test_restart_runs_only_the_missing_points(traces, tmp_path, monkeypatch):
    out = tmp_path / "r.jsonl"
    half = {**GRID, "compute.local_memory": ["256KiB"]}
    first = sweep(BASE, half, traces, out=out, executor="serial", progress=False, as_frame=False)
    assert len(first) == 32
    before = out.read_text()
    with open(out, "a") as f:       # a row cut short by a kill
        f.write('{"key": "0123", "status": "o')
    ran = _counting(monkeypatch)
    rows = sweep(BASE, GRID, traces, out=out, executor="serial", progress=False, as_frame=False)
    assert len(ran) == 32 and not set(ran) & {r["key"] for r in first}
    assert out.read_text().startswith(before) and len(out.read_text().splitlines()) == 64
    fresh = sweep(BASE, GRID, traces, executor="serial", progress=False, as_frame=False)
    assert _numbers(rows) == _numbers(fresh)
    ran.clear()
    sweep(BASE, GRID, traces, out=out, executor="serial", progress=False, as_frame=False)
    assert ran == []


def test_killed_sweep_restarts_where_it_stopped(tmp_path):
    # points slow enough (~10 ms) that the kill lands in the middle of the sweep
    tr = [_trace(tmp_path / "a.npz", 1, n=200_000), _trace(tmp_path / "b.npz", 2, n=200_000)]
    out = tmp_path / "r.jsonl"
    script = tmp_path / "run.py"
    script.write_text(
        "import sys, json\nfrom hwmodel.study import sweep\n"
        f"sweep({BASE!r}, {GRID!r}, {tr!r}, out={str(out)!r}, executor='serial', progress=False, "
        "slowdown=True, as_frame=False)\n")
    # resume mechanics do not depend on the backend (both are tested everywhere else); the pure-
    # Python twin would need tens of minutes for these 128 runs of 200 k accesses
    env = {**os.environ, "PYTHONPATH": str(ROOT), "HWMODEL_BACKEND": "compiled"}
    proc = subprocess.Popen([sys.executable, str(script)], env=env)
    deadline = time.time() + 60
    while time.time() < deadline and proc.poll() is None:
        if out.exists() and out.read_text().count("\n") >= 16:
            proc.send_signal(signal.SIGKILL)
            break
        time.sleep(0.002)
    proc.wait()
    assert proc.returncode == -signal.SIGKILL, "the sweep finished before it could be killed"
    done = {r["key"] for r in load_results(out) if r["status"] == "ok"}
    assert 16 <= len(done) < 64
    rows = sweep(BASE, GRID, tr, out=out, executor="process", workers=2, progress=False, slowdown=True,
                 as_frame=False, backend="compiled")
    assert len(rows) == 64 and all(r["status"] == "ok" for r in rows)
    every = load_results(out, all_rows=True)
    assert len(every) == 64          # nothing ran twice
    assert {r["key"] for r in every} == {r["key"] for r in rows}


# -- failures --------------------------------------------------------------------------------------
def test_failed_points_are_recorded_and_retried_the_others_complete(traces, tmp_path, monkeypatch):
    wide = _trace(tmp_path / "wide.npz", 3, footprint=4 << 20)      # beyond the VM's 1 MiB
    out = tmp_path / "r.jsonl"
    grid = {"hypervisor.policy": ["fgra", "no_such_policy", "page_swap"]}
    with pytest.warns(SweepWarning, match="4 of 6 points failed"):
        rows = sweep(BASE, grid, [traces[0], wide], out=out, executor="process", workers=2, progress=False,
                     as_frame=False)
    status = {(r["params"]["hypervisor.policy"], Path(r["trace"]).name): r for r in rows}
    assert status[("fgra", "a.npz")]["status"] == "ok" and status[("page_swap", "a.npz")]["status"] == "ok"
    bad = status[("no_such_policy", "a.npz")]
    assert bad["status"] == "error" and "hypervisor.policy: 'no_such_policy' is not one of" in bad["error"]
    runtime = status[("fgra", "wide.npz")]
    assert runtime["status"] == "error" and "outside VM 0's memory" in runtime["error"]
    assert sum(r["status"] == "ok" for r in rows) == 2
    ran = _counting(monkeypatch)
    with pytest.warns(SweepWarning):
        sweep(BASE, grid, [traces[0], wide], out=out, executor="serial", progress=False)
    # the 2 runnable failures are retried (the unresolvable ones are recorded without running)
    assert len(ran) == 2
    assert len(out.read_text().splitlines()) == 6 + 4


def test_bad_sweep_arguments_name_the_problem(traces, tmp_path):
    with pytest.raises(ValueError, match="executor: 'threads'"):
        sweep(BASE, GRID, traces, executor="threads")
    with pytest.raises(ValueError, match="no traces"):
        sweep(BASE, GRID, [])
    with pytest.raises(ValueError, match="missing.npz: cannot read trace"):
        sweep(BASE, GRID, [tmp_path / "missing.npz"])
    with pytest.raises(ValueError, match="trace 3: expected a trace file path"):
        sweep(BASE, GRID, [3])
    one = sweep(BASE, {"hypervisor.policy": ["fgra"]}, traces[0], executor="serial", progress=False,
                as_frame=False)     # one trace need not be in a list
    assert len(one) == 1 and one[0]["trace"] == traces[0]
    with pytest.raises(ValueError, match="needs --executor dask"):
        sweep(BASE, {"hypervisor.policy": ["fgra"]}, traces, executor="process", scheduler="tcp://x:1")
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"key": "a", "status": "ok"}\nnot json\n{"key": "b", "status": "ok"}\n')
    with pytest.raises(ValueError, match="bad.jsonl:2: not a JSON results row"):
        load_results(bad)


# -- grid files and the CLI ----------------------------------------------------------------------
def test_grid_file_and_cli_sweep(traces, tmp_path, capsys):
    base = tmp_path / "base.yaml"
    base.write_text(json.dumps(BASE))
    grid = tmp_path / "grid.yaml"
    grid.write_text("base: base.yaml\ngrid:\n  hypervisor.policy: [fgra, page_swap]\n"
                    f"traces: [{traces[0]}]\n")
    spec = load_grid(grid)
    assert spec["grid"] == {"hypervisor.policy": ["fgra", "page_swap"]} and spec["base_config"] == str(base)
    out = tmp_path / "r.jsonl"
    # -p adds an axis; traces on the command line replace the grid file's
    assert _cli("sweep", grid, *traces, "-p", "compute.local_memory=256KiB,512KiB", "--out", out,
                "--executor", "serial") == 0
    text = capsys.readouterr().out
    assert "8 points: 8 ok (0 from earlier runs), 0 failed" in text
    assert _cli("sweep", grid, "-p", "compute.local_memory=256KiB,512KiB", "--out", out,
                "--executor", "serial") == 0
    assert "4 points: 4 ok (4 from earlier runs)" in capsys.readouterr().out
    assert _cli("sweep", base, traces[0], "-p", "hypervisor.policy=fgra", "--out", out,
                "--executor", "serial") == 0
    with pytest.raises(ValueError, match="1 of 1 points failed .*hypervisor.policy: 'nope'"):
        _cli("sweep", base, traces[0], "-p", "hypervisor.policy=nope", "--out", out, "--executor", "serial")
    with pytest.raises(ValueError, match="nothere.npz: no such trace file"):
        _cli("sweep", base, tmp_path / "nothere.npz", "--out", out)
    with pytest.raises(ValueError, match="no trace files"):
        _cli("sweep", base, "--out", out)
    with pytest.raises(ValueError, match="--scheduler tcp://h:1: needs --executor dask"):
        _cli("sweep", base, traces[0], "--scheduler", "tcp://h:1")
    (tmp_path / "g2.yaml").write_text("grid: [1, 2]\n")
    with pytest.raises(ValueError, match="g2.yaml: grid: expected a mapping"):
        _cli("sweep", tmp_path / "g2.yaml", traces[0])


def test_backend_reaches_the_points_and_both_backends_agree(traces, backend):
    grid = {"hypervisor.policy": ["fgra", "page_swap"]}
    rows = sweep(BASE, grid, traces, executor="serial", progress=False, backend=backend, as_frame=False)
    assert {r["backend"] for r in rows} == {backend} and all(r["status"] == "ok" for r in rows)
    compiled = sweep(BASE, grid, traces, executor="serial", progress=False, backend="compiled", as_frame=False)
    strip = lambda rs: {k: {n: v for n, v in r.items() if n != "backend"} for k, r in _numbers(rs).items()}  # noqa: E731
    assert strip(rows) == strip(compiled)
