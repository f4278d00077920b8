"""The demo's synthetic year, planned from a fixed seed: who joins when, weekly answers, sessions, concerns.

Pure planning (bot.app.demo.history writes the plan through the repositories). Everyone is fictional.
The cohort is shaped by the anonymity rule (bot.kernel.suppression): a weekly figure is compared with
every figure shown in the seven weeks before it, and groups that differ by 1 to k-1 people hide the
later one. So mentees join and leave in intakes, the last ones to go leaving with the next intake's
arrival, and a mentee answers every week or never (`silent`): one mentee skipping a single week would
hide the program's figure for the next two months.
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass, field
from datetime import date, timedelta

from bot.reflections.terms import FORMATS, TOPICS

WEEKS = 53  # a year of Mondays, up to and including the clock's week
WEEK = timedelta(days=7)
MENTORS = 12
PROTECTED_FROM = 43  # the week before the early leavers go: the trend chart's weeks rise after it
SWITCH_WEEK, SWITCHERS = 30, 3  # a mentor moves away: three spring mentees get a new one that week
GIVEN = (
    "Ada Bram Cleo Dario Esme Fenn Greta Hugo Ines Jory Kaia Lino Mira Nico Odile Pell Quinn Rhea Silas "
    "Tova Ugo Vera Wren Xavi Yara Zeno Alba Bex Cato Delia Ezra Flor Gael Hana Ivo Juno Kit Luz Milo Nell "
    "Oren Pia Remy Saba Teo Uma Vito"
).split()
FAMILY = (
    "Ashvale Brightwater Coldharbour Duskmere Elderfield Fernhollow Glenmarrow Hollowmere Ironbrook "
    "Juniperwell Kestrelmoor Larkspur Mistlecombe Nettlebury Oakenshaw Pebbleford"
).split()
MENTEE_ZONES = ("America/New_York",) * 5 + ("America/Chicago", "America/Denver", "America/Los_Angeles")
MENTOR_ZONES = ("America/New_York", "America/New_York", "America/Chicago")


@dataclass(frozen=True)
class Intake:
    label: str
    size: int
    joins: int  # week index of the first check-in
    leaves: int | None = None  # week index from which they are no longer in a pair
    silent: int = 0  # of them, how many never answer a check-in
    left_hospital: bool = False  # they left the employer too (the HR snapshot's end date)


INTAKES = (
    Intake("pilot", 5, joins=0, leaves=34),  # too few to show: its mentors see most of its answers
    Intake("january", 6, joins=8, leaves=44, left_hospital=True),
    Intake("january", 6, joins=8),
    Intake("spring", 2, joins=20, leaves=36, silent=2, left_hospital=True),  # never answered; left in July
    Intake("spring", 9, joins=20, silent=1),
    Intake("summer", 14, joins=34, silent=2),
)


@dataclass(frozen=True)
class Person:
    user_id: str
    name: str
    tz: str


@dataclass(frozen=True)
class Mentee:
    person: Person
    intake: Intake
    silent: bool
    wellbeing: float  # where they start, before settling in
    safety: float
    hired_on: date


@dataclass(frozen=True)
class PairPlan:
    mentor: str
    mentee: str
    first_week: int  # index of the week the pair starts in
    end_week: int | None  # index of the first week it no longer exists


@dataclass(frozen=True)
class SessionPlan:
    pair: int  # index in HistoryPlan.pairs
    day: date
    minutes: int
    format: str
    status: str
    by_mentor: bool
    topics: list[str]
    levels: dict[str, str]
    learned: str | None
    shared: bool


@dataclass(frozen=True)
class AnswerPlan:
    mentee: Mentee
    week: int
    wellbeing: int | None  # None: the prompt expired unanswered
    safety: int  # on the 1-7 safety scale (reverse-scored items already turned round)
    met: bool


@dataclass(frozen=True)
class ConcernPlan:
    category: str
    text: str
    week: date
    escalated: bool
    status: str
    first_reply_on: date | None
    resolved_on: date | None


@dataclass(frozen=True)
class EmployeePlan:
    employee: str  # a Slack user id or an email
    started_on: date
    ended_on: date | None
    participant: bool | None  # None: decided from the program's pairs


@dataclass
class HistoryPlan:
    first_week: date
    mentors: list[Person]
    mentees: list[Mentee]
    pairs: list[PairPlan] = field(default_factory=list)
    sessions: list[SessionPlan] = field(default_factory=list)
    answers: list[AnswerPlan] = field(default_factory=list)
    concerns: list[ConcernPlan] = field(default_factory=list)
    employees: list[EmployeePlan] = field(default_factory=list)

    def monday(self, week: int) -> date:
        return self.first_week + week * WEEK


def plan_history(
    *, last_week: date, today: date, competencies: list[str], seed: int, others: list[str]
) -> HistoryPlan:
    """A year of weeks ending with `last_week`; `others` are mentees already in the program (HR rows)."""
    rng = random.Random(seed)
    plan = HistoryPlan(last_week - (WEEKS - 1) * WEEK, _mentors(rng), [])
    plan.mentees = _mentees(rng, plan)
    plan.pairs = _pairs(plan)
    for index, pair in enumerate(plan.pairs):
        plan.sessions += _sessions(rng, plan, index, pair, today, competencies)
    plan.answers = _answers(rng, plan)
    plan.concerns = _concerns(rng, plan)
    plan.employees = _employees(rng, plan, today, others)
    return plan


def _mentors(rng: random.Random) -> list[Person]:
    return [
        Person(f"USYNMR{i + 1:02d}", f"Dr. {GIVEN[-1 - i]} {FAMILY[i]}", rng.choice(MENTOR_ZONES))
        for i in range(MENTORS)
    ]


def _mentees(rng: random.Random, plan: HistoryPlan) -> list[Mentee]:
    found: list[Mentee] = []
    for intake in INTAKES:
        for n in range(intake.size):
            number = len(found) + 1
            name = f"Dr. {GIVEN[number % len(GIVEN)]} {FAMILY[(number * 7) % len(FAMILY)]}"
            person = Person(f"USYNME{number:02d}", name, rng.choice(MENTEE_ZONES))
            struggling = 0.4 if intake.left_hospital else 0.0
            hired = plan.monday(intake.joins) - timedelta(days=rng.randint(10, 80))
            found.append(
                Mentee(person, intake, n < intake.silent, rng.gauss(2.7 - struggling, 0.35),
                       rng.gauss(3.8 - struggling, 0.5), hired)
            )  # fmt: skip
    return found


def _pairs(plan: HistoryPlan) -> list[PairPlan]:
    pairs = []
    switchers = [m for m in plan.mentees if m.intake.label == "spring" and not m.silent][:SWITCHERS]
    for index, mentee in enumerate(plan.mentees):
        mentor = plan.mentors[index % MENTORS].user_id
        intake = mentee.intake
        if mentee in switchers:
            pairs.append(PairPlan(mentor, mentee.person.user_id, intake.joins, SWITCH_WEEK))
            mentor = plan.mentors[(index + 5) % MENTORS].user_id
            pairs.append(PairPlan(mentor, mentee.person.user_id, SWITCH_WEEK, intake.leaves))
            continue
        pairs.append(PairPlan(mentor, mentee.person.user_id, intake.joins, intake.leaves))
    return pairs


MENTOR_LEARNED = (
    "How differently triage is run where she trained, and one habit we could borrow.",
    "That my shorthand in handover notes is opaque to anyone trained elsewhere.",
    "How many of our unwritten rules a new colleague has to guess.",
    "That asking 'what would you do at home?' opens a better case discussion than quizzing.",
)
MENTEE_LEARNED = (
    "Who to call first when a discharge stalls, and how to ask without apologising.",
    "How to write a referral letter that gets read here.",
    "That asking the charge nurse early saves an hour later in the shift.",
    "How the consent conversation is expected to go in this system.",
)


def _sessions(
    rng: random.Random, plan: HistoryPlan, index: int, pair: PairPlan, today: date, competencies: list[str]
) -> list[SessionPlan]:
    """Sessions every two to four weeks while the pair lasts, none after today."""
    start = plan.monday(pair.first_week) - timedelta(days=3)
    end = today if pair.end_week is None else min(today, plan.monday(pair.end_week))
    found = []
    day = start + timedelta(days=rng.randint(4, 14))
    while day < end:
        by_mentor = rng.random() < 0.8
        learned = rng.choice(MENTOR_LEARNED if by_mentor else MENTEE_LEARNED) if rng.random() < 0.1 else None
        found.append(
            SessionPlan(index, day, rng.choice((30, 45, 45, 60, 60, 60, 90)), rng.choice(list(FORMATS)),
                        _status(rng, day, today), by_mentor, rng.sample(list(TOPICS), rng.randint(1, 2)),
                        _levels(rng, competencies, (day - start).days / 7), learned, rng.random() < 0.6)
        )  # fmt: skip
        day += timedelta(days=rng.randint(10, 26))
    return found


def _status(rng: random.Random, day: date, today: date) -> str:
    if (today - day).days <= 7 and rng.random() < 0.5:
        return "pending"
    return "disputed" if rng.random() < 0.03 else "confirmed"


def _levels(rng: random.Random, competencies: list[str], weeks_in: float) -> dict[str, str]:
    """One or two competencies observed; 'demonstrated' grows likelier the longer the pair has met."""
    levels = {}
    for competency in rng.sample(competencies, 1 if rng.random() < 0.6 else 2):
        roll = rng.random()
        if roll < min(0.75, weeks_in / 35):
            levels[competency] = "demonstrated"
        else:
            levels[competency] = "not_yet" if weeks_in < 3 and roll > 0.7 else "developing"
    return levels


def _answers(rng: random.Random, plan: HistoryPlan) -> list[AnswerPlan]:
    """Each mentee's weekly check-in while in a pair; wellbeing and safety settle in, with noise."""
    mood = [rng.gauss(0, 0.07) - (0.2 if plan.monday(w).month in (12, 1, 2) else 0) for w in range(WEEKS)]
    met_weeks = _met_weeks(plan)
    found = []
    for mentee in plan.mentees:
        intake = mentee.intake
        for week in range(intake.joins, WEEKS if intake.leaves is None else intake.leaves):
            met = (mentee.person.user_id, week) in met_weeks
            settle = 1 - math.exp(-(week - intake.joins) / 20)
            wellbeing = mentee.wellbeing + 0.7 * settle + 0.5 * _protected(week) + 0.25 * met + mood[week]
            safety = mentee.safety + 1.0 * settle + 0.6 * _protected(week)
            found.append(
                AnswerPlan(mentee, week, None if mentee.silent else _scale(rng, wellbeing, 0.55, 5),
                           _scale(rng, safety, 0.8, 7), met)
            )  # fmt: skip
    return found


def _protected(week: int) -> float:
    """From mid-September the program protects an hour a week for mentoring: its effect builds slowly."""
    return min(1.0, max(0.0, (week - PROTECTED_FROM) / 10))


def _scale(rng: random.Random, mean: float, spread: float, top: int) -> int:
    return min(top, max(1, round(rng.gauss(mean, spread))))


def _met_weeks(plan: HistoryPlan) -> set[tuple[str, int]]:
    """(mentee, week) where a session fell in the seven days up to that week's Thursday check-in."""
    found = set()
    for session in plan.sessions:
        if session.status == "disputed":
            continue
        week = (session.day - plan.first_week).days // 7
        thursday = plan.monday(week) + timedelta(days=3)
        found.add((plan.pairs[session.pair].mentee, week if session.day <= thursday else week + 1))
    return found


CONCERNS = (
    ("workload", "Three weekends on call in a row this month; nobody checked the rota against leave."),
    ("workload", "Discharge paperwork lands on the newest residents at five every evening."),
    ("workload", "The new order sets doubled our evening documentation."),
    ("workload", "Night float has no protected break."),
    ("workload", "Clinic overbooking means we skip lunch most days."),
    ("psychological_safety", "Questions on the morning round get an eye-roll, so we stopped asking."),
    ("psychological_safety", "A mistake I reported was retold to the whole team, with my name."),
    ("psychological_safety", "It is not clear whom to tell when a senior's plan looks unsafe."),
    ("supervision", "Weekend supervision is by phone only, and often unanswered."),
    ("supervision", "No feedback at all since the start of the rotation."),
    ("supervision", "Procedures signed off without anyone watching them."),
    ("disrespect", "Families are told to wait for 'a real doctor' in front of us."),
    ("disrespect", "Comments about accents at handover, passed off as a joke."),
    ("other", "The quiet room was turned into storage."),
)


def _concerns(rng: random.Random, plan: HistoryPlan) -> list[ConcernPlan]:
    """A year of concerns: most resolved within weeks, the two latest still open, one escalated."""
    weeks = sorted(rng.sample(range(8, WEEKS - 3), len(CONCERNS)))
    order = rng.sample(range(len(CONCERNS)), len(CONCERNS))
    found = []
    for rank, week in enumerate(weeks):
        category, text = CONCERNS[order[rank]]
        monday = plan.monday(week)
        still_open = rank >= len(weeks) - 2
        replied = None if still_open else monday + timedelta(days=rng.randint(1, 6))
        resolved = None if still_open else monday + timedelta(days=rng.randint(8, 45))
        found.append(
            ConcernPlan(category, text, monday, category == "supervision" and rank % 2 == 0,
                        "open" if still_open else "resolved", replied, resolved)
        )  # fmt: skip
    return found


def _employees(rng: random.Random, plan: HistoryPlan, today: date, others: list[str]) -> list[EmployeePlan]:
    """HR's view: the mentees (participation from their pairs) and colleagues in scope who never joined."""
    found = []
    for mentee in plan.mentees:
        intake = mentee.intake
        left = None
        if intake.left_hospital and intake.leaves is not None:
            left = plan.monday(intake.leaves) + timedelta(days=rng.randint(0, 20))
        found.append(EmployeePlan(mentee.person.user_id, mentee.hired_on, left, None))
    for user_id in others:
        found.append(EmployeePlan(user_id, today - timedelta(days=rng.randint(20, 60)), None, None))
    for n in range(70):
        hired = plan.first_week - timedelta(days=rng.randint(-200, 900))
        left = hired + timedelta(days=int(rng.expovariate(1 / 900)))
        found.append(
            EmployeePlan(
                f"colleague{n + 1:02d}@hospital.example", hired, left if left < today else None, False
            )
        )
    return found
