"""Rate-limited, bounded fan-out of Slack sends, and the Slack calls a claimed send needs.

Claims happen lazily, one chunk at a time, just before the pool is ready for more work; a claimed row
may still wait behind the rate limiter or Slack's Retry-After, so every send proves its claim again
by compare-and-set just before it goes out (bot.slack.client.send_fenced). Outcomes go to a single
recorder thread that writes them in small batches. After an ambiguous failure (5xx, dropped
connection) a sender looks for its message by metadata (`find_posted`) before sending again.
"""

from __future__ import annotations

import logging
import os
import queue
import secrets
import socket
import threading
import time
from collections.abc import Callable, Iterable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Generic, TypeVar
from urllib.error import URLError

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError, SlackRequestError

from bot.kernel.logging_setup import log_failure
from bot.slack.token_state import is_dead_token_error

log = logging.getLogger("mentorbot.checkins.sender")

PROMPT_EVENT = "mentorbot_checkin"
REMINDER_EVENT = "mentorbot_checkin_reminder"
J = TypeVar("J")
R = TypeVar("R")
HISTORY_PAGES = 5


def process_token() -> str:
    """Names this process in claims: host, pid and a random part (pids repeat across restarts)."""
    return f"{socket.gethostname()[:32]}:{os.getpid()}:{secrets.token_hex(4)}"


class RetryAfterGate:
    """Slack's Retry-After, shared: while one caller sits out a 429 on a method, every caller of that
    method in the process waits too.

    Slack limits each method per workspace, so other threads calling during the wait would only earn
    more 429s (and repeatedly ignoring Retry-After gets a token throttled or revoked). The gate is
    opened by the waiting caller itself, not by a clock, so a test's simulated sleep paces every
    caller alike.
    """

    def __init__(self, longest_wait: float = 120.0) -> None:
        # A stuck sitter must not silence a method for good; well under a claim's 5-minute lease.
        self.longest_wait = longest_wait
        self._lock = threading.Lock()
        self._waiting: dict[str, int] = {}
        self._open: dict[str, threading.Event] = {}

    def pass_through(self, method: str) -> bool:
        """Return at once unless a caller is sitting out a 429 on `method`; then wait until it is done.

        True when it waited: a claimed send must then prove its claim again before it goes out.
        """
        with self._lock:
            gate = self._open.get(method)
        if gate is None or gate.is_set():
            return False
        gate.wait(self.longest_wait)
        return True

    def waiting(self, method: str) -> int:
        """How many callers are sitting out a 429 on `method` now."""
        with self._lock:
            return self._waiting.get(method, 0)

    def sit_out(self, method: str, wait: Callable[[], None]) -> None:
        """Run `wait` (the Retry-After sleep) with `method` closed to every other caller meanwhile."""
        with self._lock:
            self._waiting[method] = self._waiting.get(method, 0) + 1
            self._open.setdefault(method, threading.Event()).clear()
        try:
            wait()
        finally:
            with self._lock:
                self._waiting[method] -= 1
                if self._waiting[method] == 0:
                    self._open[method].set()


# One per process: every WebClient the process builds shares Slack's per-method limits.
RETRY_AFTER = RetryAfterGate()


class TokenBucket:
    """A shared messages-per-second ceiling: each acquire() reserves the next free slot.

    Slots are spaced 1/rate apart (GCRA), with up to `burst` slots available at once after idling.
    """

    def __init__(self, rate: float, burst: int = 1) -> None:
        self.interval = 1.0 / rate
        self.burst = burst
        self._next = time.monotonic()
        self._lock = threading.Lock()

    def acquire(self) -> None:
        with self._lock:
            now = time.monotonic()
            slot = max(self._next, now - (self.burst - 1) * self.interval)
            self._next = slot + self.interval
        if slot > now:
            time.sleep(slot - now)


class TickClock:
    """The tick's `now`, advanced by the time `clock` says has elapsed since the tick started.

    Claims and their renewals record this, so a long fan-out's later claims do not look stale to
    another process, while tests and `tick --at` still control the instant (and a test's simulated
    clock the elapsed time).
    """

    def __init__(self, now: datetime, clock: Callable[[], datetime]) -> None:
        self.start = now
        self._clock = clock
        self._started = clock()

    def __call__(self) -> datetime:
        return self.start + (self._clock() - self._started)


@dataclass
class FanOut(Generic[J, R]):
    """Run `send` over claimed jobs on a bounded pool; `record` receives outcomes in batches."""

    pool: ThreadPoolExecutor
    workers: int
    send: Callable[[J], R]
    fail: Callable[[J, Exception], R]  # the outcome for a job whose send raised unexpectedly
    record: Callable[[list[R]], None]
    batch_size: int = 200

    def run(self, batches: Iterable[list[J]]) -> list[R]:
        """Submit jobs as slots free up, pulling (and so claiming) the next batch only when needed."""
        results: queue.Queue[R | None] = queue.Queue()
        recorded: list[R] = []
        recorder = threading.Thread(target=self._record_loop, args=(results, recorded), daemon=True)
        recorder.start()
        slots = threading.BoundedSemaphore(self.workers * 2)
        pending: list[Future[None]] = []
        try:
            for batch in batches:
                for job in batch:
                    slots.acquire()
                    pending.append(self.pool.submit(self._one, job, results, slots))
        finally:
            for future in pending:
                future.result()
            results.put(None)
            recorder.join()
        return recorded

    def _one(self, job: J, results: queue.Queue[R | None], slots: threading.BoundedSemaphore) -> None:
        try:
            outcome = self.send(job)
        except Exception as exc:  # recorded as a failure below, so nothing is dropped silently
            log_failure(log, "check-in send failed unexpectedly")
            outcome = self.fail(job, exc)
        finally:
            slots.release()
        results.put(outcome)

    def _record_loop(self, results: queue.Queue[R | None], recorded: list[R]) -> None:
        done = False
        while not done:
            batch: list[R] = []
            item = results.get()
            while item is not None:
                batch.append(item)
                if len(batch) >= self.batch_size:
                    break
                try:
                    item = results.get(timeout=0.02)
                except queue.Empty:
                    break
            done = item is None
            if batch:
                self._flush(batch)
                recorded.extend(batch)

    def _flush(self, batch: list[R]) -> None:
        try:
            self.record(batch)
        except Exception:
            # The rows stay claimed; the next tick after the lease recovers them from Slack's history.
            log_failure(log, "could not record %d check-in outcomes", len(batch))


def slack_error(exc: Exception) -> str:
    """A short, text-free description of why a Slack call failed."""
    if isinstance(exc, SlackApiError):
        if exc.response.status_code >= 500:
            return f"http_{exc.response.status_code}"
        return str(exc.response.get("error") or f"http_{exc.response.status_code}")
    return type(exc).__name__


RETRYABLE_ERRORS = (SlackApiError, SlackRequestError, OSError, TimeoutError)


def is_ambiguous(exc: Exception) -> bool:
    """Whether a failed call may still have taken effect: a 5xx, or a connection lost mid-request.

    Slack's refusals (HTTP 200 with ok false), 429s and connections never made changed nothing.
    """
    if isinstance(exc, SlackApiError):
        return int(exc.response.status_code) >= 500
    if isinstance(exc, URLError) and isinstance(exc.reason, ConnectionRefusedError | socket.gaierror):
        return False
    return isinstance(exc, OSError | TimeoutError)


def is_dead_token(exc: Exception) -> bool:
    """Whether the call failed because Slack refuses the bot token (see bot.slack.token_state)."""
    return isinstance(exc, SlackApiError) and is_dead_token_error(exc.response.get("error"))


def dnd_until(client: WebClient, *, user_id: str, now: datetime) -> datetime | None:
    """When the user's Do Not Disturb ends, if it is on at `now`; None when off or unknown."""
    try:
        info = client.dnd_info(user=user_id)
    except RETRYABLE_ERRORS as exc:
        # Not knowing is no reason to hold a prompt back: Slack itself silences it during DND.
        if not is_dead_token(exc):  # a refused token is logged once, by bot.slack.token_state
            log.warning("dnd.info failed (%s); sending without the DND check", slack_error(exc))
        return None
    ends: list[float] = []
    if info.get("snooze_enabled") and info.get("snooze_endtime"):
        ends.append(float(info["snooze_endtime"]))
    start, end = info.get("next_dnd_start_ts"), info.get("next_dnd_end_ts")
    if info.get("dnd_enabled") and start and end and float(start) <= now.timestamp() < float(end):
        ends.append(float(end))
    until = max(ends, default=0.0)
    return datetime.fromtimestamp(until, UTC) if until > now.timestamp() else None


def find_prompt(client: WebClient, *, user_id: str, checkin_id: int) -> tuple[str, str] | None:
    """(channel, ts) of the prompt for `checkin_id` in the user's DM, found by its message metadata.

    Raises SlackApiError/OSError when the history cannot be read: then nobody knows, and the caller
    must not send again.
    """
    channel = client.conversations_open(users=user_id)["channel"]["id"]
    ts = find_posted(client, channel=channel, metadata=prompt_metadata(checkin_id))
    return None if ts is None else (channel, ts)


def find_posted(
    client: WebClient, *, channel: str, metadata: dict[str, Any], oldest: datetime | None = None
) -> str | None:
    """The ts of the message in `channel` carrying exactly `metadata`, looking back HISTORY_PAGES pages.

    Raises SlackApiError/OSError when the history cannot be read: then nobody knows whether the
    message is there, and the caller must not send it again.
    """
    cursor: str | None = None
    since = f"{oldest.timestamp():.6f}" if oldest is not None else None
    for _ in range(HISTORY_PAGES):
        page = client.conversations_history(
            channel=channel, limit=200, include_all_metadata=True, cursor=cursor, oldest=since
        )
        messages: list[dict[str, Any]] = page.get("messages", [])
        for message in messages:
            if _carries(message, metadata):
                return str(message["ts"])
        cursor = (page.get("response_metadata") or {}).get("next_cursor")
        if not page.get("has_more") or not cursor:
            break
    return None


def _carries(message: dict[str, Any], metadata: dict[str, Any]) -> bool:
    found = message.get("metadata") or {}
    return bool(
        found.get("event_type") == metadata["event_type"]
        and found.get("event_payload") == metadata["event_payload"]
    )


def prompt_metadata(checkin_id: int) -> dict[str, Any]:
    """The metadata a check-in prompt carries, by which a later tick finds it in the DM."""
    return {"event_type": PROMPT_EVENT, "event_payload": {"checkin_id": checkin_id}}


def reminder_metadata(checkin_id: int) -> dict[str, Any]:
    """The metadata a check-in reminder carries (its own event type: it is not a prompt)."""
    return {"event_type": REMINDER_EVENT, "event_payload": {"checkin_id": checkin_id}}
