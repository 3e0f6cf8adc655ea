"""The hardware, one module per part the card names: compute and memory blades (`blades`), the
hypervisor, the memory blade's buffers (`buffer`), the link, the switch, the SNIC and its link
scheduler (`snic`), the protocol agent, storage and the I/O driver, the service processor, the
last-level cache and the processor-side core model (`cpu`), the DRAM device (`device`) and the
memory controller that drives it (`controller`; `hwmodel.dram.DRAM` is the two as one record).

Frozen dataclasses with units in their values; a bad value fails at construction naming its
parameter path. Hardware describes: it never imports the core, the studies or the CLI (a test
checks it).
"""
