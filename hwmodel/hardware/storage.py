"""The persistent-storage tier: a storage device behind the hypervisor's I/O driver (S1)."""
from __future__ import annotations

from dataclasses import dataclass

from .._layout import STORAGE_VICTIMS
from ..units import parse_bandwidth, parse_time

# Device presets. Latencies are the access time of a random 4 KiB request at queue depth 1,
# before its transfer; units = requests served at once (internal parallelism).
STORAGE_PRESETS = {
    # NVMe Gen4 TLC: ~50 us 4 KiB random read at QD1 (KitGuru review measurements, see
    # docs/published.md), ~7 GB/s sequential (vendor datasheets); ~1 M IOPS at high QD
    # over 50 us means ~50 requests in flight, so 32 units is conservative.
    "nvme-gen4": {"read_latency": "49.4us", "write_latency": "15us", "bandwidth": "7GB/s",
                  "units": 32, "queue_depth": 64},
    # Optane P5800X class: ~13 us at QD1 (published.md), ~7.2 GB/s, symmetric reads and writes.
    "optane": {"read_latency": "12.4us", "write_latency": "12.4us", "bandwidth": "7.2GB/s",
               "units": 16, "queue_depth": 64},
    # SATA SSD: ~90 us 4 KiB random read, 550 MB/s, NCQ depth 32.
    "sata-ssd": {"read_latency": "83us", "write_latency": "40us", "bandwidth": "550MB/s",
                 "units": 8, "queue_depth": 32},
    # 7,200 rpm HDD: ~8.5 ms average seek + 4.2 ms half a rotation, ~200 MB/s, one head.
    "hdd": {"read_latency": "12.7ms", "write_latency": "12.7ms", "bandwidth": "200MB/s",
            "units": 1, "queue_depth": 32},
}


@dataclass(frozen=True)
class StorageDevice:
    """A block device the I/O driver reads and writes swap units to. A request waits for a
    queue slot and a free internal unit, then costs its access latency plus its transfer at
    `bandwidth` on a data path all units share. `device: none` means no storage tier; `custom`
    takes every value from the fields. Empty fields take the preset's value."""
    SECTION = "storage"
    device: str = "none"      # none | nvme-gen4 | optane | sata-ssd | hdd | custom
    read_latency: str = ""    # access time of a random read before its transfer
    write_latency: str = ""   # access time of a write before its transfer
    bandwidth: str = ""       # transfer rate of the data path the units share
    units: int = 0            # requests served at once (internal parallelism)
    queue_depth: int = 0      # outstanding requests the device accepts
    victim: str = "fifo"      # which blade page goes down when the blade is full: fifo | random

    def __post_init__(self):
        kinds = ("none", "custom", *STORAGE_PRESETS)
        if self.device not in kinds:
            raise ValueError(f"storage.device: {self.device!r} is not one of {', '.join(map(repr, kinds))}")
        if self.victim not in STORAGE_VICTIMS:
            raise ValueError(f"storage.victim: {self.victim!r} is not one of {', '.join(map(repr, STORAGE_VICTIMS))}")
        if self.enabled:
            v = self.values()
            parse_time(v["read_latency"], "storage.read_latency")
            parse_time(v["write_latency"], "storage.write_latency")
            parse_bandwidth(v["bandwidth"], "storage.bandwidth")
            for name in ("units", "queue_depth"):
                if not isinstance(v[name], int) or isinstance(v[name], bool) or not 1 <= v[name] <= 4096:
                    raise ValueError(f"storage.{name}: {v[name]!r} must be an integer from 1 to 4096")

    @property
    def enabled(self) -> bool:
        return self.device != "none"

    def values(self) -> dict:
        """The effective parameters: the preset's, overridden by any field that is set."""
        base = dict(STORAGE_PRESETS.get(self.device, {}))
        for name in ("read_latency", "write_latency", "bandwidth", "units", "queue_depth"):
            v = getattr(self, name)
            if v not in ("", 0):
                base[name] = v
            elif self.device == "custom":
                raise ValueError(f"storage.{name}: a custom device needs a value")
        return base


@dataclass(frozen=True)
class IODriver:
    """The hypervisor's I/O driver: it moves swap units between memory and the storage device
    through its own page buffers. A command costs `overhead` (submission, interrupt, completion);
    with every buffer busy, a command waits for the first to free."""
    SECTION = "io_driver"
    buffer_pages: int = 16    # page buffers between memory and the device
    overhead: str = "5us"     # software cost per I/O command

    def __post_init__(self):
        if not isinstance(self.buffer_pages, int) or isinstance(self.buffer_pages, bool) or not 1 <= self.buffer_pages <= 4096:
            raise ValueError(f"io_driver.buffer_pages: {self.buffer_pages!r} must be an integer from 1 to 4096")
        parse_time(self.overhead, "io_driver.overhead")
