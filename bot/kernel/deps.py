"""What every handler, job and CLI command needs, built once at start."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, overload

from slack_sdk import WebClient
from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from bot.kernel.clock import utcnow
from bot.kernel.limits import DailyLimiter
from bot.kernel.programs import ProgramsConfig
from bot.kernel.programs_live import LivePrograms
from bot.kernel.settings import Settings
from storage.crypto import Keys


class _RunningPrograms:
    """`Deps.programs`: the configuration running now, read through the Deps' LivePrograms holder.

    A descriptor rather than a plain field so that every handler and job holding the one Deps sees a
    reload at once, while `Deps(programs=config)`, `dataclasses.replace(deps, programs=other)` and
    every `deps.programs` reader keep working as they did with a plain field.
    """

    _slot = "_programs_live"

    @overload
    def __get__(self, obj: None, owner: Any) -> _RunningPrograms: ...
    @overload
    def __get__(self, obj: object, owner: Any) -> ProgramsConfig: ...
    def __get__(self, obj: object | None, owner: Any) -> ProgramsConfig | _RunningPrograms:
        if obj is None:
            # What dataclass asks for a default: there is none, `programs` must be given.
            raise AttributeError("programs")
        holder: LivePrograms = obj.__dict__[self._slot]
        return holder.current

    def __set__(self, obj: object, value: ProgramsConfig | LivePrograms) -> None:
        # A bare config (tests, the demo, a replace() copy) gets a holder of its own, followed by no file.
        obj.__dict__[self._slot] = value if isinstance(value, LivePrograms) else LivePrograms(value)


@dataclass(frozen=True, kw_only=True)
class Deps:
    """Built once per process by bootstrap; `programs` follows programs.yml (bot.kernel.programs_live).

    `dataclasses.replace(deps, clock=...)` copies the current configuration and stops following the
    file; pass `programs=deps.programs_live` to keep following it.
    """

    settings: Settings
    programs: _RunningPrograms = _RunningPrograms()
    engine: Engine
    sessions: sessionmaker[Session]
    read_sessions: sessionmaker[Session]  # for units of work that never write
    lookups: Engine  # single-statement reads outside any transaction (see make_lookup_engine)
    client: WebClient
    keys: Keys
    clock: Callable[[], datetime] = field(default=utcnow)
    # Per-person daily limits, in this process's memory only (see bot.kernel.limits).
    limiter: DailyLimiter = field(default_factory=DailyLimiter)

    @property
    def programs_live(self) -> LivePrograms:
        """The holder behind `programs`, which reloads swap and watchers poll."""
        holder: LivePrograms = self.__dict__[_RunningPrograms._slot]
        return holder
