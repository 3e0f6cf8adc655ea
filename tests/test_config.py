"""Components validate at construction, name the parameter path, and round-trip through YAML."""
from pathlib import Path

import numpy as np
import pytest

from hwmodel import DRAM, ComputeBlade, Hypervisor, Link, System
from hwmodel.units import parse_bandwidth, parse_size, parse_time, transfer_ps

DATA = Path(__file__).resolve().parent / "data"


def test_units():
    assert parse_size("4KiB") == 4096 and parse_size("16 MiB") == 16 << 20 and parse_size(64) == 64
    assert parse_size("1GB") == 10**9
    assert parse_time("13.75ns") == 13750 and parse_time("2us") == 2_000_000 and parse_time("0.83ns") == 830
    assert parse_bandwidth("16GB/s") == 16 * 10**9 and parse_bandwidth("100Gbps") == 100 * 10**9 / 8
    assert transfer_ps(4096, parse_bandwidth("4GB/s")) == 1_024_000
    assert transfer_ps(1, parse_bandwidth("3GB/s")) == 334   # rounded up


@pytest.mark.parametrize("call,match", [
    (lambda: parse_size("4KB/s", "x.size"), "x.size: unknown unit 'KB/s'"),
    (lambda: parse_size("1.5B", "x.size"), "not a whole"),
    (lambda: parse_time(5, "x.t"), "x.t: 5 has no unit"),
    (lambda: parse_time("-1ns", "x.t"), "negative"),
    (lambda: parse_bandwidth("0GB/s", "link.bandwidth"), "link.bandwidth: '0GB/s' must be > 0"),
    (lambda: parse_time("fast", "x.t"), "cannot read 'fast'"),
])
def test_unit_errors_name_the_parameter(call, match):
    with pytest.raises(ValueError, match=match):
        call()


@pytest.mark.parametrize("data,match", [
    ({"hypervisor": {"policy": "magic"}}, r"hypervisor.policy: 'magic' is not one of 'static', 'fgra', 'page_swap', 'subpage_swap'"),
    ({"hypervisor": {"victim": "mru"}}, r"hypervisor.victim: 'mru' is not one of"),
    ({"link": {"bandwidth": "0GB/s"}}, r"link.bandwidth: '0GB/s' must be > 0"),
    ({"link": {"bandwith": "8GB/s"}}, r"link.bandwith: unknown parameter; allowed: bandwidth"),
    ({"hypervisor": {"policy": "subpage_swap", "super_page": "4KiB"}},
     r"hypervisor.super_page: 4KiB must be larger than its sub page"),
    ({"compute": {"local_memory": "32GiB"}}, r"compute.local_memory: 32GiB plus one temporary page does not fit"),
    ({"compute": {"vms": [{"memory": "256GiB"}]}}, r"memory_blade.capacity: 64GiB cannot hold the remote part"),
    ({"compute": {"vms": [{"memory": "1001KiB"}]}}, r"compute.vms\[0\].memory: 1001KiB is not a multiple of compute.page_size"),
    ({"compute": {"page_size": "3KiB"}}, r"compute.page_size: 3072 is not a power of two"),
    ({"compute": {"vms": [{"memory": "1GiB", "qos": -1}]}}, r"compute.vms\[0\].qos: -1 must be an integer >= 0"),
    ({"compute": {"dram": "DDR9-9999"}}, r"compute.dram"),
    ({"compute": {"dram": {"preset": "DDR4-2400", "tRCD": -3}}}, r"compute.dram.tRCD"),
    ({"core": {"window": 0}}, r"core.window: 0 must be an integer from 1 to 4096"),
    ({"gpu": {}}, r"gpu: unknown section"),
    ({"memory_blade": {"capacity": "100MiB"}}, r"memory_blade.capacity: 100MiB must be a multiple of the super page"),
])
def test_impossible_configurations_fail_with_the_path(data, match):
    with pytest.raises(ValueError, match=match):
        System.from_dict(data)


def test_components_are_frozen_and_typed():
    link = Link()
    with pytest.raises(AttributeError):
        link.bandwidth = "1GB/s"
    with pytest.raises(ValueError, match="hypervisor.critical_block_first"):
        Hypervisor(critical_block_first="yes")


def test_yaml_round_trip(tmp_path):
    s = System.from_dict({"hypervisor": {"policy": "subpage_swap", "victim": "clock"},
                          "compute": {"vms": [{"name": "a", "memory": "2GiB"}, {"name": "b", "memory": "2GiB", "qos": 2}]},
                          "link": {"bandwidth": "25Gbps"}})
    path = tmp_path / "s.yaml"
    s.to_yaml(path)
    again = System.from_yaml(path)
    assert again == s
    assert again.compile().signature() == s.compile().signature()


def test_yaml_errors_name_the_file(tmp_path):
    path = tmp_path / "bad.yaml"
    path.write_text("hypervisor:\n  policy: nope\n")
    with pytest.raises(ValueError, match=r"bad.yaml: hypervisor.policy: 'nope'"):
        System.from_yaml(path)
    path.write_text("hypervisor: [unclosed\n")
    with pytest.raises(ValueError, match=r"bad.yaml: not valid YAML"):
        System.from_yaml(path)
    path.write_text("!!python/object/apply:os.system ['true']\n")
    with pytest.raises(ValueError, match="not valid YAML"):   # safe loader: data, never code
        System.from_yaml(path)


def test_overrides_in_ramulator_style():
    s = System.from_dict({"compute": {"vms": [{"memory": "1GiB"}, {"name": "b", "memory": "1GiB"}]}},
                         ["hypervisor.policy=fgra", "compute.vms.1.memory=2GiB", "compute.dram.tRCD=20",
                          "link.header_bytes=32"])
    assert s.hypervisor.policy == "fgra"
    assert s.compute.vms[1].memory == "2GiB"
    assert s.compute.dram.tRCD == 20 and s.compute.dram.name == "DDR4-2400"
    assert s.link.header_bytes == 32
    with pytest.raises(ValueError, match="index 5 out of range"):
        System.from_dict({}, ["compute.vms.5.memory=1GiB"])
    with pytest.raises(ValueError, match="expected key.path=value"):
        System.from_dict({}, ["hypervisor.policy"])


def test_dram_from_dramsim3_ini_in_a_system(reference_dir):
    ini = str(reference_dir / "dramsim3" / "DDR4_8Gb_x8_2400.ini")
    s = System.from_dict({"compute": {"dram": ini}})
    assert s.compute.dram.tck_ps == 830 and s.compute.dram.capacity_bytes == 16 << 30


def test_compute_blade_defaults_are_sane():
    cb = ComputeBlade()
    assert cb.local_bytes == 1 << 30 and cb.page_bytes == 4096 and cb.guest_bytes == 4 << 30
    assert isinstance(cb.dram, DRAM)


def test_trace_outside_vm_memory_is_an_error():
    s = System.from_dict({"compute": {"vms": [{"memory": "1GiB"}]}})
    with pytest.raises(ValueError, match=r"record 1: address 0x40000000 is outside VM 0's memory"):
        s.run({"addr": np.array([0, 1 << 30], np.uint64)})
    with pytest.raises(ValueError, match=r"record 0: VM id 3 but the system has 1 VM"):
        s.run({"addr": np.array([0], np.uint64), "vm": np.array([3], np.uint16)})


def test_open_loop_time_must_not_go_backwards():
    s = System()
    with pytest.raises(ValueError, match=r"record 2: timestamp goes backwards"):
        s.run({"time": [0, 10, 5], "addr": [0, 64, 128], "timing": "timestamp"})


def _flat(d, prefix=""):
    out = {}
    for k, v in d.items():
        if isinstance(v, dict):
            out.update(_flat(v, f"{prefix}{k}."))
        else:
            out[prefix + k] = v
    return out


@pytest.mark.parametrize("base,override,changed", [
    ([], "memory_blade.dram.channels=4", 4),              # the blade's 4 ranks stay (issue 14 item 6)
    ([], "memory_blade.dram.row_policy=closed", "closed"),
    ([], "compute.dram.tRCD=20", 20),
    (["compute.dram=DDR5-4800"], "compute.dram.channels=4", 4),
    (["compute.dram=DDR5-4800", "compute.dram.tRP=38"], "compute.dram.tRCD=41", 41),
    (["memory_blade.capacity=8GiB", "memory_blade.dram=DDR4-3200"], "memory_blade.dram.ranks=1", 1),
    ([f"compute.dram={DATA}/dramsim3/DDR4_8Gb_x8_3200.ini"], "compute.dram.CL=24", 24),
    (["protocol=pcie3x16"], "protocol.lanes=8", 8),
    (["protocol=pcie3x16"], "protocol.max_payload=512B", "512B"),
    (["storage.device=nvme-gen4"], "storage.queue_depth=8", 8),
    (["storage.device=nvme-gen4"], "storage.read_latency=20us", "20us"),
])
def test_an_override_changes_its_one_field(base, override, changed):
    before = _flat(System.from_dict({}, base).to_dict())
    after = _flat(System.from_dict({}, base + [override]).to_dict())
    key = override.split("=")[0]
    assert {k for k in after if after[k] != before.get(k)} == {key}
    assert after[key] == changed


def test_an_override_refines_a_dram_given_in_a_yaml_file(tmp_path):
    cfg = tmp_path / "s.yaml"
    cfg.write_text("memory_blade:\n  dram: {preset: DDR4-2400, channels: 2, ranks: 4, tRCD: 18}\n"
                   f"compute:\n  dram: {DATA}/dramsim3/DDR4_8Gb_x8_2400.ini\n")
    s = System.from_yaml(cfg, ["memory_blade.dram.channels=1", "memory_blade.capacity=32GiB", "compute.dram.tRP=16"])
    assert (s.memory_blade.dram.channels, s.memory_blade.dram.ranks, s.memory_blade.dram.tRCD) == (1, 4, 18)
    assert (s.blades[0].dram.tRP, s.blades[0].dram.tRCD, s.blades[0].dram.name) == (16, 17, "DDR4_8Gb_x8_2400")
