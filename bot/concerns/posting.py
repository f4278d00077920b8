"""Posting urgent and escalated concerns to coordinators or the escalation contact, each claimed first so
none goes twice; retried by the tick.
"""

from __future__ import annotations

import logging
from datetime import datetime

from slack_sdk.errors import SlackApiError

from bot.concerns import blocks as concern_blocks
from bot.kernel.deps import Deps
from bot.kernel.programs import Program
from storage.models import Concern
from storage.repositories.concerns import (
    claim_notification,
    get_concern,
    pending_notifications,
    release_notification,
)

log = logging.getLogger("mentorbot.concerns")


def _targets(concern: Concern, program: Program) -> tuple[str, list[str]]:
    if concern.escalated:
        escalation = program.escalation
        if escalation is None:
            return "escalated", []
        return "escalated", [t for t in (escalation.user, escalation.channel) if t]
    return "urgent", [program.digest.channel]


def deliver_pending(deps: Deps, *, now: datetime) -> list[str]:
    """Post every urgent or escalated concern still waiting; each is claimed first, so none goes twice.

    Escalated concerns of a program without an escalation contact stay pending until one is named.
    """
    with deps.sessions.begin() as session:
        pending = pending_notifications(session, program_ids=deps.programs.ids)
    done = []
    for concern_id in pending:
        line = _deliver_one(deps, concern_id)
        if line:
            done.append(line)
    return done


def _deliver_one(deps: Deps, concern_id: str) -> str | None:
    with deps.sessions.begin() as session:
        concern = get_concern(session, concern_id=concern_id)
        program = deps.programs.get(concern.program_id) if concern else None
        if concern is None or program is None:
            return None
        kind, targets = _targets(concern, program)
        if not targets or not claim_notification(session, concern_id=concern_id):
            return None
        blocks = concern_blocks.post_blocks(concern, program, kind=kind)
        fallback = concern_blocks.post_fallback(concern, program, kind=kind)
    posted = [target for target in targets if _post(deps, target, blocks, fallback, program.id)]
    if not posted:
        with deps.sessions.begin() as session:
            release_notification(session, concern_id=concern_id)
        return f"concerns: could not post an {kind} concern for {program.id}; will retry"
    return f"concerns: posted an {kind} concern for {program.id}"


def _post(deps: Deps, target: str, blocks: list[dict[str, object]], fallback: str, program_id: str) -> bool:
    try:
        deps.client.chat_postMessage(channel=target, text=fallback, blocks=blocks, unfurl_links=False)
    except SlackApiError as exc:
        # The target is a coordinator channel or escalation contact, never the sender.
        log.warning("could not post a concern for %s (%s)", program_id, exc.response.get("error"))
        return False
    return True


def run_due(deps: Deps, now: datetime) -> list[str]:
    """Retry urgent or escalated posts still pending."""
    return deliver_pending(deps, now=now)
