"""Validated outcome instruments as versioned data (items, scale, reverse items, cut-offs, citation,
licence) and their scoring: Mini-Z burnout, Edmondson psychological safety, MCA-21, the Mentorship
Effectiveness Scale."""
