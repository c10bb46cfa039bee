"""The Lightning app: LightningModules, DataModules, callbacks, the CLI and its configs.

Imports torchref, never scratch. Run `python -m lightning_app fit --config <config.yaml>`.
"""
