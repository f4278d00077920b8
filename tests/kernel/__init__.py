"""Tests of settings, programs, roles, people, logging."""
