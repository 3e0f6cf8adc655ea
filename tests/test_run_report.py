"""What a run says about itself (issue 14 item 7): wall time and simulator speed apart from the
simulated throughput, and a progress bar with a total (records or file bytes) and an ETA."""
import pytest

from hwmodel import System
from hwmodel.trace import generate, write_trace


@pytest.fixture
def traces(tmp_path):
    ch = generate("uniform", 20000, 16 << 20, seed=1)
    npz, txt = tmp_path / "t.npz", tmp_path / "t.trace.gz"
    write_trace(npz, ch, timing="none")
    write_trace(txt, ch, format="ramulator", timing="none")
    return npz, txt


def test_wall_time_and_simulator_speed_are_reported_apart(traces):
    r = System().run(str(traces[0]))
    d = r.to_dict()
    assert d["wall_s"] > 0 and d["sim_speed_maccess_per_s"] == pytest.approx(r.accesses / d["wall_s"] / 1e6)
    assert d["simulated_throughput_maccess_per_s"] == pytest.approx(r.accesses / r.duration_ps * 1e6)
    assert "throughput_maccess_per_s" not in d
    text = r.summary()
    assert "simulated throughput" in text and "simulated accesses per wall second" in text


@pytest.mark.parametrize("which,total", [(0, "20.0k/20.0k"), (1, "100%")])
def test_progress_bar_knows_the_total(traces, capsys, which, total):
    System().run(str(traces[which]), progress=True, chunk_records=4096)
    err = capsys.readouterr().err
    assert total in err and ("acc/s" in err or "B/s" in err)


def test_no_bar_unless_asked_or_on_a_terminal(traces, capsys):
    System().run(str(traces[0]))                 # the Python API: off unless asked
    from hwmodel.cli import main
    assert main(["run", str(traces[0])]) == 0    # the CLI: on only when stderr is a terminal (not here)
    assert "%" not in capsys.readouterr().err


def test_a_dram_level_trace_run_through_the_hypervisor_says_what_the_dram_sees(tmp_path):
    src = tmp_path / "d.trace"
    write_trace(src, generate("uniform", 500, 16 << 20, seed=2, interval=50), format="dramsim3",
                timing="timestamp", time_unit="cycle")
    r = System().run(str(src))
    assert r.trace_format == "dramsim3" and "the DRAM sees other rows" in r.summary()
    r = System.from_dict({}, ["hypervisor.policy=static"]).run(str(src))
    assert "the DRAM sees other rows" not in r.summary()


def test_an_open_loop_trace_the_system_cannot_keep_up_with_is_said_so():
    # half the accesses remote over one link, arriving every 2 ns: the link is the bottleneck and
    # the queue grows through the run; every 200 ns the same system keeps up
    import numpy as np
    ch = generate("uniform", 20000, 2 << 30, seed=1)
    system = System.from_dict({"hypervisor": {"policy": "static"}, "compute": {"vms": [{"memory": "2GiB"}]}})
    from hwmodel.study.compare import arrival_note
    runs = []
    for gap, behind in ((2000, True), (200_000, False)):
        r = system.run({"time": np.arange(20000, dtype=np.int64) * gap, "addr": ch.addr, "op": ch.op, "vm": ch.vm})
        assert r.timing == "open" and r.fell_behind() == behind
        assert ("the system fell behind this open-loop trace" in r.summary()) == behind
        assert (r.counters["last_completion_ps"] - r.last_arrival_ps
                > (r.last_arrival_ps - r.counters["first_arrival_ps"]) / 4) == behind
        runs.append(r)
    assert arrival_note(runs, ["fast", "slow"]).endswith("; fast fell behind them (the latencies are mostly the "
                                                         "queue that built up)")
    assert "fell behind" not in arrival_note(runs[1:], ["slow"])


def test_the_summary_names_the_dram_model_each_dram_ran():
    # a whole system runs the fast DRAM model unless told; a latency quoted from it should say so
    from hwmodel.trace import generate
    ch = generate("uniform", 2000, 1 << 20, seed=1)
    assert "swap unit 4096 B, DRAM model fast\n" in System().run(ch).summary()
    r = System.from_dict({"compute": {"dram": {"model": "detailed"}, "vms": [{"memory": "1GiB"}]}}).run(ch)
    assert "DRAM model detailed (local), fast (blade)\n" in r.summary()


def test_a_sampled_run_falls_behind_by_its_measured_units_backlog():
    # the functional stretches keep no queue (their completions are estimates): the measured
    # units' backlog growth is what says a sampled run fell behind, as its advice does
    import numpy as np
    ch = generate("uniform", 20000, 2 << 30, seed=1)
    system = System.from_dict({"hypervisor": {"policy": "static"}, "compute": {"vms": [{"memory": "2GiB"}]},
                               "sampling": {"unit": 500, "period": 4}})
    for gap, behind in ((2000, True), (200_000, False)):
        r = system.run({"time": np.arange(20000, dtype=np.int64) * gap, "addr": ch.addr, "op": ch.op, "vm": ch.vm},
                       backend="compiled")
        assert r.fell_behind() == behind == r.sampling["advice"].startswith("sampling: the system falls behind")
        assert r.to_dict()["fell_behind"] == behind
