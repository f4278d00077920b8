"""`/idea`, its modals (a new idea, each PDSA step, comments, evidence) and the idea buttons."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

from slack_bolt import Ack, App, Respond
from slack_sdk import WebClient
from sqlalchemy.orm import Session

from bot.home.tab import build_home
from bot.ideas import evidence, record
from bot.ideas.blocks import (
    COMMENT_ACTIONS,
    COMMENT_CALLBACK,
    EVIDENCE_ACTIONS,
    EVIDENCE_CALLBACK,
    NEW_CALLBACK,
    NEXT_STEP_ACTIONS,
    OPEN_ACTIONS,
    SHARE_ACTIONS,
    STEP_CALLBACK,
    card_modal,
    comment_modal,
    evidence_modal,
    new_idea_modal,
    saved_view,
    step_modal,
)
from bot.ideas.cards import idea_of_member, idea_view
from bot.ideas.home import list_text
from bot.ideas.notices import send_pending
from bot.kernel.deps import Deps
from bot.kernel.people import refresh_person
from bot.reflections.terms import competency_label
from handlers.common import Body, ack_only, ephemeral, safe_lazy, tell, with_deps

USAGE = "Type `/idea` to record an idea from practice, or `/idea list` to see your pairs' ideas."
Save = Callable[..., record.Saved]  # (session, *, deps, user_id, view, now) -> Saved


def register(app: App, *, deps: Deps) -> None:
    app.command("/idea")(ack=with_deps(ack_idea, deps), lazy=[safe_lazy(open_new_idea, deps=deps)])
    for callback_id, submit in (
        (NEW_CALLBACK, submit_new_idea),
        (STEP_CALLBACK, submit_step),
        (COMMENT_CALLBACK, submit_comment),
        (EVIDENCE_CALLBACK, submit_evidence),
    ):
        app.view(callback_id)(ack=with_deps(submit, deps), lazy=[safe_lazy(after_submit, deps=deps)])
    app.action(NEXT_STEP_ACTIONS)(ack=ack_only, lazy=[safe_lazy(open_step, deps=deps)])
    app.action(COMMENT_ACTIONS)(ack=ack_only, lazy=[safe_lazy(open_comment, deps=deps)])
    app.action(OPEN_ACTIONS)(ack=ack_only, lazy=[safe_lazy(open_card, deps=deps)])
    app.action(SHARE_ACTIONS)(ack=ack_only, lazy=[safe_lazy(toggle_share, deps=deps)])
    app.action(EVIDENCE_ACTIONS)(ack=ack_only, lazy=[safe_lazy(open_evidence, deps=deps)])


# -- /idea -----------------------------------------------------------------------------------------------


def ack_idea(ack: Ack, command: dict[str, str], *, deps: Deps) -> None:
    user_id, words = command["user_id"], command.get("text", "").lower().split()
    with deps.read_sessions.begin() as session:
        if words == ["list"]:
            ack(**ephemeral(list_text(session, user_id=user_id)))
            return
        pairs = record.idea_pairs(session, deps=deps, user_id=user_id)
    if words:
        ack(**ephemeral(USAGE))
    elif not pairs:
        ack(**ephemeral(record.NO_PAIR))
    else:
        ack()


def open_new_idea(command: dict[str, str], client: WebClient, respond: Respond, *, deps: Deps) -> None:
    user_id = command["user_id"]
    if command.get("text", "").strip():
        return  # `/idea list`, or a typo: answered in the ack
    refresh_person(deps, user_id=user_id, now=deps.clock())  # users.info (timezone) before any write
    with deps.read_sessions.begin() as session:
        spec = record.new_idea_spec(session, deps=deps, user_id=user_id)
    if spec is None:
        tell(record.NO_PAIR, respond=respond)
        return
    client.views_open(trigger_id=command["trigger_id"], view=new_idea_modal(spec))


# -- the modals' submissions -----------------------------------------------------------------------------


def _submit(ack: Ack, body: Body, view: Body, deps: Deps, save: Save, title: str) -> None:
    """Save a modal in one unit of work: field errors beside their fields, else the modal says it is saved."""
    with deps.sessions.begin() as session:
        saved = save(session, deps=deps, user_id=body["user"]["id"], view=view, now=deps.clock())
    if saved.errors:
        ack(response_action="errors", errors=saved.errors)
    else:
        ack(response_action="update", view=saved_view(title, saved.message))


def submit_new_idea(ack: Ack, body: Body, view: Body, *, deps: Deps) -> None:
    _submit(ack, body, view, deps, record.create_idea, "Idea saved")


def submit_step(ack: Ack, body: Body, view: Body, *, deps: Deps) -> None:
    _submit(ack, body, view, deps, record.record_step, "Step saved")


def submit_comment(ack: Ack, body: Body, view: Body, *, deps: Deps) -> None:
    _submit(ack, body, view, deps, record.save_comment, "Comment sent")


def submit_evidence(ack: Ack, body: Body, view: Body, *, deps: Deps) -> None:
    _submit(ack, body, view, deps, evidence.save_evidence, "Evidence recorded")


def after_submit(body: Body, client: WebClient, *, deps: Deps) -> None:
    """The DM a saved submission owes (the tick retries one Slack refuses), then the author's App Home.

    Bolt runs this after field errors too; then nothing is owed and nothing changed on the Home tab.
    """
    user_id = body["user"]["id"]
    if send_pending(deps, actor_id=user_id, now=deps.clock()):
        _publish_home(deps, client, user_id)


def _publish_home(deps: Deps, client: WebClient, user_id: str) -> None:
    with deps.read_sessions.begin() as session:
        home = build_home(session, deps=deps, user_id=user_id, now=deps.clock())
    client.views_publish(user_id=user_id, view=home)


# -- the buttons (DMs and App Home) ----------------------------------------------------------------------


def _idea_id(body: Body) -> int:
    return int(body["actions"][0]["action_id"].rsplit(":", 1)[1])


def _open(
    body: Body, client: WebClient, deps: Deps, build: Callable[[Session, str, datetime], dict[str, Any]]
) -> None:
    """Open the modal `build` makes for the presser; a refusal reaches them through safe_lazy."""
    user_id, now = body["user"]["id"], deps.clock()
    refresh_person(deps, user_id=user_id, now=now)  # users.info (timezone) before any write
    with deps.read_sessions.begin() as session:
        view = build(session, user_id, now)
    client.views_open(trigger_id=body["trigger_id"], view=view)


def open_step(body: Body, client: WebClient, *, deps: Deps) -> None:
    idea_id = _idea_id(body)
    _open(
        body,
        client,
        deps,
        lambda s, u, now: step_modal(record.step_spec(s, deps=deps, user_id=u, idea_id=idea_id, now=now)),
    )


def open_comment(body: Body, client: WebClient, *, deps: Deps) -> None:
    value = body["actions"][0]["value"]
    _open(
        body,
        client,
        deps,
        lambda s, u, _now: comment_modal(record.comment_spec(s, deps=deps, user_id=u, value=value)),
    )


def open_card(body: Body, client: WebClient, *, deps: Deps) -> None:
    idea_id = _idea_id(body)

    def build(session: Session, user_id: str, _now: datetime) -> dict[str, Any]:
        idea, _pair = idea_of_member(session, deps=deps, idea_id=idea_id, user_id=user_id)
        return card_modal(idea_view(session, idea, with_comments=True))

    _open(body, client, deps, build)


def open_evidence(body: Body, client: WebClient, *, deps: Deps) -> None:
    idea_id = _idea_id(body)

    def build(session: Session, user_id: str, _now: datetime) -> dict[str, Any]:
        spec = evidence.evidence_spec(session, deps=deps, user_id=user_id, idea_id=idea_id)
        return evidence_modal(spec, {slug: competency_label(slug) for slug in spec.competencies})

    _open(body, client, deps, build)


def toggle_share(body: Body, client: WebClient, *, deps: Deps) -> None:
    user_id = body["user"]["id"]
    with deps.sessions.begin() as session:
        message = record.toggle_sharing(session, deps=deps, user_id=user_id, idea_id=_idea_id(body))
    tell(message, respond=None, body=body, client=client)  # App Home has no response_url
    if (body.get("view") or {}).get("type") == "home":
        _publish_home(deps, client, user_id)
