"""Keep the programs table in step with programs.yml."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from storage.models import Program


@dataclass(frozen=True)
class ProgramSpec:
    id: str
    name: str
    timezone: str


def sync_programs(session: Session, *, specs: list[ProgramSpec], now: datetime) -> dict[str, int]:
    """Add new programs, update changed ones, archive (never delete) those gone from the file."""
    counts = {"added": 0, "updated": 0, "archived": 0, "unchanged": 0}
    existing = {p.id: p for p in session.scalars(select(Program))}
    for spec in specs:
        row = existing.pop(spec.id, None)
        if row is None:
            session.add(
                Program(id=spec.id, name=spec.name, timezone=spec.timezone, created_at=now, updated_at=now)
            )
            counts["added"] += 1
        elif (row.name, row.timezone, row.archived_at) != (spec.name, spec.timezone, None):
            row.name, row.timezone, row.archived_at, row.updated_at = spec.name, spec.timezone, None, now
            counts["updated"] += 1
        else:
            counts["unchanged"] += 1
    for row in existing.values():
        if row.archived_at is None:
            row.archived_at = now
            counts["archived"] += 1
    return counts
