"""Tests of the schema, migrations and encryption at rest."""
