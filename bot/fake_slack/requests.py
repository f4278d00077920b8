"""Send signed requests to a running Bolt app exactly the way Slack delivers them."""

from __future__ import annotations

import http.client
import json
import secrets
import time
from typing import TYPE_CHECKING, Any, NamedTuple
from urllib.parse import urlencode, urlsplit

from slack_sdk.signature import SignatureVerifier

if TYPE_CHECKING:
    from bot.fake_slack.server import FakeSlack

FORM = "application/x-www-form-urlencoded"
JSON = "application/json"


class SenderResponse(NamedTuple):
    status: int
    body: str
    headers: dict[str, str]

    def json(self) -> Any:
        return json.loads(self.body) if self.body else None


def random_trigger_id() -> str:
    return f"{secrets.randbelow(10**11)}.{secrets.randbelow(10**9)}.{secrets.token_hex(16)}"


class SlackRequestSender:
    """Builds Slack-shaped payloads (slash commands, interactions, events) and POSTs them signed.

    With a `fake`, trigger_ids and response_urls are issued by it, so views.open/respond()
    from the bot land on the fake with Slack's single-use and expiry rules.
    """

    def __init__(
        self,
        url: str,
        signing_secret: str,
        fake: FakeSlack | None = None,
        *,
        team_id: str | None = None,
        team_domain: str | None = None,
        api_app_id: str | None = None,
        verification_token: str = "fake-verification-token",
        timeout: float = 10.0,
    ) -> None:
        self.url = url
        self.fake = fake
        self.team_id = team_id or (fake.team_id if fake else "T0MENTOR")
        self.team_domain = team_domain or (fake.team_domain if fake else "mentor")
        self.api_app_id = api_app_id or (fake.app_id if fake else "A0MENTOR")
        self.verification_token = verification_token
        self.timeout = timeout
        self._verifier = SignatureVerifier(signing_secret)

    # -- low level ---------------------------------------------------------------------------------

    def sign(self, body: bytes, timestamp: str | int | None = None) -> dict[str, str]:
        """The X-Slack-* headers for `body`; pass `timestamp` to forge stale requests."""
        stamp = str(int(time.time()) if timestamp is None else timestamp)
        signature = self._verifier.generate_signature(timestamp=stamp, body=body)
        if signature is None:  # the SDK returns None only for a missing timestamp
            raise ValueError("could not sign the request body")
        return {"X-Slack-Request-Timestamp": stamp, "X-Slack-Signature": signature}

    def raw(self, body: bytes, headers: dict[str, str]) -> SenderResponse:
        """POST `body` with exactly `headers` (no signing) — for forged/malformed requests."""
        parts = urlsplit(self.url)
        connection: http.client.HTTPConnection
        if parts.scheme == "https":
            connection = http.client.HTTPSConnection(parts.netloc, timeout=self.timeout)
        else:
            connection = http.client.HTTPConnection(parts.netloc, timeout=self.timeout)
        path = parts.path or "/"
        if parts.query:
            path = f"{path}?{parts.query}"
        try:
            connection.request("POST", path, body=body, headers={"Connection": "close", **headers})
            response = connection.getresponse()
            text = response.read().decode("utf-8", "replace")
            return SenderResponse(response.status, text, dict(response.getheaders()))
        finally:
            connection.close()

    def send(
        self,
        body: bytes,
        content_type: str,
        timestamp: str | int | None = None,
        extra_headers: dict[str, str] | None = None,
    ) -> SenderResponse:
        headers = {"Content-Type": content_type, **self.sign(body, timestamp), **(extra_headers or {})}
        return self.raw(body, headers)

    def send_payload(self, payload: dict[str, Any], timestamp: str | int | None = None) -> SenderResponse:
        """Interactivity requests arrive as a form with one field, payload=<json>."""
        body = urlencode({"payload": json.dumps(payload)}).encode()
        return self.send(body, FORM, timestamp)

    # -- helpers for payload parts -----------------------------------------------------------------

    def _trigger_id(self) -> str:
        return self.fake.trigger_id() if self.fake is not None else random_trigger_id()

    def _response_url(self) -> str:
        if self.fake is not None:
            return self.fake.response_url()
        return f"https://hooks.slack.com/commands/{self.team_id}/{secrets.randbelow(10**12)}/{secrets.token_hex(12)}"

    def _user(self, user_id: str, user_name: str | None) -> dict[str, str]:
        name = user_name or self._user_name(user_id)
        return {"id": user_id, "username": name, "name": name, "team_id": self.team_id}

    def _user_name(self, user_id: str) -> str:
        user = self.fake.users.get(user_id) if self.fake is not None else None
        return user.name if user is not None else user_id.lower()

    def _team(self) -> dict[str, str]:
        return {"id": self.team_id, "domain": self.team_domain}

    # -- Slack request kinds -----------------------------------------------------------------------

    def command(
        self,
        command: str,
        text: str = "",
        *,
        user_id: str,
        user_name: str | None = None,
        channel_id: str = "D0COMMAND",
        channel_name: str = "directmessage",
        response_url: str | None = None,
        trigger_id: str | None = None,
        timestamp: str | int | None = None,
    ) -> SenderResponse:
        fields = {
            "token": self.verification_token,
            "team_id": self.team_id,
            "team_domain": self.team_domain,
            "channel_id": channel_id,
            "channel_name": channel_name,
            "user_id": user_id,
            "user_name": user_name or self._user_name(user_id),
            "command": command,
            "text": text,
            "api_app_id": self.api_app_id,
            "is_enterprise_install": "false",
            "response_url": response_url or self._response_url(),
            "trigger_id": trigger_id or self._trigger_id(),
        }
        return self.send(urlencode(fields).encode(), FORM, timestamp)

    def block_action(
        self,
        user_id: str,
        *,
        action_id: str,
        value: str | None = None,
        block_id: str | None = None,
        action_type: str = "button",
        message: dict[str, Any] | None = None,
        view: dict[str, Any] | None = None,
        container: dict[str, Any] | None = None,
        channel_id: str | None = None,
        trigger_id: str | None = None,
        response_url: str | None = None,
        action: dict[str, Any] | None = None,
        state: dict[str, Any] | None = None,
        user_name: str | None = None,
        timestamp: str | int | None = None,
    ) -> SenderResponse:
        """A block_actions interaction from a message (pass `message`) or a view (pass `view`).

        `action` replaces the generated action object entirely for element types not covered
        by `action_type` + `value` (button, static_select, radio_buttons, overflow).
        """
        if channel_id is None and message is not None:
            channel_id = message.get("channel")
        payload: dict[str, Any] = {
            "type": "block_actions",
            "user": self._user(user_id, user_name),
            "api_app_id": self.api_app_id,
            "token": self.verification_token,
            "container": container or _container(message, view, channel_id),
            "trigger_id": trigger_id or self._trigger_id(),
            "team": self._team(),
            "enterprise": None,
            "is_enterprise_install": False,
            "state": state or (view or {}).get("state") or {"values": {}},
            "actions": [action or _action(action_id, block_id, value, action_type)],
        }
        if channel_id is not None:
            payload["channel"] = {"id": channel_id, "name": channel_id.lower()}
        if message is not None:
            payload["message"] = {k: v for k, v in message.items() if k != "channel"}
            payload["response_url"] = response_url or self._response_url()
        if view is not None:
            payload["view"] = self._full_view(view)
        return self.send_payload(payload, timestamp)

    def view_submission(
        self,
        user_id: str,
        *,
        view: dict[str, Any],
        trigger_id: str | None = None,
        response_urls: list[dict[str, Any]] | None = None,
        user_name: str | None = None,
        timestamp: str | int | None = None,
    ) -> SenderResponse:
        payload = {
            "type": "view_submission",
            "team": self._team(),
            "user": self._user(user_id, user_name),
            "api_app_id": self.api_app_id,
            "token": self.verification_token,
            "trigger_id": trigger_id or self._trigger_id(),
            "view": self._full_view(view),
            "response_urls": response_urls or [],
            "enterprise": None,
            "is_enterprise_install": False,
        }
        return self.send_payload(payload, timestamp)

    def view_closed(
        self, user_id: str, *, view: dict[str, Any], timestamp: str | int | None = None
    ) -> SenderResponse:
        payload = {
            "type": "view_closed",
            "team": self._team(),
            "user": self._user(user_id, None),
            "api_app_id": self.api_app_id,
            "token": self.verification_token,
            "view": self._full_view(view),
            "is_cleared": False,
            "is_enterprise_install": False,
        }
        return self.send_payload(payload, timestamp)

    def block_suggestion(
        self,
        user_id: str,
        *,
        action_id: str,
        value: str = "",
        block_id: str | None = None,
        view: dict[str, Any] | None = None,
        timestamp: str | int | None = None,
    ) -> SenderResponse:
        """What Slack sends an external select's options listener as the person types `value`."""
        payload: dict[str, Any] = {
            "type": "block_suggestion",
            "user": self._user(user_id, None),
            "container": _container(None, view, None),
            "api_app_id": self.api_app_id,
            "token": self.verification_token,
            "action_id": action_id,
            "block_id": block_id or secrets.token_hex(3),
            "value": value,
            "team": self._team(),
            "enterprise": None,
            "is_enterprise_install": False,
        }
        if view is not None:
            payload["view"] = self._full_view(view)
        return self.send_payload(payload, timestamp)

    def event(
        self,
        event: dict[str, Any],
        *,
        event_id: str | None = None,
        retry_num: int | None = None,
        retry_reason: str = "http_timeout",
        timestamp: str | int | None = None,
    ) -> SenderResponse:
        """An Events API event_callback; retry_num adds Slack's redelivery headers."""
        now = time.time()
        envelope = {
            "token": self.verification_token,
            "team_id": self.team_id,
            "api_app_id": self.api_app_id,
            "event": {"event_ts": f"{now:.6f}", **event},
            "type": "event_callback",
            "event_id": event_id or f"Ev{secrets.token_hex(5).upper()}",
            "event_time": int(now),
            "authorizations": [
                {
                    "enterprise_id": None,
                    "team_id": self.team_id,
                    "user_id": self.fake.bot_user_id if self.fake is not None else "UBOT",
                    "is_bot": True,
                    "is_enterprise_install": False,
                }
            ],
            "is_ext_shared_channel": False,
        }
        headers = None
        if retry_num is not None:
            headers = {"X-Slack-Retry-Num": str(retry_num), "X-Slack-Retry-Reason": retry_reason}
        return self.send(json.dumps(envelope).encode(), JSON, timestamp, headers)

    def url_verification(self, challenge: str = "challenge-token") -> SenderResponse:
        body = {"token": self.verification_token, "challenge": challenge, "type": "url_verification"}
        return self.send(json.dumps(body).encode(), JSON)

    def _full_view(self, view: dict[str, Any]) -> dict[str, Any]:
        """Fill in the fields Slack always sends with a view, keeping whatever the caller set."""
        view_id = view.get("id") or f"V{secrets.token_hex(5).upper()}"
        defaults: dict[str, Any] = {
            "id": view_id,
            "team_id": self.team_id,
            "type": "modal",
            "blocks": [],
            "private_metadata": "",
            "callback_id": "",
            "state": {"values": {}},
            "hash": f"{int(time.time())}.{secrets.token_hex(4)}",
            "title": {"type": "plain_text", "text": "Modal"},
            "clear_on_close": False,
            "notify_on_close": False,
            "close": None,
            "submit": None,
            "previous_view_id": None,
            "root_view_id": view_id,
            "app_id": self.api_app_id,
            "external_id": "",
            "app_installed_team_id": self.team_id,
            "bot_id": self.fake.bot_id if self.fake is not None else "B0MENTOR",
        }
        return {**defaults, **view}


def _container(
    message: dict[str, Any] | None, view: dict[str, Any] | None, channel_id: str | None
) -> dict[str, Any]:
    if view is not None:
        return {"type": "view", "view_id": view.get("id", "")}
    if message is not None:
        return {
            "type": "message",
            "message_ts": message.get("ts"),
            "channel_id": channel_id,
            "is_ephemeral": False,
        }
    return {"type": "message", "channel_id": channel_id, "is_ephemeral": False}


def _action(action_id: str, block_id: str | None, value: str | None, action_type: str) -> dict[str, Any]:
    action: dict[str, Any] = {
        "action_id": action_id,
        "block_id": block_id or secrets.token_hex(3),
        "type": action_type,
        "action_ts": f"{time.time():.6f}",
    }
    if action_type in ("static_select", "radio_buttons", "overflow"):
        option = {"text": {"type": "plain_text", "text": value or ""}, "value": value}
        action["selected_option"] = option
    else:
        action["value"] = value
        action["text"] = {"type": "plain_text", "text": value or action_id}
    return action
