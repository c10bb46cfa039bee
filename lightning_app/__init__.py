"""The Lightning app: LightningModules, DataModules, callbacks, the CLI and its configs.

Imports torchref and, of scratch, only scratch.validation (the valid ranges). Run
`python -m lightning_app fit --config <config.yaml>` (installed: `torchref-train fit ...`).

Not the PyPI package `lightning-app` (Lightning AI's former app framework): it installs a
package of this same import name, so it must not be installed in the same environment.

`load_model(ckpt_path)` (lightning_app.export) returns a run's trained torchref module; it is
imported on first use, so `import lightning_app` stays free of Lightning's import cost.
"""

__all__ = ["load_model"]


def __getattr__(name: str):
    if name == "load_model":
        from lightning_app.export import load_model

        return load_model
    raise AttributeError(f"module 'lightning_app' has no attribute {name!r}")
