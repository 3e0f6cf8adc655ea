"""The configuration reference, generated from the component classes so it cannot drift from them.

    python -m hwmodel.study.docs > docs/configuration.md

For every section of `System` (and the components nested in them: `compute.dram`, `compute.vms[]`,
`memory_blade.dram`, ...) it lists each parameter with its default, its unit and a one-line
description. The description is the trailing `# comment` on the field's line in the class source
(read with `inspect.getsource` + `tokenize`; an indented comment line right below continues it),
else the sentence of the class docstring that names the field, else "-" (the field has no
description yet: give it a trailing comment; `undocumented()` lists them). The unit is read from the default value (`"4KiB"` bytes, `"13.75ns"` time, `"8GB/s"`
bandwidth, `"2GHz"` frequency), from the field's name where the default is empty, and is "cycles
of tCK" for DRAM timings. The output depends on the classes only (no dates, no paths): the same
code gives the same text, which `tests/test_docs.py` checks against the committed file.
"""
from __future__ import annotations

import dataclasses
import functools
import inspect
import io
import re
import sys
import textwrap
import tokenize

from ..config import to_plain

# size, time, bandwidth and frequency suffixes hwmodel's parsers accept (see hwmodel.units)
_UNIT_PATTERNS = (
    (re.compile(r"^\d+(\.\d+)?\s*(B|KB|MB|GB|TB|KiB|MiB|GiB|TiB)$"), "bytes"),
    (re.compile(r"^\d+(\.\d+)?\s*(ps|ns|us|µs|ms|s)$"), "time"),
    (re.compile(r"^\d+(\.\d+)?\s*([KMGT]?B/s|[KMGT]?bps|[KMG]T/s)$"), "bandwidth"),
    (re.compile(r"^\d+(\.\d+)?\s*[KMG]?Hz$"), "frequency"),
)
# fields whose default is empty ("" = take a preset's value, or none): the unit by name
_EMPTY_DEFAULT_UNITS = {"bandwidth": "bandwidth", "fail_at": "time", "trace_cycle": "time"}


def infer_unit(name: str, default, section_cls=None) -> str:
    """The unit of a parameter, from its default value (and its name where that says nothing)."""
    if isinstance(default, bool):
        return "true/false"
    if section_cls is not None and section_cls.__name__ == "DRAM":
        from ..dram import TIMINGS
        if name in TIMINGS or name == "row_timeout":
            return "cycles of tCK"
    if name.endswith("_ps"):
        return "time (ps)"
    if name.endswith("_bytes"):
        return "bytes"
    if isinstance(default, (int, float)):
        return "number" if isinstance(default, float) else "integer"
    if isinstance(default, str):
        for pattern, unit in _UNIT_PATTERNS:
            if pattern.match(default.strip()):
                return unit
        if default == "":
            if name in _EMPTY_DEFAULT_UNITS:
                return _EMPTY_DEFAULT_UNITS[name]
            if "latency" in name:
                return "time"
            return "-"
        return "choice" if name in _choices(section_cls) else "text"
    if dataclasses.is_dataclass(default):
        return "section"
    if isinstance(default, (tuple, list)):
        return "list"
    return "-"


@functools.lru_cache(maxsize=None)
def _field_comments(cls) -> dict:
    """field name -> trailing comment text on its line in the class body of the class that declares
    it (continued by indented comment-only lines right below it)."""
    out = {}
    for klass in reversed(cls.__mro__):
        if dataclasses.is_dataclass(klass) and klass.__dict__.get("__annotations__"):
            out.update(_own_field_comments(klass))
    return out


def _own_field_comments(cls) -> dict:
    src = textwrap.dedent(inspect.getsource(cls))
    names = set(cls.__dict__["__annotations__"])
    out, depth, line_start, current, last_field, last_col = {}, 0, True, None, None, 0
    for tok in tokenize.generate_tokens(io.StringIO(src).readline):
        if tok.type == tokenize.INDENT:
            depth += 1
            continue
        if tok.type == tokenize.DEDENT:
            depth -= 1
            continue
        if tok.type in (tokenize.NEWLINE, tokenize.NL):
            line_start, current = True, None
            continue
        if tok.type == tokenize.COMMENT:
            text = tok.string.lstrip("#").strip()
            if current is not None:                     # trailing comment of a field line
                out[current] = text
                last_field, last_col = current, tok.start[1]
            elif line_start and last_field is not None and tok.start[1] >= last_col > 0:
                out[last_field] += " " + text           # aligned continuation of that comment
            else:
                last_field = None                       # a section comment ("# timing, ...")
            continue
        if line_start:
            line_start = False
            last_field = None if tok.type != tokenize.NAME or tok.string not in names else last_field
            if depth == 1 and tok.type == tokenize.NAME and tok.string in names:
                current = tok.string
                last_field = None
    return out


def _sentences(doc: str) -> list:
    text = " ".join(inspect.cleandoc(doc or "").split())
    return [s.strip() for s in re.split(r"(?<=[.!?])\s+(?=[A-Z`(])", text) if s.strip()]


def _choices(cls) -> set:
    """Fields whose comment lists alternatives (a | b | c): their unit is 'choice'."""
    if cls is None:
        return set()
    return {k for k, v in _field_comments(cls).items() if "|" in v}


def describe(cls, name: str) -> str:
    """One line about field `name` of component `cls` (see the module docstring for the order)."""
    comment = _field_comments(cls).get(name)
    if comment:
        return comment
    sentences = _sentences(cls.__doc__)
    # `name` in backticks first; a bare word only for identifiers (with "_"), so that English
    # words ("units", "capacity") do not pick an unrelated sentence
    patterns = [re.compile(rf"`{re.escape(name)}`")]
    if "_" in name:
        patterns.append(re.compile(rf"\b{re.escape(name)}\b"))
    for word in patterns:
        for s in sentences:
            if word.search(s):
                return s
    return "-"


def undocumented() -> list:
    """Parameter paths with neither a trailing comment nor a mention in their class docstring."""
    return [f"{path}.{name}" for path, cls, inst in sections() for name, _, _, desc in rows(cls, inst, path)
            if desc == "-"]


def _default(f: dataclasses.Field):
    if f.default is not dataclasses.MISSING:
        return f.default
    if f.default_factory is not dataclasses.MISSING:
        return f.default_factory()
    return dataclasses.MISSING


def _show_default(value, path: str) -> str:
    if value is dataclasses.MISSING:
        return "(required)"
    if dataclasses.is_dataclass(value):
        base = type(value)()
        diff = [f"{f.name} {getattr(value, f.name)}" for f in dataclasses.fields(value)
                if getattr(value, f.name) != getattr(base, f.name)]
        label = getattr(value, "name", type(value).__name__)
        return f"{label}{' (' + ', '.join(diff) + ')' if diff else ''}, see `{path}`"
    if isinstance(value, (tuple, list)):
        items = to_plain(list(value))
        if items and all(isinstance(i, dict) for i in items):
            return "[" + ", ".join("{" + ", ".join(f"{k}: {v}" for k, v in i.items()) + "}" for i in items) + "]"
        return str(items)
    if isinstance(value, bool):
        return "true" if value else "false"
    if value == "":
        return '""'
    return str(value)


def _cell(text: str) -> str:
    return str(text).replace("|", "\\|").replace("\n", " ")


def sections():
    """(path, class, default instance) of every configurable component, in System order, nested
    components (DRAM, the VM list) right after the section that holds them."""
    from ..system import System
    out = []

    def walk(path, cls, instance):
        out.append((path, cls, instance))
        for f in dataclasses.fields(cls):
            v = getattr(instance, f.name)
            if dataclasses.is_dataclass(v):
                walk(f"{path}.{f.name}", type(v), v)
            elif isinstance(v, (tuple, list)) and v and dataclasses.is_dataclass(v[0]):
                walk(f"{path}.{f.name}[]", type(v[0]), v[0])

    from ..hardware.protocol import ProtocolAgent
    from ..hardware.switch import Switch
    system = System()
    for f in dataclasses.fields(System):
        value = getattr(system, f.name)
        if value is None and f.name == "protocol":   # optional: document a preset's fields
            value = ProtocolAgent.preset("pcie3x8")
        if value is None and f.name == "switch":     # optional: the one several blades get
            value = Switch()
        walk(f.name, type(value), value)
    return out


def qos_sections():
    """(path, class, default instance or None, fields) of each section of an `hwmodel qos`
    configuration (hwmodel.core.linksched.load_qos_config); fields None = all of the class's."""
    from ..core.linksched import PacketMix
    from ..hardware.snic import SNIC, Instruction, LinkScheduler, NetworkManager, QoSClass
    return [("scheduler", LinkScheduler, LinkScheduler(), None), ("vms[]", QoSClass, QoSClass(), None),
            ("snic", SNIC, SNIC(), ("queue_depth",)), ("manager", NetworkManager, NetworkManager(), None),
            ("manager.instructions[]", Instruction, None, None), ("generator", PacketMix, PacketMix(), None)]


def rows(cls, instance, path, only=None) -> list:
    """(parameter, default, unit, description) of each field of one component (instance None:
    the class's defaults, "(required)" where it has none; `only`: these fields)."""
    out = []
    for f in dataclasses.fields(cls):
        if only is not None and f.name not in only:
            continue
        value = _default(f) if instance is None else getattr(instance, f.name)
        nested = dataclasses.is_dataclass(value) or (
            isinstance(value, (tuple, list)) and value and dataclasses.is_dataclass(value[0]))
        sub = f"{path}.{f.name}" + ("[]" if isinstance(value, (tuple, list)) else "")
        out.append((f.name, _show_default(value, sub) if nested else _show_default(value, path),
                    "-" if value is dataclasses.MISSING else infer_unit(f.name, value, cls),
                    describe(cls, f.name)))
    return out


def _section(out, path, cls, instance, only=None):
    out += [f"## {path}", ""]
    doc = " ".join(inspect.cleandoc(cls.__doc__ or "").split())
    out += [f"`{cls.__name__}`: {doc}", ""] if doc else [f"`{cls.__name__}`", ""]
    out += ["| parameter | default | unit | description |", "|---|---|---|---|"]
    for name, default, unit, desc in rows(cls, instance, path, only):
        out.append(f"| `{name}` | {_cell(default)} | {_cell(unit)} | {_cell(desc)} |")
    out.append("")


def _extra_notes(path: str) -> list:
    """Reference data a section's parameters point to (presets), generated from the same code."""
    if path.endswith("dram") and path.count(".") == 1:
        from ..hardware.dram_presets import PRESETS
        lines = [f"Presets (`{path}: NAME` or `{path}: {{preset: NAME, field: value}}`; a DRAMsim3 "
                 f"`.ini` path works too): " + ", ".join(f"`{p}`" for p in PRESETS) + "."]
        if path != "service.peer_dram":
            owner = path.split(".")[0]
            lines += ["", f"The same DRAM may be given as the memory controller and its device, as the classes "
                          f"`MemoryController` and `DRAMDevice` hold them: `{owner}.controller: {{preset|ini: ..., "
                          f"device: <preset, .ini or device fields>, <controller settings>}}`. Device fields "
                          f"(organisation, timing, power: `protocol` to `IDD6x` above) go under `device`; the "
                          f"others (`channels`, `address_mapping` to `model`) are the controller's. "
                          f"Give `dram` or `controller`, not both."]
        return lines
    if path == "storage":
        from ..hardware.storage import STORAGE_PRESETS
        keys = ["read_latency", "write_latency", "bandwidth", "units", "queue_depth"]
        lines = ["Device presets (a field that is set overrides the preset's value):", "",
                 "| device | " + " | ".join(keys) + " |", "|---" * (len(keys) + 1) + "|"]
        for name, v in STORAGE_PRESETS.items():
            lines.append(f"| `{name}` | " + " | ".join(str(v[k]) for k in keys) + " |")
        return lines
    return []


def generate() -> str:
    """The configuration reference as Markdown."""
    out = [
        "# Configuration reference",
        "",
        "<!-- Generated by `python -m hwmodel.study.docs > docs/configuration.md` from the component classes;",
        "     do not edit by hand. tests/test_docs.py fails when this file is out of date. -->",
        "",
        "A system is a mapping of sections (YAML or `System.from_dict`); every parameter below has a",
        "default, so a configuration names only what it changes. Any value can be overridden with",
        "`-p section.parameter=value` (CLI) or `overrides=[...]` (Python), e.g.",
        "`-p compute.dram.tRCD=20`, `-p compute.vms.0.memory=8GiB`.",
        "Units: sizes take `B`, `KiB`, `MiB`, `GiB` (also `KB`, `MB`, ... decimal); times `ps`, `ns`, `us`,",
        "`ms`, `s`; bandwidths `B/s` with a prefix (`8GB/s`) or bits (`25Gbps`); frequencies `Hz` with",
        "a prefix. `choice` lists its allowed values in the description.",
        "",
        "Sections: " + ", ".join(f"[`{p}`](#{p.replace('.', '').replace('[]', '')})" for p, _, _ in sections()),
        "",
    ]
    for path, cls, instance in sections():
        _section(out, path, cls, instance)
        notes = _extra_notes(path)
        if notes:
            out += notes + [""]
    out += [
        "# `hwmodel qos` configuration",
        "",
        "`hwmodel qos CONFIG.yaml PACKETS` (or `--gen`) reads a configuration of its own: a mapping with",
        "the sections below (all optional; `vms` is a list, VM id i being its item i). A PACKETS trace is",
        "text lines `time_ns vm bytes` (`#` comments) or an `.npz` with arrays `time` (ns), `vm`, `bytes`.",
        "",
        "```yaml",
        "scheduler: {discipline: strict_priority, bandwidth: 25Gbps, propagation: 500ns}",
        "vms:",
        "  - {name: critical, priority: 0, weight: 4, guaranteed: 1Gbps}",
        "  - {name: batch, priority: 1, cap: 10Gbps}",
        "snic: {queue_depth: 0}",
        "manager: {instructions: [{at: 1ms, vm: 1, weight: 2}], report_every: 500us}",
        "generator: {duration: 2ms, batch_vms: 1, batch_load: 1.2}",
        "```",
        "",
    ]
    for path, cls, instance, only in qos_sections():
        _section(out, f"qos: {path}", cls, instance, only)
    return "\n".join(out)


def main(argv=None) -> int:
    sys.stdout.write(generate())
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
