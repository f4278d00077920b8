"""Helpers the tests share: people and settings, factories, waiting, per-feature drivers."""
