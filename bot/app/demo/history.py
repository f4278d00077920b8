"""Demo chapter: a year of synthetic history, so the digest's trend and the annual report have real figures.

The narrative chapters follow six mentees through one week; every figure about them stays hidden,
as it should. This chapter adds a fictional cohort (bot.app.demo.history_plan, fixed seed) and writes
its year the way the features store it, in batches: people and pairs through the repositories; weekly
check-ins with each team-climate answer encrypted beside its check-in (answer_fields) until the tick's
own close moves each week's batch, shuffled and unlinked, out of them (bot.checkins.climate); sessions,
reflections and competencies as /reflect stores them; anonymous concerns in a transaction of their
own; a year of instrument surveys answered and released by their own pipeline
(bot.app.demo.history_surveys); an HR roster snapshot (bot.reports.roster_snapshots). Then each past
week's figures are decided in order, as that year's weekly digests would have decided them.

Its weeks run up to the week the clock is in, whose digest the next chapter posts: that week's
check-ins fall on its Thursday, a couple of days ahead of the clock. The narrative's own week had
closed its team-climate answers before this chapter runs, so the cohort's answers for that week carry
none (a late answer is not stored either).
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy.orm import Session

from bot.app.demo import history_surveys
from bot.app.demo.history_plan import INTAKES, WEEKS, AnswerPlan, HistoryPlan, SessionPlan, plan_history
from bot.app.demo.world import MENTEES, PROGRAM_ID, World
from bot.checkins.climate import answer_fields, close_due
from bot.checkins.edmondson import REVERSED, item_for
from bot.concerns.case_keys import hash_case_key, new_case_key
from bot.digests.figures import weekly_series
from bot.digests.weeks import monday_of
from bot.fake_slack.models import FakeUser
from bot.kernel.programs import Program
from bot.kernel.text import day_text
from bot.reports.roster_snapshots import Employee, store_snapshot
from storage.crypto import Keys
from storage.models import (
    Checkin,
    CheckinAnswer,
    CompetencyObservation,
    Concern,
    MentoringSession,
    Pair,
    Reflection,
)
from storage.repositories import climate as climate_repo
from storage.repositories.concerns import add_concern
from storage.repositories.pairs import create_pair, end_pair
from storage.repositories.people import upsert_person
from storage.repositories.reflections import CONFIRMED, DISPUTED, pairs_by_id

SEED = 20261102
HR_FILE = "hr-roster-demo.csv"
TOKEN = "demo-history"  # claim token of the seeded rows, as a tick's would be


def run(world: World) -> None:
    program = world.deps.programs.get(PROGRAM_ID)
    assert program is not None
    now = world.clock()
    plan = plan_history(
        last_week=monday_of(now.astimezone(program.tz).date()),
        today=now.astimezone(program.tz).date(),
        competencies=list(program.competencies),
        seed=SEED,
        others=MENTEES,
    )
    _join_workspace(world, plan)
    with world.deps.sessions.begin() as session:
        pair_ids = _people_and_pairs(session, plan)
        _sessions(session, plan, pair_ids)
    with world.deps.sessions.begin() as session:
        _checkins(session, program, plan)
    closed = close_due(world.deps, now)
    surveys = history_surveys.run(world, program, plan)
    with world.deps.sessions.begin() as session:  # anonymous: nothing else is written beside them
        _concerns(session, plan, world.deps.keys)
    with world.deps.sessions.begin() as session:
        _roster(session, plan, now)
        _decide_past_weeks(session, program, plan, now)
    _summarise(world, plan, weeks_closed=len(closed))
    world.say(surveys)


def _join_workspace(world: World, plan: HistoryPlan) -> None:
    """The cohort in the fake Slack too, so that a later chapter's DM to one of them is delivered."""
    for person in [*plan.mentors, *(m.person for m in plan.mentees)]:
        world.fake.add_user(
            FakeUser(id=person.user_id, name=person.user_id.lower(), real_name=person.name, tz=person.tz)
        )


def _at(day: date, hour: int = 15) -> datetime:
    return datetime.combine(day, time(hour), tzinfo=UTC)


def _people_and_pairs(session: Session, plan: HistoryPlan) -> list[int]:
    """Everyone as users.info would have cached them; each pair started the Friday before its first week."""
    first_seen = _at(plan.first_week - timedelta(days=30))
    for person in [*plan.mentors, *(m.person for m in plan.mentees)]:
        upsert_person(
            session, user_id=person.user_id, now=first_seen, display_name=person.name.split()[1],
            real_name=person.name, timezone=person.tz, refreshed=True,
        )  # fmt: skip
    ids = []
    for pair in plan.pairs:
        started = _at(plan.monday(pair.first_week) - timedelta(days=3))
        row = create_pair(session, program_id=PROGRAM_ID, mentor_id=pair.mentor, mentee_id=pair.mentee,
                          now=started)  # fmt: skip
        if pair.end_week is not None:
            end_pair(row, now=_at(plan.monday(pair.end_week) - timedelta(days=3)))
        ids.append(row.id)
    session.flush()
    return ids


def _sessions(session: Session, plan: HistoryPlan, pair_ids: list[int]) -> None:
    """Sessions as /reflect stores them (confirmation DMs already sent and answered), in three batches."""
    pairs = pairs_by_id(session, pair_ids=pair_ids)
    logged = [(item, pairs[pair_ids[item.pair]]) for item in plan.sessions]
    rows = [_session_row(item, pair) for item, pair in logged]
    session.add_all(rows)
    session.flush()
    for row, (item, pair) in zip(rows, logged, strict=True):
        session.add(_reflection(item, row))
        session.add_all(
            CompetencyObservation(session_id=row.id, program_id=PROGRAM_ID, mentee_id=pair.mentee_id,
                                  competency=competency, level=level, observed_on=item.day)
            for competency, level in item.levels.items()
        )  # fmt: skip


def _session_row(item: SessionPlan, pair: Pair) -> MentoringSession:
    logger, other = (pair.mentor_id, pair.mentee_id) if item.by_mentor else (pair.mentee_id, pair.mentor_id)
    logged = _at(item.day, 18)
    answered = logged + timedelta(hours=5)
    return MentoringSession(
        pair_id=pair.id, program_id=PROGRAM_ID, session_date=item.day, duration_minutes=item.minutes,
        format=item.format, logged_by=logger, logged_at=logged, status=item.status,
        confirmed_by=other if item.status == CONFIRMED else None,
        confirmed_at=answered if item.status == CONFIRMED else None,
        disputed_at=answered if item.status == DISPUTED else None,
        notice_claimed_at=logged, notice_claimed_by=TOKEN, notice_ts=f"{logged.timestamp():.6f}",
    )  # fmt: skip


def _reflection(item: SessionPlan, row: MentoringSession) -> Reflection:
    """The logger's reflection; what they learned is shared (anonymously) only where they consented."""
    return Reflection(
        session_id=row.id,
        author_id=row.logged_by,
        author_role="mentor" if item.by_mentor else "mentee",
        topics=item.topics,
        learned=item.learned,
        share_learned=item.learned is not None and item.shared,
        share_named=False,
        created_at=row.logged_at,
    )


def _checkins(session: Session, program: Program, plan: HistoryPlan) -> None:
    """Thursday prompts at the program's local time in each mentee's zone; answers within a day or so."""
    last = plan.monday(WEEKS - 1)
    closed = climate_repo.closed_weeks(session, program_id=PROGRAM_ID, first=plan.first_week, last=last)
    delivered: dict[str, int] = {}
    rows = []
    for answer in plan.answers:
        user_id = answer.mentee.person.user_id
        item = item_for(user_id, delivered.get(user_id, 0))
        delivered[user_id] = delivered.get(user_id, 0) + 1
        rows.append((answer, _checkin(program, plan, answer, item)))
    session.add_all(row for _, row in rows)
    session.flush()
    session.add_all(
        _answer(row, answer, climate=plan.monday(answer.week) not in closed)
        for answer, row in rows
        if answer.wellbeing is not None
    )


def _checkin(program: Program, plan: HistoryPlan, answer: AnswerPlan, item: int) -> Checkin:
    period = plan.monday(answer.week) + timedelta(days=3)
    due = datetime.combine(period, program.checkins.local_time, tzinfo=ZoneInfo(answer.mentee.person.tz))
    due = due.astimezone(UTC)
    expires = due + timedelta(hours=program.checkins.expire_after_hours)
    silent = answer.wellbeing is None
    return Checkin(
        program_id=PROGRAM_ID, mentee_id=answer.mentee.person.user_id, period=period, due_at=due,
        expires_at=expires, status="expired" if silent else "answered", psych_item=item, claimed_at=due,
        claimed_by=TOKEN, sent_at=due, attempts=1, closed_at=expires if silent else None,
    )  # fmt: skip


def _answer(row: Checkin, answer: AnswerPlan, *, climate: bool) -> CheckinAnswer:
    """Stored as the check-in form stores it: the team-climate answer, as given, encrypted beside it
    (bot.checkins.climate.answer_fields) until its week closes."""
    given = 8 - answer.safety if row.psych_item in REVERSED else answer.safety
    at = row.due_at + timedelta(minutes=40 + (row.id * 137) % 1500)
    return CheckinAnswer(
        checkin_id=row.id, wellbeing=answer.wellbeing, met_mentor=answer.met, answered_at=at, updated_at=at,
        **answer_fields(given if climate else None),
    )  # fmt: skip


def _concerns(session: Session, plan: HistoryPlan, keys: Keys) -> None:
    """Concerns carry a program, a category, the week and a hashed case key nobody holds: no person."""
    for item in plan.concerns:
        concern = Concern(
            program_id=PROGRAM_ID, category=item.category, urgent=False, escalated=item.escalated,
            text=item.text, week=item.week, status=item.status, key_hash=hash_case_key(keys, new_case_key()),
            replies_allowed=True, first_reply_on=item.first_reply_on, resolved_on=item.resolved_on,
        )  # fmt: skip
        add_concern(session, concern=concern)


def _roster(session: Session, plan: HistoryPlan, now: datetime) -> None:
    rows = [
        Employee(line, e.employee, e.started_on, e.ended_on, "", e.participant)
        for line, e in enumerate(plan.employees, start=2)
    ]
    store_snapshot(session, program_id=PROGRAM_ID, rows=rows, source=HR_FILE, now=now)


def _decide_past_weeks(session: Session, program: Program, plan: HistoryPlan, now: datetime) -> None:
    """Decide and freeze each week's figures up to the narrative's week, as that year's digests did.

    A figure is decided against those shown before it; deciding old weeks only after newer ones froze
    (the next chapter's digest, or a report) could not compare them and would hide them as unknown.
    """
    weeks = {plan.monday(week) for week in range(WEEKS - 2)}
    weekly_series(session, program=program, first=min(weeks), last=max(weeks), split=weeks, now=now)


def _summarise(world: World, plan: HistoryPlan, *, weeks_closed: int) -> None:
    """Three lines for the transcript: who, the check-ins, everything else."""
    answered = sum(1 for a in plan.answers if a.wellbeing is not None)
    ended = sum(1 for p in plan.pairs if p.end_week is not None)
    confirmed = [s for s in plan.sessions if s.status == CONFIRMED]
    resolved = sum(1 for c in plan.concerns if c.resolved_on is not None)
    intakes = len({intake.label for intake in INTAKES})
    world.heading(f"A year of history: a synthetic cohort of fictional people (seed {SEED})")
    world.say(
        f"{len(plan.mentees)} mentees in {intakes} intakes, {len(plan.mentors)} mentors, "
        f"{len(plan.pairs)} pairs ({ended} ended)."
    )
    world.say(
        f"Weekly check-ins since {day_text(plan.first_week)}: {len(plan.answers)} prompts, "
        f"{answered} answered; team-climate answers of {weeks_closed} weeks moved out of them, unlinked."
    )
    world.say(
        f"{len(plan.sessions)} sessions ({len(confirmed)} confirmed, "
        f"{sum(s.minutes for s in confirmed) / 60:.0f} protected hours); {len(plan.concerns)} anonymous "
        f"concerns ({resolved} resolved); an HR roster snapshot of {len(plan.employees)} employees."
    )
