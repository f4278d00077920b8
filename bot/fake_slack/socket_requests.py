"""The requests SlackRequestSender builds, delivered as Socket Mode envelopes instead of signed POSTs.

A test written against `SlackRequestSender` runs unchanged over a real WebSocket: commands become
`slash_commands` envelopes, interactivity `interactive`, event callbacks `events_api` (Slack's retry
headers become `retry_attempt` / `retry_reason`), and the ack's payload comes back as the body an
HTTP response would have carried.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qsl

from bot.fake_slack.requests import FORM, JSON, SenderResponse, SlackRequestSender
from bot.fake_slack.socket_mode import EnvelopeType

if TYPE_CHECKING:
    from bot.fake_slack.server import FakeSlack


class SocketModeSender(SlackRequestSender):
    """Sends through `fake.socket_mode` to whichever client is connected, and waits for its ack."""

    def __init__(self, fake: FakeSlack, *, timeout: float = 10.0) -> None:
        # Socket Mode requests are not signed: the WebSocket itself is the authentication.
        super().__init__(url="", signing_secret="unused-in-socket-mode", fake=fake, timeout=timeout)
        self.endpoint = fake.socket_mode

    def send(
        self,
        body: bytes,
        content_type: str,
        timestamp: str | int | None = None,
        extra_headers: dict[str, str] | None = None,
    ) -> SenderResponse:
        envelope_type, payload = envelope_of(body, content_type)
        headers = extra_headers or {}
        retry = headers.get("X-Slack-Retry-Num")
        envelope_id = self.endpoint.send(
            envelope_type,
            payload,
            retry_attempt=int(retry) if retry else None,
            retry_reason=headers.get("X-Slack-Retry-Reason") if retry else None,
        )
        ack = self.endpoint.wait_for_ack(envelope_id, self.timeout)
        return SenderResponse(200, "" if ack.payload is None else json.dumps(ack.payload), {})

    def raw(self, body: bytes, headers: dict[str, str]) -> SenderResponse:
        raise NotImplementedError("Socket Mode has no unsigned or forged requests: there is no HTTP")


def envelope_of(body: bytes, content_type: str) -> tuple[EnvelopeType, dict[str, Any]]:
    """The envelope type and payload Slack would push for this HTTP request body."""
    if content_type == FORM:
        fields = dict(parse_qsl(body.decode(), keep_blank_values=True))
        if set(fields) == {"payload"}:
            payload: dict[str, Any] = json.loads(fields["payload"])
            return "interactive", payload
        return "slash_commands", dict(fields)
    if content_type == JSON:
        parsed: dict[str, Any] = json.loads(body)
        if parsed.get("type") == "event_callback":
            return "events_api", parsed
        raise ValueError(f"Socket Mode carries no {parsed.get('type')!r} requests")
    raise ValueError(f"not a Slack request content type: {content_type}")
