"""Plain data types shared by the fake Slack server modules."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any


@dataclass(frozen=True)
class FakeUser:
    """A workspace member the fake knows about (users.info, dnd.info, DMs)."""

    id: str
    name: str
    real_name: str = ""
    tz: str = "UTC"
    email: str | None = None
    dnd_snooze_until: datetime | None = None  # UTC; a snooze is active while this is in the future
    display_name: str = ""
    is_bot: bool = False
    deleted: bool = False


@dataclass(frozen=True)
class Call:
    """One Web API request as the fake saw and answered it (including injected failures)."""

    method: str
    args: dict[str, Any]
    token: str | None
    status: int
    response: dict[str, Any]
    at: float

    @property
    def ok(self) -> bool:
        return self.status == 200 and bool(self.response.get("ok"))

    @property
    def error(self) -> str | None:
        error = self.response.get("error")
        return error if isinstance(error, str) else None


@dataclass(frozen=True)
class Upload:
    """A file completed through files.completeUploadExternal."""

    file_id: str
    filename: str
    title: str
    channel_id: str | None
    initial_comment: str | None
    thread_ts: str | None
    content: bytes

    def as_dict(self) -> dict[str, Any]:
        return {
            "file_id": self.file_id,
            "filename": self.filename,
            "title": self.title,
            "channel_id": self.channel_id,
            "initial_comment": self.initial_comment,
            "thread_ts": self.thread_ts,
            "content": self.content,
        }


class ApiError(Exception):
    """Raised by a method handler to answer HTTP 200 {"ok": false, "error": ...}."""

    def __init__(self, error: str, **extra: Any) -> None:
        super().__init__(error)
        self.error = error
        self.extra = extra

    def body(self) -> dict[str, Any]:
        return {"ok": False, "error": self.error, **self.extra}


@dataclass
class Fault:
    """What the fault layer decided for one call; exactly one outcome applies."""

    status: int = 200
    error: str | None = None
    retry_after: int | None = None
    disconnect: bool = False
    extra_headers: dict[str, str] = field(default_factory=dict)

    def body(self) -> dict[str, Any]:
        if self.error is not None:
            return {"ok": False, "error": self.error}
        if self.status == 429:
            return {"ok": False, "error": "ratelimited"}
        if self.disconnect:
            return {"ok": False, "error": "connection_dropped"}
        return {"ok": False, "error": "fatal_error" if self.status >= 500 else "request_failed"}
