"""`compare()` / `compare_table()` and the `hwmodel compare` command on tiny traces and configs."""
import argparse
import csv
import json

import pytest
import yaml

from hwmodel.study.compare import METRICS, compare, compare_table, format_table
from hwmodel.cli.compare import add_commands
from hwmodel.trace import generate, write_trace

TINY = {"compute": {"local_memory": "16MiB", "vms": [{"name": "vm0", "memory": "64MiB"}]},
        "memory_blade": {"capacity": "64MiB"}}


@pytest.fixture
def files(tmp_path):
    trace = tmp_path / "t.npz"
    # uniform over 64 MiB: a quarter of the pages fit locally, so there are faults and link traffic
    write_trace(trace, generate("uniform", 5000, 64 << 20, seed=1), timing="none")
    paths = {}
    for name, policy in (("swap", "page_swap"), ("fgra", "fgra")):
        d = {**TINY, "hypervisor": {"policy": policy}}
        paths[name] = tmp_path / f"{name}.yaml"
        paths[name].write_text(yaml.safe_dump(d))
    return trace, paths


def cli(argv):
    ap = argparse.ArgumentParser()
    add_commands(ap.add_subparsers(dest="command"))
    args = ap.parse_args(argv)
    return args.func(args)


def test_compare_runs_each_config(files, backend):
    trace, paths = files
    results = compare([paths["swap"], paths["fgra"]], str(trace), backend=backend)
    assert [r.config["hypervisor"]["policy"] for r in results] == ["page_swap", "fgra"]
    assert all(r.accesses == 5000 for r in results)
    assert results[0].counters["faults"] > 0 and results[1].counters["faults"] == 0
    # overrides reach every configuration
    results = compare([paths["swap"], TINY], str(trace), overrides=["compute.local_memory=32MiB"], backend=backend)
    assert [r.config["compute"]["local_memory"] for r in results] == ["32MiB", "32MiB"]


def test_table_columns_and_deltas(files):
    trace, paths = files
    results = compare([paths["swap"], paths["fgra"], paths["swap"]], str(trace))
    names = ["A", "B", "C"]
    rows = compare_table(results, names)
    assert [r["metric"] for r in rows] == [m[0] for m in METRICS]
    by = {r["key"]: r for r in rows}
    d0, d1 = results[0].to_dict(), results[1].to_dict()
    lat = by["latency_ns.read.mean"]
    r0, r1 = d0["latency_ns"]["read"]["mean"], d1["latency_ns"]["read"]["mean"]
    assert lat["values"] == {"A": r0, "B": r1, "C": r0}
    assert set(lat["delta"]) == {"B", "C"}
    assert lat["delta"]["B"] == pytest.approx(r1 - r0)
    assert lat["delta_pct"]["B"] == pytest.approx(100 * lat["delta"]["B"] / r0)
    assert by["latency_ns.write.p99"]["values"]["B"] == d1["latency_ns"]["write"]["p99"]
    assert lat["delta"]["C"] == 0 and lat["delta_pct"]["C"] == 0
    # scaled metrics
    assert by["row_hit_rate.local"]["values"]["A"] == pytest.approx(100 * d0["row_hit_rate"]["local"])
    assert by["counters.link_bytes_out"]["values"]["B"] == pytest.approx(d1["counters"]["link_bytes_out"] / 1e6)
    assert by["sim_time_ns"]["values"]["A"] == pytest.approx(d0["sim_time_ns"] / 1e6)
    # faults: A > 0, B == 0: delta -100%
    f = by["counters.faults"]
    assert f["values"]["A"] > 0 and f["values"]["B"] == 0 and f["delta_pct"]["B"] == -100.0
    text = format_table(rows, names)
    head = text.splitlines()[0]
    assert "metric" in head and "A" in head and "B (vs A)" in head and "C (vs A)" in head
    assert "-100.0%" in text


def test_delta_pct_from_zero():
    lat = dict(mean=1.0, p50=1.0, p95=1.0, p99=1.0, max=1.0)
    base = {"latency_ns": {"read": lat, "write": lat}, "simulated_throughput_maccess_per_s": 0.0,
            "dram_GBps": {"local": 0.0, "blade": 0.0}, "row_hit_rate": {"local": 0.0, "blade": 0.0},
            "counters": {"faults": 0, "swap_ins": 0, "swap_outs": 0, "link_bytes_out": 0, "link_bytes_in": 0},
            "arrivals_ns": {"first": 0.0, "last": 1.0}, "sim_time_ns": 1.0}
    other = json.loads(json.dumps(base))
    other["counters"]["faults"] = 5
    rows = {r["key"]: r for r in compare_table([base, other], ["a", "b"])}
    assert rows["counters.faults"]["delta"]["b"] == 5 and rows["counters.faults"]["delta_pct"]["b"] is None
    assert rows["counters.swap_ins"]["delta_pct"]["b"] == 0.0
    assert "n/a" in format_table(list(rows.values()), ["a", "b"])
    with pytest.raises(ValueError, match="2 results but 1 names"):
        compare_table([base, other], ["a"])
    with pytest.raises(ValueError, match="unique"):
        compare_table([base, other], ["a", "a"])


def test_cli_prints_table_and_writes_json_csv(files, tmp_path, capsys):
    trace, paths = files
    out_json, out_csv = tmp_path / "o.json", tmp_path / "o.csv"
    rc = cli(["compare", str(paths["swap"]), f"remote={paths['fgra']}", str(trace),
              "--json", str(out_json), "--csv", str(out_csv), "--backend", "reference"])
    assert rc == 0
    text = capsys.readouterr().out
    assert "swap" in text and "remote (vs swap)" in text and "read latency p99" in text
    assert "untimed trace" in text
    doc = json.loads(out_json.read_text())
    assert doc["columns"] == ["swap", "remote"]
    assert doc["results"]["remote"]["config"]["hypervisor"]["policy"] == "fgra"
    assert doc["results"]["swap"]["backend"] == "reference"
    assert [r["metric"] for r in doc["table"]] == [m[0] for m in METRICS]
    with open(out_csv) as f:
        table = list(csv.reader(f))
    assert table[0] == ["metric", "unit", "swap", "remote", "remote delta", "remote delta %"]
    assert len(table) == 1 + len(METRICS)
    row = {r[0]: r for r in table[1:]}["faults"]
    assert int(row[2]) > 0 and int(row[3]) == 0 and float(row[4]) == -int(row[2]) and float(row[5]) == -100.0


def test_cli_param_applies_to_all(files, tmp_path):
    trace, paths = files
    out = tmp_path / "o.json"
    assert cli(["compare", str(paths["swap"]), str(paths["fgra"]), str(trace), "-p", "compute.local_memory=64MiB",
                "--json", str(out)]) == 0
    doc = json.loads(out.read_text())
    assert all(r["counters"]["faults"] == 0 and r["counters"]["remote_accesses"] == 0
               for r in doc["results"].values())


@pytest.mark.parametrize("argv,message", [
    (["{swap}", "{trace}"], "need at least 2 configurations"),
    (["{swap}", "{fgra}", "{tmp}/missing.npz"], "missing.npz: no such trace file"),
    (["{swap}", "{tmp}/nope.yaml", "{trace}"], "nope.yaml: no such configuration file"),
    (["{swap}", "{swap}", "{trace}"], "more than one configuration is named 'swap'"),
    (["{swap}", "{trace}", "{trace}"], "a configuration is a .yaml/.yml file"),
    (["{swap}", "b/c={fgra}", "{trace}"], "a column name"),
    (["{swap}", "{fgra}", "{trace}", "-p", "hypervisor.policy=teleport"], "hypervisor.policy"),
])
def test_cli_bad_input(files, tmp_path, argv, message):
    trace, paths = files
    argv = [a.format(swap=paths["swap"], fgra=paths["fgra"], trace=trace, tmp=tmp_path) for a in argv]
    with pytest.raises(ValueError, match=message):
        cli(["compare", *argv])


def test_cli_without_a_trace_runs_the_built_in_workload(files, tmp_path, capsys):
    """As `hwmodel run`: no trace, the built-in workload (sized by the first column's system), the
    same in every column; two configurations or a --vary alone (it once demanded a trace)."""
    trace, paths = files
    out = tmp_path / "o.json"
    assert cli(["compare", str(paths["swap"]), str(paths["fgra"]), "--backend", "compiled", "--quiet",
                "--json", str(out)]) == 0
    doc = json.loads(out.read_text())
    assert doc["trace"].startswith("built-in zipf workload (1M accesses over 64MiB")
    assert [r["accesses"] for r in doc["results"].values()] == [1_000_000] * 2
    assert capsys.readouterr().out.startswith("trace built-in zipf workload (1M accesses over 64MiB)")
    assert cli(["compare", "--vary", "hypervisor.victim=lru,fifo", "-p", "compute.local_memory=1GiB",
                "-p", "compute.vms=[{memory: 2GiB}]", "--backend", "compiled", "--quiet"]) == 0
    text = capsys.readouterr().out
    assert text.startswith("trace built-in zipf workload (1M accesses over 2GiB)")
    assert "victim=fifo (vs victim=lru)" in text


def test_cli_main_exit_code(files, capsys):
    """Through hwmodel's main (once the lead registers the command there): exit 1 and one line."""
    from hwmodel import cli as main_cli
    trace, paths = files
    rc = main_cli.main(["compare", str(paths["swap"]), str(trace)])
    assert rc == 1
    assert "need at least 2 configurations" in capsys.readouterr().err


def test_compare_rejects_reader(files):
    from hwmodel.trace import open_trace
    trace, paths = files
    with pytest.raises(ValueError, match="pass the trace's path"):
        compare([paths["swap"], paths["fgra"]], open_trace(str(trace)))
    with pytest.raises(ValueError, match="no such trace file"):
        compare([paths["swap"], paths["fgra"]], str(trace) + ".x")


def _light_cycle_trace(tmp_path):
    """A light cycle-stamped DRAMsim3 trace (one line per 200 cycles) within 16 MiB."""
    trace = tmp_path / "light.trace"
    write_trace(trace, generate("uniform", 2000, 16 << 20, read_ratio=0.7, seed=2, interval=200),
                format="dramsim3", timing="timestamp", time_unit="cycle")
    return trace


def test_every_column_replays_the_same_arrivals(tmp_path, backend):
    """A faster DRAM meets the same arrivals: one trace cycle is the first column's tCK everywhere,
    so DDR5-4800 is not credited with replaying the trace twice as fast (issue 14 item 5)."""
    trace = _light_cycle_trace(tmp_path)
    base = {"compute": {"local_memory": "16MiB", "vms": [{"name": "vm0", "memory": "16MiB"}]},
            "hypervisor": {"policy": "static"}, "memory_blade": {"capacity": "0B"}}
    ddr5 = {**base, "compute": {**base["compute"], "dram": "DDR5-4800"}}
    ddr4, fast = compare([base, ddr5], str(trace), backend=backend)
    assert ddr4.ps_per_trace_unit == fast.ps_per_trace_unit == 830.0      # DDR4-2400's tCK
    assert ddr4.to_dict()["arrivals_ns"] == fast.to_dict()["arrivals_ns"]
    assert ddr4.counters["first_arrival_ps"] == fast.counters["first_arrival_ps"]
    assert abs(fast.sim_time_ps / ddr4.sim_time_ps - 1) < 0.02          # light load: time is the trace's
    rows = {r["key"]: r for r in compare_table([ddr4, fast], ["ddr4", "ddr5"])}
    assert rows["arrivals_ns.last"]["delta"]["ddr5"] == 0
    # --cycle imposes its own scale on every column
    a, b = compare([base, ddr5], str(trace), backend=backend, cycle="1ns")
    assert a.ps_per_trace_unit == b.ps_per_trace_unit == 1000.0
    assert a.to_dict()["arrivals_ns"]["last"] == b.to_dict()["arrivals_ns"]["last"] > ddr4.to_dict()["arrivals_ns"]["last"]


def test_cli_states_the_arrival_scale_and_varies_one_parameter(tmp_path, capsys):
    trace = _light_cycle_trace(tmp_path)
    cfg = tmp_path / "base.yaml"
    cfg.write_text(yaml.safe_dump({"compute": {"local_memory": "16MiB", "vms": [{"name": "vm0", "memory": "16MiB"}]},
                                   "hypervisor": {"policy": "static"}, "memory_blade": {"capacity": "0B"}}))
    out = tmp_path / "o.json"
    assert cli(["compare", str(cfg), str(trace), "--vary", "compute.dram.scheduler=fcfs,frfcfs",
                "--json", str(out)]) == 0
    text = capsys.readouterr().out
    assert "one cycle of the trace = 830 ps in every column" in text
    assert "scheduler=fcfs" in text and "scheduler=frfcfs (vs scheduler=fcfs)" in text
    assert "columns differ in compute.dram.scheduler: fcfs | frfcfs\n" in text
    doc = json.loads(out.read_text())
    assert doc["differences"] == [{"parameter": "compute.dram.scheduler",
                                   "values": {"scheduler=fcfs": "fcfs", "scheduler=frfcfs": "frfcfs"}}]
    assert doc["columns"] == ["scheduler=fcfs", "scheduler=frfcfs"]
    assert [doc["results"][c]["config"]["compute"]["dram"]["scheduler"] for c in doc["columns"]] == ["fcfs", "frfcfs"]
    # two --vary flags: every combination; no configuration at all: the default system
    assert cli(["compare", str(trace), "--vary", "compute.dram.scheduler=fcfs,frfcfs",
                "--vary", "compute.dram.row_policy=open,closed", "-p", "hypervisor.policy=static",
                "-p", "memory_blade.capacity=0B", "-p", "compute.vms.0.memory=1GiB", "--json", str(out)]) == 0
    assert json.loads(out.read_text())["columns"] == [
        "scheduler=fcfs,row_policy=open", "scheduler=fcfs,row_policy=closed",
        "scheduler=frfcfs,row_policy=open", "scheduler=frfcfs,row_policy=closed"]
    with pytest.raises(ValueError, match="at least two values"):
        cli(["compare", str(cfg), str(trace), "--vary", "compute.dram.scheduler=fcfs"])


def test_a_compare_of_dram_settings_says_how_the_models_response_was_validated():
    from hwmodel.study.compare import validation_note

    def res(dram):
        return {"config": {"compute": {"dram": dram}, "memory_blade": {"capacity": "0B"}}}
    base = {"preset": "DDR4-2400", "model": "detailed", "cmd_queue_size": 8, "scheduler": "frfcfs"}
    note = validation_note([res(base), res({**base, "cmd_queue_size": 2, "scheduler": "fcfs"})], ["a", "b"])
    assert "cmd_queue_size equals DRAMsim3's change" in note and "scheduler has no peer check" in note
    assert "these columns run" not in note
    fast = {**base, "model": "fast"}
    note = validation_note([res(fast), res({**fast, "refresh_policy": "rank_level_simultaneous"})], ["a", "b"])
    assert "refresh_policy differs from DRAMsim3's change" in note and "these columns run fast" in note
    assert validation_note([res(base), res(base)], ["a", "b"]) == ""
