"""`python -m torchref.trace`: see torchref/trace/cli.py."""

import sys

from torchref.trace.cli import main

sys.exit(main())
