"""The sender's thread: opening a case with its key, replying and closing — anonymously, and only with
the seal the key earned (bot.concerns.sender_seal).
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.orm import Session

from bot.concerns.case_keys import hash_case_key
from bot.concerns.sender_seal import concern_id_of, verified
from bot.concerns.terms import program_of, week_of
from bot.kernel.authz import NotAllowed
from bot.kernel.deps import Deps
from storage.models import Concern, ConcernMessage
from storage.repositories.concerns import (
    add_message,
    concern_by_key_hash,
    get_concern,
    thread_of,
)

NEUTRAL_STATUS = (
    "No case matches that key. Check it against the key you were shown (12 letters and digits, "
    "like `K7QF-2M9X-PD4C`) and type `/concern status KEY`."
)


def find_by_key(session: Session, *, deps: Deps, typed: str) -> Concern | None:
    """The concern a typed case key opens, or None; malformed keys are looked up like any other."""
    return concern_by_key_hash(session, key_hash=hash_case_key(deps.keys, typed))


def sender_reply(session: Session, *, deps: Deps, sealed: str, text: str, now: datetime) -> Concern:
    """Add the sender's (anonymous) reply; a reply to a resolved concern reopens it.

    `sealed` is the status view's private_metadata; without a valid seal nothing is stored.
    """
    concern = _sealed(session, deps=deps, sealed=sealed)
    if concern.status == "closed":
        raise NotAllowed(
            "You closed this case, so it takes no more replies. Raise a new one with `/concern`."
        )
    add_message(
        session,
        concern=concern,
        text=text.strip(),
        week=week_of(now, program_of(deps, concern)),
        from_sender=True,
    )
    if concern.status == "resolved":
        concern.status, concern.resolved_on = "open", None
    return concern


def sender_close(session: Session, *, deps: Deps, sealed: str, now: datetime) -> Concern:
    """Close the case for the sender; dated to the Monday of the week, so the sender's day stays unknown."""
    concern = _sealed(session, deps=deps, sealed=sealed)
    if concern.status != "closed":
        concern.status = "closed"
        concern.resolved_on = concern.resolved_on or week_of(now, program_of(deps, concern))
    return concern


def thread(session: Session, *, concern_id: str) -> list[ConcernMessage]:
    """The replies on a concern, oldest first."""
    return thread_of(session, concern_id=concern_id)


def _sealed(session: Session, *, deps: Deps, sealed: str) -> Concern:
    """The concern a sender's view is sealed for, locked; a forged or stale seal is an unknown case."""
    concern = get_concern(session, concern_id=concern_id_of(sealed), for_update=True)
    if concern is None or not verified(deps.keys, concern, sealed):
        raise NotAllowed(NEUTRAL_STATUS)
    return concern
