"""The PHI guard on every free-text field of the /idea flow: a likely patient identifier is refused beside
its field, and nothing of it is stored."""

from __future__ import annotations

from datetime import timedelta
from typing import Any, get_args

import pytest
from sqlalchemy import func, select

from bot.fake_slack.requests import SlackRequestSender
from bot.fake_slack.server import FakeSlack
from bot.ideas.form import AffectSlug, DecisionSlug, LevelSlug, OutcomeSlug
from bot.ideas.terms import AFFECTS, DECISIONS, LEVELS, OUTCOMES
from bot.kernel.deps import Deps
from storage.models import Idea, IdeaComment, IdeaCycle
from tests.support.factories import make_pair
from tests.support.ideas import (
    ADOPT,
    DO,
    IDEA,
    MENTEE,
    MENTOR,
    STUDY,
    TODAY,
    home,
    next_dm,
    open_idea_modal,
    plan,
    press,
    submit,
)

# One kind of identifier per field, so that every pattern of the guard is met somewhere in the flow.
IDENTIFIERS = {
    "summary": "Call bed 4 first",
    "observation": "Mrs Jones waited two hours for her discharge letter.",
    "change": "Text the family on 555-123-4567 when the bed is ready.",
    "prediction": "Patient John will be discharged before noon.",
    "measure": "Audit chart MRN 1234567 every morning.",
    "scope": "Only the patient born on 03/04/1961.",
    "happened": "It worked for record number 00123456.",
    "result": "The family (jane.doe@example.org) said it helped.",
    "decision_notes": "Keep it for room 12B first.",
    "comment": "Ask about SSN 123-45-6789 at handover.",
}


def refused(
    slack: SlackRequestSender, user_id: str, view: dict[str, Any], valid: dict[str, Any], field: str
) -> None:
    """Submitting the modal with an identifier in `field` (and good answers elsewhere) is refused there."""
    reply = submit(slack, user_id, view, {**valid, field: IDENTIFIERS[field]})
    assert reply.get("response_action") == "errors", (field, reply)
    assert list(reply["errors"]) == [field]
    assert reply["errors"][field].startswith("This looks like ")
    assert "Please remove patient identifiers" in reply["errors"][field]


def counts(deps: Deps) -> tuple[int, int, int]:
    with deps.read_sessions.begin() as session:
        return tuple(  # type: ignore[return-value]
            int(session.scalar(select(func.count()).select_from(model)) or 0)
            for model in (Idea, IdeaCycle, IdeaComment)
        )


def each_field_then_save(
    slack: SlackRequestSender,
    fake: FakeSlack,
    user_id: str,
    view: dict[str, Any],
    valid: dict[str, Any],
    fields: list[str],
) -> None:
    for field in fields:
        refused(slack, user_id, view, valid, field)
    assert submit(slack, user_id, view, valid)["response_action"] == "update"


def next_step_modal(slack: SlackRequestSender, fake: FakeSlack, label: str) -> dict[str, Any]:
    modal = press(slack, fake, MENTEE, home(slack, fake, MENTEE), label)
    assert modal is not None
    return modal


def test_the_phi_guard_refuses_identifiers_in_every_free_text_field_of_the_flow(
    slack: SlackRequestSender, fake_slack: FakeSlack, deps: Deps
) -> None:
    make_pair(deps, MENTOR, MENTEE)
    modal = open_idea_modal(slack, fake_slack, MENTEE)
    for field in ("summary", "observation", "change"):
        refused(slack, MENTEE, modal, IDEA, field)
    assert counts(deps) == (0, 0, 0)
    assert submit(slack, MENTEE, modal, IDEA)["response_action"] == "update"

    steps: list[tuple[str, dict[str, Any], list[str]]] = [
        ("Plan a test", plan(TODAY + timedelta(days=1)), ["prediction", "measure", "scope"]),
        ("Record what happened", DO, ["happened"]),
        ("Study the result", STUDY, ["result"]),
        ("Adopt, adapt or abandon", ADOPT, ["decision_notes"]),
    ]
    for label, valid, fields in steps:
        each_field_then_save(
            slack, fake_slack, MENTEE, next_step_modal(slack, fake_slack, label), valid, fields
        )
        assert counts(deps) == (1, 1, 0), label

    comment = press(slack, fake_slack, MENTOR, next_dm(fake_slack, MENTOR, 5), "Comment")
    assert comment is not None
    each_field_then_save(slack, fake_slack, MENTOR, comment, {"comment": "Well measured."}, ["comment"])
    assert counts(deps) == (1, 1, 1)

    stored = str(fake_slack.messages(MENTOR) + fake_slack.messages(MENTEE))
    assert not [text for text in IDENTIFIERS.values() if text in stored]


def test_a_too_long_or_empty_field_says_what_to_type_instead(
    slack: SlackRequestSender, fake_slack: FakeSlack, deps: Deps
) -> None:
    make_pair(deps, MENTOR, MENTEE)
    modal = open_idea_modal(slack, fake_slack, MENTEE)
    reply = submit(slack, MENTEE, modal, {**IDEA, "summary": "x" * 151, "observation": "  ", "affects": []})
    assert reply["errors"] == {
        "summary": "Please keep this under 150 characters (it has 151).",
        "observation": "Please fill this in.",
        "affects": "Choose who it affects.",
    }
    assert counts(deps) == (0, 0, 0)


@pytest.mark.parametrize(
    ("literal", "terms"),
    [(AffectSlug, AFFECTS), (OutcomeSlug, OUTCOMES), (DecisionSlug, DECISIONS), (LevelSlug, LEVELS)],
)
def test_the_forms_accept_exactly_the_choices_the_modals_offer(literal: Any, terms: dict[str, str]) -> None:
    assert set(get_args(literal)) == set(terms)
