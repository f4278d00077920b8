"""/metrics over real HTTP: what the bot counts, summed across processes, with no person in any label."""

from __future__ import annotations

import urllib.request
from pathlib import Path

import pytest
from prometheus_client.parser import text_string_to_metric_families
from slack_sdk.errors import SlackApiError

from bot.fake_slack.requests import SlackRequestSender
from bot.fake_slack.server import FakeSlack
from bot.kernel.deps import Deps
from tests.support.people import SIGNING_SECRET
from tests.support.running import bot_env, free_port, get, running_bot, wait_ready

METRICS = [
    "mentorbot_ack_seconds",
    "mentorbot_prompts",
    "mentorbot_digests",
    "mentorbot_slack_rate_limited",
    "mentorbot_slack_errors",
    "mentorbot_socket_reconnects",
    "mentorbot_socket_connected",
    "mentorbot_ticks",
    "mentorbot_tick_seconds",
    "mentorbot_last_tick_timestamp_seconds",
    "mentorbot_database_errors",
    "mentorbot_http_rejected",
]

Samples = dict[tuple[str, frozenset[tuple[str, str]]], float]


def _scrape(text: str) -> tuple[set[str], Samples]:
    names, samples = set(), {}
    for family in text_string_to_metric_families(text):
        names.add(family.name)
        for sample in family.samples:
            samples[(sample.name, frozenset(sample.labels.items()))] = sample.value
    return names, samples


def _metrics(bot_url: str) -> tuple[str, Samples]:
    with urllib.request.urlopen(bot_url.replace("/slack/events", "/metrics"), timeout=5) as response:
        assert response.headers["Content-Type"].startswith("text/plain")
        text = response.read().decode()
    return text, _scrape(text)[1]


def _value(samples: Samples, name: str, **labels: str) -> float:
    return samples.get((name, frozenset(labels.items())), 0.0)


def test_metrics_lists_every_metric_and_counts_acks_by_kind_with_no_person_or_text(
    bot_url: str, slack: SlackRequestSender
) -> None:
    _, before = _metrics(bot_url)
    slack.command("/checkin", "help me please", user_id="U0MENTEE1")
    slack.command("/mentorship", "help", user_id="U0COORD1")
    slack.raw(b"command=%2Fcheckin", {"Content-Type": "application/x-www-form-urlencoded"})  # unsigned
    text, after = _metrics(bot_url)
    assert set(METRICS) <= _scrape(text)[0]
    count = "mentorbot_ack_seconds_count"
    assert _value(after, count, kind="command") - _value(before, count, kind="command") == 2
    fast = _value(after, "mentorbot_ack_seconds_bucket", kind="command", le="0.1")
    assert fast - _value(before, "mentorbot_ack_seconds_bucket", kind="command", le="0.1") == 2
    rejected = _value(after, "mentorbot_http_rejected_total", reason="bad_signature")
    assert rejected - _value(before, "mentorbot_http_rejected_total", reason="bad_signature") == 1
    for private in ("U0MENTEE1", "U0COORD1", "help me", "/checkin", "T0MENTOR"):
        assert private not in text


def test_slack_429s_and_errors_are_counted_by_method(bot_url: str, deps: Deps, fake_slack: FakeSlack) -> None:
    _, before = _metrics(bot_url)
    fake_slack.inject("users.info", 429, retry_after=0)
    deps.client.users_info(user="U0MENTEE1")  # answered 429, then the retry succeeds
    fake_slack.inject("conversations.open", error="user_not_found")
    with pytest.raises(SlackApiError):
        deps.client.conversations_open(users="U0MENTEE1")
    _, after = _metrics(bot_url)
    limited = "mentorbot_slack_rate_limited_total"
    assert _value(after, limited, method="users.info") - _value(before, limited, method="users.info") == 1
    errors = "mentorbot_slack_errors_total"
    labels = {"method": "conversations.open", "error": "user_not_found"}
    assert _value(after, errors, **labels) - _value(before, errors, **labels) == 1


def test_run_http_sums_every_process_so_one_scrape_sees_the_whole_bot(
    database_url: str, fake_slack: FakeSlack, tmp_path: Path
) -> None:
    port = free_port()
    env = bot_env(database_url=database_url, slack_url=fake_slack.url)
    args = [
        "run",
        "--http",
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        "--workers",
        "2",
        "--tick-seconds",
        "1",
    ]
    with running_bot(args, env, tmp_path) as proc:
        wait_ready(port, proc)
        sender = SlackRequestSender(
            url=f"http://127.0.0.1:{port}/slack/events", signing_secret=SIGNING_SECRET, fake=fake_slack
        )
        for _ in range(20):  # new connections: the two workers share them
            assert sender.command("/checkin", "help", user_id="U0MENTEE1").status == 200
        status, text = get(port, "/metrics")
    assert status == 200
    _, samples = _scrape(text)
    assert _value(samples, "mentorbot_ack_seconds_count", kind="command") == 20
    assert _value(samples, "mentorbot_ticks_total") >= 1, "the scheduler's process counts too"
