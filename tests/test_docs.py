"""The configuration reference is generated from the component classes and kept in the repo:
every section and every field appears, generation is deterministic, and the committed file is
what the code generates now (so a new or changed parameter cannot leave the reference stale)."""
import dataclasses
import subprocess
import sys
from pathlib import Path

from hwmodel.study import docs
from hwmodel.system import SECTIONS, System

REPO = Path(__file__).resolve().parent.parent
COMMITTED = REPO / "docs" / "configuration.md"


def test_every_section_and_every_field_appears():
    text = docs.generate()
    paths = [p for p, _, _ in docs.sections()]
    for name in SECTIONS:
        assert f"\n## {name}\n" in text, name
    assert "compute.dram" in paths and "compute.vms[]" in paths and "memory_blade.dram" in paths
    for path, cls, _ in docs.sections():
        block = text.split(f"\n## {path}\n", 1)[1].split("\n## ", 1)[0]
        for f in dataclasses.fields(cls):
            assert f"| `{f.name}` |" in block, f"{path}.{f.name} missing from the reference"


def test_defaults_units_and_comments_come_from_the_classes():
    rows = {(p, r[0]): r for p, cls, inst in docs.sections() for r in docs.rows(cls, inst, p)}
    assert rows[("compute", "page_size")][1:3] == ("4KiB", "bytes")
    assert rows[("hypervisor", "trap")][1:] == ("1us", "time", "VM exit + fault handler before the transfer starts")
    assert rows[("link", "bandwidth")][1:3] == ("8GB/s", "bandwidth")
    assert rows[("core", "clock")][2] == "frequency"
    assert rows[("compute.dram", "tRCD")][2] == "cycles of tCK"
    assert rows[("memory_blade.dram", "channels")][1] == str(System().memory_blade.dram.channels)
    # a comment continued on the next, aligned line is kept whole
    assert rows[("compute.dram", "write_buf_size")][3].endswith("drains regardless when it holds trans_queue_size")
    # a field without a comment falls back to the docstring sentence naming it
    assert "`max_payload`" in rows[("link", "max_payload")][3]


def test_unit_inference():
    assert docs.infer_unit("x", "13.75ns") == "time"
    assert docs.infer_unit("x", "16MiB") == "bytes"
    assert docs.infer_unit("x", "25Gbps") == "bandwidth"
    assert docs.infer_unit("x", True) == "true/false"
    assert docs.infer_unit("read_latency", "") == "time"


def test_generation_is_deterministic():
    assert docs.generate() == docs.generate()
    out = subprocess.run([sys.executable, "-m", "hwmodel.study.docs"], capture_output=True, text=True, cwd=REPO,
                         check=True).stdout
    assert out == docs.generate()


def test_committed_reference_is_up_to_date():
    assert COMMITTED.exists(), "docs/configuration.md is missing: python -m hwmodel.study.docs > docs/configuration.md"
    assert COMMITTED.read_text() == docs.generate(), \
        "docs/configuration.md is stale: regenerate with python -m hwmodel.study.docs > docs/configuration.md"


def test_readme_yaml_examples_are_valid_systems():
    import re
    from pathlib import Path

    import yaml

    from hwmodel import System
    text = (Path(__file__).resolve().parent.parent / "README.md").read_text()
    blocks = re.findall(r"```yaml\n(.*?)```", text, re.S)
    assert blocks
    for b in blocks:
        System.from_dict(yaml.safe_load(b)).compile()


def test_readme_python_quick_start_runs(tmp_path, monkeypatch, capsys):
    # README's Python example, on a configuration and a trace of its file names
    import re

    from hwmodel.trace import generate, write_trace
    text = (REPO / "README.md").read_text()
    block = re.findall(r"```python\n(.*?)```", text, re.S)[0]
    assert "System.from_yaml" in block and "to_dict()" in block
    monkeypatch.chdir(tmp_path)
    (tmp_path / "my_system.yaml").write_text("compute: {local_memory: 64MiB, vms: [{memory: 256MiB}]}\n")
    write_trace(tmp_path / "my.trace", generate("zipf", 2000, 256 << 20, seed=1), format="text")
    scope = {}
    exec(block, scope)
    d = scope["d"]
    for key in re.findall(r'd(\["[a-z_]+"\](?:\["[a-z0-9_]+"\])*)', block):     # the keys its comment names
        eval("d" + key, {"d": d})
    assert "accesses" in capsys.readouterr().out
