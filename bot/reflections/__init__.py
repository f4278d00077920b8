"""Session reflections (`/reflect` lives in `reflect.py`): the modal's form and terms, confirmation
notices, competencies, the protected-time / CME ledger, the App Home section and pair health.
"""
