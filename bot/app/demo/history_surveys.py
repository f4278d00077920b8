"""Demo history: a year of instrument surveys, answered and released through the real pipeline.

Which surveys fell due is asked of bot.instruments.surveys.surveys_due week by week over the pairs as
they stood then, as the tick would have asked it. The claims go in through the instruments repository
already sent (a year of survey DMs would dominate the demo's runtime, and the narrative shows DMs
enough); each answer is given through bot.instruments.answers.record_survey with the clock at the
moment it was given, so it waits encrypted beside its claim; then bot.instruments.release.close_due
releases every closed period's answers shuffled and unlinked, or discards a period with fewer than k.
Nothing here writes an answer anywhere else, or links one to a person.

Answers come from a fixed seed: burnout (Mini-Z 3 or more) slowly less common over the year, team
psychological safety rising, mentors rated well. Before the January intake only the five pilot mentees
are asked, and they answer less often: a period fewer than five of them answered is discarded, as the
report then says.
"""

from __future__ import annotations

import random
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import select

from bot.app.demo.history_plan import HistoryPlan, Mentee
from bot.app.demo.world import World
from bot.instruments.answers import record_survey
from bot.instruments.catalog import Instrument, shipped_instruments
from bot.instruments.release import close_due
from bot.instruments.surveys import Due, surveys_due
from bot.kernel.programs import Program
from bot.kernel.text import plural
from storage.models import Pair, Person
from storage.repositories import instruments as repo
from storage.repositories.instruments import PairRow

SEED = 20261103
TOKEN = "demo-history"  # the claim token of the seeded rows, as a tick's would be
YEAR = timedelta(days=365)
ANSWER_RATE = 0.8  # of the mentees who answer their check-ins; the silent ones answer no survey either
PILOT_RATE = 0.55  # the pilot intake answers less: its small early periods are discarded


@dataclass(frozen=True)
class _PairSpan:
    row: PairRow
    ended_at: datetime | None


def run(world: World, program: Program, plan: HistoryPlan) -> str:
    """Send, answer and close a year of the program's surveys; one line for the transcript."""
    now = world.clock()
    due = _due_surveys(world, program, first_week_start(plan), now)
    with world.deps.sessions.begin() as session:
        claims = repo.insert_claims(session, rows=[_claim(d) for d in due])
    try:
        answered = _answer(world, plan, claims, now)
    finally:  # each answer moved the clock to when it was given
        world.clock.now = now
    closed = close_due(world.deps, now)
    released = [c for c in closed if c.released]
    k = program.privacy.min_group_size
    return (
        f"Instrument surveys: {len(claims)} sent, {answered} answered; {plural(len(released), 'period')} "
        f"released shuffled and unlinked ({sum(c.released for c in released)} answers), "
        f"{len(closed) - len(released)} discarded with fewer than {k} answers."
    )


def _due_surveys(world: World, program: Program, since: datetime, now: datetime) -> list[Due]:
    """Every survey the tick would have sent from `since` to `now`, asked once a week (its grace)."""
    with world.deps.read_sessions.begin() as session:
        spans = [
            _PairSpan(PairRow(pair_id, mentor, mentee, started, zone), ended)
            for pair_id, mentor, mentee, started, ended, zone in session.execute(
                select(
                    Pair.id, Pair.mentor_id, Pair.mentee_id, Pair.started_at, Pair.ended_at, Person.timezone
                )  # fmt: skip
                .join(Person, Person.id == Pair.mentee_id)
                .where(Pair.program_id == program.id, Person.active.is_(True))
                .order_by(Pair.mentee_id, Pair.id)
            )
        ]
    catalogue = shipped_instruments()
    found: dict[tuple[str, str, str], Due] = {}
    at = since
    while at < now + timedelta(days=7):
        instant = min(at, now)
        active = [s.row for s in spans if s.row.started_at <= instant and _open_at(s, instant)]
        for due in surveys_due(program, active, instant, catalogue):
            found.setdefault((due.person_id, due.instrument_id, due.period), due)
        at += timedelta(days=7)
    return sorted(found.values(), key=lambda d: (d.due_at, d.person_id, d.instrument_id))


def _open_at(span: _PairSpan, instant: datetime) -> bool:
    return span.ended_at is None or span.ended_at > instant


def _claim(due: Due) -> dict[str, object]:
    """The claim row as the sender leaves it once the DM went out a few seconds after it was due."""
    sent = due.due_at + timedelta(seconds=5)
    return {
        "program_id": due.program_id, "person_id": due.person_id, "instrument_id": due.instrument_id,
        "period": due.period, "pair_id": due.pair_id, "due_at": due.due_at, "status": repo.SENT,
        "claimed_by": TOKEN, "claimed_at": due.due_at, "attempts": 1, "answered": False,
        "channel": f"D{due.person_id[1:]}", "ts": f"{sent.timestamp():.6f}", "sent_at": sent,
    }  # fmt: skip


def _answer(world: World, plan: HistoryPlan, claims: list[repo.Claimed], now: datetime) -> int:
    """Each mentee answers most surveys within a few days, through the survey modal's own service."""
    rng = random.Random(SEED)
    mentees = {m.person.user_id: m for m in plan.mentees}
    catalogue = shipped_instruments()
    answered = 0
    for claim in sorted(claims, key=lambda c: c.id):
        mentee = mentees.get(claim.person_id)
        rate = 0.0 if mentee is None or mentee.silent else _rate(mentee)
        at = claim.due_at + timedelta(hours=rng.uniform(1, 100))
        if rng.random() >= rate or at > now:
            continue
        assert mentee is not None
        progress = (claim.due_at - first_week_start(plan)) / YEAR
        answers = _answers(rng, catalogue[claim.instrument_id], mentee, progress)
        world.clock.now = at
        record_survey(world.deps, survey_id=claim.id, user_id=claim.person_id, answers=answers)
        answered += 1
    return answered


def _rate(mentee: Mentee) -> float:
    return PILOT_RATE if mentee.intake.label == "pilot" else ANSWER_RATE


def _answers(
    rng: random.Random, instrument: Instrument, mentee: Mentee, progress: float
) -> Mapping[int, int]:
    """One mentee's answers: burnout less likely and the team safer as the year goes on."""
    if instrument.id == "mini-z-burnout":
        burnout = 0.5 - 0.25 * progress + 0.15 * (mentee.wellbeing < 2.5)
        if rng.random() < burnout:
            return {1: rng.choice((3, 3, 3, 4, 4, 5))}
        return {1: rng.choice((1, 2, 2))}
    if instrument.id == "edmondson-psych-safety":
        mean = mentee.safety + 0.4 + 1.4 * progress
    else:  # a mentee rating the mentor
        mean = 5.2 + 0.3 * progress
    scale = instrument.scale
    found = {}
    for item in instrument.items:
        value = min(scale.max, max(scale.min, round(rng.gauss(mean, 0.9))))
        found[item.number] = scale.min + scale.max - value if item.reverse else value
    return found


def first_week_start(plan: HistoryPlan) -> datetime:
    """Midnight UTC of the synthetic year's first Monday."""
    return datetime.combine(plan.first_week, datetime.min.time(), tzinfo=UTC)
