"""Roles are derived, never typed in twice: coordinators from programs.yml, mentors and mentees from pairs."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum

from sqlalchemy import Connection
from sqlalchemy.orm import Session

from bot.kernel.deps import Deps
from bot.kernel.programs import ProgramsConfig
from storage.repositories.pairs import pair_roles_of, pair_roles_on_driver


class Role(StrEnum):
    COORDINATOR = "coordinator"
    MENTOR = "mentor"
    MENTEE = "mentee"


@dataclass(frozen=True)
class UserRoles:
    """Who a user is, per program."""

    user_id: str
    by_program: dict[str, frozenset[Role]] = field(default_factory=dict)

    def has(self, role: Role, program_id: str | None = None) -> bool:
        if program_id is not None:
            return role in self.by_program.get(program_id, frozenset())
        return any(role in roles for roles in self.by_program.values())

    def programs_where(self, *roles: Role) -> list[str]:
        return sorted(pid for pid, have in self.by_program.items() if have & set(roles))

    @property
    def enrolled(self) -> bool:
        return bool(self.by_program)

    @property
    def all_roles(self) -> frozenset[Role]:
        return frozenset().union(*self.by_program.values()) if self.by_program else frozenset()


OPERATOR_ID = "cli"  # who the audit log names for command-line actions


def operator_roles(programs: ProgramsConfig) -> UserRoles:
    """Whoever runs the `mentorbot` CLI holds the database and the config: coordinator everywhere."""
    return UserRoles(
        user_id=OPERATOR_ID, by_program={pid: frozenset({Role.COORDINATOR}) for pid in programs.ids}
    )


def roles_now(deps: Deps, *, user_id: str) -> UserRoles:
    """The user's roles from one SELECT outside any transaction, for acks that need nothing else.

    One SELECT is its own consistent snapshot, so neither a session nor even a SQLAlchemy Connection
    (most of the cost of a `/mentorship help` ack) is needed around it.
    """
    pairs = pair_roles_on_driver(deps.lookups, user_id=user_id)
    return _roles_from(pairs, programs=deps.programs, user_id=user_id)


def roles_of(session: Session | Connection, *, programs: ProgramsConfig, user_id: str) -> UserRoles:
    """The user's roles in every program of the current programs.yml."""
    return _roles_from(pair_roles_of(session, user_id=user_id), programs=programs, user_id=user_id)


def _roles_from(pairs: list[tuple[str, bool]], *, programs: ProgramsConfig, user_id: str) -> UserRoles:
    found: dict[str, set[Role]] = {}
    for program in programs.by_coordinator(user_id):
        found.setdefault(program.id, set()).add(Role.COORDINATOR)
    known = set(programs.ids)
    for program_id, is_mentor in pairs:
        if program_id in known:
            found.setdefault(program_id, set()).add(Role.MENTOR if is_mentor else Role.MENTEE)
    return UserRoles(user_id=user_id, by_program={pid: frozenset(r) for pid, r in found.items()})
