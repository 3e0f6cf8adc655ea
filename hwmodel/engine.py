"""Moved to `hwmodel.core.engine`. The DRAM tool (`dramsim.py`, being rewritten on another branch)
still imports `select_backend` from here: remove this module when it imports `hwmodel.core.engine`."""
from .core.engine import select_backend  # noqa: F401
