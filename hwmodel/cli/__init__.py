"""The `hwmodel` command line, a thin layer over the Python API: `main` (run, config, presets and
the parser), then one module per command group: `compare`, `qos`, `study` (sweep, plot), `trace`;
`hwmodel dram` is `hwmodel.cli_dram` (beside the DRAM modules)."""
from .main import InputError, build_parser, main  # noqa: F401
