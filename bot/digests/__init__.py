"""The weekly digest: which weeks are due, claiming and posting them exactly once, the figures with
subtraction-safe suppression, the Block Kit and the trend chart.
"""
