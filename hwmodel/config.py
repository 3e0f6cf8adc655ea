"""Building components from plain data (YAML, dicts, `-p key=value` overrides) and back.

Components are frozen dataclasses whose `__post_init__` raises `ValueError("section.field: ...")`.
`build()` constructs one from a mapping, rejects unknown keys, and rewrites the message prefix to the
full parameter path (`compute.vms[1].memory: ...`), so every error says where the bad value is.
YAML is read with the safe loader only: configuration files are data, never code.
"""
from __future__ import annotations

import dataclasses
from pathlib import Path

import yaml

from .units import show


def build(cls, data, path: str, **nested):
    """`cls(**data)` with unknown keys rejected and errors prefixed by `path`.

    `nested` maps a field name to a function `(value, path) -> object` for fields that are
    themselves components (or lists of them).
    """
    if isinstance(data, cls):
        return data
    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise ValueError(f"{path}: expected a mapping of parameters, got {type(data).__name__} {show(data)}")
    names = [f.name for f in dataclasses.fields(cls)]
    unknown = [k for k in data if k not in names]
    if unknown:
        raise ValueError(f"{path}.{unknown[0]}: unknown parameter; allowed: {', '.join(names)}")
    kwargs = {}
    types = {f.name: f.type for f in dataclasses.fields(cls)}
    for k, v in data.items():
        if k not in nested and str(types[k]).startswith("str") and isinstance(v, (list, tuple, dict, set)):
            # a text or unit-bearing value: a list or mapping here would only fail later, unnamed
            raise ValueError(f"{path}.{k}: expected a single value, got {type(v).__name__} {show(v)}")
        kwargs[k] = nested[k](v, f"{path}.{k}") if k in nested else v
    try:
        return cls(**kwargs)
    except ValueError as e:
        raise ValueError(_reprefix(str(e), getattr(cls, "SECTION", cls.__name__), path)) from None
    except TypeError as e:
        raise ValueError(f"{path}: {e}") from None


def _reprefix(msg: str, section: str, path: str) -> str:
    if msg.startswith(section + ".") or msg.startswith(section + ":"):
        return path + msg[len(section):]
    if msg.startswith(path):
        return msg
    return f"{path}: {msg}"


def to_plain(obj):
    """Dataclass tree -> plain dicts/lists/scalars (what YAML and JSON hold)."""
    if dataclasses.is_dataclass(obj):
        return {f.name: to_plain(getattr(obj, f.name)) for f in dataclasses.fields(obj)}
    if isinstance(obj, (list, tuple)):
        return [to_plain(x) for x in obj]
    return obj


MAX_VALUES = 100_000   # values a configuration may expand to (a real one holds a few hundred)
MAX_FILE_BYTES = 16 << 20


def check_size(data, where: str) -> None:
    """Refuse configuration data that expands to more than MAX_VALUES values or contains itself.
    YAML aliases make a mapping share sub-trees: a 1 kB file can stand for 10**30 values (a
    'billion laughs' bomb) that printing or copying it would expand. Shared sub-trees are counted
    once per use, without expanding them."""
    memo, active = {}, set()

    def count(x):
        if not isinstance(x, (dict, list, tuple)):
            return 1
        i = id(x)
        if i in active:
            raise ValueError(f"{where}: a YAML alias refers to the mapping or list that holds it")
        if i in memo:
            return memo[i]
        active.add(i)
        items = [v for kv in x.items() for v in kv] if isinstance(x, dict) else x
        n = 1
        for v in items:
            n += count(v)
            if n > MAX_VALUES:
                raise ValueError(f"{where}: the configuration expands to more than {MAX_VALUES:,} values "
                                 f"(YAML aliases repeating aliases?); refused")
        active.discard(i)
        memo[i] = n
        return n

    try:
        count(data)
    except RecursionError:
        raise ValueError(f"{where}: the configuration is nested too deeply") from None


def load_yaml(path) -> dict:
    """A YAML file's mapping, read with the safe loader and refused when it expands to too many
    values (check_size)."""
    path = Path(path)
    try:
        if path.stat().st_size > MAX_FILE_BYTES:   # the YAML parser would take minutes and gigabytes
            raise ValueError(f"{path}: {path.stat().st_size:,} bytes is too large for a configuration "
                             f"(at most {MAX_FILE_BYTES:,})")
        text = path.read_text()
    except (OSError, UnicodeDecodeError) as e:
        raise ValueError(f"{path}: cannot read configuration: {getattr(e, 'strerror', None) or e}") from None
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as e:
        raise ValueError(f"{path}: not valid YAML: {e}") from None
    except RecursionError:
        raise ValueError(f"{path}: not valid YAML: nested too deeply") from None
    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise ValueError(f"{path}: a system configuration is a mapping of sections, got {type(data).__name__}")
    check_size(data, str(path))
    return data


def apply_overrides(data: dict, overrides, default_of=None) -> dict:
    """Apply `key.path=value` strings (Ramulator-2 style `-p`) to a nested dict; returns a new dict.

    Values are read as YAML scalars (`8`, `true`, `4GiB`, `[1, 2]`); list items are addressed by
    index (`compute.vms.0.memory=8GiB`). An override changes its one field: a section the data
    does not hold starts from `default_of(path parts)` (what the section is when absent, e.g. a
    DRAM preset with the fields its owner changes), not from nothing; a section given as a preset
    name (or a DRAMsim3 .ini path) is refined key by key.
    """
    import copy

    data = copy.deepcopy(data)
    for item in overrides or ():
        if "=" not in item:
            raise ValueError(f"-p {item!r}: expected key.path=value")
        key, raw = item.split("=", 1)
        parts = key.strip().split(".")
        if not all(parts):
            raise ValueError(f"-p {item!r}: empty name in key path {key!r}")
        try:
            value = yaml.safe_load(raw) if raw.strip() else ""
        except yaml.YAMLError:
            value = raw
        node = data
        for i, part in enumerate(parts[:-1]):
            node = _child(node, part, ".".join(parts[: i + 1]), parts[:i + 1], default_of)
        last = parts[-1]
        if isinstance(node, list):
            idx = _index(node, last, key)
            node[idx] = value
        elif isinstance(node, dict):
            node[last] = value
        else:
            raise ValueError(f"-p {key}: {'.'.join(parts[:-1])} is a value, not a section")
    return data


def _index(node: list, part: str, path: str) -> int:
    try:
        idx = int(part)
    except ValueError:
        raise ValueError(f"-p {path}: {part!r} is not a list index") from None
    if not -len(node) <= idx < len(node):
        raise ValueError(f"-p {path}: index {idx} out of range (the list has {len(node)} items)")
    return idx


def _child(node, part, path, parts, default_of):
    if isinstance(node, list):
        return node[_index(node, part, path)]
    if not isinstance(node, dict):
        raise ValueError(f"-p {path}: cannot descend into a value")
    if part not in node or node[part] is None:
        seed = default_of(parts) if default_of is not None else None
        node[part] = dict(seed) if isinstance(seed, dict) else {}
    elif isinstance(node[part], str):
        # a preset given by name (dram: DDR4-2400) or a DRAMsim3 file can be refined key by key
        node[part] = {"ini" if node[part].lower().endswith(".ini") else "preset": node[part]}
    return node[part]
