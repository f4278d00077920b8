"""Tests of pairing and roster import."""
