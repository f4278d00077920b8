"""Tests of session reflections (/reflect)."""
