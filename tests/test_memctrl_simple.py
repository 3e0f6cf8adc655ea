"""The simple DRAM model (DRAM.model = "simple"): exact row-buffer latencies on both backends, the
compiled core against its Python twin, its small state, and the `model` field as configuration."""
import re
from pathlib import Path

import numpy as np
import pytest

import hwmodel.core.dram_fast as ref   # the one-pass models' twin (fast, simple)
from hwmodel import DRAM, System
from hwmodel import _dram_layout as L
from hwmodel.core.engine import Engine
from hwmodel.memctrl import dram_params
from dram_helpers import row_stride, run




GAP = 1_000_000   # 1 us: every bank and bus time has expired


@pytest.mark.parametrize("name", DRAM.presets())
@pytest.mark.parametrize("write", [0, 1])
def test_simple_latencies_are_the_row_buffer_formula(name, write, backend):
    d = DRAM.preset(name, model="simple")   # refresh stays on in the preset: the simple model ignores it
    # closed bank, the same row (hit), another row of the same bank (conflict)
    t = np.array([0, GAP, 2 * GAP])
    out, _, c = run(d, t, [0, 64 * 3, row_stride(d) * 5], [write] * 3, backend)
    cas = d.CWL if write else d.CL
    burst = d.burst_cycles * (64 // d.burst_bytes or 1)   # bursts of one 64-byte line
    expect = [(d.tRCD + cas + burst) * d.tck_ps, (cas + burst) * d.tck_ps, (d.tRP + d.tRCD + cas + burst) * d.tck_ps]
    assert (out - t).tolist() == expect
    if not write and burst == d.burst_cycles:
        assert expect == [d.unloaded_read_ps(s) for s in ("closed", "hit", "conflict")]
    assert (c["row_misses"], c["row_hits"], c["row_conflicts"]) == (1, 1, 1)
    assert (c["writes"], c["reads"]) == ((3, 0) if write else (0, 3))
    assert c["refreshes"] == c["write_drains"] == c["read_forwards"] == 0   # nothing posted or refreshed


@pytest.mark.parametrize("name", ["DDR4-2400", "HBM2", "LPDDR4-2400"])
def test_simple_closed_page_and_back_to_back(name, backend):
    d = DRAM.preset(name, model="simple", row_policy="closed")
    out, _, c = run(d, [0, GAP], [0, 64], backend=backend)
    assert c["row_misses"] == 2 and (out - [0, GAP]).tolist() == [(out[0] - 0)] * 2
    # open page, two reads to one row at once: the second waits for the data bus only
    d = d.replace(row_policy="open")
    out, _, c = run(d, [0, 0], [0, 64], backend=backend)
    line = (64 // d.burst_bytes or 1) * d.burst_ps()
    assert out[1] == out[0] + line and c["row_hits"] == 1


@pytest.mark.parametrize("name", ["DDR4-2400", "HBM2", "LPDDR4-2400"])
def test_simple_timeout_policy(name, backend):
    d = DRAM.preset(name, model="simple", row_policy="timeout", row_timeout=1000)
    addrs = [0, 64 * 3, row_stride(d) * 5]
    near = np.array([0, 200, 400]) * d.tck_ps          # within the timeout: open-page formulas
    out, _, c = run(d, near, addrs, backend=backend)
    assert (out - near).tolist() == [d.unloaded_read_ps(s) for s in ("closed", "hit", "conflict")]
    far = np.array([0, 2000, 4000]) * d.tck_ps         # past it: every row was closed
    out, _, c = run(d, far, addrs, backend=backend)
    assert (out - far).tolist() == [d.unloaded_read_ps("closed")] * 3 and c["row_misses"] == 3


def test_simple_block_transfer_is_one_burst_train():
    d = DRAM.preset("DDR4-2400", model="simple")
    p = dram_params(d)
    m = ref.Dram(p, L.new_dram_state(p), "")
    assert isinstance(m, ref.SimpleDram)
    done = m.block(0, 4096, 0, 1)
    assert done == (d.tRCD + d.CWL + (4096 // d.burst_bytes) * d.burst_cycles) * d.tck_ps


def test_simple_state_holds_only_what_it_uses():
    d = DRAM.preset("DDR4-2400", model="simple", channels=2)
    st = L.new_dram_state(dram_params(d))
    n_b = d.channels * d.banks
    assert st["open_row"].shape == (n_b,) and st["bank"].shape == (n_b,) and st["chan"].shape == (2,)
    for k in ("cq", "bg_act", "rank", "bus", "tq", "wb"):
        assert st[k].shape == (1,), k          # bound by the core, never used
    full = L.new_dram_state(dram_params(d.replace(model="fast")))
    # rank activity (energy) is the same in both models; the timing state is a fraction
    assert all(st[k].shape == full[k].shape for k in ("ract", "rev", "rmk"))
    timing = lambda s: sum(a.size for k, a in s.items() if k not in ("ract", "rev", "rmk"))
    assert timing(st) * 8 < timing(full)


CONFIGS = [dict(), dict(row_policy="closed"), dict(channels=2, ranks=1, bank_xor=True),
           dict(address_mapping="rorabacobgch", channels=4)]


@pytest.mark.parametrize("cfg", range(len(CONFIGS)))
def test_simple_compiled_equals_reference(cfg):
    d = DRAM.preset("DDR4-2400", model="simple", **CONFIGS[cfg])
    rng = np.random.default_rng(cfg)
    n = 8000
    t = np.cumsum(rng.integers(0, 40, n)) * 830 + rng.integers(0, 830, n)
    t[::50] -= 3000
    t = np.maximum(t, 0)
    hot = rng.integers(0, 1 << 20, 16) * 64
    addr = np.where(rng.random(n) < 0.5, hot[rng.integers(0, 16, n)], rng.integers(0, d.capacity_bytes // 64, n) * 64)
    w = (rng.random(n) < 0.3).astype(np.uint8)
    a = run(d, t, addr, w, "compiled")
    b = run(d, t, addr, w, "reference")
    assert a[0].tolist() == b[0].tolist() and a[2] == b[2]
    for k in a[1]:
        assert a[1][k].tolist() == b[1][k].tolist(), k
    # run N then M == run N + M
    st = L.new_dram_state(dram_params(d))
    first = run(d, t[:3000], addr[:3000], w[:3000], "compiled", st)
    second = run(d, t[3000:], addr[3000:], w[3000:], "compiled", {k: v.copy() for k, v in st.items()})
    assert first[0].tolist() + second[0].tolist() == a[0].tolist()
    assert second[2] == a[2]


def test_simple_system_runs_identically_on_both_backends():
    s = System.from_dict({
        "compute": {"local_memory": "256KiB", "vms": [{"memory": "1MiB"}],
                    "dram": {"preset": "DDR4-2400", "model": "simple"}},
        "hypervisor": {"policy": "page_swap"},
        "memory_blade": {"capacity": "16MiB", "super_page": "1MiB",
                         "dram": {"channels": 2, "ranks": 4, "model": "simple"}},
    })
    rng = np.random.default_rng(3)
    n = 3000
    addr = rng.integers(0, (1 << 20) // 64, n).astype(np.uint64) * 64
    t = np.cumsum(rng.integers(0, 3000, n)).astype(np.int64)
    op = (rng.random(n) < 0.3).astype(np.uint8)
    vm = np.zeros(n, np.uint16)
    res = []
    for backend in ("compiled", "reference"):
        e = Engine(s.compile("timestamp"), backend)
        done = e.run_chunk(t, addr, op, vm, want_completions=True)
        res.append((np.asarray(done).tolist(), {k: v.tolist() for k, v in e.state.items()}))
    assert res[0] == res[1]
    assert res[0][1]["local_counters"][L.DC["row_hits"]] > 0
    assert res[0][1]["blade_counters"][L.DC["dram_bytes"]] > 0


def test_model_field_validates_and_round_trips(tmp_path):
    assert DRAM().model == "fast"       # the default until the detailed model is fast in a whole system
    d = DRAM.preset("DDR4-3200").replace(model="simple")
    assert d.model == "simple" and dram_params(d)[L.D["MODEL"]] == L.MODEL_SIMPLE
    assert dram_params(d.replace(model="detailed"))[L.D["MODEL"]] == L.MODEL_DETAILED
    assert dram_params(d.replace(model="fast"))[L.D["MODEL"]] == L.MODEL_FAST
    with pytest.raises(ValueError, match=r"dram.model: 'exact' is not one of 'simple', 'fast', 'detailed'"):
        DRAM(model="exact")
    with pytest.raises(ValueError, match=r"compute.dram.model: 'exact' is not one of"):
        System.from_dict({"compute": {"dram": {"preset": "DDR4-2400", "model": "exact"}}})
    s = System.from_dict({"compute": {"dram": {"preset": "DDR4-2400", "model": "simple"}},
                          "memory_blade": {"dram": {"channels": 2, "ranks": 4, "model": "simple"}}})
    assert s.compute.dram.model == s.memory_blade.dram.model == "simple"
    path = tmp_path / "s.yaml"
    s.to_yaml(path)
    assert re.search(r"dram:(\n\s+.*)*\n\s+model: simple", path.read_text())
    again = System.from_yaml(path)
    assert again == s and again.compute.dram.model == "simple" and again.memory_blade.dram.model == "simple"
    assert again.compile().signature() == s.compile().signature()
    # and from the command line's key.path=value overrides
    o = System.from_dict({}, ["compute.dram.model=simple"])
    assert o.compute.dram.model == "simple" and o.memory_blade.dram.model == "fast"


def test_simple_model_takes_any_refresh_policy():
    # it models no refresh, so per-bank refresh (refused by the detailed model) is accepted
    dram_params(DRAM.preset("DDR4-2400", model="simple", refresh_policy="bank_level_staggered"))
    with pytest.raises(ValueError, match="bank_level_staggered"):
        dram_params(DRAM.preset("DDR4-2400", refresh_policy="bank_level_staggered"))


def test_model_codes_in_the_pxi_match_the_layout():
    text = (Path(L.__file__).parent / "core" / "dram.pxi").read_text()
    codes = {m.group(1): int(m.group(2)) for m in re.finditer(r"^\s+MODEL_(\w+) = (\d+)", text, re.M)}
    assert codes == {k.upper(): v for k, v in L.MODELS.items()}
