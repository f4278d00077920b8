"""The coordinator audit log. Nothing a concern sender does is ever written here."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from storage.models import AuditEntry


def record_audit(
    session: Session,
    *,
    actor_id: str,
    action: str,
    now: datetime,
    program_id: str | None = None,
    target: str = "",
) -> None:
    session.add(AuditEntry(at=now, actor_id=actor_id, action=action, program_id=program_id, target=target))


def audit_entries(session: Session, *, program_id: str | None = None, limit: int = 100) -> list[AuditEntry]:
    query = select(AuditEntry).order_by(AuditEntry.at.desc(), AuditEntry.id.desc()).limit(limit)
    if program_id is not None:
        query = query.where(AuditEntry.program_id == program_id)
    return list(session.scalars(query))
