"""Acceptance 1: enrolling a licensee on each shipped template dates every milestone, across a leap day
and a DST change."""

from __future__ import annotations

from datetime import date, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from bot.fake_slack.requests import SlackRequestSender
from bot.fake_slack.server import FakeSlack
from bot.kernel.clock import SettableClock
from bot.kernel.deps import Deps
from bot.tracks.calendar import send_instant
from bot.tracks.catalog import SHIPPED, Offset, Track, load_folder
from storage.models import TrackMilestone
from tests.support.factories import make_pair
from tests.support.tracks import at, enrol_on, milestones

TEMPLATES = sorted(load_folder(SHIPPED))
LEAP_DAY = date(2028, 2, 29)  # a Tuesday; US clocks go forward on Sunday 12 March 2028
NEW_YORK = ZoneInfo("America/New_York")


def months(offset: Offset) -> int:
    return offset.amount if offset.unit == "months" else 0


def expected_counts(track: Track) -> dict[str, int]:
    """Counted from the file's numbers alone, independently of the calendar code."""
    topics = 0
    for phase in track.phases:
        span = getattr(phase.until, phase.every.unit) - getattr(phase.start, phase.every.unit)
        topics += -(-span // phase.every.amount)
    reviews = -(-months(track.length) // months(track.reviews.every)) if track.reviews else 0
    return {"topic": topics, "review": reviews, "checkpoint": len(track.checkpoints)}


def test_the_shipped_tracks_are_the_img_journey_and_three_state_pathways() -> None:
    assert TEMPLATES == [
        "il-limited-licence",
        "img-onboarding",
        "tn-supervised-practice",
        "va-provisional-licence",
    ]
    tracks = load_folder(SHIPPED)
    for track_id in ("il-limited-licence", "tn-supervised-practice", "va-provisional-licence"):
        citation = tracks[track_id].citation
        assert citation is not None and citation.url.startswith("https://") and citation.verified is False
        assert "not read" in (citation.note or "")


@pytest.mark.parametrize("track_id", TEMPLATES)
def test_enrolling_on_a_leap_day_dates_every_milestone_of_the_template(deps: Deps, track_id: str) -> None:
    track = load_folder(SHIPPED)[track_id]
    enrolment = enrol_on(deps, track_id, start=LEAP_DAY, now=at(2028, 2, 28, 15))
    rows = milestones(deps, enrolment)

    counts = {kind: sum(1 for m in rows if m.kind == kind) for kind in ("topic", "review", "checkpoint")}
    assert counts == expected_counts(track)
    assert [m.seq for m in rows] == list(range(len(rows)))
    assert [m.due_on for m in rows] == sorted(m.due_on for m in rows)
    assert_weekly_topics_keep_their_weekday(rows, track)
    assert_monthly_days_clamp_to_february_28(rows, track)
    assert_reviews_cover_the_whole_track(rows, track)


def assert_weekly_topics_keep_their_weekday(rows: list[TrackMilestone], track: Track) -> None:
    weekly = [p.id for p in track.phases if p.every.unit == "weeks"]
    days = [m.due_on for m in rows if m.phase in weekly]
    assert days[0] == LEAP_DAY
    assert {d.weekday() for d in days} == {LEAP_DAY.weekday()}
    assert all(b - a == timedelta(weeks=1) for a, b in zip(days, days[1:], strict=False))


def assert_monthly_days_clamp_to_february_28(rows: list[TrackMilestone], track: Track) -> None:
    """Everything counted in months falls on the 29th, and on 28 February in the years without one."""
    weekly = {p.id for p in track.phases if p.every.unit == "weeks"}
    monthly = [m.due_on for m in rows if m.phase not in weekly]
    assert any(d.month == 2 and d.year > 2028 for d in monthly)
    for day in monthly:
        assert day.day == (28 if day.month == 2 and day.year > 2028 else 29), day


def assert_reviews_cover_the_whole_track(rows: list[TrackMilestone], track: Track) -> None:
    reviews = [m for m in rows if m.kind == "review"]
    assert reviews[0].period_start == LEAP_DAY
    assert all(a.due_on == b.period_start for a, b in zip(reviews, reviews[1:], strict=False))
    years, extra = divmod(months(track.length), 12)
    assert extra == 0 and reviews[-1].due_on == date(2028 + years, 2, 28)
    for review in reviews:
        assert review.flag_on is not None and review.period_start is not None
        assert review.period_start <= review.flag_on < review.due_on
        assert (review.due_on - review.flag_on).days in (28, 29, 30, 31)


@pytest.mark.parametrize("track_id", TEMPLATES)
def test_weekly_topics_reach_a_new_york_reader_at_nine_local_on_both_sides_of_the_dst_change(
    deps: Deps, track_id: str
) -> None:
    track = load_folder(SHIPPED)[track_id]
    enrolment = enrol_on(deps, track_id, start=LEAP_DAY, now=at(2028, 2, 28, 15))
    weekly = [m for m in milestones(deps, enrolment) if m.kind == "topic" and m.due_on < date(2028, 4, 25)]
    instants = [send_instant(m.due_on, track.prompt_time, NEW_YORK) for m in weekly]
    assert {i.astimezone(NEW_YORK).time() for i in instants} == {time(9, 0)}
    before = [i.hour for i, m in zip(instants, weekly, strict=True) if m.due_on < date(2028, 3, 12)]
    after = [i.hour for i, m in zip(instants, weekly, strict=True) if m.due_on > date(2028, 3, 12)]
    assert set(before) == {14} and set(after) == {13}  # EST then EDT, in UTC


def test_a_coordinator_enrols_a_licensee_with_the_slash_command_and_both_sides_hear_of_it(
    deps: Deps, slack: SlackRequestSender, fake_slack: FakeSlack, clock: SettableClock
) -> None:
    clock.now = at(2028, 2, 28, 15)
    make_pair(deps, "U0MENTOR1", "U0MENTEE1", started_at=clock.now)
    url = fake_slack.response_url()
    status, body, _ = slack.command(
        "/mentorship",
        "track <@U0MENTEE1|amara> tn-supervised-practice start 2028-02-29",
        user_id="U0COORD1",
        response_url=url,
    )
    assert status == 200 and "Enrolling <@U0MENTEE1>" in body
    url_id = url.rsplit("/", 1)[1]
    fake_slack.wait_for(
        lambda: any(
            "dated milestone" in str(b.get("text")) for uid, b in fake_slack.responses if uid == url_id
        ),
        what="the enrolment summary",
    )
    summary = next(
        str(b["text"]) for uid, b in fake_slack.responses if uid == url_id and "dated" in str(b["text"])
    )
    assert "40 dated milestones (30 topics, 8 reviews, 2 checkpoints)" in summary
    assert "not verified" in summary
    fake_slack.wait_for(lambda: len(fake_slack.messages("U0MENTEE1")) == 1, what="the licensee's DM")
    fake_slack.wait_for(lambda: len(fake_slack.messages("U0MENTOR1")) == 1, what="the mentor's DM")


def test_a_refused_enrolment_says_why_and_what_to_type(
    deps: Deps, slack: SlackRequestSender, fake_slack: FakeSlack
) -> None:
    _, outsider, _ = slack.command(
        "/mentorship", "track <@U0MENTEE1|amara> img-onboarding", user_id="U0MENTOR1"
    )
    assert "Only a coordinator" in outsider
    _, unpaired, _ = slack.command("/mentorship", "track <@U0MENTEE3|lin> img-onboarding", user_id="U0COORD1")
    assert "has no active mentor" in unpaired and "/mentorship track @person TRACK" in unpaired
    make_pair(deps, "U0MENTOR1", "U0MENTEE1")
    _, unknown, _ = slack.command("/mentorship", "track <@U0MENTEE1|amara> ny-pathway", user_id="U0COORD1")
    assert "There is no track `ny-pathway`" in unknown and "tn-supervised-practice" in unknown
    _, bad_date, _ = slack.command(
        "/mentorship", "track <@U0MENTEE1|amara> img-onboarding start 31/01/2027", user_id="U0COORD1"
    )
    assert "isn't a date like 2026-11-02" in bad_date
