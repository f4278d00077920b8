"""Shared helpers for the instrument survey tests: configuration, rows, DMs and the modal's state."""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import select, text

from bot.fake_slack.models import FakeUser
from bot.fake_slack.server import FakeSlack
from bot.instruments.answers import record_survey
from bot.instruments.blocks import EVENT
from bot.instruments.sender import run_due
from bot.kernel.clock import SettableClock
from bot.kernel.deps import Deps
from bot.kernel.programs import ProgramsConfig, parse_programs
from storage.models import InstrumentAnswer, InstrumentSurvey
from tests.support.factories import make_pair

MONTHLY_MINI_Z = {"id": "mini-z-burnout", "cadence": "monthly"}
MCA_AT_3_AND_12 = {"id": "mca-21", "pair_months": [3, 12]}
STARTED = datetime(2026, 11, 10, 14, 0, tzinfo=UTC)
DECEMBER = datetime(2026, 12, 3, 10, 30, tzinfo=UTC)  # December's Mini-Z is due (16:00 in Kolkata)
THIRD_MONTH = datetime(2027, 2, 10, 10, 30, tzinfo=UTC)  # month 3 of pairs begun on STARTED


def programs_with(
    programs: ProgramsConfig, *instruments: dict[str, Any], program_id: str = "img-2026"
) -> ProgramsConfig:
    """The test programs with `instruments:` set on one program."""
    data = programs.model_dump()
    for program in data["programs"]:
        if program["id"] == program_id:
            program["instruments"] = list(instruments)
    return parse_programs(data)


def with_instruments(deps: Deps, *instruments: dict[str, Any]) -> Deps:
    return dataclasses.replace(deps, programs=programs_with(deps.programs, *instruments))


def surveys(deps: Deps) -> list[InstrumentSurvey]:
    with deps.sessions.begin() as session:
        return list(
            session.scalars(
                select(InstrumentSurvey).order_by(InstrumentSurvey.due_at, InstrumentSurvey.person_id)
            )
        )


def answers(deps: Deps) -> list[InstrumentAnswer]:
    with deps.sessions.begin() as session:
        return list(session.scalars(select(InstrumentAnswer).order_by(InstrumentAnswer.period)))


def survey_dms(fake: FakeSlack, user_id: str) -> list[dict[str, Any]]:
    """Survey messages as they now stand in the user's DM."""
    return [m for m in fake.messages(user_id) if (m.get("metadata") or {}).get("event_type") == EVENT]


def filled(view: dict[str, Any], chosen: dict[str, str]) -> dict[str, Any]:
    """The modal as Slack submits it, with `chosen` (block id -> option value) selected."""
    values: dict[str, Any] = {}
    for block in view["blocks"]:
        if block["type"] == "input" and block["block_id"] in chosen:
            element = block["element"]
            option = next(o for o in element["options"] if o["value"] == chosen[block["block_id"]])
            values[block["block_id"]] = {
                element["action_id"]: {"type": element["type"], "selected_option": option}
            }
    return {**view, "state": {"values": values}}


def survey_mentees(n: int, *, first: int = 1) -> list[str]:
    return [f"U0SURVEY{i:02d}" for i in range(first, first + n)]


def pair_up(deps: Deps, fake: FakeSlack, mentor: str, mentees: Sequence[str]) -> None:
    """Each mentee paired with `mentor` on STARTED, in Kolkata, and known to the fake Slack."""
    for mentee in mentees:
        fake.add_user(FakeUser(id=mentee, name=mentee.lower(), tz="Asia/Kolkata"))
        make_pair(deps, mentor, mentee, started_at=STARTED, mentee_tz="Asia/Kolkata")


def answer_surveys(
    deps: Deps,
    clock: SettableClock,
    answers_by_mentee: Mapping[str, Mapping[int, int | None]],
    *,
    instrument: str = "mini-z-burnout",
    when: datetime = DECEMBER,
) -> dict[str, InstrumentSurvey]:
    """Send the surveys due at `when`, then answer `instrument`'s for each mentee, in the order given,
    through the answer service the modal uses; the claims by mentee."""
    run_due(deps, when)
    clock.now = when + timedelta(hours=2)
    claims = {s.person_id: s for s in surveys(deps) if s.instrument_id == instrument and s.ts}
    for mentee, chosen in answers_by_mentee.items():
        record_survey(deps, survey_id=claims[mentee].id, user_id=mentee, answers=chosen)
    return claims


def pending_tokens(deps: Deps) -> list[str]:
    """The waiting answers as the database holds them (plain SQL: no decryption)."""
    with deps.engine.connect() as connection:
        return list(connection.scalars(text("SELECT answer FROM instrument_pending")))


def stored_order(deps: Deps) -> list[float]:
    """Released scores in the order they lie in the table (SQLite rowid, PostgreSQL ctid)."""
    order = "ctid" if deps.engine.dialect.name == "postgresql" else "rowid"
    with deps.engine.connect() as connection:
        return [
            float(v)
            for v in connection.scalars(text(f"SELECT score FROM instrument_answers ORDER BY {order}"))
        ]
