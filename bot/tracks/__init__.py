"""Supervised-practice tracks and journeys timed from a pair's start: dated milestones, journey prompts,
competency evidence per review period, supervisor attestation and the board-ready evidence export.
"""
