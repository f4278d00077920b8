"""Shared helpers for the check-in tests: instants, prompt counting, rows."""

from __future__ import annotations

import dataclasses
from collections import Counter
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select

from bot.fake_slack.server import FakeSlack
from bot.kernel.deps import Deps
from bot.kernel.programs import parse_programs
from storage.models import Checkin, CheckinAnswer


def at(*parts: int) -> datetime:
    return datetime(*parts, tzinfo=UTC)  # type: ignore[misc]


def prompt_posts(fake: FakeSlack) -> list[Any]:
    """Successful chat.postMessage calls that carried a check-in prompt."""
    return [
        call
        for call in fake.calls_to("chat.postMessage", ok_only=True)
        if (call.args.get("metadata") or {}).get("event_type") == "mentorbot_checkin"
    ]


def prompts_per_channel(fake: FakeSlack) -> Counter[str]:
    """How many prompts each DM channel received (by the channel the fake answered with)."""
    return Counter(call.response["channel"] for call in prompt_posts(fake))


def prompts_to(fake: FakeSlack, user_id: str) -> list[dict[str, Any]]:
    """Prompt messages as they now stand in the user's DM."""
    return [
        m
        for m in fake.messages(user_id)
        if (m.get("metadata") or {}).get("event_type") == "mentorbot_checkin"
    ]


def checkins(deps: Deps, **where: Any) -> list[Checkin]:
    with deps.sessions.begin() as session:
        query = select(Checkin).order_by(Checkin.due_at, Checkin.mentee_id)
        for name, value in where.items():
            query = query.where(getattr(Checkin, name) == value)
        return list(session.scalars(query))


def answer_of(deps: Deps, checkin_id: int) -> CheckinAnswer | None:
    with deps.sessions.begin() as session:
        return session.get(CheckinAnswer, checkin_id)


def with_checkins(deps: Deps, program_id: str = "img-2026", **checkins: Any) -> Deps:
    """Deps whose program `program_id` has a different check-in schedule (same id, so rows fit)."""
    data = deps.programs.model_dump()
    for program in data["programs"]:
        if program["id"] == program_id:
            program["checkins"].update(checkins)
    return dataclasses.replace(deps, programs=parse_programs(data))
