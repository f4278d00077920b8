"""Slack Web API failures by method, counted for /metrics by a retry handler that never retries.

slack_sdk shows every attempt's outcome to each retry handler in turn — 200s (with the parsed body),
429s, 5xx and dropped connections — until one of them takes the retry. Put first, this one counts and
declines, so the client's real handlers decide exactly as before.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from slack_sdk import WebClient
from slack_sdk.http_retry.handler import RetryHandler
from slack_sdk.http_retry.request import HttpRequest
from slack_sdk.http_retry.response import HttpResponse
from slack_sdk.http_retry.state import RetryState

from bot.kernel import metrics


class CountSlackFailures(RetryHandler):
    def can_retry(
        self,
        *,
        state: RetryState,
        request: HttpRequest,
        response: HttpResponse | None = None,
        error: Exception | None = None,
    ) -> bool:
        method = urlsplit(request.url).path.rsplit("/", 1)[-1]
        if response is None:
            metrics.count_slack_error(method, "connection")
        elif response.status_code == 429:
            metrics.count_slack_rate_limited(method)
        elif response.status_code >= 500:
            metrics.count_slack_error(method, "http_5xx")
        elif isinstance(response.body, dict) and response.body.get("ok") is False:
            metrics.count_slack_error(method, str(response.body.get("error", "unknown")))
        return False

    def _can_retry(self, **_kwargs: Any) -> bool:
        return False


def count_slack_failures(client: WebClient) -> WebClient:
    """Have `client` count its 429s and errors by method (once, however often it is called)."""
    if not any(isinstance(handler, CountSlackFailures) for handler in client.retry_handlers):
        client.retry_handlers.insert(0, CountSlackFailures(max_retry_count=0))
    return client
