"""Dependencies point one way (DESIGN.md section 2): the hardware never imports the core, the studies
or the CLI; traces never import the hardware; the core's twin imports only its layouts, the DRAM
twin and its own parts. Imports are read from the source with `ast` (lazy ones inside functions too),
so a violation fails here even when no test happens to import the offending path."""
import ast
from pathlib import Path

import pytest

PKG = Path(__file__).resolve().parents[1] / "hwmodel"
# the twin of the compiled core: _reference.py and the parts it composes (core/<part>.py beside <part>.pxi)
TWIN_PARTS = sorted(p.with_suffix(".py") for p in (PKG / "core").glob("*.pxi"))


def module_name(path: Path) -> str:
    rel = path.relative_to(PKG.parent).with_suffix("")
    parts = rel.parts[:-1] if rel.name == "__init__" else rel.parts
    return ".".join(parts)


def imports(path: Path, name: str = "") -> set:
    """Absolute names of the modules (and packages) that the file (module `name`, by default its
    place in the package) imports, anywhere in it."""
    name = name or module_name(path)
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    out = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            out.update(a.name for a in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[:len(package.split(".")) - node.level + 1]
                base = ".".join(anchor + ([base] if base else []))
            out.add(base)
            out.update(f"{base}.{a.name}" for a in node.names)   # `from . import x`: x may be a module
    return out


def within(names: set, prefix: str) -> set:
    return {n for n in names if n == prefix or n.startswith(prefix + ".")}


def files(sub: str) -> list:
    return sorted((PKG / sub).rglob("*.py"))


def test_the_parts_of_the_layout_exist():
    for sub in ("hardware", "core", "trace", "study", "cli"):
        assert files(sub), sub
    assert len(TWIN_PARTS) >= 8 and all(p.exists() for p in TWIN_PARTS), "every core/<part>.pxi has its twin .py"


@pytest.mark.parametrize("path", files("hardware"), ids=lambda p: p.name)
def test_hardware_imports_no_core_study_or_cli(path):
    names = imports(path)
    bad = within(names, "hwmodel.core") | within(names, "hwmodel.study") | within(names, "hwmodel.cli") \
        | {n for n in names if n.startswith("hwmodel._core")
                                             or n.startswith("hwmodel._reference")}
    assert not bad, f"{path.name} imports {sorted(bad)}"


@pytest.mark.parametrize("path", files("trace"), ids=lambda p: p.name)
def test_traces_import_no_hardware(path):
    bad = within(imports(path), "hwmodel.hardware")
    assert not bad, f"{path.name} imports {sorted(bad)}"


ALLOWED_IN_TWIN = ("hwmodel._layout", "hwmodel._dram_layout", "hwmodel.core.dram", "__future__", "numpy")


@pytest.mark.parametrize("path", [PKG / "_reference.py", *TWIN_PARTS], ids=lambda p: p.name)
def test_the_twin_imports_only_its_layouts_and_parts(path):
    own = {module_name(p) for p in TWIN_PARTS} | {"hwmodel.core"}
    bad = {n for n in imports(path)
           if not (n in own or n.rpartition(".")[0] in own or any(n == a or n.startswith(a + ".") for a in ALLOWED_IN_TWIN))}
    assert not bad, f"{path.name} imports {sorted(bad)}"


def test_the_rules_catch_a_violation(tmp_path):
    probe = tmp_path / "probe.py"      # read as if it were hwmodel/hardware/probe.py
    probe.write_text("from ..core import engine\n\ndef f():\n    from ..study.sweeps import sweep\n")
    names = imports(probe, "hwmodel.hardware.probe")
    assert within(names, "hwmodel.core") == {"hwmodel.core", "hwmodel.core.engine"}
    assert "hwmodel.study.sweeps" in within(names, "hwmodel.study")
