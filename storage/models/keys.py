"""The key check, the wrapped lookup pepper and the progress of a key rotation.

No key is stored: `check` is an HMAC of a fixed label under the secret, and the pepper is stored only
encrypted under the secret that `check` names.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from storage.models.base import Base

KEY_CHECK_ID = 1  # the table holds one row


class KeyCheck(Base):
    """Which secret this database was written with, and the lookup pepper wrapped under it."""

    __tablename__ = "key_checks"

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    check: Mapped[str] = mapped_column(String(64))
    pepper: Mapped[str] = mapped_column(Text)  # a Fernet token under the secret named by `check`
    written_at: Mapped[datetime]


class KeyRotation(Base):
    """A rotation under way to the secret whose check is `new_check`; deleted when it finishes."""

    __tablename__ = "key_rotations"

    new_check: Mapped[str] = mapped_column(String(64), primary_key=True)
    started_at: Mapped[datetime]


class KeyRotationCursor(Base):
    """How far a rotation got in one table: the primary key of the last row re-encrypted."""

    __tablename__ = "key_rotation_cursors"

    new_check: Mapped[str] = mapped_column(
        ForeignKey("key_rotations.new_check", ondelete="CASCADE"), primary_key=True
    )
    table_name: Mapped[str] = mapped_column(String(64), primary_key=True)
    after: Mapped[list[Any] | None] = mapped_column(JSON(none_as_null=True))
    done: Mapped[bool] = mapped_column(default=False)
