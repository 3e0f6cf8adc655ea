"""The `hwmodel` command line, a thin layer over the Python API: `main` (run, config, presets and
the parser), then one module per command group: `compare`, `dram` (one memory controller on a
trace), `qos`, `study` (sweep, plot), `trace`."""
from .main import InputError, build_parser, main  # noqa: F401
