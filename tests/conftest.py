"""Shared fixtures: every behaviour runs on both backends."""
from pathlib import Path

import pytest

REFERENCE = Path(__file__).resolve().parent.parent.parent / "shared" / "reference"


@pytest.fixture(params=["compiled", "reference"])
def backend(request):
    return request.param


@pytest.fixture
def reference_dir():
    if not REFERENCE.is_dir():
        raise FileNotFoundError(f"reference data not found at {REFERENCE}: shared/ must sit beside the repo")
    return REFERENCE
