"""Outcome reports: quarterly figures for a program (CSV / Markdown) and the CME hours statement."""
