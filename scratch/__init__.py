"""The notes' formulas, literally, in NumPy (and SciPy where it already solves a sub-problem).

Never imports torch or lightning (parity_tests/test_layout.py proves it). Each function's
docstring gives the formula as the notes write it, its catalog ID and seed section, and where
PyTorch differs. Modules: activations, losses, graph, backprop, mlp, gradcheck, optim,
schedules, normalization, dropout, init, preprocessing, augment, ensemble, classic,
autoencoders; validation holds the argument checks shared with torchref.
"""

from scratch.allocator import retain_freed_memory as _retain_freed_memory

# Without this, glibc returns each step's freed temporaries to the OS and the next step
# page-faults them back in (scratch.allocator explains; docs/performance.md measures it).
_retain_freed_memory()
