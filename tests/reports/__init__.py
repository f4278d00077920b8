"""Tests of outcome and CME reports."""
