"""Tests of anonymity audits across features."""
