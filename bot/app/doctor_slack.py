"""`mentorbot doctor` checks that ask Slack: the bot token and its scopes, Socket Mode or the request URL.

Only calls the bot already makes (or, for the request URL, what Slack itself sends): doctor needs no
scope the manifest does not ask for. Lines name variables and Slack's error codes, never a token.
"""

from __future__ import annotations

import json
import secrets
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError, SlackRequestError
from slack_sdk.signature import SignatureVerifier
from slack_sdk.web import SlackResponse

from bot.app.bootstrap import secret_value
from bot.app.doctor_result import Check, failed, passed
from bot.kernel.settings import Settings
from bot.slack.client import build_web_client

BOT_TOKEN_FIX = "copy the Bot User OAuth Token (xoxb-…) from OAuth & Permissions into SLACK_BOT_TOKEN"
APP_TOKEN_FIX = (
    "create an app-level token with connections:write (Basic Information > App-Level Tokens) "
    "into SLACK_APP_TOKEN, and turn on Socket Mode"
)
SCOPES_FIX = "add them under OAuth & Permissions and reinstall the app"
SIGNING_SECRET_FIX = "copy Basic Information > Signing Secret into SLACK_SIGNING_SECRET"
REQUEST_TIMEOUT_SECONDS = 10


@dataclass(frozen=True)
class BotAccess:
    """The bot token's check and, when Slack accepted it, a client and what auth.test said."""

    check: Check
    client: WebClient | None = None
    response: SlackResponse | None = None

    @property
    def name(self) -> str:
        return str(self.response.get("user") or "mentorbot") if self.response is not None else "mentorbot"


def open_bot_access(settings: Settings) -> BotAccess:
    """auth.test with SLACK_BOT_TOKEN: accepted, and a bot token (not a user's)."""
    if secret_value(settings.slack_bot_token) is None:
        return BotAccess(failed("SLACK_BOT_TOKEN", "not set", BOT_TOKEN_FIX))
    client = build_web_client(settings, rate_limit_retries=2)
    try:
        response = client.auth_test()
    except SlackApiError as exc:
        return BotAccess(failed("SLACK_BOT_TOKEN", f"Slack refused it ({_error(exc)})", BOT_TOKEN_FIX))
    except (OSError, SlackRequestError) as exc:
        return BotAccess(unreachable(settings.slack_api_url, exc))
    if not response.get("bot_id"):
        return BotAccess(failed("SLACK_BOT_TOKEN", "valid, but not a bot token", BOT_TOKEN_FIX))
    what = f"SLACK_BOT_TOKEN: accepted, bot @{response.get('user')} in {response.get('team')}"
    return BotAccess(passed(what), client, response)


def scope_check(response: SlackResponse, manifest: Path) -> Check:
    """The scopes Slack granted the token (its x-oauth-scopes header) against the manifest's."""
    what = "bot token scopes"
    try:
        wanted = manifest_bot_scopes(manifest)
    except (OSError, yaml.YAMLError, KeyError, TypeError) as exc:
        reason = f"cannot read oauth_config.scopes.bot from {manifest} ({type(exc).__name__})"
        return failed(what, reason, "pass --manifest PATH: the manifest.yml the app was created from")
    granted = granted_scopes(response.headers)
    if granted is None:
        reason = "Slack did not name the granted scopes (no x-oauth-scopes header)"
        return failed(what, reason, "check that SLACK_API_URL points at Slack (https://slack.com/api/)")
    missing = [scope for scope in wanted if scope not in granted]
    if missing:
        return failed(what, f"missing {', '.join(missing)}", SCOPES_FIX)
    return passed(f"{what}: all {len(wanted)} in {manifest.name} granted")


def granted_scopes(headers: Any) -> set[str] | None:
    """The x-oauth-scopes header's scopes; header names are case-insensitive, whatever a proxy made of it."""
    header = next(
        (value for name, value in dict(headers).items() if str(name).lower() == "x-oauth-scopes"), None
    )
    if header is None:
        return None
    values = header if isinstance(header, list) else [header]  # aiohttp-style clients give a list
    return {scope.strip() for value in values for scope in str(value).split(",") if scope.strip()}


def manifest_bot_scopes(manifest: Path) -> list[str]:
    data: Any = yaml.safe_load(manifest.read_text(encoding="utf-8"))
    scopes = data["oauth_config"]["scopes"]["bot"]
    if not isinstance(scopes, list):
        raise TypeError("oauth_config.scopes.bot is not a list")
    return [str(scope) for scope in scopes]


def connection_checks(settings: Settings, request_url: str | None) -> list[Check]:
    """Socket Mode when SLACK_APP_TOKEN is set (as `mentorbot run`), else HTTP mode; with --request-url
    HTTP mode too even then, since `mentorbot run --http` serves HTTP whatever SLACK_APP_TOKEN says."""
    if not settings.socket_mode:
        return http_checks(settings, request_url)
    socket_mode = socket_mode_check(settings)
    return [socket_mode] if request_url is None else [socket_mode, *http_checks(settings, request_url)]


def http_checks(settings: Settings, request_url: str | None) -> list[Check]:
    """The signing secret is set and, given --request-url, the URL answers Slack's signed requests."""
    secret = secret_value(settings.slack_signing_secret)
    if secret is None and settings.socket_mode:
        reason = "not set, and --request-url checks HTTP mode (mentorbot run --http), which needs it"
        return [failed("SLACK_SIGNING_SECRET", reason, f"{SIGNING_SECRET_FIX}, or drop --request-url")]
    if secret is None:
        reason = "not set, and HTTP mode needs it (SLACK_APP_TOKEN is unset)"
        return [failed("SLACK_SIGNING_SECRET", reason, f"{SIGNING_SECRET_FIX}, or set SLACK_APP_TOKEN")]
    if request_url is None:
        return [passed("HTTP mode: SLACK_SIGNING_SECRET set (--request-url URL also checks the URL answers)")]
    return [passed("HTTP mode: SLACK_SIGNING_SECRET set"), request_url_check(request_url, secret)]


def socket_mode_check(settings: Settings) -> Check:
    """apps.connections.open answers with a WebSocket URL. The socket is not opened: Slack would share
    a running bot's events with it."""
    assert settings.slack_app_token is not None
    client = build_web_client(settings, rate_limit_retries=2)
    try:
        response = client.apps_connections_open(app_token=settings.slack_app_token.get_secret_value())
    except SlackApiError as exc:
        return failed("SLACK_APP_TOKEN", f"Slack refused it ({_error(exc)})", APP_TOKEN_FIX)
    except (OSError, SlackRequestError) as exc:
        return unreachable(settings.slack_api_url, exc)
    if not str(response.get("url") or "").startswith("ws"):
        return failed("SLACK_APP_TOKEN", "apps.connections.open gave no WebSocket URL", APP_TOKEN_FIX)
    return passed("Socket Mode: SLACK_APP_TOKEN accepted, Slack offers a connection")


def request_url_check(url: str, signing_secret: str) -> Check:
    """POST the signed url_verification Slack sends when the URL is set: it must echo the challenge."""
    what = f"request URL {url}"
    challenge = secrets.token_hex(8)
    body = json.dumps({"type": "url_verification", "token": "doctor", "challenge": challenge}).encode()
    request = urllib.request.Request(url, data=body, method="POST", headers=_signed(body, signing_secret))
    try:
        with urllib.request.urlopen(request, timeout=REQUEST_TIMEOUT_SECONDS) as response:
            answer = response.read().decode("utf-8", "replace")
    except urllib.error.HTTPError as exc:
        if exc.code == 401:
            return failed(what, "refused our signature (401)", f"{SIGNING_SECRET_FIX}, then restart the bot")
        fix = "check that `mentorbot run --http` serves it and the proxy forwards POST /slack/events"
        return failed(what, f"answered HTTP {exc.code}", fix)
    except OSError as exc:
        reason = f"cannot reach it ({getattr(exc, 'reason', exc)})"
        return failed(what, reason, "check the host, the TLS certificate, the proxy and the firewall")
    if challenge not in answer:
        return failed(what, "answered, but not as mentorbot", "point it at mentorbot's POST /slack/events")
    return passed(f"{what} answers Slack's signed requests")


def _signed(body: bytes, signing_secret: str) -> dict[str, str]:
    stamp = str(int(time.time()))
    signature = SignatureVerifier(signing_secret).generate_signature(timestamp=stamp, body=body)
    return {
        "Content-Type": "application/json",
        "X-Slack-Request-Timestamp": stamp,
        "X-Slack-Signature": signature or "",
    }


def _error(exc: SlackApiError) -> str:
    return str(exc.response.get("error") or f"HTTP {exc.response.status_code}")


def unreachable(api_url: str, exc: Exception) -> Check:
    """A dropped connection or a network error, after the client's retries: the same line wherever it
    happens, so doctor shows it once."""
    reason = f"cannot reach {api_url} ({getattr(exc, 'reason', exc)})"
    return failed("SLACK_API_URL", reason, "check the URL, the proxy (HTTPS_PROXY) and the firewall")
