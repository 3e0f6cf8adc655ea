"""MemoryController and DRAMDevice: the controller's settings and the device's fields kept apart,
each convertible to the flat DRAM record the core compiles, and the `controller:` spelling of a
blade's DRAM in configurations."""
import dataclasses
import warnings
from pathlib import Path

import pytest

from hwmodel import DRAM, DRAMDevice, MemoryController, System
from hwmodel.config import apply_overrides
from hwmodel.hardware.blades import ComputeBlade
from hwmodel.hardware.controller import ControllerPolicy
from hwmodel.system import _default_section

INIS = sorted((Path(__file__).parent / "data" / "dramsim3").glob("*.ini"))


def names(cls):
    return [f.name for f in dataclasses.fields(cls)]


def test_the_flat_record_is_the_device_then_the_controller_settings():
    assert names(DRAM) == names(DRAMDevice) + names(ControllerPolicy)
    assert not set(names(DRAMDevice)) & set(names(ControllerPolicy))
    assert "device" in names(MemoryController) and "channels" not in names(DRAMDevice)


@pytest.mark.parametrize("ini", INIS, ids=lambda p: p.stem)
def test_from_dramsim3_ini_builds_both_parts_of_the_one_file(ini):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")   # GDDR6's channel_size below one rank (DRAMsim3 warns too)
        flat = DRAM.from_dramsim3_ini(ini)
        mc = MemoryController.from_dramsim3_ini(ini)
        dev = DRAMDevice.from_dramsim3_ini(ini)
    assert mc.dram == flat and mc.device == dev == flat.device
    assert (mc.channels, mc.queue_structure, mc.trans_queue_size) == (flat.channels, flat.queue_structure,
                                                                     flat.trans_queue_size)
    assert (dev.tck_ps, dev.CL, dev.IDD0) == (flat.tck_ps, flat.CL, flat.IDD0)
    assert mc.capacity_bytes == flat.capacity_bytes and mc.address_map().fields() == flat.address_map().fields()


@pytest.mark.parametrize("name", DRAM.presets())
def test_each_part_round_trips_to_the_same_record(name):
    d = DRAM.preset(name, channels=2, scheduler="fcfs")
    assert d.controller.dram == d
    assert MemoryController(device=d.device, **{k: getattr(d, k) for k in names(ControllerPolicy)}).dram == d
    assert MemoryController.preset(name).device == DRAMDevice.preset(name)


def test_a_controller_rejects_what_the_whole_cannot_run():
    with pytest.raises(ValueError, match=r"dram\.trans_queue_size: 0 must be > 0"):
        MemoryController(trans_queue_size=0)
    with pytest.raises(ValueError, match=r"dram\.rows: 3 is not a power of two"):
        DRAMDevice(rows=3)
    with pytest.raises(ValueError, match=r"controller\.device: expected a DRAMDevice"):
        MemoryController(device="DDR4-2400")
    mc = MemoryController.preset("DDR4-2400")
    assert mc.replace(device=DRAMDevice.preset("DDR5-4800")).dram.protocol == "DDR5"
    with pytest.raises(ValueError, match=r"controller\.tRCD: not a controller setting"):
        mc.replace(scheduler="fcfs", tRCD=1)
    with pytest.raises(ValueError, match=r"dram\.scheduler: no such parameter"):
        mc.device.replace(scheduler="fcfs")


def test_controller_section_gives_the_same_system_as_the_dram_section():
    flat = System.from_dict({"compute": {"dram": {"preset": "DDR5-4800", "scheduler": "fcfs", "tRCD": 45}}})
    split = System.from_dict({"compute": {"controller": {"preset": "DDR5-4800", "scheduler": "fcfs",
                                                          "device": {"tRCD": 45}}}})
    assert split.blades[0].dram == flat.blades[0].dram
    assert split.blades[0].controller.device.tRCD == 45 and split.blades[0].controller.scheduler == "fcfs"
    # a device from elsewhere, under the preset's controller settings
    mixed = System.from_dict({"memory_blade": {"controller": {"device": "DDR4-3200", "channels": 4}}})
    assert mixed.memory_blade.dram.name == "DDR4-3200" and mixed.memory_blade.dram.channels == 4


@pytest.mark.parametrize("section, message", [
    ({"controller": {"tRCD": 20}}, r"compute\.controller\.tRCD: not a controller setting; device fields go under "
                                   r"compute\.controller\.device"),
    ({"controller": {"device": {"scheduler": "fcfs"}}}, r"compute\.controller\.device\.scheduler: no such parameter"),
    ({"controller": {"device": {"tRCD": 0}}}, r"compute\.controller\.device\.tRCD: 0 must be > 0"),
    ({"controller": {"channels": 3}}, r"compute\.controller\.channels: 3 is not a power of two"),
    ({"controller": "DDR4-2400", "dram": "DDR4-2400"}, r"compute\.controller: give the DRAM as controller or as dram"),
])
def test_controller_section_errors_name_the_parameter(section, message):
    with pytest.raises(ValueError, match=message):
        System.from_dict({"compute": section})


def test_overrides_refine_one_field_of_the_controller_and_keep_the_blades_organisation():
    data = apply_overrides({}, ["memory_blade.controller.scheduler=fcfs",
                                "memory_blade.controller.device.tRCD=20"], _default_section)
    mb = System.from_dict(data).memory_blade.dram
    assert (mb.scheduler, mb.tRCD, mb.channels, mb.ranks) == ("fcfs", 20, 2, 4)
    data = apply_overrides({"compute": {"controller": "DDR5-4800"}}, ["compute.controller.device.tRCD=50"],
                           _default_section)
    d = System.from_dict(data).blades[0].dram
    assert (d.protocol, d.tRCD, d.CL) == ("DDR5", 50, DRAM.preset("DDR5-4800").CL)


def test_a_blade_takes_a_memory_controller_from_python():
    mc = MemoryController.preset("HBM2", row_policy="closed")
    cb = ComputeBlade(dram=mc, local_memory="256MiB")
    assert cb.dram == mc.dram and cb.controller == mc


def test_hwmodel_dram_reads_a_controller_yaml_with_its_ini_beside_it(tmp_path):
    from hwmodel.dramsim import resolve_dram
    ini = INIS[0]
    (tmp_path / ini.name).write_text(ini.read_text())
    cfg = tmp_path / "mc.yaml"
    cfg.write_text(f"controller:\n  ini: {ini.name}\n  row_policy: closed\n  device: {{tRCD: 20}}\n")
    d = resolve_dram(cfg)
    assert d == DRAM.from_dramsim3_ini(ini, row_policy="closed", tRCD=20)
    assert resolve_dram(MemoryController.preset("DDR4-3200")) == DRAM.preset("DDR4-3200")
