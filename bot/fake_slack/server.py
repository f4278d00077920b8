"""FakeSlack: a real HTTP server speaking enough of the Slack Web API for end-to-end runs."""

from __future__ import annotations

import secrets
import threading
from collections.abc import Callable
from dataclasses import replace
from datetime import datetime
from types import TracebackType
from typing import Any

from bot.fake_slack.faults import ANY, Faults, make_fault, reply_hold
from bot.fake_slack.handler import Dispatcher, FakeSlackServer
from bot.fake_slack.models import Call, FakeUser
from bot.fake_slack.socket_mode import SocketModeEndpoint
from bot.fake_slack.store import Store, dm_channel_id


class FakeSlack:
    """A local, thread-safe stand-in for slack.com: point `WebClient(base_url=fake.url)` at it."""

    def __init__(
        self,
        bot_user_id: str = "UBOT",
        team_id: str = "T0MENTOR",
        *,
        bot_id: str = "B0MENTOR",
        app_id: str = "A0MENTOR",
        team_domain: str = "mentor",
        host: str = "127.0.0.1",
        port: int = 0,
    ) -> None:
        self.bot_user_id = bot_user_id
        self.team_id = team_id
        self.bot_id = bot_id
        self.app_id = app_id
        self.team_domain = team_domain
        self._address = (host, port)
        self._store = Store(bot_user_id, team_id, bot_id, app_id, team_domain)
        self._faults = Faults()
        # Slack's Socket Mode service; it starts listening at the first apps.connections.open.
        self.socket_mode = SocketModeEndpoint(app_id, host=host)
        self._server: FakeSlackServer | None = None
        self._thread: threading.Thread | None = None

    # -- lifecycle ---------------------------------------------------------------------------------

    def start(self) -> FakeSlack:
        if self._server is not None:
            return self
        server = FakeSlackServer(self._address, Dispatcher(self._store, self._faults, self.socket_mode))
        host, port = self._address[0], server.server_address[1]
        self._store.base_url = f"http://{host}:{port}/"
        self._server = server
        self._thread = threading.Thread(
            target=server.serve_forever, kwargs={"poll_interval": 0.05}, name="fake-slack", daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        server, thread = self._server, self._thread
        if server is None:
            return
        self._faults.release(None, drop=True)  # held calls would otherwise outlive the server
        self.socket_mode.stop()
        server.shutdown()
        server.server_close()
        if thread is not None:
            thread.join(timeout=5)
        self._server = self._thread = None

    def __enter__(self) -> FakeSlack:
        return self.start()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()

    @property
    def root_url(self) -> str:
        """ "http://127.0.0.1:PORT/" once started."""
        if not self._store.base_url:
            raise RuntimeError("FakeSlack is not started")
        return self._store.base_url

    @property
    def url(self) -> str:
        """The Web API base URL for WebClient(base_url=...), with its trailing slash."""
        return f"{self.root_url}api/"

    def reset(self) -> None:
        """Forget calls, messages, views, uploads, responses and faults; users and the clock stay."""
        self._faults.clear()
        self._store.reset()

    # -- workspace setup ---------------------------------------------------------------------------

    def add_user(self, user: FakeUser) -> FakeUser:
        self._store.add_user(user)
        return user

    def set_dnd(self, user_id: str, snooze_until: datetime | None) -> None:
        with self._store.lock:
            self._store.add_user(replace(self._store.user(user_id), dnd_snooze_until=snooze_until))

    @property
    def users(self) -> dict[str, FakeUser]:
        with self._store.lock:
            return dict(self._store.users)

    def add_channel(self, channel_id: str, name: str | None = None) -> str:
        with self._store.lock:
            return self._store.ensure_channel(channel_id, name).id

    def remove_bot(self, channel_id: str) -> None:
        """The bot is no longer a member of the channel (created if unknown): Slack answers
        not_in_channel to posts and history reads there, and conversations.info says is_member false."""
        with self._store.lock:
            self._store.channels_without_bot.add(self._store.ensure_channel(channel_id).id)

    def invite_bot(self, channel_id: str) -> None:
        with self._store.lock:
            self._store.channels_without_bot.discard(self._store.ensure_channel(channel_id).id)

    @property
    def granted_scopes(self) -> tuple[str, ...]:
        """The bot token's scopes as auth.test (any Web API reply) names them in x-oauth-scopes."""
        with self._store.lock:
            return self._store.granted_scopes

    @granted_scopes.setter
    def granted_scopes(self, scopes: tuple[str, ...] | list[str]) -> None:
        with self._store.lock:
            self._store.granted_scopes = tuple(scopes)

    def dm_channel(self, user_id: str) -> str:
        return dm_channel_id(user_id)

    @property
    def now(self) -> datetime | None:
        """Clock override (timezone-aware) for dnd.info, tz offsets and new message ts; None = real time."""
        return self._store.now_override

    @now.setter
    def now(self, value: datetime | None) -> None:
        if value is not None and value.tzinfo is None:
            raise ValueError("FakeSlack.now must be timezone-aware")
        self._store.now_override = value

    @property
    def trigger_ttl(self) -> float | None:
        return self._store.trigger_ttl

    @trigger_ttl.setter
    def trigger_ttl(self, seconds: float | None) -> None:
        self._store.trigger_ttl = seconds

    # -- observations ------------------------------------------------------------------------------

    @property
    def calls(self) -> list[Call]:
        with self._store.lock:
            return list(self._store.calls)

    def calls_to(self, method: str, ok_only: bool = False) -> list[Call]:
        with self._store.lock:
            calls = list(self._store.calls_by_method.get(method, ()))
        return [call for call in calls if call.ok] if ok_only else calls

    @property
    def invalid(self) -> list[Call]:
        with self._store.lock:
            return list(self._store.invalid)

    @property
    def errors(self) -> list[str]:
        """Tracebacks of crashes inside the fake itself; should always be empty."""
        with self._store.lock:
            return list(self._store.errors)

    def messages(self, channel: str) -> list[dict[str, Any]]:
        """Current messages (oldest first, thread replies included), each with a "channel" key."""
        with self._store.lock:
            channel_id = dm_channel_id(channel) if channel[:1] in ("U", "W") else channel
            stored = self._store.channels.get(channel_id)
            if stored is None:
                return []
            return [{**stored.by_ts[ts], "channel": channel_id} for ts in stored.order]

    def channels(self) -> list[str]:
        with self._store.lock:
            return list(self._store.channels)

    @property
    def ephemerals(self) -> list[dict[str, Any]]:
        with self._store.lock:
            return list(self._store.ephemerals)

    @property
    def views(self) -> list[dict[str, Any]]:
        """Modals opened or pushed, in order, each in its latest (updated) version."""
        with self._store.lock:
            return [self._store.views_by_id[view_id] for view_id in self._store.view_order]

    def view(self, view_id: str) -> dict[str, Any] | None:
        with self._store.lock:
            return self._store.views_by_id.get(view_id)

    def home_view(self, user_id: str) -> dict[str, Any] | None:
        with self._store.lock:
            view_id = self._store.home_views.get(user_id)
            return None if view_id is None else self._store.views_by_id[view_id]

    @property
    def uploads(self) -> list[dict[str, Any]]:
        with self._store.lock:
            return [upload.as_dict() for upload in self._store.uploads]

    def response_url(self) -> str:
        """A fresh response_url on the fake, usable five times like Slack's."""
        return self._store.new_response_url()

    @property
    def responses(self) -> list[tuple[str, dict[str, Any]]]:
        with self._store.lock:
            return list(self._store.responses)

    def trigger_id(self) -> str:
        """A trigger_id the fake will accept once within `trigger_ttl` seconds (Slack: 3 s)."""
        trigger_id = f"{secrets.randbelow(10**11)}.{secrets.randbelow(10**9)}.{secrets.token_hex(16)}"
        self._store.issue_trigger(trigger_id)
        return trigger_id

    def wait_for(self, condition: Callable[[], bool], timeout: float = 5.0, what: str = "condition") -> None:
        """Block until `condition()` holds, re-checking after every recorded call or response.

        The condition runs under the fake's lock: keep it to reading this object's state.
        """
        with self._store.changed:
            if not self._store.changed.wait_for(condition, timeout):
                raise TimeoutError(f"FakeSlack: {what} not met within {timeout}s")

    # -- failure injection -------------------------------------------------------------------------

    def inject(
        self,
        method: str = ANY,
        status: int | None = None,
        *,
        error: str | None = None,
        retry_after: int | None = None,
        times: int = 1,
        disconnect: bool = False,
        after_effect: bool = False,
        channel: str | None = None,
    ) -> None:
        """Fail the next `times` calls to `method` ("*" = any Web API method).

        status=429 adds Retry-After (default 1); error="..." answers 200 {"ok": false};
        disconnect=True closes the socket without a reply. "upload" and "response_url" target
        the file-upload and response_url endpoints and are never matched by "*".
        after_effect=True applies the call first and then answers the fault ("post, then answer
        500"). channel= limits the fault to calls naming that channel (a user id: their DM).
        """
        fault = make_fault(status, error, retry_after, disconnect, after_effect)
        self._faults.inject(method, fault, times, _dm_or(channel))

    def set_error_rate(
        self,
        method: str = ANY,
        status: int | None = 429,
        ratio: float = 0.0,
        *,
        error: str | None = None,
        retry_after: int | None = 1,
        seed: int = 7,
        after_effect: bool = False,
        channel: str | None = None,
    ) -> None:
        """Fail a deterministic pseudo-random share of calls; ratio=0 turns it off.

        after_effect and channel as for inject().
        """
        fault = make_fault(status, error, retry_after, after_effect=after_effect) if ratio > 0 else None
        self._faults.set_error_rate(method, fault, ratio, seed, _dm_or(channel))

    def force_error(
        self, method: str = ANY, error: str | None = "token_revoked", *, channel: str | None = None
    ) -> None:
        """Answer every call to `method` with `error` (e.g. token_revoked, not_in_channel) until
        force_error(method, None); "*" covers every Web API method."""
        self.set_error_rate(method, None, 1.0 if error else 0.0, error=error, channel=channel)

    def set_latency(self, seconds: float, method: str | None = None) -> None:
        """Delay every call (or one method's, which overrides the global value); 0 removes it."""
        self._faults.set_latency(seconds, method)

    def hold(self, method: str = ANY) -> None:
        """Park calls to `method` before they take effect until release()."""
        self._faults.hold(method)

    def hold_replies(self, method: str) -> None:
        """Apply calls to `method` (users see them) but park the replies until release_replies()."""
        self._faults.hold(reply_hold(method))

    def release_replies(self, method: str) -> None:
        self._faults.release(reply_hold(method), False)

    def release(self, method: str | None = None, *, drop: bool = False) -> None:
        """Let held calls proceed; drop=True answers them 503 without applying them."""
        self._faults.release(method, drop)

    def held_count(self, method: str = ANY) -> int:
        return self._faults.held_count(method)

    def wait_held(self, count: int, method: str = ANY, timeout: float = 5.0) -> None:
        if not self._faults.wait_held(method, count, timeout):
            raise TimeoutError(f"FakeSlack: {count} held calls to {method} not reached within {timeout}s")


def _dm_or(channel: str | None) -> str | None:
    """Faults name channels as calls resolve them: a user id means the DM with that user."""
    return dm_channel_id(channel) if channel and channel[:1] in ("U", "W") else channel
