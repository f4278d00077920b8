"""An idea as its pair sees it, read from the database: the rows turned into what the surfaces show."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy.orm import Session

from bot.ideas.blocks import CommentView, CycleView, IdeaView, Viewer
from bot.ideas.terms import IDEA, NEXT_STEP, cycle_step
from bot.kernel.authz import NotAllowed
from bot.kernel.deps import Deps
from bot.kernel.people import display_name, reader_timezone
from storage.models import Idea, IdeaComment, IdeaCycle, Pair
from storage.repositories.ideas import comments_of, cycles_of, get_idea, linked_time
from storage.repositories.people import get_person, people_by_id

NOT_YOURS = "This idea belongs to a pair you are not part of (any more), so you can't see or change it."


def member_of(pair: Pair, user_id: str) -> bool:
    """Whether the user is the pair's mentor or mentee."""
    return user_id in (pair.mentor_id, pair.mentee_id)


def other_member(pair: Pair, user_id: str) -> str:
    """The pair's other member, seen from `user_id`."""
    return pair.mentee_id if pair.mentor_id == user_id else pair.mentor_id


def idea_of_member(
    session: Session, *, deps: Deps, idea_id: int, user_id: str, for_update: bool = False
) -> tuple[Idea, Pair]:
    """The idea and its pair when `user_id` is in that pair (still active, in a configured program)."""
    idea = get_idea(session, idea_id=idea_id, for_update=for_update)
    pair = session.get(Pair, idea.pair_id) if idea is not None else None
    if idea is None or pair is None or pair.ended_at is not None or not member_of(pair, user_id):
        raise NotAllowed(NOT_YOURS)
    if deps.programs.get(pair.program_id) is None:
        raise NotAllowed(
            f"The program {pair.program_id} is no longer configured. Ask your program coordinator."
        )
    return idea, pair


def cycle_view(cycle: IdeaCycle) -> CycleView:
    """A cycle's row as the surfaces show it."""
    return CycleView(
        number=cycle.number,
        prediction=cycle.prediction,
        measure=cycle.measure,
        scope=cycle.scope,
        test_date=cycle.test_date,
        happened=cycle.happened,
        outcome=cycle.outcome,
        result=cycle.result,
        decision=cycle.decision,
        decision_notes=cycle.decision_notes,
    )


def idea_views(session: Session, ideas: Sequence[Idea], *, with_comments: bool = False) -> list[IdeaView]:
    """Views of several ideas with their cycles and protected time (and comments when asked)."""
    ids = [idea.id for idea in ideas]
    cycles, minutes = cycles_of(session, idea_ids=ids), linked_time(session, idea_ids=ids)
    comments = {i: comments_of(session, idea_id=i) for i in ids} if with_comments else {}
    names = _names(
        session, [idea.author_id for idea in ideas] + [c.author_id for cs in comments.values() for c in cs]
    )
    return [
        IdeaView(
            idea_id=idea.id,
            summary=idea.summary,
            observation=idea.observation,
            change=idea.change,
            affects=tuple(idea.affects),
            author_id=idea.author_id,
            author=names[idea.author_id],
            stage=idea.stage,
            shared=idea.shared_with_coordinators,
            cycles=tuple(cycle_view(c) for c in cycles[idea.id]),
            comments=tuple(_comment_view(c, cycles[idea.id], names) for c in comments.get(idea.id, [])),
            minutes=minutes.get(idea.id, (0, 0))[1],
        )
        for idea in ideas
    ]


def idea_view(session: Session, idea: Idea, *, with_comments: bool = False) -> IdeaView:
    """One idea as its pair sees it (see idea_views)."""
    return idea_views(session, [idea], with_comments=with_comments)[0]


def _comment_view(comment: IdeaComment, cycles: list[IdeaCycle], names: dict[str, str]) -> CommentView:
    number = next((c.number for c in cycles if c.id == comment.cycle_id), 0)
    where = cycle_step(number, comment.step if number else IDEA)
    return CommentView(names[comment.author_id], where, comment.text, comment.created_at.date())


def _names(session: Session, user_ids: list[str]) -> dict[str, str]:
    people = people_by_id(session, user_ids=sorted(set(user_ids)))
    return {user_id: display_name(people.get(user_id), f"<@{user_id}>") for user_id in user_ids}


def name_of(session: Session, user_id: str) -> str:
    """The person's name as the bot knows it, else a mention of them."""
    return _names(session, [user_id])[user_id]


def viewer(idea: IdeaView, pair: Pair, user_id: str) -> Viewer:
    """What `user_id` may do with the idea: record its next step (its author), or mark it as evidence
    (the mentor, once the mentee's idea went through a whole cycle)."""
    is_author = idea.author_id == user_id
    carried = any(cycle.decision for cycle in idea.cycles)
    return Viewer(
        is_author=is_author,
        next_step=NEXT_STEP.get(idea.stage) if is_author else None,
        may_mark_evidence=carried and user_id == pair.mentor_id and idea.author_id == pair.mentee_id,
    )


def local_now(session: Session, *, deps: Deps, user_id: str, program_id: str, now: datetime) -> datetime:
    """`now` in the person's Slack timezone (cached), else the program's."""
    program = deps.programs.get(program_id)
    zone = reader_timezone(get_person(session, user_id=user_id), program.timezone if program else "UTC")
    return now.astimezone(zone)
