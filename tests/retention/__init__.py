"""Tests of retention purges."""
