"""The DRAM subsystem model (memctrl -> core/dram.pxi / core/dram.py) against theory, and the
compiled core against its Python twin."""
import re
from pathlib import Path

import numpy as np
import pytest

import hwmodel.core.dram as ref
from hwmodel import _dram_layout as L
from hwmodel.dram import DRAM
from hwmodel.memctrl import dram_params
from dram_helpers import row_stride, run





# -- 1. unloaded latency equals the timing formula ---------------------------------------------
@pytest.mark.parametrize("name", DRAM.presets())
def test_unloaded_read_latency_is_the_formula(name, backend):
    d = DRAM.preset(name, refresh_policy="none")
    gap = 1_000_000   # 1 us apart: every bank timing has expired
    # closed bank, then the same row (hit), then another row of the same bank (conflict)
    addrs = [0, 64 * 3, row_stride(d) * 5]
    out, _, c = run(d, [0, gap, 2 * gap], addrs, backend=backend)
    lat = (out - np.array([0, gap, 2 * gap])).tolist()
    assert lat == [d.unloaded_read_ps("closed"), d.unloaded_read_ps("hit"), d.unloaded_read_ps("conflict")]
    assert (c["row_misses"], c["row_hits"], c["row_conflicts"]) == (1, 1, 1)


@pytest.mark.parametrize("name", DRAM.presets())
def test_closed_page_policy_makes_every_access_a_closed_row(name, backend):
    d = DRAM.preset(name, refresh_policy="none", row_policy="closed")
    gap = 1_000_000
    out, _, c = run(d, [0, gap, 2 * gap], [0, 64, row_stride(d)], backend=backend)
    assert (out - np.array([0, gap, 2 * gap])).tolist() == [d.unloaded_read_ps("closed")] * 3
    assert c["row_misses"] == 3


@pytest.mark.parametrize("name", DRAM.presets())
def test_timeout_policy_keeps_a_row_open_for_its_timeout_only(name, backend):
    d = DRAM.preset(name, refresh_policy="none", row_policy="timeout", row_timeout=1000)
    addrs = [0, 64 * 3, row_stride(d) * 5]   # a row, the same row, another row of the bank
    # 200 cycles apart: every bank timing has expired, the row is still open (open-page latencies)
    t = np.array([0, 200, 400]) * d.tck_ps
    out, _, c = run(d, t, addrs, backend=backend)
    assert (out - t).tolist() == [d.unloaded_read_ps(s) for s in ("closed", "hit", "conflict")]
    # 2,000 cycles apart: each row was closed by the timeout, so every access opens its row
    t = np.array([0, 2000, 4000]) * d.tck_ps
    out, _, c = run(d, t, addrs, backend=backend)
    assert (out - t).tolist() == [d.unloaded_read_ps("closed")] * 3
    assert (c["row_misses"], c["row_hits"], c["row_conflicts"]) == (3, 0, 0)


def test_timeout_closes_a_row_no_earlier_than_its_precharge_may_issue(backend):
    # a timeout shorter than tRAS: the PRE waits for tRAS after the ACT, then tRP, then the next ACT
    d = DRAM.preset("DDR4-2400", refresh_policy="none", row_policy="timeout", row_timeout=1)
    t = np.array([0, (d.tRAS + 2) * d.tck_ps])
    out, _, c = run(d, t, [0, 64], backend=backend)   # the same row, after the timeout
    act2 = max(d.tRAS + d.tRP, d.tRC) * d.tck_ps      # PRE at tRAS (not before), ACT tRP later or at tRC
    assert out[1] == act2 + (d.tRCD + d.CL + d.burst_cycles) * d.tck_ps
    assert c["row_misses"] == 2


# -- 2. streaming bandwidth approaches the bus peak, never exceeds it; refresh costs tRFC/tREFI --
def _stream_bw(d: DRAM, n: int, backend="compiled"):
    out, _, c = run(d, np.zeros(n, np.int64), np.arange(n, dtype=np.int64) * 64, backend=backend)
    return c["dram_bytes"] / (out.max() * 1e-12), c   # data-bus bytes (LPDDR4 moves 128 B per 64 B line)


@pytest.mark.parametrize("name", DRAM.presets())
def test_streaming_reads_approach_the_bus_peak(name):
    # bank groups (and channels) interleaved line by line so that tCCD_S, not tCCD_L, paces the bus
    d = DRAM.preset(name, refresh_policy="none", address_mapping="rorabacobgch")
    bw, c = _stream_bw(d, 200_000)
    pace = d.tCCD_S if d.bankgroups > 1 else d.tCCD_L
    ceiling = d.peak_bytes_per_s * d.burst_cycles / max(d.burst_cycles, pace)
    assert bw <= d.peak_bytes_per_s
    assert bw >= 0.95 * ceiling, (bw / 1e9, ceiling / 1e9)


def test_streaming_within_one_bank_is_paced_by_tccd_l():
    d = DRAM.preset("DDR4-2400", refresh_policy="none")   # rochrababgco: a row of lines per bank
    bw, c = _stream_bw(d, 100_000)
    ceiling = d.peak_bytes_per_s * d.burst_cycles / d.tCCD_L
    assert 0.95 * ceiling <= bw <= 1.01 * ceiling   # row changes move to the next bank group
    assert c["read_row_hits"] / c["read_cmds"] > 0.99


@pytest.mark.parametrize("name", ["DDR4-2400", "DDR4-3200", "DDR3-1600"])
def test_refresh_costs_trfc_over_trefi(name):
    base = DRAM.preset(name, address_mapping="rorabacobgch")
    off, _ = _stream_bw(base.replace(refresh_policy="none"), 400_000)
    on, c = _stream_bw(base, 400_000)
    loss = 1 - on / off
    assert c["refreshes"] > 10
    # every refresh blocks its rank for tRFC (plus the precharge before it) once per tREFI
    assert base.tRFC / base.tREFI <= loss <= 1.25 * (base.tRFC + base.tRP + base.tRAS) / base.tREFI, loss


# -- queues, write buffer, refresh semantics ---------------------------------------------------
def test_writes_are_posted_drained_and_forward_to_reads(backend):
    d = DRAM.preset("DDR4-2400", refresh_policy="none")
    n = d.write_buf_size
    t = np.arange(n + 1, dtype=np.int64) * 100_000
    addr = np.arange(n + 1, dtype=np.int64) * 4096
    w = np.ones(n + 1, np.uint8)
    w[-1] = 0
    addr[-1] = addr[3]      # read a line that was written: it comes from the write buffer
    out, st, c = run(d, t[:n - 1].tolist() + [t[n]], addr[:n - 1].tolist() + [addr[n]],
                     w[:n - 1].tolist() + [0], backend=backend)
    assert out[:n - 1].tolist() == t[:n - 1].tolist()          # posted: done when accepted
    assert c["write_cmds"] == 0 and c["write_drains"] == 0     # below the drain mark: still buffered
    assert out[-1] == t[n] + d.tck_ps and c["read_forwards"] == 1
    out, st, c = run(d, t[:n], addr[:n], np.ones(n, np.uint8), backend=backend)
    assert c["write_drains"] == 1 and c["write_cmds"] == n     # the n-th write starts a drain
    assert c["dram_bytes"] == n * 64


def test_a_full_read_queue_back_pressures(backend):
    d = DRAM.preset("DDR4-2400", refresh_policy="none")
    n = 4 * (d.trans_queue_size + d.cmd_queue_size)
    out, st, c = run(d, np.zeros(n, np.int64), np.arange(n, dtype=np.int64) * 64, backend=backend)
    assert c["read_queue_wait_ps"] > 0
    assert np.all(np.diff(out) > 0)


def test_refresh_closes_rows_and_is_counted(backend):
    d = DRAM.preset("DDR4-2400")
    first_due = d.tREFI // d.ranks * d.tck_ps       # rank 0, as DRAMsim3 staggers it
    out, _, c = run(d, [0, first_due + 1000], [0, 64], backend=backend)
    assert c["refreshes"] == 1 and c["row_misses"] == 2 and c["row_hits"] == 0
    # the second read waits for tRFC after the refresh, then opens the row again
    assert out[1] - (first_due + 1000) >= d.t_ps("tRFC")


def test_fr_fcfs_serves_queued_row_hits_before_the_row_switch(backend):
    d = DRAM.preset("DDR4-2400", refresh_policy="none")
    rs = row_stride(d)
    # row A opening; B (a row switch, whose PRE must wait for tRAS) and A twice more, queued behind
    t = [0, 0, 830, 1660]
    addr = [0, rs, 64, 128]
    fr, _, cfr = run(d, t, addr, backend=backend)
    fc, _, cfc = run(d.replace(scheduler="fcfs"), t, addr, backend=backend)
    assert cfr["bypass_hits"] == 2 and cfr["row_hits"] == 2
    assert cfc["bypass_hits"] == 0 and cfc["row_conflicts"] == 2 and cfc["row_hits"] == 1
    assert fr[2] < fr[1] and fc[2] > fc[1]


# -- 4. differential: the compiled core equals its Python twin ---------------------------------
CONFIGS = [
    dict(),
    dict(row_policy="closed"),
    dict(scheduler="fcfs"),
    dict(channels=2, ranks=1, bank_xor=True),
    dict(refresh_policy="rank_level_simultaneous", trans_queue_size=8, cmd_queue_size=2, write_buf_size=4),
]


@pytest.mark.parametrize("cfg", range(len(CONFIGS)))
def test_compiled_equals_reference_on_random_streams(cfg):
    d = DRAM.preset("DDR4-2400", **CONFIGS[cfg])
    rng = np.random.default_rng(cfg)
    n = 6000
    t = np.cumsum(rng.integers(0, 40, n)) * 830 + rng.integers(0, 830, n)
    t[::50] -= 3000                                         # a little out of order, as swap traffic is
    t = np.maximum(t, 0)
    hot = rng.integers(0, 1 << 20, 16) * 64
    addr = np.where(rng.random(n) < 0.5, hot[rng.integers(0, 16, n)],
                    rng.integers(0, d.capacity_bytes // 64, n) * 64)
    w = (rng.random(n) < 0.3).astype(np.uint8)
    a = run(d, t, addr, w, "compiled")
    b = run(d, t, addr, w, "reference")
    assert a[0].tolist() == b[0].tolist()
    assert a[2] == b[2]
    for k in a[1]:
        assert a[1][k].tolist() == b[1][k].tolist(), k


@pytest.mark.parametrize("policy", ["open", "closed", "timeout"])
def test_rank_ready_is_the_latest_bank_free_for_refresh(policy):
    # a refresh starts once every bank of its rank is precharged; the rank's READY field keeps that
    # time as a running maximum instead of a scan of its banks, which is exact only if it equals
    # the scan at all times: PRE_OK + tRP of an open bank, ACT_OK of a closed one
    d = DRAM.preset("DDR4-2400", row_policy=policy, ranks=2)
    p = dram_params(d)
    st = L.new_dram_state(p)
    rng = np.random.default_rng(3)
    nb = d.banks // d.ranks
    for k in range(30):
        t = np.sort(rng.integers(0, 200_000, 200)) + k * 200_000
        addr = np.where(rng.random(200) < 0.5, rng.integers(0, 64, 200) * row_stride(d),
                        rng.integers(0, d.capacity_bytes // 64, 200) * 64)
        run(d, t, addr, (rng.random(200) < 0.3).astype(np.uint8), "compiled", st)
        bank = st["bank"].reshape(-1, len(L.BANK_FIELDS))
        free = np.where(st["open_row"] >= 0, bank[:, L.DB["PRE_OK"]] + p[L.D["T_RP"]], bank[:, L.DB["ACT_OK"]])
        ready = st["rank"].reshape(-1, len(L.RANK_FIELDS))[:, L.DR["READY"]]
        assert ready.tolist() == free.reshape(-1, nb).max(axis=1).tolist()


@pytest.mark.parametrize("backend_", ["compiled", "reference"])
def test_run_n_then_m_equals_run_n_plus_m(backend_):
    d = DRAM.preset("DDR4-2400")
    rng = np.random.default_rng(7)
    n = 4000
    t = np.cumsum(rng.integers(0, 20, n)) * 830
    addr = rng.integers(0, 1 << 24, n) * 64
    w = (rng.random(n) < 0.3).astype(np.uint8)
    whole = run(d, t, addr, w, backend_)
    st = L.new_dram_state(dram_params(d))
    first = run(d, t[:1500], addr[:1500], w[:1500], backend_, st)
    saved = {k: v.copy() for k, v in st.items()}
    second = run(d, t[1500:], addr[1500:], w[1500:], backend_, saved)
    assert first[0].tolist() + second[0].tolist() == whole[0].tolist()
    for k in whole[1]:
        assert saved[k].tolist() == whole[1][k].tolist(), k


def test_block_transfers_are_not_posted_and_equal_on_both_backends():
    # dram_block is cdef; through the Python twin: a page write completes when its data is written
    d = DRAM.preset("DDR4-2400", refresh_policy="none")
    p = dram_params(d)
    m = ref.Dram(p, L.new_dram_state(p), "")
    done = m.block(0, 4096, 0, 1)
    bursts = 4096 // d.burst_bytes
    assert done == (d.tRCD + d.CWL + d.burst_cycles + (bursts - 1) * max(d.burst_cycles, d.tCCD_L)) * d.tck_ps


def test_record_fields_in_the_pxi_match_the_layout():
    text = (Path(L.__file__).parent / "core" / "dram.pxi").read_text()
    enums = {m.group(1): int(m.group(2)) for m in re.finditer(r"^\s+(D[BRH]_\w+) = (\d+)$", text, re.M)}
    for prefix, names in (("DB_", L.BANK_FIELDS), ("DR_", L.RANK_FIELDS), ("DH_", L.CHAN_FIELDS)):
        assert enums[prefix + "N"] == len(names)
        for i, name in enumerate(names):
            if prefix + name in enums:
                assert enums[prefix + name] == i, name
    assert all(k[3:] in L.BANK_FIELDS + L.RANK_FIELDS + L.CHAN_FIELDS or k.endswith("_N") for k in enums)


def test_bank_level_refresh_is_refused():
    with pytest.raises(ValueError, match="bank_level_staggered"):
        dram_params(DRAM.preset("DDR4-2400", refresh_policy="bank_level_staggered"))
