"""Scheduled check-ins: when each mentee's prompt is due (schedule), the tick that claims and sends them,
answers, reminders and expiry, pauses, the team-climate (Edmondson) item, and their Block Kit.
"""
