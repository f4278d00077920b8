"""Socket Mode that recovers from every connection fault, dispatching into the sync Bolt app.

Bolt's own SocketModeHandler (slack_sdk's builtin client) was measured against the fake Slack's
Socket Mode endpoint (bench/socket_mode.py): after a FIN without a close frame it stayed deaf for
60 s while spinning on the dead socket; a half-open link took 51 s to notice; and after a
`refresh_requested` its reader thread sat in the old socket's 3 s receive timeout, so the first
envelope on the new socket was acked 3.08 s after its hello, past Slack's limit. A 1 s ping interval
only brought the FIN to 6 s (still spinning) and left the 3 s acks. The websocket-client adapter
recovered from a FIN in 0.5 s but never noticed a half-open link, and both reconnected in a tight
loop on `link_disabled` (100-200 times in 25 s).

This runner keeps Bolt's listener model (a sync `App`, `app.dispatch` per envelope on a thread
pool) over websockets' threading client, whose reader blocks on the socket (no polling) and whose
keepalive pings detect a silent link. A FIN, RST or close frame ends the read at once and the next
link is opened immediately. On `refresh_requested` or `warning` the new link is opened while the
old one keeps serving, and the old one is closed once its in-flight acks are out.
"""

from __future__ import annotations

import json
import logging
import random
import threading
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

from slack_bolt import App, BoltRequest, BoltResponse
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from websockets.exceptions import ConnectionClosed, InvalidHandshake, InvalidStatus, WebSocketException
from websockets.sync.client import ClientConnection, connect

from bot.app.bolt_app import dispatch_timed
from bot.kernel.logging_setup import log_failure
from bot.kernel.metrics import count_socket_reconnect, set_socket_connected

log = logging.getLogger("mentorbot.socket_mode")
# websockets logs every frame (envelope payloads: command text, modal input) at DEBUG; the runner
# pins this logger above DEBUG whatever MENTORBOT_LOG_LEVEL says.
_wire_log = logging.getLogger("mentorbot.socket_mode.wire")

# apps.connections.open errors that no retry can fix: the token itself is wrong or revoked.
REFUSALS = frozenset(
    {
        "not_authed",
        "invalid_auth",
        "not_allowed_token_type",
        "account_inactive",
        "token_revoked",
        "token_expired",
        "team_disabled",
        "user_removed_from_team",
        "missing_scope",
    }
)
FLAP_SECONDS = 1.0  # a link that dies sooner after its hello than this counts as flapping


@dataclass(frozen=True)
class SocketModeSettings:
    """Timings chosen by bench/socket_mode.py; see README "Socket Mode behind a proxy"."""

    # A ping every 3 s and a 3 s pong deadline notice a half-open link within ~7 s (the close
    # handshake adds close_timeout), and keep proxies with idle timeouts from dropping the link.
    ping_interval: float = 3.0
    ping_timeout: float = 3.0
    close_timeout: float = 1.0
    open_timeout: float = 5.0  # TCP connect + TLS + WebSocket handshake, and then Slack's hello
    retry_delays: tuple[float, ...] = (0.5, 1, 2, 4, 8, 15, 30)  # after the immediate first retry
    disabled_delays: tuple[float, ...] = (10, 20, 40, 80, 160, 300)  # after link_disabled
    drain_timeout: float = 3.0  # Slack's ack deadline: no listener on a retired link runs longer
    workers: int = 10  # envelopes dispatched at once, as Bolt's SocketModeHandler
    max_message_bytes: int = 8 * 2**20


class SocketModeRefused(Exception):
    """Slack refused SLACK_APP_TOKEN; the message is the operator's one line."""


class _Retry(Exception):
    """A failure worth retrying (network, 5xx, rate limit); its message says which."""


class _Link:
    """One WebSocket to Slack: its reader thread, the hello, a disconnect request, in-flight acks."""

    def __init__(self, runner: SocketModeRunner, url: str) -> None:
        self.runner = runner
        self.url = url
        self.hello = False
        self.hello_at: float | None = None
        self.ended = False
        self.disconnect_reason: str | None = None
        self.end_reason = ""
        self.inflight = 0
        self._ws: ClientConnection | None = None
        self._closing = False
        self._lock = threading.Lock()
        self._thread = threading.Thread(target=self._read, name="socket-mode-link", daemon=True)

    def start(self) -> _Link:
        self._thread.start()
        return self

    @property
    def live(self) -> bool:
        return self.hello and not self.ended and self.disconnect_reason != "link_disabled"

    def _read(self) -> None:
        settings = self.runner.settings
        try:
            with connect(
                self.url,
                open_timeout=settings.open_timeout,
                ping_interval=settings.ping_interval,
                ping_timeout=settings.ping_timeout,
                close_timeout=settings.close_timeout,
                max_size=settings.max_message_bytes,
                compression=None,
                logger=_wire_log,
            ) as ws:
                with self._lock:
                    self._ws, closing = ws, self._closing
                if closing:  # close() came while the handshake was under way
                    ws.close()
                for raw in ws:
                    self._receive(raw)
            self.end_reason = _close_description(ws)
        except ConnectionClosed as exc:
            self.end_reason = _closed_description(exc)
        except (OSError, TimeoutError, WebSocketException) as exc:
            self.end_reason = _error_description(exc)
        finally:
            self.runner.changed(lambda: setattr(self, "ended", True))

    def _receive(self, raw: str | bytes) -> None:
        try:
            message = json.loads(raw)
        except ValueError:
            log.warning("Socket Mode: ignored a message that is not JSON")
            return
        kind = message.get("type") if isinstance(message, dict) else None
        if kind == "hello":
            self.hello_at = time.monotonic()
            self.runner.changed(lambda: setattr(self, "hello", True))
        elif kind == "disconnect":
            reason = str(message.get("reason") or "unknown")
            self.runner.changed(lambda: setattr(self, "disconnect_reason", reason))
        elif isinstance(message, dict) and message.get("envelope_id"):
            self.runner.dispatch(self, message)

    def send(self, message: dict[str, Any]) -> bool:
        ws = self._ws
        if ws is None:
            return False
        try:
            ws.send(json.dumps(message))
        except (ConnectionClosed, OSError):
            return False
        return True

    def close(self) -> None:
        """Close with a close frame; waits at most close_timeout for Slack's answer."""
        with self._lock:
            self._closing, ws = True, self._ws
        if ws is not None:
            ws.close()

    def join(self, timeout: float) -> None:
        self._thread.join(timeout)


class SocketModeRunner:
    """Keeps one live Socket Mode link to Slack (two during a handoff) and feeds envelopes to Bolt."""

    def __init__(
        self,
        app: App,
        app_token: str,
        *,
        client: WebClient,
        settings: SocketModeSettings | None = None,
    ) -> None:
        _wire_log.setLevel(logging.WARNING)
        self.app = app
        self.settings = settings or SocketModeSettings()
        self._app_token = app_token
        self._client = client
        self._cond = threading.Condition()
        self._stopping = False
        self._current: _Link | None = None
        self._links: list[_Link] = []
        self._first_url: str | None = None
        self._hellos = 0
        self._disabled_count = 0
        self._flaps = 0
        self._pool = ThreadPoolExecutor(self.settings.workers, thread_name_prefix="socket-mode-dispatch")

    # -- state for health and the CLI --------------------------------------------------------------

    def connected(self) -> bool:
        """True while a link has said hello and is still up (health's readiness signal)."""
        link = self._current
        return link is not None and link.live

    def changed(self, update: Callable[[], object]) -> None:
        """Apply a link's state change and wake the supervisor."""
        with self._cond:
            update()
            self._cond.notify_all()

    def stop(self) -> None:
        self.changed(lambda: setattr(self, "_stopping", True))

    # -- supervision -------------------------------------------------------------------------------

    def run(self) -> None:
        """Serve until stop() (or a signal in this thread); raises SocketModeRefused for a bad token."""
        try:
            self._supervise()
        finally:
            self._shutdown()

    def _supervise(self) -> None:
        while not self._stopping:
            link = self._connect()
            if link is None:
                return
            previous, self._current = self._current, link
            if previous is not None:
                self._retire(previous)  # a handoff: the new link is up, the old one drains
            if link.hello:
                self._greeted(link)
            outcome = self._watch(link)
            if outcome is None:
                return
            if outcome == "link_disabled":
                self._disabled(link)
            elif outcome == "ended" or not link.hello:
                self._lost(link, link.end_reason or f"Slack sent disconnect ({outcome}) before hello")
            else:  # refresh_requested, warning: the old link keeps serving until the new one is up
                log.info("Socket Mode: Slack asked for a new connection (%s); switching", outcome)

    def _greeted(self, link: _Link) -> None:
        log.info("Socket Mode: %s", "reconnected" if self._hellos else "connected")
        if self._hellos:
            count_socket_reconnect()
        self._hellos += 1
        self._disabled_count = 0
        set_socket_connected(True)

    def _disabled(self, link: _Link) -> None:
        delays = self.settings.disabled_delays
        delay = delays[min(self._disabled_count, len(delays) - 1)]
        self._disabled_count += 1
        log.error(
            "Socket Mode: Slack says Socket Mode is off for this app (link_disabled); retrying in %g s. "
            "Turn it on under Settings > Socket Mode, or run with --http",
            delay,
        )
        set_socket_connected(False)
        self._retire(link)
        self._current = None
        self._wait(delay)

    def _lost(self, link: _Link, why: str) -> None:
        set_socket_connected(False)
        self._current = None
        self._retire(link)
        delay = self._flap_delay(link)
        after = f" in {delay:g} s" if delay else ""
        log.warning("Socket Mode: connection lost (%s); reconnecting%s", why, after)
        self._wait(delay)

    def _flap_delay(self, link: _Link) -> float:
        """0 (reconnect at once) unless links keep ending right after their hello: then back off."""
        lived = time.monotonic() - link.hello_at if link.hello_at is not None else 0.0
        self._flaps = self._flaps + 1 if lived < FLAP_SECONDS else 0
        delays = self.settings.retry_delays
        return delays[min(self._flaps - 2, len(delays) - 1)] if self._flaps >= 2 else 0.0

    def _watch(self, link: _Link) -> str | None:
        """Block until the link ends or Slack asks to disconnect (its reason); None after stop()."""
        with self._cond:
            self._cond.wait_for(lambda: self._stopping or link.ended or link.disconnect_reason is not None)
        if self._stopping:
            return None
        return link.disconnect_reason or "ended"

    def _connect(self) -> _Link | None:
        """A link that got its hello (or a disconnect instead), retrying transient failures."""
        attempt = 0
        while not self._stopping:
            failure = self._try_connect()
            if isinstance(failure, _Link):
                return failure
            delay = self.settings.retry_delays[min(attempt, len(self.settings.retry_delays) - 1)]
            delay *= random.uniform(0.8, 1.2)  # several instances of one app must not retry in step
            attempt += 1
            log.warning("Socket Mode: cannot connect (%s); retrying in %.1f s", failure, delay)
            self._wait(delay)
        return None

    def check_token(self) -> None:
        """Ask for the first link's URL now, so a refused token stops the start before anything runs.

        Raises SocketModeRefused; a transient failure is left to run(), which retries it.
        """
        try:
            self._first_url = self._open_url()
        except _Retry:
            pass

    def _open_url(self) -> str:
        """apps.connections.open: a WebSocket URL; _Retry says why there is none for now."""
        try:
            return str(self._client.apps_connections_open(app_token=self._app_token)["url"])
        except SlackApiError as exc:
            error = str(exc.response.get("error") or f"HTTP {exc.response.status_code}")
            if error in REFUSALS:
                raise SocketModeRefused(
                    f"SLACK_APP_TOKEN: Slack refused it ({error}); create an app-level token with "
                    "connections:write (Basic Information > App-Level Tokens) and turn on Socket Mode"
                ) from None
            raise _Retry(f"apps.connections.open: {error}") from None
        except OSError as exc:
            raise _Retry(f"apps.connections.open: {getattr(exc, 'reason', exc)}") from None

    def _try_connect(self) -> _Link | str:
        try:
            url, self._first_url = self._first_url or self._open_url(), None
        except _Retry as exc:
            return str(exc)
        link = _Link(self, url).start()
        with self._cond:
            self._links = [*(known for known in self._links if not known.ended), link]
            ready = self._cond.wait_for(
                lambda: self._stopping or link.hello or link.ended or link.disconnect_reason is not None,
                timeout=self.settings.open_timeout * 2,
            )
        if link.hello or link.disconnect_reason is not None or self._stopping:
            return link
        self._retire(link)
        return link.end_reason or ("no hello from Slack" if ready else "timed out waiting for hello")

    def _wait(self, seconds: float) -> None:
        with self._cond:
            self._cond.wait_for(lambda: self._stopping, timeout=seconds)

    def _retire(self, link: _Link) -> None:
        """Close a link in the background once the acks of envelopes it delivered are out."""

        def drain_and_close() -> None:
            with self._cond:
                self._cond.wait_for(lambda: link.inflight == 0, timeout=self.settings.drain_timeout)
            link.close()

        threading.Thread(target=drain_and_close, name="socket-mode-retire", daemon=True).start()

    def _shutdown(self) -> None:
        with self._cond:
            self._stopping = True
            self._cond.notify_all()
            self._cond.wait_for(
                lambda: all(link.inflight == 0 for link in self._links), timeout=self.settings.drain_timeout
            )
        for link in self._links:
            link.close()
        for link in self._links:  # one still opening closes as soon as its handshake is done
            link.join(self.settings.open_timeout + self.settings.close_timeout)
        self._pool.shutdown(wait=True)
        self._current = None
        set_socket_connected(False)

    # -- envelopes ---------------------------------------------------------------------------------

    def dispatch(self, link: _Link, message: dict[str, Any]) -> None:
        self.changed(lambda: setattr(link, "inflight", link.inflight + 1))
        try:
            self._pool.submit(self._handle, link, message, time.perf_counter())
        except RuntimeError:  # shutting down: Slack redelivers what we do not ack
            self.changed(lambda: setattr(link, "inflight", link.inflight - 1))

    def _handle(self, link: _Link, message: dict[str, Any], received: float) -> None:
        try:
            response = dispatch_timed(self.app, _bolt_request(message), received=received)
            if response.status in (200, 400):  # as Bolt's adapters: no ack when no listener took it
                # A malformed envelope (400) is acked empty: redelivering it would only fail again.
                ack = (
                    _ack(message["envelope_id"], response)
                    if response.status == 200
                    else {"envelope_id": message["envelope_id"]}
                )
                if not link.send(ack) and not self._send_on_current(ack):
                    log.warning("Socket Mode: an ack was lost with its connection; Slack will retry")
        except Exception:  # a pool thread would swallow it; Bolt already handled listener errors
            log_failure(log, "Socket Mode: dispatching an envelope failed")
        finally:
            self.changed(lambda: setattr(link, "inflight", link.inflight - 1))

    def _send_on_current(self, ack: dict[str, Any]) -> bool:
        current = self._current
        return current is not None and current.send(ack)


def _bolt_request(message: dict[str, Any]) -> BoltRequest:
    headers: dict[str, str | Sequence[str]] = {}
    if message.get("retry_attempt"):
        headers["x-slack-retry-num"] = str(message["retry_attempt"])
        headers["x-slack-retry-reason"] = str(message.get("retry_reason") or "")
    return BoltRequest(mode="socket_mode", body=message.get("payload") or {}, headers=headers or None)


def _ack(envelope_id: str, response: BoltResponse) -> dict[str, Any]:
    """The envelope's ack, carrying what an HTTP response body would (as Bolt's adapters do)."""
    ack: dict[str, Any] = {"envelope_id": envelope_id}
    if response.body:
        content_type = response.headers.get("content-type", [""])[0]
        if content_type.startswith("application/json"):
            ack["payload"] = json.loads(response.body)
        else:
            ack["payload"] = {"text": response.body}
    return ack


def _close_description(ws: ClientConnection) -> str:
    code = ws.close_code
    return "closed by Slack" if code is None else f"closed by Slack ({code})"


def _closed_description(exc: ConnectionClosed) -> str:
    if exc.rcvd is None and exc.sent is not None and exc.sent.code == 1011:
        return "no pong from Slack: the link went silent"
    if exc.rcvd is None:
        return "dropped without a close frame"
    return f"closed by Slack ({exc.rcvd.code})"


def _error_description(exc: BaseException) -> str:
    if isinstance(exc, InvalidStatus):
        return f"handshake refused with HTTP {exc.response.status_code}"
    if isinstance(exc, InvalidHandshake):
        return "handshake failed"
    return type(exc).__name__ if not str(exc) else f"{type(exc).__name__}: {exc}"
