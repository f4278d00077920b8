"""Anonymous psychological-safety concerns (`/concern`): raising one, case keys, the sender's thread,
responders' replies, routing that skips implicated people, the daily quota, and their Block Kit.
"""
