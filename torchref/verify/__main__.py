"""`python -m torchref.verify`: see `torchref.verify.cli`."""

import sys

from torchref.verify.cli import main

sys.exit(main())
