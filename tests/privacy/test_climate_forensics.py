"""Team-climate answers are promised to nobody individually. Read as a hostile operator would, from the
raw files (SQLite's main file and WAL) or with plain SQL and pageinspect (PostgreSQL): while a week is
open the check-in row holds the score only as a Fernet token; once the week closes no row, live or dead,
ties a mentee to a score, and the unlinked rows lie in an order that has nothing to do with the mentees.
Failed on the code before the fix: `checkin_answers.psych_score` held every score in the clear."""

from __future__ import annotations

import sqlite3

import pytest
from sqlalchemy import text

from bot.checkins.climate import close_due, close_week
from bot.kernel.clock import SettableClock as Clock
from bot.kernel.deps import Deps
from storage.scrub import scrub
from tests.support import forensics
from tests.support.climate import answer_climate, decrypts_to, sqlite_files, stored_tokens
from tests.support.digests import PROGRAM, WEEK, mentee_ids

MENTEES = mentee_ids(20)
SCORES = [1 + i % 7 for i in range(20)]  # in mentee order: 1..7, 1..7, 1..6
CLIMATE_COLUMNS = ["id", "program_id", "week", "met", "score"]


def _backend(deps: Deps, name: str) -> None:
    if deps.engine.dialect.name != name:
        pytest.skip(f"reads {name}'s own files or catalogs")


def _sqlite_records(deps: Deps) -> list[list[forensics.Value]]:
    """Every record in the main file's leaf pages and in every WAL frame, live or overwritten."""
    main, wal = sqlite_files(deps)
    pages = [page for transaction in forensics.wal_transactions(wal) for page in transaction]
    records = [record for page in pages for record in forensics.page_records(page)]
    for index, page in enumerate(forensics.main_file_pages(main)):
        records += forensics.page_records(page, first_page=index == 0)
    return records


def _all_bytes(deps: Deps) -> bytes:
    main, wal = sqlite_files(deps)
    return main.read_bytes() + (wal.read_bytes() if wal.exists() else b"")


def test_while_the_week_is_open_the_sqlite_files_hold_the_score_only_as_a_fernet_token(deps: Deps) -> None:
    _backend(deps, "sqlite")
    answer_climate(deps, MENTEES[:5], [6] * 5, wellbeing=3)
    images = [r for r in _sqlite_records(deps) if any(decrypts_to(deps, value) == "6" for value in r)]
    # Each answer was written twice (created, then its check-in marked answered): every image counts.
    assert len(images) >= 5
    for record in images:
        clear = [value for value in record if decrypts_to(deps, value) is None]
        assert 6 not in clear and "6" not in clear, record  # wellbeing 3, met 1, answered 1: never the 6
    assert len(stored_tokens(deps)) == 5
    assert all(token.startswith(b"gAAAAA") for token in stored_tokens(deps))


def test_while_the_week_is_open_postgresql_rows_hold_the_score_only_as_a_fernet_token(deps: Deps) -> None:
    _backend(deps, "postgresql")
    answer_climate(deps, MENTEES[:5], [6] * 5, wellbeing=3)
    with deps.engine.connect() as connection:
        rows = [dict(row) for row in connection.execute(text("SELECT * FROM checkin_answers")).mappings()]
        columns = connection.scalars(
            text("SELECT column_name FROM information_schema.columns WHERE table_name = 'checkin_answers'")
        ).all()
    assert "psych_score" not in columns and len(rows) == 5
    for row in rows:
        assert decrypts_to(deps, row.pop("climate_score")) == "6"
        assert 6 not in row.values() and "6" not in row.values()


def test_after_the_week_closes_no_byte_of_the_sqlite_files_ties_a_mentee_to_a_score(
    deps: Deps, clock: Clock
) -> None:
    _backend(deps, "sqlite")
    answer_climate(deps, MENTEES, SCORES)
    tokens = stored_tokens(deps)
    assert len(tokens) == 20 and all(token in _all_bytes(deps) for token in tokens)

    [closed] = close_due(deps, clock.now)

    assert (closed.answered, closed.moved) == (20, 20)
    main, wal = sqlite_files(deps)
    assert not wal.exists() or wal.stat().st_size == 0  # the TRUNCATE checkpoint emptied the WAL
    everything = _all_bytes(deps)
    assert [token for token in tokens if token in everything] == []  # old row images: gone, not just NULL
    with sqlite3.connect(f"file:{main}?mode=ro", uri=True) as db:
        left = db.execute("SELECT count(*) FROM checkin_answers WHERE climate_score IS NOT NULL").fetchone()
        assert left == (0,)
        assert [c[1] for c in db.execute("PRAGMA table_info(climate_answers)")] == CLIMATE_COLUMNS
        stored = [score for (score,) in db.execute("SELECT score FROM climate_answers ORDER BY rowid")]
    assert sorted(stored) == sorted(SCORES)
    assert stored != SCORES  # a 1-in-10^13 coincidence otherwise: the order is the shuffle's
    in_file = [r[4] for r in _sqlite_records(deps) if r[1:3] == [PROGRAM, WEEK.isoformat()] and len(r) == 5]
    assert in_file == stored  # the cells lie in the file in id order, which is the shuffled order


def test_on_postgresql_a_batch_shares_one_xmin_and_lies_in_shuffled_ctid_order(
    deps: Deps, clock: Clock
) -> None:
    _backend(deps, "postgresql")
    answer_climate(deps, MENTEES, SCORES)
    close_due(deps, clock.now)
    with deps.engine.connect() as connection:
        rows = connection.execute(
            text("SELECT xmin::text AS xmin, id, score FROM climate_answers ORDER BY ctid")
        ).all()
        columns = connection.scalars(
            text(
                "SELECT column_name FROM information_schema.columns WHERE table_name = 'climate_answers' "
                "ORDER BY ordinal_position"
            )
        ).all()
    assert columns == CLIMATE_COLUMNS
    assert len({row.xmin for row in rows}) == 1  # one transaction for the program's whole week
    assert [row.id for row in rows] == sorted(row.id for row in rows)  # ids were allocated in ctid order
    stored = [row.score for row in rows]
    assert sorted(stored) == sorted(SCORES) and stored != SCORES


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
        items = []
        for block in range(int(blocks or 0)):
            items += connection.scalars(
                text(f"SELECT t_data FROM heap_page_items(get_raw_page('{table}', {block}))")
            ).all()
    return [bytes(item) for item in items if item is not None]


def test_on_postgresql_after_vacuum_no_heap_item_of_checkin_answers_holds_an_old_token(
    deps: Deps, clock: Clock
) -> None:
    _backend(deps, "postgresql")
    answer_climate(deps, MENTEES, SCORES)
    tokens = stored_tokens(deps)
    program = deps.programs.get(PROGRAM)
    assert program is not None
    close_week(deps, program=program, week=WEEK)
    assert stored_tokens(deps) == []  # plain SQL sees no score beside any check-in
    before = _heap_items(deps, "checkin_answers")
    if before is None:
        pytest.skip("the pageinspect extension is not available: dead tuples could not be inspected")
    assert any(token in item for item in before for token in tokens)  # the dead versions were still there

    scrub(deps.engine, tables=["checkin_answers"])  # what close_due does after the commit

    after = _heap_items(deps, "checkin_answers")
    assert after is not None and [t for t in tokens if any(t in item for item in after)] == []


def test_the_sqlite_wal_before_the_scrub_would_have_named_the_mentees(deps: Deps, clock: Clock) -> None:
    """Why the scrub is there: without it, the WAL still holds every token beside its check-in."""
    _backend(deps, "sqlite")
    answer_climate(deps, MENTEES[:5], [6] * 5)
    tokens = stored_tokens(deps)
    program = deps.programs.get(PROGRAM)
    assert program is not None
    close_week(deps, program=program, week=WEEK)
    assert stored_tokens(deps) == [] and any(token in _all_bytes(deps) for token in tokens)
    scrub(deps.engine, tables=["checkin_answers"])
    assert [token for token in tokens if token in _all_bytes(deps)] == []
