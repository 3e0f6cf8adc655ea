"""Seeded fuzzing of what users hand in: trace files (text and compressed, damaged byte by byte),
configurations (any parameter set to a hostile value) and saved states (arrays edited and the file
re-signed, as a deliberate editor would). Every input must either be refused with a ValueError that
names where (file and line, or the parameter path), or run on both backends with identical results:
never a crash, a hang, an exhausted memory or another exception.

Bounded for CI (a few seconds each, derandomized: the same examples every run); set
HWMODEL_FUZZ_EXAMPLES=2000 (and HWMODEL_FUZZ_RANDOM=1 for new examples) for a long hunt. A hang would stall CI, so each test arms faulthandler
to dump the stacks and exit after a generous timeout."""
import bz2
import copy
import dataclasses
import faulthandler
import gzip
import lzma
import os
import re
from contextlib import contextmanager

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from hwmodel import System
from hwmodel.study import docs
from hwmodel.core.engine import Engine, load_state, save_state
from hwmodel.trace import generate, write_trace

EXAMPLES = int(os.environ.get("HWMODEL_FUZZ_EXAMPLES", "0"))
# CI draws the same examples every run; HWMODEL_FUZZ_RANDOM=1 draws new ones (a long hunt)
FUZZ = settings(deadline=None, derandomize=not os.environ.get("HWMODEL_FUZZ_RANDOM"), database=None,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])


def examples(n):
    return settings(FUZZ, max_examples=EXAMPLES or n)


@contextmanager
def watchdog(seconds=120):
    """A hang in the compiled core cannot be interrupted from Python: dump stacks and exit instead."""
    faulthandler.dump_traceback_later(seconds, exit=True)
    try:
        yield
    finally:
        faulthandler.cancel_dump_traceback_later()


def outcome(system, trace, backend, **kw):
    """('ok', counters) or ('error', message) of a run; any other exception propagates (a bug)."""
    try:
        return "ok", system.run(trace, backend=backend, **kw).counters
    except ValueError as e:
        return "error", str(e)


def both(system, trace, **kw):
    """Both backends agree: the same counters, or both refuse (the first refusal names where)."""
    a = outcome(system, trace, "compiled", **kw)
    b = outcome(system, trace, "reference", **kw)
    assert a[0] == b[0], (a, b)
    if a[0] == "ok":
        assert a[1] == b[1]
    return a


def base_system():
    return System.from_dict({
        "compute": {"local_memory": "128KiB", "vms": [{"name": "vm0", "memory": "512KiB"},
                                                     {"name": "vm1", "memory": "512KiB"}]},
        "hypervisor": {"super_page": "64KiB"},
        "memory_blade": {"capacity": "8MiB", "super_page": "1MiB"}})


# -- trace files ----------------------------------------------------------------------------------
SOURCE = generate("uniform", 120, 1 << 20, read_ratio=0.6, seed=4, interval=7)
FORMATS = ["dramsim3", "text", "gem5", "usimm", "ramulator_cpu", "prospero", "native"]
COMPRESS = {"none": lambda b: b, "gz": gzip.compress, "xz": lzma.compress, "bz2": bz2.compress}


def _trace_bytes(fmt, tmp):
    path = tmp / f"src.{fmt}"
    kw = {"timing": "timestamp", "time_unit": "cycle"}
    if fmt == "gem5":
        kw["time_unit"] = "ps"
    if fmt in ("usimm", "ramulator_cpu"):
        kw = {"timing": "gap", "time_unit": "instruction"}
    ch = SOURCE
    if fmt == "ramulator_cpu":     # holds a write only as a read's write-back
        ch = generate("uniform", 120, 1 << 20, read_ratio=1.0, seed=4, interval=7)
    write_trace(path, ch, format=fmt, **kw)
    return path.read_bytes()


_NUMBERS = [b"0", b"-1", b"18446744073709551616", b"9223372036854775807", b"99999999999999999999999",
            b"0x", b"0xFFFFFFFFFFFFFFFFF", b"1e9", b"nan", b"\x00", b"\xff\xfe", b"#", b",", b"\n", b" ", b"READ",
            b"W", b"\r\n", b"1" * 300]


@st.composite
def damage(draw, n):
    """A list of edits of a byte string of length n: overwrite, insert, delete, truncate."""
    edits = []
    for _ in range(draw(st.integers(1, 4))):
        kind = draw(st.sampled_from(["flip", "insert", "delete", "truncate", "token"]))
        pos = draw(st.integers(0, max(n - 1, 0)))
        edits.append((kind, pos, draw(st.integers(0, 255)), draw(st.sampled_from(_NUMBERS))))
    return edits


def _apply(data, edits):
    b = bytearray(data)
    for kind, pos, byte, token in edits:
        pos = min(pos, max(len(b) - 1, 0))
        if kind == "flip" and b:
            b[pos] = byte
        elif kind == "insert":
            b[pos:pos] = bytes([byte])
        elif kind == "delete" and b:
            del b[pos]
        elif kind == "truncate":
            del b[pos:]
        elif kind == "token":
            b[pos:pos] = token
    return bytes(b)


@examples(60)
@given(fmt=st.sampled_from(FORMATS), comp=st.sampled_from(list(COMPRESS)), after=st.booleans(),
       edits=damage(4000), data=st.data())
def test_damaged_trace_files(tmp_path_factory, fmt, comp, after, edits, data):
    """A trace damaged in its text (or in its compressed bytes) is read, or refused naming the
    file; what is read runs identically on both backends or is refused by both."""
    tmp = tmp_path_factory.mktemp("trace")
    raw = _trace_bytes(fmt, tmp)
    if fmt == "native":
        comp = "none"          # an npz inside gzip is refused as such (tested in test_hostile_inputs)
    payload = COMPRESS[comp](raw) if after else COMPRESS[comp](_apply(raw, edits))
    if after:
        payload = _apply(payload, edits)
    path = tmp / f"t.{fmt}" if comp == "none" else tmp / f"t.{fmt}.{comp}"
    path.write_bytes(payload)
    fmt_arg = data.draw(st.sampled_from([None, fmt if fmt != "native" else None]))
    with watchdog():
        status, detail = both(base_system(), str(path), format=fmt_arg)
    if status == "error":
        assert str(path) in detail or "record" in detail, detail


# -- configurations -------------------------------------------------------------------------------
def _fields():
    out = []
    for path, cls, inst in docs.sections():
        for f in dataclasses.fields(cls):
            out.append((path, f.name, docs._default(f)))
    return out


FIELDS = _fields()
HOSTILE = {
    "size": ["0B", "1B", "63B", "64B", "4KiB", "64KiB", "1GiB", "1TiB", "8388608TiB", "9223372036854775809B",
             "-4KiB", "1.5KiB", "1e40B", "1e999999KiB", 0, 1, "x"],
    "time": ["0ns", "1ps", "1us", "1ms", "1s", "1000000s", "1e30s", "-5ns", "0.4ps", "1e999999ns", "nan", 5, ""],
    "bandwidth": ["1B/s", "1e-9B/s", "1KB/s", "8GB/s", "1e30TB/s", "0GB/s", "-1GB/s", "1e999999GB/s", ""],
    "int": [0, 1, 2, 3, 64, 4096, 65535, 65536, 2**31, 2**63, 10**30, -1, True, 1.5],
    "float": [0.0, 1e-300, 0.5, 1.0, 1e300, -1.0, float("nan"), float("inf")],
    "text": ["", "x", "lru", "fifo", "none", "cow", "fgra", "DDR4-2400", "nvme-gen4", "hdd", "on_demand",
             "strict_priority", "wfq", "storage", "peer", "simple", "closed", "timeout"],
    "any": [None, [], {}, [1, 2], {"a": 1}, "1" * 1000],
}


def _kind(default):
    if isinstance(default, bool):
        return "int"
    if isinstance(default, int):
        return "int"
    if isinstance(default, float):
        return "float"
    if isinstance(default, str):
        d = default.strip()
        if re.search(r"(B/s|bps)$", d):
            return "bandwidth"
        if re.search(r"[0-9](B|KiB|MiB|GiB)$", d):
            return "size"
        if re.search(r"[0-9](ps|ns|us|ms|s)$", d):
            return "time"
        return "text"
    return "any"


def _set(data, path, name, value):
    """data[path][name] = value, making the sections on the way mappings again where an earlier
    mutation put a hostile value."""
    node = data
    for part in path.replace("[]", "").split("."):
        if isinstance(node, list):
            if not node or not isinstance(node[0], dict):
                node[:] = [{}]
            node = node[0]
        if not isinstance(node.get(part), (dict, list)):
            node[part] = {"preset": node[part]} if isinstance(node.get(part), str) else {}
        node = node[part]
    if isinstance(node, list):
        if not node or not isinstance(node[0], dict):
            node[:] = [{}]
        node = node[0]
    node[name] = value


BASE = {"compute": {"local_memory": "128KiB", "vms": [{"name": "vm0", "memory": "512KiB"},
                                                     {"name": "vm1", "memory": "512KiB"}]},
        "hypervisor": {"super_page": "64KiB"}, "memory_blade": {"capacity": "8MiB", "super_page": "1MiB"},
        "service": {"interval": "40us"}}
BASES = [   # the default-like system, and ones that reach the storage tier, several blades, a protocol
    BASE,
    {**BASE, "hypervisor": {"policy": "subpage_swap", "super_page": "64KiB"},
     "memory_blade": {"capacity": "1MiB", "super_page": "256KiB"}, "storage": {"device": "nvme-gen4", "units": 2},
     "service": {"regime": "cow", "interval": "50us", "target": "storage"}},
    {"compute": [{"name": "a", "local_memory": "128KiB", "vms": [{"name": "vm0", "memory": "512KiB"}]},
                 {"name": "b", "local_memory": "64KiB", "vms": [{"name": "vm1", "memory": "512KiB"}]}],
     "hypervisor": {"super_page": "64KiB"},
     "memory_blade": {"capacity": "8MiB", "super_page": "256KiB", "allocation": "on_demand"},
     "snic": {"discipline": "wfq", "vms": {"vm0": {"weight": 3, "cap": "2GB/s"}}}, "cache": {"size": "4KiB", "ways": 2}},
    {**BASE, "compute": {**BASE["compute"], "dram": {"preset": "DDR4-2400", "model": "simple"}},
     "hypervisor": {"policy": "fgra"}, "protocol": "cxl2x16",
     "service": {"regime": "incremental", "interval": "20us", "fail_at": "100us"}},
]


@st.composite
def mutated_config(draw):
    data = copy.deepcopy(draw(st.sampled_from(BASES)))
    for _ in range(draw(st.integers(1, 3))):
        path, name, default = draw(st.sampled_from(FIELDS))
        kind = _kind(default) if draw(st.integers(0, 9)) else "any"
        _set(data, path, name, draw(st.sampled_from(HOSTILE[kind])))
    return data


def small_trace(seed, n=150, big_times=False):
    rng = np.random.default_rng(seed)
    t = np.cumsum(rng.integers(0, 5000, n)).astype(np.int64)
    if big_times:
        t[n // 2:] += 1 << 59
    return {"time": t, "addr": (rng.integers(0, 1 << 13, n) * 64).astype(np.uint64),
            "op": (rng.random(n) < 0.3).astype(np.uint8), "vm": rng.integers(0, 2, n).astype(np.uint16),
            "timing": "timestamp" if seed % 3 else "gap"}


@examples(80)
@given(data=mutated_config(), seed=st.integers(0, 2**16), big=st.booleans(),
       epoch=st.sampled_from([None, None, "1ps", "1us", "10ms"]))
def test_hostile_configurations(data, seed, big, epoch):
    """Any parameter set to a hostile value: a ValueError naming a parameter, or a system that runs
    identically on both backends (or that both backends refuse to run on the trace)."""
    try:
        system = System.from_dict(data)
    except ValueError as e:
        assert re.match(r"^[a-z_\[\]0-9.]+(: |\.)|^-p|^configuration", str(e)), str(e)
        return
    with watchdog():
        both(system, small_trace(seed, big_times=big), epoch=epoch)


# -- saved states ---------------------------------------------------------------------------------
STATE_SYSTEMS = [
    dict(),
    dict(hypervisor={"policy": "subpage_swap", "victim": "clock", "super_page": "64KiB"},
         service={"regime": "cow", "interval": "40us"}),
    dict(cache={"size": "8KiB", "ways": 2}, hypervisor={"victim": "random", "placement": "low"},
         memory_blade={"capacity": "1MiB", "buffers": [{"queue_depth": 3}] * 2}, storage={"device": "nvme-gen4"}),
    dict(snic={"discipline": "wfq", "vms": {"vm0": {"weight": 3, "cap": "2GB/s"}},
               "instructions": [{"at": "100us", "vm": "vm1", "weight": 5}]},
         memory_blade={"allocation": "on_demand", "capacity": "8MiB", "super_page": "1MiB"},
         service={"regime": "incremental", "interval": "30us", "fail_at": "300us"}),
]
VALUES = [0, 1, -1, 2, 3, 7, 64, 255, 4095, 65535, 2**31 - 1, -2**31, 2**40, 2**61, 2**62, -2**62, 2**63 - 1, -2**63]


def _state_system(i):
    data = copy.deepcopy(BASE)
    for k, v in STATE_SYSTEMS[i].items():
        data[k] = {**data.get(k, {}), **v}
    return System.from_dict(data)


@examples(60)
@given(which=st.integers(0, len(STATE_SYSTEMS) - 1), edits=st.lists(
    st.tuples(st.integers(0, 10**6), st.integers(0, 10**9), st.sampled_from(VALUES), st.booleans()),
    min_size=1, max_size=3))
def test_edited_state_files(tmp_path_factory, which, edits):
    """A saved state with some elements changed and the file re-signed: refused naming the file,
    or a state both backends resume from identically."""
    tmp = tmp_path_factory.mktemp("state")
    system = _state_system(which)
    c = system.compile("timestamp")
    tr = small_trace(7, n=500)
    cols = [tr[k] for k in ("time", "addr", "op", "vm")]
    e = Engine(c, "compiled")
    e.run_chunk(*[x[:250] for x in cols])
    st_ = {k: v.copy() for k, v in e.state.items()}
    names = sorted(st_)
    for k, i, v, relative in edits:
        a = st_[names[k % len(names)]].reshape(-1)
        j = i % a.size
        info = np.iinfo(a.dtype) if a.dtype.kind in "iu" else None
        new = int(a[j]) + (v % 7 - 3) if relative else v
        a[j] = min(max(new, info.min), info.max)
    path = tmp / "s.npz"
    save_state(path, st_, c, {"trace": "t", "records_done": 250})
    try:
        loaded, _ = load_state(path, c)
    except ValueError as err:
        assert str(err).startswith(str(path)), str(err)
        return
    out = []
    with watchdog():
        for backend in ("compiled", "reference"):
            eng = Engine(c, backend, {k: v.copy() for k, v in loaded.items()})
            try:
                done = eng.run_chunk(*[x[250:] for x in cols], want_completions=True)
                eng.finish()
                out.append(("ok", done.tolist(), eng.state["counters"].tolist()))
            except (ValueError, OverflowError) as err:
                # OverflowError: an edit within the allowed ranges can still push the run's sums of
                # times past 64 bits (as a genuine multi-day backlog can); the twin notices
                out.append(("error", type(err).__name__))
    if out[0][0] == out[1][0] == "ok":
        assert out[0] == out[1]
    else:
        assert "error" in (out[0][0], out[1][0])
