"""Shared fixtures: every behaviour runs on both backends."""
from pathlib import Path

import pytest

# reference data written by others (DRAMsim3 configs and outputs, sample traces): tests/data/README.md
REFERENCE = Path(__file__).resolve().parent / "data"


@pytest.fixture(params=["compiled", "reference"])
def backend(request):
    return request.param


@pytest.fixture
def reference_dir():
    return REFERENCE
