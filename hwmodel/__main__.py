"""`python -m hwmodel ...`: the `hwmodel` command."""
import sys

from .cli.main import main

sys.exit(main())
