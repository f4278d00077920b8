"""Retention: rolling up and purging old answers and free text once a program's retention window passes."""
