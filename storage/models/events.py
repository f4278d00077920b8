"""Slack events already handled, by event_id, so that Slack's retries of them are recognised."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import String
from sqlalchemy.orm import Mapped, mapped_column

from storage.models.base import Base


class ProcessedEvent(Base):
    """One Events API delivery taken for handling; kept about a day (Slack retries within minutes).

    Holds only Slack's event id and when it arrived: the events the bot listens to (App Home opened,
    profile changed) carry nothing about a concern, and the row says nothing of what the event was.
    """

    __tablename__ = "processed_events"

    event_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    received_at: Mapped[datetime] = mapped_column(index=True)
