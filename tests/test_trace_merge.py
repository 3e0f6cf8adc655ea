"""Several timestamped traces merged by time, trace i as VM i (S4: many VMs, many blades)."""
import numpy as np
import pytest

from hwmodel import System
from hwmodel.cli import main
from hwmodel.trace import TraceError, concat, merge_traces, read_all, write_trace
from hwmodel.trace._types import Chunk


def _chunk(times, addrs, ops=None, vm=None):
    n = len(times)
    return Chunk(np.array(times, np.int64), np.array(addrs, np.uint64),
                 np.array(ops if ops is not None else [0] * n, np.uint8), np.full(n, 64, np.uint32),
                 np.array(vm if vm is not None else [0] * n, np.uint16))


def _write(path, times, addrs, ops=None, vm=None, fmt="dramsim3"):
    write_trace(path, _chunk(times, addrs, ops, vm), format=fmt, timing="timestamp", time_unit="cycle")
    return str(path)


def test_merge_orders_by_time_and_numbers_vms(tmp_path):
    a = _write(tmp_path / "a.trace", [0, 10, 20, 30], [0x000, 0x040, 0x080, 0x0c0])
    b = _write(tmp_path / "b.trace", [5, 10, 25], [0x100, 0x140, 0x180], [1, 1, 1])
    m = concat(list(merge_traces([a, b])))
    assert m.time.tolist() == [0, 5, 10, 10, 20, 25, 30]
    assert m.vm.tolist() == [0, 1, 0, 1, 0, 1, 0]          # equal times: trace 0 first
    assert m.addr.tolist() == [0x000, 0x100, 0x040, 0x140, 0x080, 0x180, 0x0c0]
    assert m.op.tolist() == [0, 1, 0, 1, 0, 1, 0]


@pytest.mark.parametrize("chunk", [1, 3, 1000, 1 << 20])
def test_merge_of_real_traces_is_the_same_in_any_chunk_size(reference_dir, chunk):
    paths = [str(reference_dir / "traces" / "dramsim3_example.trace"),
             str(reference_dir / "traces" / "mase_art_head.trc")]
    parts = [read_all(p) for p in paths]
    m = concat(list(merge_traces(paths, chunk_records=chunk)))
    assert len(m) == sum(len(p) for p in parts)
    assert (np.diff(m.time) >= 0).all()
    # the records of trace i, in order, are exactly that trace's
    for i, p in enumerate(parts):
        mine = m.vm == i
        assert np.array_equal(m.addr[mine], p.addr) and np.array_equal(m.time[mine], p.time)
        assert np.array_equal(m.op[mine], p.op)
    expect = np.lexsort((m.vm, m.time))
    assert np.array_equal(expect, np.arange(len(m)))


def test_merged_chunks_remember_file_and_line(tmp_path):
    a = _write(tmp_path / "a.trace", [0, 10, 20], [0, 64, 128])
    b = _write(tmp_path / "b.trace", [5, 15], [0, 64])
    chunks = list(merge_traces([a, b], chunk_records=2))
    assert [c.where(i) for c in chunks for i in range(len(c))] == [f"{a}:1", f"{b}:1", f"{a}:2", f"{b}:2", f"{a}:3"]


@pytest.mark.parametrize("kind,match", [
    ("untimed", "without timestamps"),
    ("units", "different time units"),
    ("vm", r"b.npz:2: VM id 3; merging makes each trace one VM"),
    ("backwards", r"b.trace:3: timestamp goes backwards \(4 after 9\)"),
    ("one", "at least two traces"),
])
def test_merge_errors_name_the_file(tmp_path, kind, match):
    a = _write(tmp_path / "a.trace", [0, 10], [0, 64])
    if kind == "untimed":
        b = str(tmp_path / "b.trace")
        write_trace(b, _chunk([0, 0], [0, 64]), format="ramulator", timing="none")
    elif kind == "units":
        b = str(tmp_path / "b.npz")
        write_trace(b, _chunk([0, 10], [0, 64]), format="native", timing="timestamp", time_unit="ns")
    elif kind == "vm":
        b = str(tmp_path / "b.npz")
        write_trace(b, _chunk([0, 10], [0, 64], vm=[0, 3]), format="native", timing="timestamp", time_unit="cycle")
    elif kind == "backwards":
        b = _write(tmp_path / "b.trace", [1, 9, 4], [0, 64, 128])
    with pytest.raises(TraceError, match=match):
        list(merge_traces([a] if kind == "one" else [a, b]))


def test_run_on_merged_traces_gives_each_trace_its_vm(tmp_path, backend):
    a = _write(tmp_path / "a.trace", list(range(0, 4000, 40)), [i * 64 for i in range(100)])
    b = _write(tmp_path / "b.trace", list(range(7, 4000, 80)), [i * 4096 for i in range(50)], [1] * 50)
    system = System.from_dict({"compute": [{"vms": [{"name": "web", "memory": "1GiB"}]},
                                           {"vms": [{"name": "db", "memory": "1GiB"}]}]})
    r = system.run(merge_traces([a, b]), backend=backend)
    per = {v["vm"]: v["accesses"] for v in r.per_vm()}
    assert per == {"web": 100, "db": 50}
    assert [b_["accesses"] for b_ in r.per_blade()] == [100, 50]


def test_a_bad_record_in_a_merged_run_names_its_file_and_line(tmp_path):
    a = _write(tmp_path / "a.trace", [0, 10, 20], [0, 64, 128])
    b = _write(tmp_path / "b.trace", [5, 15], [0, 5 << 30])      # beyond the 1 GiB VM
    system = System.from_dict({"compute": {"vms": [{"name": "a", "memory": "1GiB"}, {"name": "b", "memory": "1GiB"}]}})
    with pytest.raises(ValueError, match=rf"{b}:2: address 0x140000000 is outside VM 1"):
        system.run(merge_traces([a, b]))


def test_cli_runs_and_writes_merged_traces(tmp_path, capsys):
    a = _write(tmp_path / "a.trace", [0, 10, 20], [0, 64, 128])
    b = _write(tmp_path / "b.trace", [5, 15], [0, 64])
    cfg = tmp_path / "two.yaml"
    System.from_dict({"compute": [{"name": "left", "vms": [{"name": "a", "memory": "1GiB"}]},
                                  {"name": "right", "vms": [{"name": "b", "memory": "1GiB"}]}]}).to_yaml(cfg)
    assert main(["run", str(cfg), a, b]) == 0
    out = capsys.readouterr().out
    assert "blade left" in out and "blade right" in out and "switch port" in out
    merged = tmp_path / "m.npz"
    assert main(["trace", "merge", a, b, "-o", str(merged)]) == 0
    m = read_all(merged)
    assert m.vm.tolist() == [0, 1, 0, 1, 0] and m.time.tolist() == [0, 5, 10, 15, 20]
    assert main(["trace", "merge", a, str(tmp_path / "missing.trace"), "-o", str(merged)]) == 1
