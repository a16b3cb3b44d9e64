"""``python -m optimizer``: see :mod:`optimizer.cli`."""

import os
import sys

from .cli import main

code = main()
if code in (130, 143):  # stopped by a signal: a cancelled solver thread may still be winding down
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)
sys.exit(code)
