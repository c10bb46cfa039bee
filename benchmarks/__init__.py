"""Benchmarks of torchref: scratch vs PyTorch vs the hardware, Lightning vs a plain loop.

Run `python -m benchmarks [--quick] [--cases ...] [--out PATH]` (see `benchmarks/__main__.py`);
docs/performance.md explains every figure. Imports everything; measures, never asserts.
"""
