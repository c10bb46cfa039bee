"""`python -m lightning_app`: the app's command line (see lightning_app/cli.py)."""

from lightning_app.cli import main

if __name__ == "__main__":
    main()
