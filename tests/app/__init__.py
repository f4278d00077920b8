"""Tests of the CLI, servers, manifest and the demo."""
