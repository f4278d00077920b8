"""Tests of App Home, status and help."""
