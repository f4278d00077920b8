"""With the database files (main, WAL; PostgreSQL's heap) and the secret key, trying every enrolled user
id against every stored value names no concern's sender — right after submission, before any
checkpoint, and a day later. Failed on the code before the anonymity issue: 5 of 5 senders named on
both backends through the quota row written in the concern's own transaction."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import text

from bot.app.tick import tick
from bot.fake_slack.requests import SlackRequestSender
from bot.fake_slack.server import FakeSlack
from bot.kernel.clock import SettableClock as Clock
from bot.kernel.deps import Deps
from tests.support import forensics
from tests.support.concerns import submit_concern
from tests.support.factories import make_pair
from tests.support.people import USERS
from tests.support.waiting import wait_until

MENTEES = ["U0MENTEE1", "U0MENTEE2", "U0MENTEE3", "U0MENTOR2", "U0DIO"]
TEXTS = {user: f"Concern from sender number {n}: the handover felt unsafe." for n, user in enumerate(MENTEES)}


def _enrol_and_submit(deps: Deps, slack: SlackRequestSender, fake: FakeSlack) -> None:
    for mentee in MENTEES:
        make_pair(deps, "U0MENTOR1", mentee)
    for mentee in MENTEES:
        assert submit_concern(slack, fake, user_id=mentee, text=TEXTS[mentee])["response_action"] == "update"


def _postgres_tuples(deps: Deps) -> list[forensics.Tuple]:
    """Every tuple of every table, live or dead, read from the heap files after a CHECKPOINT."""
    with deps.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
        connection.execute(text("CHECKPOINT"))
        root = Path(connection.execute(text("SHOW data_directory")).scalar_one())
        tables = connection.execute(
            text(
                "SELECT tablename, pg_relation_filepath(quote_ident(tablename)) FROM pg_tables "
                "WHERE schemaname = 'public'"
            )
        ).all()
    return [row for table, relpath in tables for row in forensics.heap_tuples(table, root / relpath)]


def _named(deps: Deps) -> dict[str, set[str]]:
    user_ids = [u.id for u in USERS]
    if deps.engine.dialect.name == "sqlite":
        units, everything = forensics.sqlite_units(Path(deps.engine.url.database or ""))
        return forensics.link_senders(
            units, keys=deps.keys, texts=TEXTS.values(), user_ids=user_ids, everything=everything
        )
    return forensics.link_senders_postgres(
        _postgres_tuples(deps), keys=deps.keys, texts=TEXTS.values(), user_ids=user_ids
    )


def test_with_the_files_and_the_key_no_concern_names_its_sender_right_after_submission(
    deps: Deps, slack: SlackRequestSender, fake_slack: FakeSlack
) -> None:
    _enrol_and_submit(deps, slack, fake_slack)
    named = _named(deps)
    assert set(named) == set(TEXTS.values())  # the reader did find and decrypt every concern
    assert {text: ids for text, ids in named.items() if ids} == {}


def test_with_the_files_and_the_key_no_concern_names_its_sender_a_day_later(
    deps: Deps, slack: SlackRequestSender, fake_slack: FakeSlack, clock: Clock
) -> None:
    _enrol_and_submit(deps, slack, fake_slack)
    clock.now += timedelta(days=1)
    tick(deps, clock.now)
    named = _named(deps)
    assert set(named) == set(TEXTS.values())
    assert {text: ids for text, ids in named.items() if ids} == {}


def test_the_reader_does_name_a_person_written_in_the_same_transaction(deps: Deps) -> None:
    """The control: the same reader, on a transaction that does carry a user id, names it."""
    if deps.engine.dialect.name != "sqlite":
        pytest.skip("the control runs on the SQLite WAL; PostgreSQL groups by xmin the same way")
    from storage.models import ConcernMessage  # noqa: F401  (the table exists)

    with deps.sessions.begin() as session:
        session.execute(text("CREATE TABLE control (who TEXT, what TEXT)"))
    token = deps.keys.fernet.encrypt(b"control text").decode()
    with deps.sessions.begin() as session:
        session.execute(text("INSERT INTO control VALUES ('U0MENTEE2', :t)"), {"t": token})
    units, everything = forensics.sqlite_units(Path(deps.engine.url.database or ""))
    named = forensics.link_senders(
        units,
        keys=deps.keys,
        texts=["control text"],
        user_ids=["U0MENTEE1", "U0MENTEE2"],
        everything=everything,
    )
    assert named == {"control text": {"U0MENTEE2"}}


def test_a_moment_after_a_concern_is_stored_the_wal_holds_no_commit_order(
    deps: Deps, slack: SlackRequestSender, fake_slack: FakeSlack
) -> None:
    if deps.engine.dialect.name != "sqlite":
        pytest.skip("PostgreSQL's WAL is the server's; see docs/threat-model.md")
    make_pair(deps, "U0MENTOR1", "U0MENTEE1")
    wal = Path(f"{deps.engine.url.database}-wal")
    submit_concern(slack, fake_slack, user_id="U0MENTEE1", text=TEXTS["U0MENTEE1"])
    wait_until(lambda: wal.stat().st_size == 0, what="the WAL emptied after the concern")
    assert forensics.wal_transactions(wal) == []
