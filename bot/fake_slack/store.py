"""In-memory workspace state behind the fake Slack server.

Every mutation happens under `lock`, a re-entrant lock shared with the `changed` condition so
tests can block until the bot has made some call (see FakeSlack.wait_for).
"""

from __future__ import annotations

import bisect
import itertools
import threading
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from bot.fake_slack.models import ApiError, Call, FakeUser, Upload

TRIGGER_TTL_SECONDS = 3.0  # Slack expires trigger_ids after three seconds
RESPONSE_URL_MAX_USES = 5  # Slack accepts five posts per response_url
# The bot scopes manifest.yml asks for (tests/app/test_doctor.py keeps the two equal): what auth.test
# reports granted in its x-oauth-scopes header unless a test grants fewer.
MANIFEST_BOT_SCOPES = (
    "commands",
    "chat:write",
    "im:write",
    "im:history",
    "channels:history",
    "groups:history",
    "users:read",
    "users:read.email",
    "dnd:read",
    "files:write",
)


@dataclass
class Channel:
    """Messages of one conversation, kept sorted by ts (ts are issued under the store lock)."""

    id: str
    name: str
    micros: list[int] = field(default_factory=list)  # sort keys for bisect, parallel to `order`
    order: list[str] = field(default_factory=list)
    by_ts: dict[str, dict[str, Any]] = field(default_factory=dict)

    def append(self, micros: int, message: dict[str, Any]) -> None:
        self.micros.append(micros)
        self.order.append(message["ts"])
        self.by_ts[message["ts"]] = message

    def remove(self, ts: str) -> None:
        del self.by_ts[ts]
        index = bisect.bisect_left(self.micros, ts_to_micros(ts))
        del self.micros[index]
        del self.order[index]


def ts_to_micros(ts: str | float | int) -> int:
    if isinstance(ts, str):
        seconds, _, fraction = ts.partition(".")
        return int(seconds or 0) * 1_000_000 + int((fraction + "000000")[:6])
    return int(round(float(ts) * 1_000_000))


def micros_to_ts(micros: int) -> str:
    return f"{micros // 1_000_000}.{micros % 1_000_000:06d}"


class Store:
    """Users, conversations, views, uploads, response URLs and the call log."""

    def __init__(self, bot_user_id: str, team_id: str, bot_id: str, app_id: str, team_domain: str) -> None:
        self.bot_user_id = bot_user_id
        self.team_id = team_id
        self.bot_id = bot_id
        self.app_id = app_id
        self.team_domain = team_domain
        self.base_url = ""  # "http://host:port/", set once the server is bound
        self.lock = threading.RLock()
        self.changed = threading.Condition(self.lock)
        self.now_override: datetime | None = None
        self.trigger_ttl: float | None = TRIGGER_TTL_SECONDS
        self.response_url_max_uses = RESPONSE_URL_MAX_USES
        self._ids = itertools.count(1)
        self._last_micros = 0
        self.users: dict[str, FakeUser] = {}
        self.user_ids_by_email: dict[str, str] = {}
        self.granted_scopes: tuple[str, ...] = MANIFEST_BOT_SCOPES
        self.reset()

    def reset(self) -> None:
        with self.lock:
            self.channels: dict[str, Channel] = {}
            self.channels_without_bot: set[str] = set()  # Slack answers not_in_channel there
            self.ephemerals: list[dict[str, Any]] = []
            self.view_order: list[str] = []
            self.views_by_id: dict[str, dict[str, Any]] = {}
            self.view_ids_by_external: dict[str, str] = {}
            self.home_views: dict[str, str] = {}  # user id -> view id
            self.pending_uploads: dict[str, dict[str, Any]] = {}
            self.uploads: list[Upload] = []
            self.response_url_uses: dict[str, int] = {}
            self.responses: list[tuple[str, dict[str, Any]]] = []
            self.triggers: dict[str, float] = {}
            self.used_triggers: set[str] = set()
            self.calls: list[Call] = []
            self.calls_by_method: dict[str, list[Call]] = {}
            self.invalid: list[Call] = []
            self.errors: list[str] = []
            self.changed.notify_all()

    # -- clock and ids -----------------------------------------------------------------------------

    def now(self) -> datetime:
        return self.now_override if self.now_override is not None else datetime.now(UTC)

    def new_id(self, prefix: str) -> str:
        return f"{prefix}{next(self._ids):09X}"

    def next_ts(self) -> tuple[int, str]:
        """A unique, strictly increasing message ts near the (possibly overridden) clock."""
        micros = max(int(self.now().timestamp() * 1_000_000), self._last_micros + 1)
        self._last_micros = micros
        return micros, micros_to_ts(micros)

    # -- recording ---------------------------------------------------------------------------------

    def record(self, call: Call, invalid: bool = False) -> None:
        with self.lock:
            self.calls.append(call)
            self.calls_by_method.setdefault(call.method, []).append(call)
            if invalid:
                self.invalid.append(call)
            self.changed.notify_all()

    # -- users and channels ------------------------------------------------------------------------

    def add_user(self, user: FakeUser) -> None:
        with self.lock:
            previous = self.users.get(user.id)
            if previous is not None and previous.email:
                self.user_ids_by_email.pop(previous.email.lower(), None)
            self.users[user.id] = user
            if user.email:
                self.user_ids_by_email[user.email.lower()] = user.id

    def user(self, user_id: Any) -> FakeUser:
        user = self.users.get(user_id) if isinstance(user_id, str) else None
        if user is None:
            raise ApiError("user_not_found")
        return user

    def ensure_channel(self, channel_id: str, name: str | None = None) -> Channel:
        channel = self.channels.get(channel_id)
        if channel is None:
            channel = Channel(channel_id, name or channel_id.lower())
            self.channels[channel_id] = channel
        return channel

    def require_member(self, channel: Channel) -> None:
        if channel.id in self.channels_without_bot:
            raise ApiError("not_in_channel")

    def resolve_channel(self, channel_id: Any, create: bool) -> Channel:
        """Find a conversation by id; a user id means that user's DM, as chat.postMessage allows."""
        if not isinstance(channel_id, str) or not channel_id:
            raise ApiError("channel_not_found")
        if channel_id[0] in "UW":
            if channel_id not in self.users:
                raise ApiError("channel_not_found")
            return self.ensure_channel(dm_channel_id(channel_id))
        known = channel_id in self.channels or (channel_id[0] == "D" and channel_id[1:] in self.users)
        if not known and not create:
            raise ApiError("channel_not_found")
        return self.ensure_channel(channel_id)

    # -- triggers and response URLs ----------------------------------------------------------------

    def issue_trigger(self, trigger_id: str) -> None:
        with self.lock:
            self.triggers[trigger_id] = time.monotonic()

    def consume_trigger(self, trigger_id: Any) -> None:
        """Enforce single use and expiry for trigger ids the fake issued; accept foreign ones."""
        if not isinstance(trigger_id, str) or not trigger_id:
            raise ApiError("invalid_arguments", errors=["trigger_id is required"])
        issued = self.triggers.get(trigger_id)
        if issued is None:
            return
        if trigger_id in self.used_triggers:
            raise ApiError("exchanged_trigger_id")
        if self.trigger_ttl is not None and time.monotonic() - issued > self.trigger_ttl:
            raise ApiError("expired_trigger_id")
        self.used_triggers.add(trigger_id)

    def new_response_url(self) -> str:
        with self.lock:
            url_id = self.new_id("R")
            self.response_url_uses[url_id] = 0
            return f"{self.base_url}response/{url_id}"


def dm_channel_id(user_id: str) -> str:
    return "D" + user_id
