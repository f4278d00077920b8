"""Slack Web API plumbing that knows no feature: the one WebClient, Block Kit primitives, and delivery
(rate limiting, fan-out, process identity, naming Slack errors, finding a message by its metadata).
"""
