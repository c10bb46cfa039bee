"""The notes' formulas, literally, in NumPy (and SciPy where it already solves a sub-problem).

Never imports torch or lightning (parity_tests/test_layout.py proves it). Each function's
docstring gives the formula as the notes write it, its catalog ID and seed section, and where
PyTorch differs. Modules: activations, losses, graph, backprop, mlp, gradcheck, optim,
schedules, normalization, dropout, init, preprocessing, augment, ensemble, classic,
autoencoders; validation holds the argument checks shared with torchref; allocator holds an
opt-in malloc setting (importing scratch changes nothing in the process).
"""
