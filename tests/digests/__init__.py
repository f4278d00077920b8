"""Tests of the weekly digest and its suppression."""
