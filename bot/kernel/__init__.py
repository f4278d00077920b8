"""What every feature shares and no feature owns: settings, deps, the clock, the programs file, roles and
who may do what, people's names and zones, plain-text helpers, the PHI guard and the privacy rules
(suppression). Knows no feature.
"""
