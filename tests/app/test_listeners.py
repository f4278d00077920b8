"""Every button, select and form the bot renders has exactly one listener, and every listener a surface.

The surfaces are rendered by the feature blocks modules' own builders, so a new button is covered the
moment a surface below draws it; the listeners are read from the Bolt app `build_app` returns.
"""

from __future__ import annotations

import ast
import re
from collections.abc import Callable, Iterator
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from slack_bolt import App

from bot.checkins import blocks as checkins
from bot.concerns import blocks as concerns
from bot.concerns.terms import Route
from bot.digests import blocks as digests
from bot.ideas import blocks as ideas
from bot.ideas.terms import DO, PLAN
from bot.instruments import blocks as instruments
from bot.instruments.catalog import shipped_instruments
from bot.kernel.deps import Deps
from bot.kernel.programs import Program
from bot.reflections import blocks as reflections
from handlers.errors import error_view
from storage.models import Concern
from tests.support.matching import matching_surfaces
from tests.support.tracks import track_surfaces

ROOT = Path(__file__).resolve().parents[2]
Surface = Callable[[list[Program]], Any]
TODAY = date(2026, 11, 23)
AUDIENCE = checkins.Audience(min_group=5)
PAIRS = (
    reflections.PairChoice(1, "img-2026", "Amara", caller_is_mentor=True),
    reflections.PairChoice(2, "img-2026", "Ana", caller_is_mentor=False),
)
NOTICE = reflections.Notice(
    session_id=3,
    logger_name="Amara",
    minutes=45,
    session_date=TODAY,
    format="video",
    status="pending",
    topics=(),
    levels=(),
    recipient_reflected=False,
    today=TODAY,
)

MCA_21 = shipped_instruments()["mca-21"]

IDEA = ideas.IdeaView(
    idea_id=5,
    summary="Huddle at 7:15",
    observation="Handover starts late.",
    change="A five-minute huddle.",
    affects=("workflow",),
    author_id="U0MENTEE1",
    author="Amara",
    stage="planned",
    shared=False,
    cycles=(ideas.CycleView(1, "Fewer late starts", "Start times", "Night shift", TODAY),),
)


def _concern(program: Program) -> Concern:
    return Concern(
        id="c0ffee",
        program_id=program.id,
        category="workload",
        urgent=True,
        escalated=False,
        text="Twelve nights in a row.",
        week=TODAY,
        status="open",
        key_hash="",
        replies_allowed=True,
    )


# Every surface with something to press or submit, drawn by its owner's builder.
SURFACES: dict[str, Surface] = {
    "check-in prompt": lambda _: checkins.prompt(
        checkin_id=7, name="Ada", open_until="Mon", audience=AUDIENCE
    ),
    "check-in reminder": lambda _: checkins.reminder(checkin_id=7, period="this week", open_until="Mon"),
    "check-in modal": lambda _: checkins.answer_modal(
        checkin_id=7, period="this week", item=1, audience=AUDIENCE, prefill=checkins.Prefill()
    ),
    "check-in closed modal": lambda _: checkins.message_view("Check-in closed", "Closed."),
    "App Home pause": lambda _: [checkins.pause_actions(paused=False), checkins.pause_actions(paused=True)],
    "concern form": lambda programs: concerns.concern_modal(programs[:2], ["A small program."]),
    "concern sent": lambda _: concerns.confirmation_view("KEY", Route.DIGEST, escalation="the ombud"),
    "concern status": lambda programs: concerns.status_view(_concern(programs[0]), [], sealed="sealed"),
    "sender reply": lambda _: concerns.sender_reply_modal("sealed"),
    "coordinators' list": lambda programs: concerns.list_blocks(programs[0], [_concern(programs[0])], {}, 1),
    "urgent post": lambda programs: concerns.post_blocks(_concern(programs[0]), programs[0], kind="urgent"),
    "coordinator reply": lambda programs: concerns.coordinator_reply_modal(
        _concern(programs[0]), [], metadata="{}"
    ),
    "reply saved": lambda _: concerns.reply_saved_view(),
    "reflect modal": lambda _: reflections.reflect_modal(
        reflections.ModalSpec(
            pairs=PAIRS,
            today=TODAY,
            pair=PAIRS[0],
            sessions=(reflections.SessionChoice(3, "Mon 16 Nov"),),
        )
    ),
    "session logged": lambda _: reflections.saved_view("Logged."),
    "session notice": lambda _: reflections.notice_blocks(NOTICE),
    "App Home session": lambda _: reflections.home_session_actions(
        3, can_reflect=True, about="the session on Mon 16 Nov"
    ),
    "App Home digest preview": lambda programs: [
        {"type": "section", "accessory": digests.preview_button(p.id, first=i == 0, program_name=p.name)}
        for i, p in enumerate(programs)
    ],
    "digest preview": lambda _: digests.preview_modal([]),
    "digest preview notice": lambda _: digests.preview_message_modal("Building…"),
    "error": lambda _: error_view("Sorry."),
    "matching profile, App Home and proposal": lambda programs: matching_surfaces(programs[0]),
    "tracks: journey prompt, attestation request and forms, App Home": lambda _: track_surfaces(),
    "new idea": lambda _: ideas.new_idea_modal(ideas.NewIdeaSpec(pairs=((1, "Ana"), (2, "Wei")))),
    "idea step": lambda _: ideas.step_modal(ideas.StepSpec(IDEA, PLAN, 1, TODAY)),
    "idea comment": lambda _: ideas.comment_modal(ideas.CommentSpec(IDEA, 1, PLAN)),
    "idea evidence": lambda programs: ideas.evidence_modal(
        ideas.EvidenceSpec(IDEA, ((3, "Mon 16 Nov"),), programs[0].competencies), {}
    ),
    "idea on App Home (author)": lambda _: ideas.home_idea_blocks(
        ideas.HomeIdea(IDEA, ideas.Viewer(is_author=True, next_step=DO), "with Ana")
    ),
    "idea on App Home (mentor)": lambda _: ideas.home_idea_blocks(
        ideas.HomeIdea(
            IDEA, ideas.Viewer(is_author=False, next_step=None, may_mark_evidence=True), "with Amara"
        )
    ),
    "idea DM (mentor)": lambda _: ideas.notice_blocks(
        ideas.NoticeView("step", IDEA, ideas.Viewer(False, None), "Amara", PLAN, 1)
    ),
    "instrument survey DM and modal": lambda _: [
        instruments.survey_message(survey_id=3, instrument=MCA_21, min_group=5),
        instruments.survey_modal(survey_id=3, instrument=MCA_21, min_group=5),
    ],
}


def _blocks_and_views(rendered: Any) -> Iterator[dict[str, Any]]:
    """Every block and view in a rendered surface (a view, a block list, or a (text, blocks) pair)."""
    if isinstance(rendered, dict):
        yield rendered
        yield from rendered.get("blocks", [])
    elif isinstance(rendered, list | tuple):
        for part in rendered:
            if isinstance(part, dict | list | tuple):
                yield from _blocks_and_views(part)


def _pressable(block: dict[str, Any]) -> list[dict[str, Any]]:
    """The elements of a block that send Slack a block_actions request when used."""
    if block.get("type") == "actions":
        return list(block["elements"])
    if block.get("type") == "section" and "accessory" in block:
        return [block["accessory"]]
    if block.get("type") == "input" and block.get("dispatch_action"):
        return [block["element"]]
    return []


def rendered_ids(programs: list[Program]) -> dict[str, set[str]]:
    """{"action": action ids Slack can send, "view": callback ids of views it can submit, "block": ...}."""
    found: dict[str, set[str]] = {"action": set(), "view": set(), "block": set()}
    for surface in SURFACES.values():
        for part in _blocks_and_views(surface(programs)):
            if part.get("type") == "modal" and "submit" in part:
                found["view"].add(part["callback_id"])
            elements = _pressable(part)
            found["action"] |= {element["action_id"] for element in elements}
            if elements and "block_id" in part:
                found["block"].add(part["block_id"])
    return found


def listened(app: App) -> dict[str, list[str | re.Pattern[str]]]:
    """What each action and view_submission listener matches, read from Bolt's built-in matchers."""
    found: dict[str, list[str | re.Pattern[str]]] = {"action": [], "view": []}
    for listener in app._listeners:
        for matcher in listener.matchers:
            func = getattr(matcher, "func", None)
            kind = {"action": "action", "view_submission": "view"}.get(
                getattr(func, "__qualname__", "").split(".")[0]
            )
            if kind is None:
                continue
            for cell in getattr(func, "__closure__", None) or []:
                if isinstance(cell.cell_contents, str | re.Pattern):
                    found[kind].append(cell.cell_contents)
    return found


def _matches(constraint: str | re.Pattern[str], value: str) -> bool:
    return constraint == value if isinstance(constraint, str) else constraint.search(value) is not None


@pytest.fixture
def app_and_ids(deps: Deps) -> tuple[dict[str, list[str | re.Pattern[str]]], dict[str, set[str]]]:
    from bot.app.bolt_app import build_app

    return listened(build_app(deps)), rendered_ids(list(deps.programs.programs))


def test_every_rendered_action_and_form_has_exactly_one_listener(
    app_and_ids: tuple[dict[str, list[str | re.Pattern[str]]], dict[str, set[str]]],
) -> None:
    listeners, rendered = app_and_ids
    for kind in ("action", "view"):
        assert rendered[kind], f"no {kind} rendered: the surfaces above draw nothing to press"
        counts = {rid: sum(_matches(c, rid) for c in listeners[kind]) for rid in rendered[kind]}
        assert {rid: n for rid, n in counts.items() if n != 1} == {}, (
            f"{kind} ids without exactly one listener"
        )


def test_every_action_and_form_listener_is_for_something_a_surface_renders(
    app_and_ids: tuple[dict[str, list[str | re.Pattern[str]]], dict[str, set[str]]],
) -> None:
    listeners, rendered = app_and_ids
    for kind in ("action", "view"):
        idle = [c for c in listeners[kind] if not any(_matches(c, rid) for rid in rendered[kind])]
        assert idle == [], f"{kind} listeners for ids nothing renders"
        assert len(listeners[kind]) == len(set(listeners[kind])), f"an {kind} id is listened for twice"


def _string_constants() -> Iterator[tuple[str, str]]:
    """(module, value) for every string constant a module of bot/ or handlers/ defines at top level."""
    for folder in ("bot", "handlers"):
        for path in sorted((ROOT / folder).rglob("*.py")):
            if {"fake_slack", "demo"} & set(path.parts):
                continue  # a double of Slack, and a script pressing the bot's buttons
            module = ".".join(path.relative_to(ROOT).with_suffix("").parts)
            for node in ast.parse(path.read_text()).body:
                if isinstance(node, ast.Assign | ast.AnnAssign) and node.value is not None:
                    values = node.value.elts if isinstance(node.value, ast.Tuple) else [node.value]
                    for value in values:
                        if isinstance(value, ast.Constant) and isinstance(value.value, str) and value.value:
                            yield module, value.value


def _as_pattern(template: str, *, suffixed: bool) -> re.Pattern[str]:
    """The ids a constant names: "session_{session_id}" names session_1, session_2, …; `suffixed`, also
    the ids that add a row's id after a colon or a program's after a dot ("concern_reply:ab12")."""
    parts = re.split(r"\{[a-z_]*\}", template)
    suffix = r"[:.][0-9a-z-]+" if suffixed else ""
    return re.compile("^" + "[0-9a-f]+".join(re.escape(part) for part in parts) + suffix + "$")


def test_every_rendered_id_is_defined_in_one_module_its_features_blocks(deps: Deps) -> None:
    rendered = rendered_ids(list(deps.programs.programs))
    constants = list(_string_constants())
    for rid in set().union(*rendered.values()):
        owners = {module for module, value in constants if _as_pattern(value, suffixed=False).match(rid)}
        owners = owners or {
            module for module, value in constants if _as_pattern(value, suffixed=True).match(rid)
        }
        assert len(owners) == 1, f"{rid!r} is defined in {sorted(owners) or 'no module'}"
        assert re.fullmatch(r"bot\.[a-z]+\.blocks", *owners), f"{rid!r} is defined in {owners}"
