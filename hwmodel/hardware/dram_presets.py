"""Built-in DRAM presets, named as the field names them; `DRAM.preset(name)` builds one.

Each entry gives every DRAM field that differs between presets, with its source. Where DRAMsim3
ships a configuration (the files in tests/data/dramsim3/), the preset is exactly what
`DRAM.from_dramsim3_ini` makes of that file (a test checks it), including DRAMsim3's rounded tCK
(0.83 ns for 2400 MT/s, 0.63 ns for 3200 MT/s). Otherwise the values are JEDEC speed-bin figures as
Ramulator 2 tabulates them. Timings are in cycles of tCK (an entry's `ns` dict holds figures
given in time, converted by `DRAM.with_ns`); the controller fields (queues, scheduler,
refresh policy) keep the DRAM defaults unless a source says otherwise.

Power (VDD in V, IDD currents in mA per device) comes from the same DRAMsim3 file's [power]
section, with DRAMsim3's default for a key the file leaves out (IDD5PB 5 mA); DDR5-4800 names its
data sheet below.
"""
from __future__ import annotations

_DDR4_ORG = dict(protocol="DDR4", channels=1, ranks=2, bankgroups=4, banks_per_group=4, rows=65536,
                 columns=1024, device_width=8, bus_width=64, BL=8)

PRESETS = {
    # DRAMsim3 DDR3_8Gb_x8_1600.ini: 16 GiB, 2 ranks of 8 x8 devices. Its refresh interval is
    # spelt `REFI = 6240` (7.8 us), which DRAMsim3 itself ignores (it then uses 7800 cycles).
    "DDR3-1600": dict(
        protocol="DDR3", channels=1, ranks=2, bankgroups=1, banks_per_group=8, rows=65536,
        columns=2048, device_width=8, bus_width=64, BL=8,
        tck_ps=1250, CL=11, CWL=8, tRCD=11, tRP=11, tRAS=28, tRC=39, tWR=12, tRTP=6,
        tCCD_S=4, tCCD_L=4, tRRD_S=6, tRRD_L=6, tFAW=32, tWTR_S=6, tWTR_L=6,
        tRFC=280, tREFI=6240, tRTRS=1, tRPRE=0, tWPRE=0,
        address_mapping="rochrababgco",
        VDD=1.35, IDD0=67, IDD2P=11, IDD2N=36, IDD3P=36, IDD3N=51,
        IDD4W=125, IDD4R=125, IDD5AB=245, IDD5PB=5, IDD6x=24),
    # DRAMsim3 DDR4_8Gb_x8_2400.ini (the cross-check configuration): 16 GiB, 2 ranks, tCK 0.83 ns.
    "DDR4-2400": dict(
        **_DDR4_ORG,
        tck_ps=830, CL=17, CWL=12, tRCD=17, tRP=17, tRAS=39, tRC=56, tWR=18, tRTP=9,
        tCCD_S=4, tCCD_L=6, tRRD_S=4, tRRD_L=6, tFAW=26, tWTR_S=3, tWTR_L=9,
        tRFC=420, tREFI=9360, tRTRS=1, tRPRE=1, tWPRE=1,
        address_mapping="rochrababgco",
        VDD=1.2, IDD0=48, IDD2P=25, IDD2N=34, IDD3P=37, IDD3N=43,
        IDD4W=123, IDD4R=135, IDD5AB=250, IDD5PB=5, IDD6x=30),
    # DRAMsim3 DDR4_8Gb_x8_3200.ini: 16 GiB, 2 ranks, tCK 0.63 ns (JEDEC 0.625 ns), CL/tRCD/tRP 22.
    "DDR4-3200": dict(
        **_DDR4_ORG,
        tck_ps=630, CL=22, CWL=16, tRCD=22, tRP=22, tRAS=52, tRC=74, tWR=24, tRTP=12,
        tCCD_S=4, tCCD_L=8, tRRD_S=4, tRRD_L=8, tFAW=34, tWTR_S=4, tWTR_L=12,
        tRFC=560, tREFI=12480, tRTRS=1, tRPRE=1, tWPRE=1,
        address_mapping="rochrababgco",
        VDD=1.2, IDD0=57, IDD2P=25, IDD2N=37, IDD3P=43, IDD3N=52,
        IDD4W=150, IDD4R=168, IDD5AB=250, IDD5PB=5, IDD6x=30),
    # DDR5-4800B (JEDEC JESD79-5 bin 40-39-39) as Ramulator 2 tabulates it (DDR5.cpp timing preset
    # DDR5_4800B, tCK 416 ps, nBL 8; org DDR5_16Gb_x8: 8 bank groups x 4 banks, 64 Ki rows, 1 Ki
    # columns). One 16 GiB single-rank DIMM = two independent 32-bit sub-channels, each BL16 = 64 B.
    # Cycle values are Ramulator 2's; the `ns` ones are JEDEC figures Ramulator derives per density
    # or per rate (tCCD_L = tRRD_L = max(8 nCK, 5 ns), tWTR_S/L = 2.5/10 ns, tRFC1 = 295 ns for
    # 16 Gb, tREFI = 3.9 us), turned into cycles of 416 ps by DRAM.with_ns (JEDEC rounding).
    "DDR5-4800": dict(
        protocol="DDR5", channels=2, ranks=1, bankgroups=8, banks_per_group=4, rows=65536,
        columns=1024, device_width=8, bus_width=32, BL=16,
        tck_ps=416, CL=40, CWL=38, tRCD=39, tRP=39, tRAS=77, tRC=116, tWR=72, tRTP=18,
        tCCD_S=8, tRRD_S=8, tFAW=32, tRTRS=2, tRPRE=1, tWPRE=2,
        address_mapping="rochrababgco",
        ns=dict(tCCD_L="5ns", tRRD_L="5ns", tWTR_S="2.5ns", tWTR_L="10ns", tRFC="295ns", tREFI="3.9us"),
        # Power: Micron, "16Gb DDR5 SDRAM Die Rev A" data sheet (16gb_ddr5_sdram_diereva.pdf, on
        # micron.com), IDD limits for DDR5-4800, VDD = 1.1 V, as gem5 carries them (its DDR5
        # interface, components/memory/dram_interfaces/ddr5.py): IDD0 122, IDD2P 88, IDD2N 92,
        # IDD3P 140, IDD3N 142, IDD4W 479, IDD4R 530, IDD5B 277 (all-bank refresh: IDD5AB),
        # IDD5C 135 (same-bank refresh: IDD5PB, not modelled), IDD6N 102 mA. With 32 banks open
        # IDD3N exceeds IDD0, so DRAMsim3's ACT increment (IDD0 x tRC - IDD3N x tRAS - IDD2N x
        # tRP) is negative here: the energy report says so (hwmodel.dram_energy).
        VDD=1.1, IDD0=122, IDD2P=88, IDD2N=92, IDD3P=140, IDD3N=142, IDD4W=479, IDD4R=530,
        IDD5AB=277, IDD5PB=135, IDD6x=102),
    # DRAMsim3 LPDDR4_8Gb_x16_2400.ini: 2 ranks of 4 x16 devices on a 64-bit bus, BL16 (128 B).
    "LPDDR4-2400": dict(
        protocol="LPDDR4", channels=1, ranks=2, bankgroups=2, banks_per_group=4, rows=65536,
        columns=1024, device_width=16, bus_width=64, BL=16,
        tck_ps=830, CL=17, CWL=14, tRCD=15, tRP=15, tRAS=32, tRC=47, tWR=30, tRTP=12,
        tCCD_S=4, tCCD_L=6, tRRD_S=8, tRRD_L=8, tFAW=32, tWTR_S=8, tWTR_L=16,
        tRFC=392, tREFI=8660, tRTRS=1, tRPRE=1, tWPRE=1,
        address_mapping="rochrababgco",
        VDD=1.2, IDD0=80, IDD2P=25, IDD2N=34, IDD3P=41, IDD3N=47,
        IDD4W=228, IDD4R=243, IDD5AB=280, IDD5PB=5, IDD6x=30),
    # DRAMsim3 HBM2_8Gb_x128.ini: 8 x 128-bit channels, 1 GiB each, BL4, tCK 1 ns (2 Gb/s/pin),
    # 256 GB/s per stack. HBM columns are 2 device widths (64 in the file -> 128). tRTP is the
    # file's tRTP_L; tRTRS is DRAMsim3's default (2). (Ramulator 2's HBM2_2Gbps bin is much
    # faster: nCL = nRCD = nRP = 7, nRAS 17.)
    "HBM2": dict(
        protocol="HBM", channels=8, ranks=1, bankgroups=4, banks_per_group=4, rows=32768,
        columns=128, device_width=128, bus_width=128, BL=4,
        tck_ps=1000, CL=14, CWL=4, tRCD=14, tRCDWR=14, tRP=14, tRAS=34, tRC=48, tWR=16, tRTP=6,
        tCCD_S=1, tCCD_L=2, tRRD_S=4, tRRD_L=6, tFAW=30, tWTR_S=6, tWTR_L=8,
        tRFC=260, tREFI=3900, tREFIb=128, tRTRS=2, tRPRE=1, tWPRE=1,
        address_mapping="rorabgbachco",
        VDD=1.2, IDD0=65, IDD2P=28, IDD2N=40, IDD3P=40, IDD3N=55,
        IDD4W=500, IDD4R=390, IDD5AB=250, IDD5PB=5, IDD6x=31),
    # DRAMsim3 GDDR6_8Gb_x16.ini: one 128-bit channel of 8 x16 devices, 16 banks in one group
    # (bankgroup_enable = false), BL16 with DRAMsim3's GDDR6 burst of BL/16 = 1 tCK (0.66 ns).
    # The file asks for 4096 MiB but one rank is 8 GiB; DRAMsim3 (and we) use one rank.
    # GDDR columns are BL device widths (128 in the file -> 2048). tRCD = tRCDRD, tRTP = tRTP_L.
    "GDDR6": dict(
        protocol="GDDR6", channels=1, ranks=1, bankgroups=1, banks_per_group=16, rows=16384,
        columns=2048, device_width=16, bus_width=128, BL=16, transfers_per_tck=16,
        tck_ps=660, CL=24, CWL=16, tRCD=24, tRCDWR=20, tRP=24, tRAS=54, tRC=78, tWR=16, tRTP=3,
        tCCD_S=3, tCCD_L=4, tRRD_S=9, tRRD_L=9, tFAW=32, tWTR_S=7, tWTR_L=7,
        tRFC=126, tREFI=11862, tRFCb=30, tREFIb=238, tRTRS=1, tRPRE=1, tWPRE=1,
        address_mapping="rochrababgco",
        VDD=1.35, IDD0=71, IDD2P=45, IDD2N=60, IDD3P=50, IDD3N=61,
        IDD4W=231, IDD4R=248, IDD5AB=286, IDD5PB=45, IDD6x=35),
}

# Which DRAMsim3 file each preset reproduces (tests import the file and compare).
DRAMSIM3_SOURCES = {
    "DDR3-1600": "DDR3_8Gb_x8_1600.ini",
    "DDR4-2400": "DDR4_8Gb_x8_2400.ini",
    "DDR4-3200": "DDR4_8Gb_x8_3200.ini",
    "LPDDR4-2400": "LPDDR4_8Gb_x16_2400.ini",
    "HBM2": "HBM2_8Gb_x128.ini",
    "GDDR6": "GDDR6_8Gb_x16.ini",
}
