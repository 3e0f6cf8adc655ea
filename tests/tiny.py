"""A tiny system with round-number timings, so that expected completion times can be derived by
hand in the tests (all times in ps).

DRAM: tCK 1 ns, CL 10, CWL 8, tRCD 10, tRP 10, BL 8 (burst = 4 ns), tCCD_L 6, 1 channel, 1 rank,
1 bank group of 2 banks, 8 KiB rows, no refresh; 'rochrababgco' puts bytes 0-8191 of each 16 KiB
in bank 0. A page (64 bursts in one row) streams one burst per max(burst, tCCD_L) after the first;
line writes are posted (complete when the controller's write buffer takes them). These are the
timings of the one-pass DRAM model (model "fast"), which the tiny system uses so that a system's
times follow from formulas; the detailed controller's own timing is tested on its own
(tests/test_dram_ctrl.py) and, in whole systems, against its twin (tests/test_differential.py).
Link: 1 GB/s (1 ns per byte), 100 ns each way, 8-byte headers, 4 KiB max payload.
"""
from hwmodel import DRAM, System

CL, CWL, RCD, RP, BURST, CCD_L = 10_000, 8_000, 10_000, 10_000, 4_000, 6_000
PROP, HDR, BYTE = 100_000, 8, 1_000
AGENT, TRAP, MAP, FILTER = 50_000, 1_000_000, 100_000, 20_000
PAGE_BURSTS = 4096 // 64
PAGE_TIME = BURST + (PAGE_BURSTS - 1) * max(BURST, CCD_L)   # data-bus time of one 4 KiB page

TINY_DRAM = DRAM(name="tiny", channels=1, ranks=1, bankgroups=1, banks_per_group=2, rows=1024,
                 columns=1024, BL=8, tck_ps=1000, CL=10, CWL=8, tRCD=10, tRP=10, tRAS=24, tRC=34,
                 tCCD_L=6, refresh_policy="none", model="fast")


def tiny(policy="page_swap", local="16KiB", vm="64KiB", **hv):
    return System.from_dict({
        "compute": {"local_memory": local, "page_size": "4KiB", "dram": TINY_DRAM,
                    "vms": [{"name": "vm0", "memory": vm}]},
        "hypervisor": {"policy": policy, "trap": "1us", "map_update": "100ns", "fgra_filter": "20ns",
                       "super_page": "16KiB", **hv},
        "memory_blade": {"capacity": "8MiB", "super_page": "1MiB", "agent_latency": "50ns", "dram": TINY_DRAM},
        "link": {"bandwidth": "1GB/s", "latency": "100ns", "header_bytes": HDR, "max_payload": "4KiB"},
    })


def run(system, times, addrs, ops=None, backend="compiled", **kw):
    ops = ops if ops is not None else [0] * len(addrs)
    return system.run({"time": times, "addr": addrs, "op": ops, "timing": "timestamp"},
                      backend=backend, completions=True, **kw)
