"""What every handler, job and CLI command needs, built once at start."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime

from slack_sdk import WebClient
from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from bot.kernel.clock import utcnow
from bot.kernel.limits import DailyLimiter
from bot.kernel.programs import ProgramsConfig
from bot.kernel.settings import Settings
from storage.crypto import Keys


@dataclass(frozen=True)
class Deps:
    settings: Settings
    programs: ProgramsConfig
    engine: Engine
    sessions: sessionmaker[Session]
    read_sessions: sessionmaker[Session]  # for units of work that never write
    lookups: Engine  # single-statement reads outside any transaction (see make_lookup_engine)
    client: WebClient
    keys: Keys
    clock: Callable[[], datetime] = field(default=utcnow)
    # Per-person daily limits, in this process's memory only (see bot.kernel.limits).
    limiter: DailyLimiter = field(default_factory=DailyLimiter)
