"""`/idea`: observations from practice turned into ideas and worked through small Plan-Do-Study-Act
cycles with a mentor.
"""
