"""Pairs of mentor and mentee: pairing and unpairing (`/mentorship pair`), roster import, welcome DMs."""
