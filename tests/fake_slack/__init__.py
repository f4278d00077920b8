"""Tests of the fake Slack itself."""
