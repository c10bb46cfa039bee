"""The parity report: a static site with, per catalog ID, the formula, both implementations
side by side and the error every parity comparison actually measured.

`python -m torchref.report` runs the parity suite with `--parity-record` and writes the site
(default `build/report/`); `--from PATH` builds it from a saved record instead. See `cli.py`.
"""
