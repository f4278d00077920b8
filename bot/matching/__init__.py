"""Matching: opt-in profiles, the optimal capacity-aware assignment of mentees to mentors with clinical
exclusions, explanations of every proposed pair, and the coordinator's pin / forbid / approve loop.
"""
