"""The single WebClient, pointed at SLACK_API_URL, with retries that never send anything twice.

slack_sdk's retry handlers repeat a request as is. That is right for reads and updates, and for any
call Slack answered 429 (nothing happened), but not for a call that creates a message: a 500 or a
dropped connection may come after Slack posted it, and posting again shows it twice. So 5xx and
connection errors are retried here only for idempotent methods; senders of messages check, by the
message's metadata, whether an ambiguous attempt landed (bot.slack.delivery.find_posted).

A claimed send goes through `send_fenced`: the claim is proved still ours by a compare-and-set just
before the call and again before each retry after a 429, however long Slack makes us wait.
"""

from __future__ import annotations

import random
import threading
import time
from collections.abc import Callable
from typing import Any, TypeVar
from urllib.parse import urlsplit

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from slack_sdk.http_retry.builtin_handlers import (
    ConnectionErrorRetryHandler,
    RateLimitErrorRetryHandler,
    ServerErrorRetryHandler,
)
from slack_sdk.http_retry.request import HttpRequest
from slack_sdk.http_retry.response import HttpResponse
from slack_sdk.http_retry.state import RetryState
from slack_sdk.web import SlackResponse

from bot.kernel.logging_setup import quiet_libraries
from bot.kernel.settings import Settings
from bot.slack.delivery import RETRY_AFTER
from bot.slack.token_state import clear_token_failure, is_dead_token_error, note_token_failure, token_failure

T = TypeVar("T")
Sleep = Callable[[float], None]

# Methods whose repetition is visible: each successful call adds a message or a file share.
NON_IDEMPOTENT = frozenset(
    {
        "chat.postMessage",
        "chat.postEphemeral",
        "chat.meMessage",
        "chat.scheduleMessage",
        "files.upload",
        "files.completeUploadExternal",
    }
)


class ClaimLost(Exception):
    """The claim behind a send was taken over (its lease ran out): the send was not made."""


_fence = threading.local()


def method_of(request: HttpRequest) -> str:
    """The Web API method a retried request calls ("chat.postMessage"), from its URL."""
    return urlsplit(request.url).path.rsplit("/", 1)[-1]


class _Idempotent:
    """Mixin: never repeat a non-idempotent call; pause through `sleep` (tests run simulated time)."""

    interval_calculator: Any
    sleep: Sleep

    def _can_retry(
        self,
        *,
        state: RetryState,
        request: HttpRequest,
        response: HttpResponse | None = None,
        error: Exception | None = None,
    ) -> bool:
        if method_of(request) in NON_IDEMPOTENT:
            return False
        return bool(super()._can_retry(state=state, request=request, response=response, error=error))  # type: ignore[misc]

    def prepare_for_next_attempt(
        self,
        *,
        state: RetryState,
        request: HttpRequest,
        response: HttpResponse | None = None,
        error: Exception | None = None,
    ) -> None:
        state.next_attempt_requested = True
        self.sleep(self.interval_calculator.calculate_sleep_duration(state.current_attempt))
        state.increment_current_attempt()


class IdempotentConnectionErrorRetryHandler(_Idempotent, ConnectionErrorRetryHandler):
    """slack_sdk's retry of dropped connections, for idempotent methods only."""

    def __init__(self, max_retry_count: int, sleep: Sleep = time.sleep) -> None:
        super().__init__(max_retry_count=max_retry_count)
        self.sleep = sleep


class IdempotentServerErrorRetryHandler(_Idempotent, ServerErrorRetryHandler):
    """slack_sdk's retry of 500 and 503 answers, for idempotent methods only."""

    def __init__(self, max_retry_count: int, sleep: Sleep = time.sleep) -> None:
        super().__init__(max_retry_count=max_retry_count)
        self.sleep = sleep


class FencedRateLimitRetryHandler(RateLimitErrorRetryHandler):
    """Honours Retry-After for every method (a 429 changed nothing); a fenced send re-proves its claim."""

    def __init__(self, max_retry_count: int, sleep: Sleep = time.sleep) -> None:
        super().__init__(max_retry_count=max_retry_count)
        self.sleep = sleep

    def prepare_for_next_attempt(
        self,
        *,
        state: RetryState,
        request: HttpRequest,
        response: HttpResponse | None = None,
        error: Exception | None = None,
    ) -> None:
        if response is None:  # the parent's contract: only a 429 response gets here
            raise error or RuntimeError("rate-limit retry without a response")
        state.next_attempt_requested = True
        pause = _retry_after(response) + random.random()
        RETRY_AFTER.sit_out(method_of(request), lambda: self.sleep(pause))
        _prove_claim_again(method_of(request))
        state.increment_current_attempt()


def _retry_after(response: HttpResponse) -> float:
    for name, values in response.headers.items():
        if name.lower() == "retry-after" and values:
            try:
                return float(values[0])
            except ValueError:
                break
    return 1.0


def send_fenced(fence: Callable[[], bool], send: Callable[[], T]) -> T:
    """Make one non-idempotent call only while `fence()` proves the claim behind it is still ours.

    `fence` is a compare-and-set that renews the claim (its lease) and is false once another process
    took it over. It runs just before the call, again after any wait behind another thread's 429, and
    before each retry after a 429 of its own, so the only window in which a taken-over claim could still
    be sent is one HTTP request (the client's timeout), far shorter than any lease. Raises ClaimLost
    when the claim is gone.
    """
    if not fence():
        raise ClaimLost
    _fence.check = fence
    try:
        return send()
    finally:
        _fence.check = None


def _prove_claim_again(method: str) -> None:
    """After waiting at the gate, a fenced send's claim may have been taken over: check it again."""
    fence: Callable[[], bool] | None = getattr(_fence, "check", None)
    if fence is not None and method in NON_IDEMPOTENT and not fence():
        raise ClaimLost


class BotWebClient(WebClient):
    """A WebClient that waits while another thread sits out a 429 on the same method, and notes a refused
    bot token (bot.slack.token_state) from whichever call meets it."""

    def api_call(self, api_method: str, **kwargs: Any) -> SlackResponse:
        if RETRY_AFTER.pass_through(api_method):  # another thread was sitting out a 429 on this method
            _prove_claim_again(api_method)
        try:
            response = super().api_call(api_method, **kwargs)
        except SlackApiError as exc:
            code = exc.response.get("error")
            if isinstance(code, str) and is_dead_token_error(code) and self._bot_token_used(kwargs):
                note_token_failure(code)
            raise
        if token_failure() is not None and self._bot_token_used(kwargs):
            clear_token_failure()
        return response

    def _bot_token_used(self, kwargs: dict[str, Any]) -> bool:
        """False for a call made with another token (apps.connections.open takes the app token)."""
        for part in ("params", "data", "json"):
            given = (kwargs.get(part) or {}).get("token")
            if given and given != self.token:
                return False
        return True


def build_web_client(
    settings: Settings, *, rate_limit_retries: int = 5, timeout: int = 15, sleep: Sleep = time.sleep
) -> WebClient:
    """A WebClient that honours 429 Retry-After and retries 5xx and dropped connections of idempotent calls.

    slack_sdk ships these handlers off by default; a bot that fans out DMs needs them on. `sleep` is
    how the handlers wait (tests pass a simulated clock's).
    """
    token = settings.slack_bot_token.get_secret_value() if settings.slack_bot_token else None
    client = BotWebClient(
        token=token,
        base_url=settings.slack_api_url,
        timeout=timeout,
        retry_handlers=[
            IdempotentConnectionErrorRetryHandler(max_retry_count=2, sleep=sleep),
            FencedRateLimitRetryHandler(max_retry_count=rate_limit_retries, sleep=sleep),
            IdempotentServerErrorRetryHandler(max_retry_count=2, sleep=sleep),
        ],
    )
    quiet_libraries()  # the client's logger exists now; it would log request bodies at DEBUG
    return client
