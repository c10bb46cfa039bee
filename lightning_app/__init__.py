"""The Lightning app: LightningModules, DataModules, callbacks, the CLI and its configs.

Imports torchref and, of scratch, only scratch.validation (the valid ranges). Run
`python -m lightning_app fit --config <config.yaml>`.
"""
