"""`python -m lightning_app`: the app's command line (see lightning_app/cli.py)."""

import sys

try:
    from lightning_app.cli import main
except KeyboardInterrupt:  # Ctrl-C while the libraries load: no traceback
    sys.exit(130)

if __name__ == "__main__":
    main()
