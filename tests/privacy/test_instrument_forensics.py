"""Instrument survey answers are promised to be counted "only in totals; nobody sees your answer". Read as
a hostile operator would, from the raw files (SQLite's main file and WAL) or with plain SQL and xmin
(PostgreSQL): the transaction that marks a claim answered holds the score only as a Fernet token; no
transaction that writes a released answer holds a user id, a DM's channel or ts; once released, no old
token is left in the files. Before this design each answer was written alone, in the transaction right
after the one marking its mentee's claim answered (adjacent WAL commits, the next xmin): there the
"one token per submit" and "one transaction, one xmin per batch" checks below cannot hold."""

from __future__ import annotations

import json
from typing import Any

import pytest
from sqlalchemy import text

from bot.fake_slack.server import FakeSlack
from bot.instruments.release import close, close_due
from bot.kernel.clock import SettableClock as Clock
from bot.kernel.deps import Deps
from bot.kernel.programs import ProgramsConfig
from storage.models import InstrumentSurvey
from storage.scrub import scrub
from tests.support import forensics
from tests.support.climate import decrypts_to, sqlite_files
from tests.support.instruments import (
    MONTHLY_MINI_Z,
    answer_surveys,
    answers,
    pair_up,
    pending_tokens,
    programs_with,
    survey_mentees,
)
from tests.support.people import USERS

PROGRAM, MENTOR = "img-2026", "U0MENTOR1"
MENTEES = survey_mentees(6)
SCORES = [1, 2, 3, 4, 5, 2]


@pytest.fixture
def programs(programs: ProgramsConfig) -> ProgramsConfig:
    return programs_with(programs, MONTHLY_MINI_Z)


def _backend(deps: Deps, name: str) -> None:
    if deps.engine.dialect.name != name:
        pytest.skip(f"reads {name}'s own files or catalogs")


def _answered(deps: Deps, clock: Clock, fake: FakeSlack) -> dict[str, InstrumentSurvey]:
    pair_up(deps, fake, MENTOR, MENTEES)
    return answer_surveys(deps, clock, {m: {1: s} for m, s in zip(MENTEES, SCORES, strict=True)})


def _suspects(claims: dict[str, InstrumentSurvey]) -> list[bytes]:
    """Every user id, and every survey DM's channel and ts."""
    ids = {u.id for u in USERS} | set(MENTEES) | {MENTOR}
    dms = {value for c in claims.values() for value in (c.channel, c.ts) if value}
    return sorted(value.encode() for value in ids | dms)


def _close_december(deps: Deps) -> None:
    program = deps.programs.get(PROGRAM)
    assert program is not None
    closed = close(deps, program=program, instrument_id="mini-z-burnout", period="2026-12")
    assert closed.released == len(MENTEES)


def test_sqlite_the_transaction_marking_a_claim_answered_holds_the_score_only_as_a_token(
    deps: Deps, clock: Clock, fake_slack: FakeSlack
) -> None:
    _backend(deps, "sqlite")
    _answered(deps, clock, fake_slack)
    _, wal = sqlite_files(deps)
    submits = []
    for pages in forensics.wal_transactions(wal):
        values = forensics.record_values(pages)
        if any((decrypts_to(deps, v) or "").startswith('{"version"') for v in values):
            submits.append((pages, values))
    assert len(submits) == len(MENTEES)  # one transaction per answer, each holding its token
    for pages, values in submits:
        clear = [v for v in values if isinstance(v, str) and decrypts_to(deps, v) is None]
        assert not [v for v in clear if "score" in v or "version" in v]
        assert b'"score"' not in b"".join(pages)  # nor anywhere in the raw page images
    assert answers(deps) == []


def test_sqlite_no_transaction_writing_a_released_answer_holds_a_user_id_channel_or_ts(
    deps: Deps, clock: Clock, fake_slack: FakeSlack
) -> None:
    _backend(deps, "sqlite")
    claims = _answered(deps, clock, fake_slack)
    tokens = pending_tokens(deps)
    _close_december(deps)
    _, wal = sqlite_files(deps)
    row_ids = {row.id for row in answers(deps)}
    releases = [p for p in forensics.wal_transactions(wal) if row_ids & set(forensics.record_values(p))]
    assert len(releases) == 1, "the batch is not in the WAL, or was written by more than one transaction"
    raw = b"".join(releases[0])
    assert [suspect for suspect in _suspects(claims) if suspect in raw] == []
    assert len(row_ids) == len(MENTEES)

    scrub(deps.engine, tables=["instrument_pending"])  # what close_due does after the commit

    main, wal = sqlite_files(deps)
    everything = main.read_bytes() + (wal.read_bytes() if wal.exists() else b"")
    assert tokens and [token for token in tokens if token.encode() in everything] == []


def test_postgresql_a_released_batch_shares_one_xmin_that_no_claim_was_written_by(
    deps: Deps, clock: Clock, fake_slack: FakeSlack
) -> None:
    _backend(deps, "postgresql")
    claims = _answered(deps, clock, fake_slack)
    marked_by = _claim_xmins(deps)
    assert len(marked_by) == len(MENTEES)
    close_due(deps, clock.now.replace(year=2027, month=1, day=8, hour=0, minute=0))
    with deps.engine.connect() as connection:
        rows = [
            dict(r)
            for r in connection.execute(text("SELECT xmin::text AS x, * FROM instrument_answers")).mappings()
        ]
    batch = {row.pop("x") for row in rows}
    assert len(rows) == len(MENTEES) and len(batch) == 1  # one transaction for the whole period
    assert not batch & set(marked_by.values())
    assert _claim_xmins(deps) == marked_by  # the release wrote no claim
    stored = json.dumps(rows, default=str).encode()
    assert [suspect for suspect in _suspects(claims) if suspect in stored] == []
    assert pending_tokens(deps) == []


def _claim_xmins(deps: Deps) -> dict[int, str]:
    with deps.engine.connect() as connection:
        query = text("SELECT id, xmin::text FROM instrument_surveys WHERE answered")
        return {int(i): str(x) for i, x in connection.execute(query)}


def _heap_items(deps: Deps, table: str) -> list[bytes] | None:
    """t_data of every line pointer pageinspect shows in `table`; None without the extension."""
    with deps.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
        try:
            connection.execute(text("CREATE EXTENSION IF NOT EXISTS pageinspect"))
        except Exception:  # noqa: BLE001 - any refusal (not installed, not allowed) means: cannot look
            return None
        blocks = connection.scalar(
            text(f"SELECT pg_relation_size('{table}') / current_setting('block_size')::int")
        )
        items: list[Any] = []
        for block in range(int(blocks or 0)):
            items += connection.scalars(
                text(f"SELECT t_data FROM heap_page_items(get_raw_page('{table}', {block}))")
            ).all()
    return [bytes(item) for item in items if item is not None]


def test_postgresql_after_the_release_no_heap_item_of_instrument_pending_holds_an_old_token(
    deps: Deps, clock: Clock, fake_slack: FakeSlack
) -> None:
    _backend(deps, "postgresql")
    _answered(deps, clock, fake_slack)
    tokens = [token.encode() for token in pending_tokens(deps)]
    _close_december(deps)
    before = _heap_items(deps, "instrument_pending")
    if before is None:
        pytest.skip("the pageinspect extension is not available: dead tuples could not be inspected")
    assert any(token in item for item in before for token in tokens)  # the dead versions were still there

    scrub(deps.engine, tables=["instrument_pending"])  # what close_due does after the commit

    after = _heap_items(deps, "instrument_pending")
    assert after is not None and [t for t in tokens if any(t in item for item in after)] == []
