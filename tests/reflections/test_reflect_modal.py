"""The /reflect modal as built, plus helpers the other reflect tests use to fill it in like Slack does."""

from __future__ import annotations

import json
from datetime import date
from typing import Any, get_args

from bot.fake_slack.validation import validate_view
from bot.kernel.programs import MAX_COMPETENCIES
from bot.reflections.blocks import ModalSpec, PairChoice, SessionChoice, reflect_modal
from bot.reflections.form import FormatSlug, LevelSlug, TopicSlug, parse_form
from bot.reflections.terms import FORMATS, LEVELS, TOPICS
from bot.slack.view_state import state_values

TODAY = date(2026, 11, 23)
MENTOR_PAIR = PairChoice(1, "img-2026", "Amara", caller_is_mentor=True)
MENTEE_PAIR = PairChoice(2, "img-2026", "Ana", caller_is_mentor=False)
COMPETENCIES = ("ehr-documentation", "clinical-reasoning", "ethics")


# -- helpers shared by the reflect tests -----------------------------------------------------------------


def fill(
    view: dict[str, Any], answers: dict[str, Any], *, extra: dict[str, Any] | None = None
) -> dict[str, Any]:
    """The view as Slack sends it on submit: each input's answer (block id -> value) or its initial value.

    `extra` adds state for blocks the view does not have, as a stale or forged submission would.
    """
    values: dict[str, Any] = {}
    for block in view["blocks"]:
        if block["type"] != "input":
            continue
        element = block["element"]
        answer = answers[block["block_id"]] if block["block_id"] in answers else _initial(element)
        values[block["block_id"]] = {element["action_id"]: _state(element, answer)}
    for block_id, answer in (extra or {}).items():
        element = {"type": "static_select", "action_id": block_id, "options": []}
        values[block_id] = {block_id: _state(element, answer)}
    return {**view, "state": {"values": values}}


def _initial(element: dict[str, Any]) -> Any:
    if element["type"] == "datepicker":
        return element.get("initial_date")
    if element["type"] in ("static_select", "radio_buttons"):
        return (element.get("initial_option") or {}).get("value")
    return element.get("initial_value")


def _option(element: dict[str, Any], value: str) -> dict[str, Any]:
    found = next((o for o in element.get("options", []) if o["value"] == value), None)
    return found or {"text": {"type": "plain_text", "text": value}, "value": value}


def _state(element: dict[str, Any], answer: Any) -> dict[str, Any]:
    kind = element["type"]
    if kind == "datepicker":
        return {"type": kind, "selected_date": answer}
    if kind in ("static_select", "radio_buttons"):
        return {"type": kind, "selected_option": _option(element, answer) if answer else None}
    if kind == "multi_static_select":
        return {"type": kind, "selected_options": [_option(element, a) for a in answer or []]}
    return {"type": kind, "value": answer}


def block_ids(view: dict[str, Any]) -> list[str]:
    return [block.get("block_id", "") for block in view["blocks"]]


def metadata(view: dict[str, Any]) -> dict[str, Any]:
    result: dict[str, Any] = json.loads(view["private_metadata"])
    return result


# -- the modal itself ------------------------------------------------------------------------------------


def test_mentor_modal_asks_for_competencies_and_is_valid_block_kit() -> None:
    view = reflect_modal(
        ModalSpec(pairs=(MENTOR_PAIR,), today=TODAY, pair=MENTOR_PAIR, competencies=COMPETENCIES)
    )
    assert validate_view(view, "modal") == []
    ids = block_ids(view)
    assert {"date", "duration", "format", "topics", "learned", "share", "next_steps", "private_notes"} <= set(
        ids
    )
    assert [i for i in ids if i.startswith("competency:")] == [f"competency:{c}" for c in COMPETENCIES]
    assert "pair" not in ids  # one pair: named, not asked
    date_block = next(b for b in view["blocks"] if b.get("block_id") == "date")
    assert date_block["element"]["initial_date"] == "2026-11-23"
    texts = [b for b in view["blocks"] if b.get("block_id") in ("learned", "next_steps", "private_notes")]
    assert all(b["element"]["max_length"] == 3000 for b in texts)
    learned = next(b for b in view["blocks"] if b.get("block_id") == "learned")
    assert learned["label"]["text"] == "What I learned from my mentee"


def test_mentee_modal_has_no_competencies() -> None:
    view = reflect_modal(ModalSpec(pairs=(MENTEE_PAIR,), today=TODAY, pair=MENTEE_PAIR))
    assert validate_view(view, "modal") == []
    assert not [i for i in block_ids(view) if i.startswith("competency:")]
    learned = next(b for b in view["blocks"] if b.get("block_id") == "learned")
    assert learned["label"]["text"] == "What I learned from my mentor"


def test_several_pairs_ask_which_one_first() -> None:
    view = reflect_modal(ModalSpec(pairs=(MENTOR_PAIR, MENTEE_PAIR), today=TODAY))
    assert validate_view(view, "modal") == []
    pair_block = view["blocks"][0]
    assert pair_block["block_id"] == "pair" and pair_block["dispatch_action"] is True
    assert "initial_option" not in pair_block["element"]
    assert metadata(view)["pair"] is None


def test_an_existing_session_replaces_the_when_and_how_long_fields() -> None:
    choice = SessionChoice(7, "Fri 20 Nov, 45 min (logged by Ana)")
    spec = ModalSpec(pairs=(MENTEE_PAIR,), today=TODAY, pair=MENTEE_PAIR, sessions=(choice,), session=choice)
    view = reflect_modal(spec)
    assert validate_view(view, "modal") == []
    ids = block_ids(view)
    assert "session" in ids and "date" not in ids and "duration" not in ids
    assert metadata(view) == {"pair": 2, "session": 7, "fixed": False}


def test_fill_round_trips_through_state_values() -> None:
    view = reflect_modal(
        ModalSpec(pairs=(MENTOR_PAIR,), today=TODAY, pair=MENTOR_PAIR, competencies=COMPETENCIES)
    )
    filled = fill(
        view, {"duration": "45", "format": "video", "topics": ["ethics"], "competency:ethics": "developing"}
    )
    values = state_values(filled)
    assert values["date"] == "2026-11-23" and values["duration"] == "45" and values["share"] == "private"
    parsed = parse_form(values, new_session=True, today=TODAY, competencies=COMPETENCIES)
    assert parsed.errors == {}
    assert parsed.session is not None and parsed.session.duration_minutes == 45
    assert parsed.reflection is not None and dict(parsed.reflection.competencies) == {"ethics": "developing"}


def test_the_forms_choices_match_the_vocabulary() -> None:
    assert set(get_args(FormatSlug)) == set(FORMATS)
    assert set(get_args(TopicSlug)) == set(TOPICS)
    assert set(get_args(LevelSlug)) == set(LEVELS)


def test_the_largest_framework_programs_yml_allows_still_fits_one_modal() -> None:
    many = tuple(f"competency-{n:02d}" for n in range(MAX_COMPETENCIES))
    view = reflect_modal(ModalSpec(pairs=(MENTOR_PAIR,), today=TODAY, pair=MENTOR_PAIR, competencies=many))
    assert validate_view(view, "modal") == []
    assert len([i for i in block_ids(view) if i.startswith("competency:")]) == MAX_COMPETENCIES
