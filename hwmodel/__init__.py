"""hwmodel: cycle-approximate models of disaggregated memory hardware.

Python classes describe the hardware (`hwmodel.hardware`: `ComputeBlade`, `Hypervisor`,
`MemoryBlade` and its `Buffer`s, a `MemoryController` and its `DRAMDevice` (flat: `DRAM`), `Link`, `CoreModel`, ..., composed into a `System`); a compiled core
(`hwmodel/_core.pyx` and its parts in `hwmodel.core`) runs traces through it chunk by chunk.
`run_dram` drives one memory controller alone with a trace (DRAMsim3-style figures and energy).

The names below are imported on first use, so that a command that needs one part (`hwmodel dram`)
does not pay for importing all of them.
"""
__version__ = "0.1.0"

_EXPORTS = {
    "VM": "hardware.blades", "ComputeBlade": "hardware.blades", "MemoryBlade": "hardware.blades",
    "Buffer": "hardware.buffer", "Cache": "hardware.cache", "CoreModel": "hardware.cpu", "DRAM": "dram",
    "DRAMDevice": "hardware.device", "MemoryController": "hardware.controller",
    "Hypervisor": "hardware.hypervisor", "Link": "hardware.link", "ProtocolAgent": "hardware.protocol",
    "ServiceProcessor": "hardware.service", "IODriver": "hardware.storage", "StorageDevice": "hardware.storage",
    "Result": "stats", "System": "system", "run_dram": "dramsim", "DramResult": "dramsim",
}

__all__ = sorted(_EXPORTS) + ["__version__"]


def __getattr__(name):
    if name in _EXPORTS:
        import importlib
        value = getattr(importlib.import_module(f".{_EXPORTS[name]}", __name__), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__():
    return __all__
