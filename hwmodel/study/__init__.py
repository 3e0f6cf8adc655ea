"""Studies over the model: parameter sweeps (`sweeps`), configurations side by side (`compare`),
plots (`plot`) and the configuration reference generated from the classes (`docs`).

    from hwmodel.study import sweep, expand_grid, load_grid, load_results
"""
from .sweeps import (SweepWarning, expand_grid, failed_message, is_grid_file, load_grid,  # noqa: F401
                     load_results, parse_axes, sweep)
