"""Matching: opt-in profiles, the optimal whole-cohort solver against brute force, explanations, the
coordinator's propose / pin / forbid / approve loop over signed HTTP, and Slack's limits at 300 × 100."""
