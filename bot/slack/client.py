"""The single WebClient, pointed at SLACK_API_URL, with retries switched on."""

from __future__ import annotations

from slack_sdk import WebClient
from slack_sdk.http_retry.builtin_handlers import (
    ConnectionErrorRetryHandler,
    RateLimitErrorRetryHandler,
    ServerErrorRetryHandler,
)

from bot.kernel.logging_setup import quiet_libraries
from bot.kernel.settings import Settings


def build_web_client(settings: Settings, *, rate_limit_retries: int = 5, timeout: int = 15) -> WebClient:
    """A WebClient that honours 429 Retry-After and retries 5xx and dropped connections.

    slack_sdk ships these handlers off by default; a bot that fans out DMs needs them on.
    """
    token = settings.slack_bot_token.get_secret_value() if settings.slack_bot_token else None
    client = WebClient(
        token=token,
        base_url=settings.slack_api_url,
        timeout=timeout,
        retry_handlers=[
            ConnectionErrorRetryHandler(max_retry_count=2),
            RateLimitErrorRetryHandler(max_retry_count=rate_limit_retries),
            ServerErrorRetryHandler(max_retry_count=2),
        ],
    )
    quiet_libraries()  # the client's logger exists now; it would log request bodies at DEBUG
    return client
