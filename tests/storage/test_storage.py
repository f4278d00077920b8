import threading
from datetime import UTC, datetime

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import select, text, update

from bot.fake_slack.requests import SlackRequestSender
from bot.kernel.deps import Deps
from bot.kernel.roles import Role, UserRoles, roles_now
from storage import migrate
from storage.models import Base, Pair, Person
from storage.repositories.people import upsert_person
from tests.support.factories import make_pair


def test_migrations_match_the_models(deps: Deps) -> None:
    with deps.engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        assert compare_metadata(context, Base.metadata) == []
    assert migrate.current_revision(deps.engine) == migrate.head_revision()


def test_migrate_twice_is_a_no_op(deps: Deps) -> None:
    migrate.upgrade(deps.engine)
    assert migrate.current_revision(deps.engine) == migrate.head_revision()


def test_datetimes_come_back_aware_utc(deps: Deps) -> None:
    now = datetime(2026, 3, 8, 7, 30, tzinfo=UTC)
    with deps.sessions.begin() as session:
        upsert_person(session, user_id="U1", now=now, display_name="x")
    with deps.sessions.begin() as session:
        person = session.get(Person, "U1")
        assert person is not None and person.first_seen_at == now and person.first_seen_at.tzinfo is not None


def test_concurrent_read_then_write_loses_no_update(deps: Deps) -> None:
    """Each thread reads a counter and writes it back +1: only serialized write transactions keep all 40."""
    with deps.sessions.begin() as session:
        upsert_person(session, user_id="U1", now=datetime.now(UTC), display_name="0")

    def bump() -> None:
        for _ in range(10):
            with deps.sessions.begin() as session:
                person = session.scalars(select(Person).where(Person.id == "U1").with_for_update()).one()
                person.display_name = str(int(person.display_name) + 1)

    threads = [threading.Thread(target=bump) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    with deps.sessions.begin() as session:
        assert session.execute(text("SELECT display_name FROM people WHERE id = 'U1'")).scalar_one() == "40"


def test_free_text_is_not_plaintext_in_the_database(deps: Deps) -> None:
    from storage.models import Concern

    secret_text = "the charge nurse mocked my accent"
    with deps.sessions.begin() as session:
        session.add(
            Concern(
                program_id="img-2026",
                category="other",
                urgent=False,
                escalated=False,
                text=secret_text,
                week=datetime(2026, 11, 23).date(),
                status="open",
                key_hash="h" * 64,
                replies_allowed=True,
            )
        )
    with deps.engine.connect() as connection:
        stored = connection.execute(text("SELECT text FROM concerns")).scalar_one()
    assert secret_text not in stored
    with deps.sessions.begin() as session:
        assert session.scalars(select(Concern.text)).one() == secret_text


def test_a_roles_lookup_neither_waits_for_a_writer_nor_sees_its_uncommitted_rows(deps: Deps) -> None:
    # The ack of every slash command reads roles; a long write elsewhere must not hold it up.
    make_pair(deps, "U0MENTOR1", "U0MENTEE1")
    found: list[UserRoles] = []
    with deps.sessions.begin() as writer:
        writer.execute(update(Pair).values(ended_at=datetime.now(UTC)))
        reader = threading.Thread(target=lambda: found.append(roles_now(deps, user_id="U0MENTEE1")))
        reader.start()
        reader.join(timeout=5)
        assert not reader.is_alive(), "the lookup waited for the writer's lock"
    assert found[0].all_roles == {Role.MENTEE}
    assert roles_now(deps, user_id="U0MENTEE1").all_roles == frozenset()


@pytest.mark.parametrize(
    ("command", "text", "user_id"),
    [
        ("/checkin", "", "U0MENTEE1"),
        ("/concern", "status K7QF-2M9X-PD4C", "U0MENTEE1"),
        ("/concern", "", "U0MENTEE1"),
        ("/mentorship", "concerns", "U0COORD1"),
        ("/mentorship", "help", "U0COORD1"),
    ],
)
def test_read_only_acks_answer_while_a_writer_holds_the_database(
    deps: Deps, slack: SlackRequestSender, command: str, text: str, user_id: str
) -> None:
    # On SQLite a write transaction holds the only write lock, possibly for a whole fan-out batch;
    # an ack that only reads must not queue behind it for Slack's three seconds.
    make_pair(deps, "U0MENTOR1", "U0MENTEE1")
    answers: list[int] = []
    with deps.sessions.begin() as writer:
        writer.execute(update(Pair).values(focus="held"))
        sender = threading.Thread(
            target=lambda: answers.append(slack.command(command, text, user_id=user_id)[0])
        )
        sender.start()
        sender.join(timeout=5)
        assert not sender.is_alive(), f"{command} {text} waited for the writer"
    assert answers == [200]
