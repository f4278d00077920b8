"""Tests of anonymous concerns."""
