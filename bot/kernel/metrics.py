"""What the bot counts for Prometheus, with labels that never carry a person, a channel or their words.

Features call the helpers below (`count_prompts("sent")`, `count_digest("posted")`, ...); bot.app serves
the numbers on /metrics. Every label value is one of a fixed set or a Slack method name / error code
that passes a strict pattern; anything else becomes "other", so no label can hold a user id or text.

The metric objects are made on first use, not at import: `mentorbot run --http` first points
prometheus_client at a directory shared by its worker processes (`share_between_processes`), and that
choice has to be made before the first metric exists.
"""

from __future__ import annotations

import os
import re
import time
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any, Literal, get_args

from prometheus_client import Counter, Gauge, Histogram, values

MULTIPROCESS_VARIABLE = "PROMETHEUS_MULTIPROC_DIR"

AckKind = Literal[
    "command", "action", "view_submission", "view_closed", "options", "shortcut", "event", "other"
]
ACK_KINDS: frozenset[str] = frozenset(get_args(AckKind))
PromptOutcome = Literal["sent", "deferred", "failed", "recovered"]
DigestOutcome = Literal["posted", "failed"]
RejectReason = Literal["too_large", "malformed", "bad_signature"]

# Slack's 3-second limit sits between the 2.5 and 5 s buckets; most acks land in the first three.
ACK_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 3.0, 5.0, 10.0)
_METHOD = re.compile(r"[a-z][a-zA-Z]*(\.[a-zA-Z]+){1,3}")
_ERROR_CODE = re.compile(r"[a-z0-9_]{1,60}")


@dataclass(frozen=True)
class _Metrics:
    ack_seconds: Histogram
    prompts: Counter
    digests: Counter
    slack_rate_limited: Counter
    slack_errors: Counter
    socket_reconnects: Counter
    socket_connected: Gauge
    ticks: Counter
    tick_seconds: Histogram
    last_tick: Gauge
    database_errors: Counter
    http_rejected: Counter


@cache
def _metrics() -> _Metrics:
    return _Metrics(
        ack_seconds=Histogram(
            "mentorbot_ack_seconds",
            "Time from a Slack request reaching the app to its acknowledgement, by request kind",
            ["kind"],
            buckets=ACK_BUCKETS,
        ),
        prompts=Counter("mentorbot_prompts", "Check-in prompts, by outcome", ["outcome"]),
        digests=Counter("mentorbot_digests", "Weekly digests, by outcome", ["outcome"]),
        slack_rate_limited=Counter(
            "mentorbot_slack_rate_limited", "Slack Web API answers of HTTP 429, by API method", ["method"]
        ),
        slack_errors=Counter(
            "mentorbot_slack_errors",
            "Slack Web API errors, by API method and error code",
            ["method", "error"],
        ),
        socket_reconnects=Counter("mentorbot_socket_reconnects", "Socket Mode connections opened again"),
        socket_connected=Gauge(
            "mentorbot_socket_connected",
            "1 while a Socket Mode connection is open",
            multiprocess_mode="livemax",
        ),
        ticks=Counter("mentorbot_ticks", "Passes of the scheduled work (check-ins, digests, ...)"),
        tick_seconds=Histogram("mentorbot_tick_seconds", "Duration of one pass of the scheduled work"),
        last_tick=Gauge(
            "mentorbot_last_tick_timestamp_seconds",
            "Unix time the scheduled work last finished a pass",
            multiprocess_mode="max",
        ),
        database_errors=Counter(
            "mentorbot_database_errors", "Database errors with a known cause, by cause", ["cause"]
        ),
        http_rejected=Counter(
            "mentorbot_http_rejected", "HTTP requests refused before reaching Bolt, by reason", ["reason"]
        ),
    )


def register_all() -> None:
    """Create every metric now, so /metrics lists them (at zero) before the first event."""
    _metrics()


def share_between_processes(directory: Path) -> None:
    """Keep this process's metrics in files under `directory`, where any process of the bot reads them.

    prometheus_client's multiprocess mode: HTTP workers and the scheduler's process each write their
    own files and /metrics, served by any worker, adds them up. Must run before the first metric is
    made; child processes inherit the choice through the environment.
    """
    if _metrics.cache_info().currsize:
        raise RuntimeError("metrics were already created in this process; share them before first use")
    os.environ[MULTIPROCESS_VARIABLE] = str(directory)
    # prometheus_client reads the variable once, when it is imported; read it again.
    values.ValueClass = values.get_value_class()  # type: ignore[no-untyped-call]


_KINDS_BY_TYPE: dict[str, AckKind] = {
    "block_actions": "action",
    "interactive_message": "action",
    "view_submission": "view_submission",
    "view_closed": "view_closed",
    "block_suggestion": "options",
    "dialog_suggestion": "options",
    "shortcut": "shortcut",
    "message_action": "shortcut",
    "event_callback": "event",
}


def request_kind(body: Mapping[str, Any]) -> AckKind:
    """The kind of a Slack request from its parsed body (Bolt's `request.body`), for the ack metric."""
    if "command" in body:
        return "command"
    return _KINDS_BY_TYPE.get(str(body.get("type")), "other")


def observe_ack(kind: str, seconds: float) -> None:
    _metrics().ack_seconds.labels(kind if kind in ACK_KINDS else "other").observe(seconds)


def count_prompts(outcome: PromptOutcome, n: int = 1) -> None:
    """Check-in prompts: sent (now in the mentee's DM), deferred (Do Not Disturb; sent later), failed
    (retried later), recovered (of those sent: found delivered by an earlier attempt that looked failed,
    so not posted again)."""
    if n:
        _metrics().prompts.labels(outcome).inc(n)


def count_digest(outcome: DigestOutcome) -> None:
    _metrics().digests.labels(outcome).inc()


def count_slack_rate_limited(method: str) -> None:
    _metrics().slack_rate_limited.labels(_method_label(method)).inc()


def count_slack_error(method: str, error: str) -> None:
    """A Web API call that failed: `error` is Slack's error code, or http_5xx / connection."""
    code = error if _ERROR_CODE.fullmatch(error) else "other"
    _metrics().slack_errors.labels(_method_label(method), code).inc()


def count_socket_reconnect() -> None:
    _metrics().socket_reconnects.inc()


def set_socket_connected(connected: bool) -> None:
    _metrics().socket_connected.set(1 if connected else 0)


def observe_tick(seconds: float) -> None:
    metrics = _metrics()
    metrics.ticks.inc()
    metrics.tick_seconds.observe(seconds)
    metrics.last_tick.set(time.time())


def count_database_error(cause: str) -> None:
    _metrics().database_errors.labels(cause if _ERROR_CODE.fullmatch(cause) else "other").inc()


def count_http_rejected(reason: RejectReason) -> None:
    _metrics().http_rejected.labels(reason).inc()


def _method_label(method: str) -> str:
    return method if len(method) <= 60 and _METHOD.fullmatch(method) else "other"
