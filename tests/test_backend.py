"""Backend choice: compiled by default, the twin on request or (with a warning) without a build."""
import sys

import numpy as np
import pytest

from hwmodel import System
from hwmodel.core.engine import select_backend


def test_names_and_environment(monkeypatch):
    assert select_backend("reference").__name__ == "hwmodel._reference"
    assert select_backend("compiled").__name__ == "hwmodel._core"
    monkeypatch.setenv("HWMODEL_BACKEND", "reference")
    assert select_backend().__name__ == "hwmodel._reference"
    with pytest.raises(ValueError, match="backend 'gpu' is not one of 'compiled', 'reference'"):
        select_backend("gpu")


def test_a_missing_build_falls_back_with_a_warning(monkeypatch):
    import hwmodel
    monkeypatch.setitem(sys.modules, "hwmodel._core", None)    # import of the extension fails
    monkeypatch.delattr(hwmodel, "_core", raising=False)
    with pytest.warns(RuntimeWarning, match="compiled _core not available"):
        core = select_backend("compiled")
    assert core.__name__ == "hwmodel._reference"


def test_result_as_a_dataframe():
    r = System().run({"addr": np.arange(0, 64 * 1000, 64, dtype=np.uint64)})
    df = r.to_dataframe()
    assert len(df) == 1 and df["accesses"][0] == 1000
    assert "latency_ns.read.p99" in df.columns and "latency_ns.write.p99" in df.columns and "counters.faults" in df.columns
