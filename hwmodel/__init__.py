"""hwmodel: cycle-approximate models of disaggregated memory hardware.

Python classes describe the hardware (`ComputeBlade`, `Hypervisor`, `MemoryBlade`, `Link`,
`CoreModel`, composed into a `System`); a compiled core runs traces through it chunk by chunk.
"""
__version__ = "0.1.0"

from .blade import VM, ComputeBlade, MemoryBlade
from .cache import Cache
from .cpu import CoreModel
from .dram import DRAM
from .hypervisor import Hypervisor
from .network import Link
from .protocol import ProtocolAgent
from .service import ServiceProcessor
from .storage import IODriver, StorageDevice
from .stats import Result
from .system import System

__all__ = ["VM", "Cache", "ComputeBlade", "MemoryBlade", "CoreModel", "DRAM", "Hypervisor", "Link",
           "Result", "ServiceProcessor", "IODriver", "ProtocolAgent", "StorageDevice", "System", "__version__"]
