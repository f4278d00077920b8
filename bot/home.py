"""The App Home view, one section per role the user holds."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from bot.deps import Deps
from bot.status import status_text


def build_home(session: Session, *, deps: Deps, user_id: str, now: datetime) -> dict[str, Any]:
    """The Home tab view for `user_id`."""
    blocks: list[dict[str, Any]] = [
        {"type": "header", "text": {"type": "plain_text", "text": "Mentorship"}},
        {
            "type": "section",
            "text": {"type": "mrkdwn", "text": status_text(session, deps=deps, user_id=user_id, now=now)},
        },
    ]
    return {"type": "home", "blocks": blocks}
