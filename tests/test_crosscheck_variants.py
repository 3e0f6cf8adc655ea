"""The detailed DRAM model moves the way DRAMsim3 moves when one controller setting changes
(tests/data/crosscheck/variants, README there: each folder is the base DRAMsim3 configuration with
one `[system]` line changed, and DRAMsim3's output on the six cross-check traces).

For every (trace, setting) pair, from the base run to the variant's run, as DRAMsim3 measured it
(average read latency in cycles from acceptance, read row-hit rate over read commands):
- the latency changes the same way (up, down; a change under 1% counts as none either way);
- the model's variant/base latency ratio is within 15% of DRAMsim3's ratio;
- the read row-hit rate changes by the same amount within 3 percentage points.
The base configuration itself is held to issue 3's bands on all six traces by
tests/test_crosscheck_dramsim3.py (the detailed model meets every one). Where a pair misses, KNOWN
names the tolerance the model reaches and why; the test holds it to that and fails when the pair
meets the targets, so that KNOWN gets tightened.
"""
import json

import numpy as np
import pytest

import hwmodel._core as core
from hwmodel import _dram_layout as L
from hwmodel.dram import DRAM
from hwmodel.memctrl import dram_params
from test_crosscheck_dramsim3 import TRACES, load_trace

from conftest import REFERENCE

VARIANTS = sorted(p.name for p in (REFERENCE / "crosscheck" / "variants").iterdir() if p.is_dir())
BASE_INI = REFERENCE / "dramsim3" / "DDR4_8Gb_x8_2400.ini"
FLAT = 0.01     # a latency change smaller than this is no change (no direction to agree on)

# Pairs the model misses: (latency-ratio tolerance reached, whether the direction may differ, why).
# (random_read_gap2 with simultaneous refresh meets the targets: x0.969 against DRAMsim3's x0.913.)
_SIMULTANEOUS = ("DRAMsim3's RANK_LEVEL_SIMULTANEOUS refreshes rank 0 alone every tREFI (a `break` in "
                 "Refresh::InsertRefresh) where the model refreshes every rank, as the policy means "
                 "(core.dram_ctrl, step 1): DRAMsim3's latency falls because ranks 1+ are never "
                 "refreshed; the model's rises or stays as refreshes of both ranks bunch up")
KNOWN = {
    ("stream_read_gap8", "refresh_simultaneous"): (0.35, True, _SIMULTANEOUS),      # measured 32.3%
    ("random_read_gap50", "refresh_simultaneous"): (0.10, True, _SIMULTANEOUS),     # 9.4%
    ("random_rw30_gap12", "refresh_simultaneous"): (0.13, True, _SIMULTANEOUS),     # 12.2%
    ("hotrows_rw20_gap6", "refresh_simultaneous"): (0.35, True, _SIMULTANEOUS),     # 31.8%
    ("two_streams_bursty", "refresh_simultaneous"): (0.11, True, _SIMULTANEOUS),    # 10.1%
}


def ours(ini, name):
    """(average read latency in cycles from acceptance, read row-hit rate) of the detailed model."""
    d = DRAM.from_dramsim3_ini(ini).replace(model="detailed")
    addr, w, cyc = load_trace(REFERENCE, name)
    p = dram_params(d)
    st = L.new_dram_state(p)
    core.dram_run(p, st, "", cyc * d.tck_ps, addr, w, np.zeros(len(addr), np.int64))
    c = dict(zip(L.DRAM_COUNTER_NAMES, st["counters"].tolist()))
    return (c["read_latency_sum_ps"] - c["read_queue_wait_ps"]) / c["reads"] / d.tck_ps, \
        c["read_row_hits"] / max(c["read_cmds"], 1)


def theirs(path):
    js = json.loads(path.read_text())["0"]
    return js["average_read_latency"], js["num_read_row_hits"] / max(js["num_read_cmds"], 1)


@pytest.fixture(scope="module")
def base():
    return {name: ours(BASE_INI, name) for name in TRACES}


def _direction(ratio):
    return 0 if abs(ratio - 1) < FLAT else (1 if ratio > 1 else -1)


@pytest.mark.parametrize("variant", VARIANTS)
@pytest.mark.parametrize("name", TRACES)
def test_variant_moves_as_dramsim3(base, name, variant):
    folder = REFERENCE / "crosscheck" / "variants" / variant
    lat, hits = ours(folder / "config.ini", name)
    lat0, hits0 = base[name]
    tlat, thits = theirs(folder / f"{name}.json")
    tlat0, thits0 = theirs(REFERENCE / "crosscheck" / "dramsim3_out" / f"{name}.json")
    r, tr = lat / lat0, tlat / tlat0
    err = abs(r / tr - 1)
    dhits = abs((hits - hits0) - (thits - thits0))
    print(f"{name} {variant}: latency x{r:.3f} (DRAMsim3 x{tr:.3f}), read hits {100 * (hits - hits0):+.1f} pp "
          f"(DRAMsim3 {100 * (thits - thits0):+.1f} pp)")
    assert dhits <= 0.03, f"{name} {variant}: read-hit change off by {100 * dhits:.1f} pp"
    known = KNOWN.get((name, variant))
    if known is None:
        assert _direction(r) == _direction(tr), f"{name} {variant}: latency x{r:.3f}, DRAMsim3 x{tr:.3f}"
        assert err <= 0.15, f"{name} {variant}: latency ratio off DRAMsim3's by {err:.3g}"
        return
    reached, opposite_ok, why = known
    assert err <= reached, f"{name} {variant}: latency ratio off by {err:.3g}, beyond the {reached} reached ({why})"
    if not opposite_ok:
        assert _direction(r) == _direction(tr), f"{name} {variant}: latency x{r:.3f}, DRAMsim3 x{tr:.3f} ({why})"
    assert err > 0.15 or _direction(r) != _direction(tr), f"{name} {variant} now meets the targets: tighten KNOWN"
