"""Tests of /idea: ideas from practice worked through Plan-Do-Study-Act cycles with a mentor, their
reminders, who sees them, and the PHI guard on every field."""
