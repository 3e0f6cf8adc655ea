"""The example studies run (in --quick mode) and say what their docstrings claim, from the runs."""
import importlib.util
import sys
from pathlib import Path

import matplotlib.image
import pytest

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"


@pytest.fixture(scope="module", autouse=True)
def compiled_core():
    """The examples are studies over the core, not core behaviour (which every other test checks
    on both backends); on the pure-Python twin they would take minutes."""
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("HWMODEL_BACKEND", "compiled")
        yield


def load(name):
    sys.path.insert(0, str(EXAMPLES))
    spec = importlib.util.spec_from_file_location(f"example_{name}", EXAMPLES / f"{name}.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


@pytest.fixture(scope="module")
def blade_vs_disk():
    return load("blade_vs_disk").main(["--quick"])


@pytest.fixture(scope="module")
def lim2009(tmp_path_factory):
    out = tmp_path_factory.mktemp("lim2009")
    return load("reproduce_lim2009").main(["--quick", "--out", str(out)])


def test_blade_beats_disk_and_nvme_beats_hdd(blade_vs_disk, capsys):
    rows = blade_vs_disk["rows"]
    assert {r["workload"] for r in rows} >= {"kv-objects", "zipf-lines", "hotcold", "stream", "cpu-mix"}
    for r in rows:
        assert r["blade_slowdown"] >= 1.0
        assert 1.0 < r["speedup_vs_nvme"] < r["speedup_vs_hdd"]
        assert r["blade_fault_rate"] > 0


def test_less_local_memory_never_helps(blade_vs_disk):
    rows = blade_vs_disk["rows"]
    for name in {r["workload"] for r in rows}:
        by = {r["local_fraction"]: r for r in rows if r["workload"] == name}
        for key in ("blade_slowdown", "nvme_slowdown", "hdd_slowdown"):
            assert by[0.5][key] >= by[0.75][key] * 0.999, (name, key)


def test_sensitivity_moves_the_way_the_docstring_says(blade_vs_disk):
    s = {r["variant"]: r for r in blade_vs_disk["sensitivity"]}
    base = s["as in the table"]
    # compute between accesses dilutes every slowdown and the speed-up over disk
    assert s["gap 500ns (compute)"]["blade_slowdown"] < s["gap 50ns (compute)"]["blade_slowdown"] < base["blade_slowdown"]
    assert s["gap 500ns (compute)"]["speedup_vs_hdd"] < base["speedup_vs_hdd"]
    # a dearer trap costs the blade, not the disk path's device time
    assert s["trap 10us (software)"]["speedup_vs_nvme"] < base["speedup_vs_nvme"]


def test_lim2009_comparison_and_trends(lim2009):
    comp = lim2009["comparison"]
    w1 = {(r["workload"], r["local_fraction"]): r for r in comp if r["window"] == 1}
    for r in comp:
        assert r["ps"] >= 1.0 and r["fgra"] >= 1.0      # closed loop: never faster than all-local
        assert r["disk"] > r["ps"]
    # with one access outstanding PS wins where pages are used densely, FGRA where they are not
    assert w1[("kv-objects", 0.75)]["ps"] < w1[("kv-objects", 0.75)]["fgra"]
    assert w1[("stream", 0.75)]["ps"] < w1[("stream", 0.75)]["fgra"]
    assert w1[("strided", 0.75)]["fgra"] < w1[("strided", 0.75)]["ps"]


def test_lim2009_curve_grows_as_local_memory_shrinks(lim2009):
    fr = lim2009["fractions"]
    assert fr[0] == 0.9 and fr[-1] == 0.4
    for name, ys in lim2009["curve"].items():
        assert all(y >= 1.0 for y in ys), name
        assert all(b >= a * 0.999 for a, b in zip(ys, ys[1:])), (name, ys)
    for name in ("kv-objects", "zipf-lines", "hotcold"):
        assert lim2009["curve"][name][-1] > 1.5 * lim2009["curve"][name][0]


def test_lim2009_figure_is_written(lim2009):
    img = matplotlib.image.imread(lim2009["figure"])
    assert img.ndim == 3 and img.shape[0] > 100 and img.shape[1] > 100


def test_qos_scenario_protects_the_critical_vm():
    rows = {r["scenario"]: r for r in load("qos_vms").main(["--quick"])["rows"]}
    fifo = rows["fifo"]["p99"]
    for name in ("strict priority (critical first)", "drr, weights 1:1", "wfq, weights 1:1"):
        assert rows[name]["p99"] < fifo / 5, name
    before, after = rows["SLA change: before (batch on top)"], rows["SLA change: after (critical on top)"]
    assert before["p99"] > 5 * after["p99"]
    assert after["p99"] == pytest.approx(rows["strict priority (critical first)"]["p99"], rel=0.3)


@pytest.fixture(scope="module")
def many_blades():
    return load("many_blades").main(["--quick"])


def test_many_blades_contend_at_the_switch_port(many_blades):
    rows = [r for r in many_blades["rows"] if r["allocation"] == "boot"]
    slow = {r["blades"]: r for r in rows if r["port"] == "8GB/s"}
    fast = {r["blades"]: r for r in rows if r["port"] == "32GB/s"}
    # port load grows with the blades, never above the port, and a 4x port carries it at a quarter
    for by in (slow, fast):
        util = [by[b]["port_in_util"] for b in (1, 2, 4, 8)]
        assert util == sorted(util) and util[-1] <= 1.0
    assert abs(fast[2]["port_in_util"] * 4 - slow[2]["port_in_util"]) < 0.02
    # link-speed port: 1-2 blades unloaded; 4 (three quarters busy) queue; 8 saturate it
    assert slow[2]["p99_ns"] < 1.5 * slow[1]["p99_ns"]
    assert slow[4]["p99_ns"] > 5 * slow[1]["p99_ns"]
    assert slow[8]["port_in_util"] > 0.95 and slow[8]["p99_ns"] > 100 * slow[4]["p99_ns"]
    # the 4x port keeps all 8 blades at their unloaded latency
    assert fast[8]["p99_ns"] < 1.5 * fast[1]["p99_ns"]


def test_on_demand_super_pages_are_granted_once_each(many_blades):
    od = [r for r in many_blades["rows"] if r["allocation"] == "on_demand"][0]
    boot = [r for r in many_blades["rows"] if r["allocation"] == "boot" and r["blades"] == 4
            and r["port"] == od["port"]][0]
    assert od["sp_grants"] > 0 and boot["sp_grants"] == 0
    assert od["sp_grants"] <= 4 * (1 << 30) // (16 << 20)      # at most every super page of the 4 VMs
    assert abs(od["mean_ns"] - boot["mean_ns"]) < 0.05 * boot["mean_ns"]
