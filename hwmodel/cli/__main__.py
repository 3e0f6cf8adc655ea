"""`python -m hwmodel.cli ...`: the `hwmodel` command."""
import sys

from .main import main

sys.exit(main())
