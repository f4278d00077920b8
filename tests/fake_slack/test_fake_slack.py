"""The fake Slack Web API and the signed-request sender, driven by the real slack_sdk / Bolt."""

from __future__ import annotations

import json
import threading
import time
import urllib.parse
import urllib.request
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.error import HTTPError

import pytest
from slack_bolt import App, BoltRequest
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from slack_sdk.http_retry.builtin_handlers import (
    ConnectionErrorRetryHandler,
    RateLimitErrorRetryHandler,
    ServerErrorRetryHandler,
)
from slack_sdk.http_retry.builtin_interval_calculators import FixedValueRetryIntervalCalculator

from bot.fake_slack.models import FakeUser
from bot.fake_slack.requests import SlackRequestSender
from bot.fake_slack.server import FakeSlack

SIGNING_SECRET = "s3cr3t"
AMARA = FakeUser(
    id="U0MENTEE1",
    name="amara",
    real_name="Amara Okafor",
    tz="Asia/Kolkata",
    email="amara@example.org",
)
CORA = FakeUser(id="U0COORD1", name="cora", real_name="Cora Coordinator", tz="America/New_York")
FAST_RETRY = FixedValueRetryIntervalCalculator(0.01)  # backoff sleeps would dominate the suite


def section(text: str, block_id: str | None = None) -> dict[str, Any]:
    block: dict[str, Any] = {"type": "section", "text": {"type": "mrkdwn", "text": text}}
    if block_id:
        block["block_id"] = block_id
    return block


def button(action_id: str, text: str = "Go") -> dict[str, Any]:
    return {"type": "button", "action_id": action_id, "text": {"type": "plain_text", "text": text}}


def modal(title: str = "Check-in") -> dict[str, Any]:
    return {
        "type": "modal",
        "callback_id": "checkin",
        "title": {"type": "plain_text", "text": title},
        "submit": {"type": "plain_text", "text": "Send"},
        "blocks": [
            {
                "type": "input",
                "block_id": "wellbeing",
                "label": {"type": "plain_text", "text": "How are you?"},
                "element": {"type": "plain_text_input", "action_id": "value"},
            }
        ],
    }


@pytest.fixture(scope="module")
def fake() -> Iterator[FakeSlack]:
    with FakeSlack(bot_user_id="UBOT", team_id="T0MENTOR") as fake:
        fake.add_user(AMARA)
        fake.add_user(CORA)
        yield fake


@pytest.fixture(autouse=True)
def _clean(fake: FakeSlack) -> Iterator[None]:
    fake.reset()
    fake.now = None
    yield
    assert fake.errors == []


@pytest.fixture
def client(fake: FakeSlack) -> WebClient:
    return WebClient(
        token="xoxb-test",
        base_url=fake.url,
        retry_handlers=[
            RateLimitErrorRetryHandler(max_retry_count=3),
            ServerErrorRetryHandler(max_retry_count=2, interval_calculator=FAST_RETRY),
            ConnectionErrorRetryHandler(interval_calculator=FAST_RETRY),
        ],
    )


def raw_post(url: str, body: bytes, content_type: str, headers: dict[str, str] | None = None) -> Any:
    request = urllib.request.Request(
        url, data=body, headers={"Content-Type": content_type, **(headers or {})}
    )
    try:
        with urllib.request.urlopen(request, timeout=5) as response:
            return response.status, response.read().decode()
    except HTTPError as error:
        return error.code, error.read().decode()


# -- messages ------------------------------------------------------------------------------------


def test_post_message_to_user_lands_in_dm_and_history_round_trips_metadata(
    fake: FakeSlack, client: WebClient
) -> None:
    metadata = {"event_type": "checkin_sent", "event_payload": {"assignment_id": 42}}
    posted = client.chat_postMessage(
        channel=AMARA.id, text="Hello", blocks=[section("Hi")], metadata=metadata
    )

    dm = fake.dm_channel(AMARA.id)
    assert posted["channel"] == dm == client.conversations_open(users=AMARA.id)["channel"]["id"]
    with_meta = client.conversations_history(channel=dm, include_all_metadata=True)["messages"]
    without_meta = client.conversations_history(channel=dm)["messages"]
    assert [m["ts"] for m in with_meta] == [posted["ts"]]
    assert with_meta[0]["metadata"] == metadata
    assert "metadata" not in without_meta[0]
    assert fake.messages(dm)[0]["blocks"] == [section("Hi")]
    assert fake.messages(AMARA.id) == fake.messages(dm)


def test_update_and_delete_change_current_messages(fake: FakeSlack, client: WebClient) -> None:
    ts = client.chat_postMessage(channel="C0GENERAL", text="draft")["ts"]
    client.chat_update(channel="C0GENERAL", ts=ts, text="final", blocks=[section("final")])
    assert [(m["text"], m["ts"]) for m in fake.messages("C0GENERAL")] == [("final", ts)]

    with pytest.raises(SlackApiError) as missing:
        client.chat_update(channel="C0GENERAL", ts="1.000001", text="x")
    assert missing.value.response["error"] == "message_not_found"

    client.chat_delete(channel="C0GENERAL", ts=ts)
    assert fake.messages("C0GENERAL") == []


def test_history_pages_newest_first_with_cursor(fake: FakeSlack, client: WebClient) -> None:
    sent = [client.chat_postMessage(channel=CORA.id, text=str(i))["ts"] for i in range(5)]
    dm = fake.dm_channel(CORA.id)
    first = client.conversations_history(channel=dm, limit=3)
    second = client.conversations_history(
        channel=dm, limit=3, cursor=first["response_metadata"]["next_cursor"]
    )
    assert [m["ts"] for m in first["messages"]] == sent[::-1][:3]
    assert first["has_more"] is True
    assert [m["ts"] for m in second["messages"]] == sent[::-1][3:]
    assert second["has_more"] is False
    windowed = client.conversations_history(channel=dm, oldest=sent[1], latest=sent[3])
    assert [m["ts"] for m in windowed["messages"]] == [sent[2]]


def test_unknown_channel_method_and_missing_token(fake: FakeSlack, client: WebClient) -> None:
    with pytest.raises(SlackApiError) as unknown_channel:
        client.conversations_history(channel="C0NOPE")
    assert unknown_channel.value.response["error"] == "channel_not_found"
    with pytest.raises(SlackApiError) as unknown_method:
        client.api_call("chat.teleport")
    assert unknown_method.value.response["error"] == "unknown_method"

    status, body = raw_post(f"{fake.url}auth.test", b"", "application/x-www-form-urlencoded")
    assert (status, json.loads(body)["error"]) == (200, "not_authed")


def test_form_and_query_string_requests_are_parsed(fake: FakeSlack) -> None:
    blocks = json.dumps([section("form")])
    form = f"token=xoxb-form&channel={CORA.id}&blocks={urllib.parse.quote(blocks)}".encode()
    status, body = raw_post(f"{fake.url}chat.postMessage", form, "application/x-www-form-urlencoded")
    assert status == 200 and json.loads(body)["ok"] is True
    assert fake.messages(CORA.id)[0]["blocks"] == [section("form")]

    with urllib.request.urlopen(f"{fake.url}users.info?token=xoxb-q&user={CORA.id}", timeout=5) as response:
        assert json.loads(response.read())["user"]["name"] == "cora"
    assert [c.token for c in fake.calls] == ["xoxb-form", "xoxb-q"]


@pytest.mark.filterwarnings("ignore:The top-level `text` argument is missing")
def test_post_ephemeral_and_message_limits(fake: FakeSlack, client: WebClient) -> None:
    assert client.chat_postEphemeral(channel="C0GENERAL", user=AMARA.id, text="psst")["message_ts"]
    assert fake.ephemerals[0]["user"] == AMARA.id

    for text, error in [("", "no_text"), ("x" * 40_001, "msg_too_long")]:
        with pytest.raises(SlackApiError) as rejected:
            client.chat_postMessage(channel=AMARA.id, text=text)
        assert rejected.value.response["error"] == error
    assert len(fake.invalid) == 2


# -- failure injection ---------------------------------------------------------------------------


def test_rate_limit_injection_is_retried_after_retry_after(fake: FakeSlack, client: WebClient) -> None:
    fake.inject(method="chat.postMessage", status=429, retry_after=1, times=1)
    started = time.monotonic()
    client.chat_postMessage(channel=AMARA.id, text="eventually")
    assert time.monotonic() - started >= 1.0
    attempts = fake.calls_to("chat.postMessage")
    assert [c.status for c in attempts] == [429, 200]
    assert attempts[0].response == {"ok": False, "error": "ratelimited"}
    assert len(fake.calls_to("chat.postMessage", ok_only=True)) == 1
    assert len(fake.messages(AMARA.id)) == 1


def test_rate_limit_response_carries_retry_after_header(fake: FakeSlack) -> None:
    fake.inject(method="*", status=429, retry_after=7, times=1)
    plain = WebClient(token="xoxb-test", base_url=fake.url)  # no retry handlers
    with pytest.raises(SlackApiError) as limited:
        plain.auth_test()
    assert limited.value.response.status_code == 429
    assert limited.value.response.headers["Retry-After"] == "7"


def test_server_error_and_dropped_connection_are_retried(fake: FakeSlack, client: WebClient) -> None:
    fake.inject(method="*", status=500, times=1)
    client.chat_postMessage(channel=AMARA.id, text="after 500")
    fake.inject(method="chat.postMessage", disconnect=True, times=1)
    client.chat_postMessage(channel=AMARA.id, text="after reset")
    assert [c.status for c in fake.calls_to("chat.postMessage")] == [500, 200, 0, 200]
    assert [m["text"] for m in fake.messages(AMARA.id)] == ["after 500", "after reset"]


def test_error_injection_is_not_retried(fake: FakeSlack, client: WebClient) -> None:
    fake.inject(method="chat.postMessage", error="channel_not_found", times=1)
    with pytest.raises(SlackApiError) as failed:
        client.chat_postMessage(channel=AMARA.id, text="x")
    assert failed.value.response["error"] == "channel_not_found"
    assert client.chat_postMessage(channel=AMARA.id, text="y")["ok"]


def test_error_rate_is_deterministic_per_seed(fake: FakeSlack) -> None:
    plain = WebClient(token="xoxb-test", base_url=fake.url)

    def outcomes() -> list[bool]:
        fake.set_error_rate(method="auth.test", status=503, ratio=0.5, seed=11)
        results = []
        for _ in range(20):
            try:
                results.append(plain.auth_test()["ok"])
            except SlackApiError:
                results.append(False)
        fake.set_error_rate(method="auth.test", ratio=0.0)
        return results

    first, second = outcomes(), outcomes()
    assert first == second
    assert 0 < first.count(False) < 20
    assert plain.auth_test()["ok"]


def test_hold_parks_calls_until_release(fake: FakeSlack, client: WebClient) -> None:
    fake.hold(method="chat.postMessage")
    results: list[Any] = []
    worker = threading.Thread(
        target=lambda: results.append(client.chat_postMessage(channel=CORA.id, text="x"))
    )
    worker.start()
    fake.wait_held(1, method="chat.postMessage")
    assert fake.messages(CORA.id) == []
    fake.release("chat.postMessage")
    worker.join(timeout=5)
    assert results[0]["ok"] and len(fake.messages(CORA.id)) == 1


def test_latency_is_added(fake: FakeSlack, client: WebClient) -> None:
    fake.set_latency(0.05, method="auth.test")
    started = time.monotonic()
    client.auth_test()
    assert time.monotonic() - started >= 0.05


# -- users ---------------------------------------------------------------------------------------


def test_users_info_reports_timezone_offset(client: WebClient) -> None:
    user = client.users_info(user=AMARA.id)["user"]
    assert (user["tz"], user["tz_offset"], user["real_name"]) == ("Asia/Kolkata", 19_800, "Amara Okafor")
    assert user["profile"]["email"] == "amara@example.org"
    with pytest.raises(SlackApiError) as missing:
        client.users_info(user="U0NOBODY")
    assert missing.value.response["error"] == "user_not_found"


def test_lookup_by_email(client: WebClient) -> None:
    assert client.users_lookupByEmail(email="Amara@Example.org")["user"]["id"] == AMARA.id
    with pytest.raises(SlackApiError) as missing:
        client.users_lookupByEmail(email="ghost@example.org")
    assert missing.value.response["error"] == "users_not_found"


def test_dnd_snooze_follows_fake_clock(fake: FakeSlack, client: WebClient) -> None:
    until = datetime(2030, 1, 1, 12, 0, tzinfo=UTC)
    fake.set_dnd(AMARA.id, until)
    try:
        fake.now = until - timedelta(minutes=5)
        snoozed = client.dnd_info(user=AMARA.id)
        assert (snoozed["snooze_enabled"], snoozed["snooze_endtime"]) == (True, int(until.timestamp()))
        fake.now = until + timedelta(minutes=5)
        assert client.dnd_info(user=AMARA.id)["snooze_enabled"] is False
    finally:
        fake.set_dnd(AMARA.id, None)


# -- Block Kit and views -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("blocks", "problem"),
    [
        ([section("x" * 3001)], "3000"),
        ([{"type": "header", "text": {"type": "plain_text", "text": "h" * 151}}], "150"),
        ([{"type": "actions", "elements": [button("a", "b" * 76)]}], "75"),
        ([{"type": "carousel_of_doom"}], "unknown block type"),
        ([{"type": "section"}], "text or fields"),
        ([section("a", "same"), section("b", "same")], "duplicate block_id"),
        ([{"type": "actions", "elements": [button("go"), button("go")]}], "duplicate action_id"),
        ([{"type": "actions", "elements": [button(f"b{i}") for i in range(26)]}], "25"),
        ([section(str(i)) for i in range(51)], "50"),
    ],
)
def test_invalid_blocks_are_rejected_and_recorded(
    fake: FakeSlack, client: WebClient, blocks: list[dict[str, Any]], problem: str
) -> None:
    with pytest.raises(SlackApiError) as rejected:
        client.chat_postMessage(channel=AMARA.id, text="fallback", blocks=blocks)
    assert rejected.value.response["error"] == "invalid_blocks"
    assert any(problem in error for error in rejected.value.response["errors"])
    assert [c.method for c in fake.invalid] == ["chat.postMessage"]
    assert fake.messages(AMARA.id) == []


def test_valid_rich_blocks_are_accepted(fake: FakeSlack, client: WebClient) -> None:
    blocks: list[dict[str, Any]] = [
        {"type": "header", "text": {"type": "plain_text", "text": "Weekly check-in"}},
        {"type": "section", "fields": [{"type": "mrkdwn", "text": f"*{i}*"} for i in range(10)]},
        {"type": "section", "text": {"type": "mrkdwn", "text": "Rate"}, "accessory": button("rate")},
        {"type": "actions", "elements": [button(f"score_{i}", str(i)) for i in range(1, 6)]},
        {"type": "context", "elements": [{"type": "mrkdwn", "text": "context"}]},
        {"type": "divider"},
    ]
    assert client.chat_postMessage(channel=AMARA.id, text="fallback", blocks=blocks)["ok"]
    assert fake.invalid == []


def test_views_open_update_and_publish(fake: FakeSlack, client: WebClient) -> None:
    opened = client.views_open(trigger_id=fake.trigger_id(), view=modal())["view"]
    assert opened["id"].startswith("V") and fake.views[0]["callback_id"] == "checkin"

    client.views_update(view_id=opened["id"], view=modal("Updated"))
    updated = fake.view(opened["id"])
    assert updated is not None and updated["title"]["text"] == "Updated"

    home = {"type": "home", "blocks": [section("Your mentees")]}
    published = client.views_publish(user_id=CORA.id, view=home)["view"]
    stored = fake.home_view(CORA.id)
    assert stored is not None and stored["id"] == published["id"]
    assert stored["blocks"] == home["blocks"]


def test_view_title_too_long_is_rejected(fake: FakeSlack, client: WebClient) -> None:
    with pytest.raises(SlackApiError) as rejected:
        client.views_open(trigger_id=fake.trigger_id(), view=modal("A title far too long for Slack"))
    assert rejected.value.response["error"] == "invalid_arguments"
    assert any("title" in error for error in rejected.value.response["errors"])
    assert fake.views == [] and len(fake.invalid) == 1


def test_input_without_label_and_home_with_submit_are_rejected(client: WebClient, fake: FakeSlack) -> None:
    unlabeled = modal()
    del unlabeled["blocks"][0]["label"]
    with pytest.raises(SlackApiError):
        client.views_open(trigger_id=fake.trigger_id(), view=unlabeled)
    with pytest.raises(SlackApiError):
        client.views_publish(user_id=CORA.id, view={**modal(), "type": "home"})
    assert len(fake.invalid) == 2


def test_trigger_ids_are_single_use(fake: FakeSlack, client: WebClient) -> None:
    trigger = fake.trigger_id()
    client.views_open(trigger_id=trigger, view=modal())
    with pytest.raises(SlackApiError) as reused:
        client.views_open(trigger_id=trigger, view=modal())
    assert reused.value.response["error"] == "exchanged_trigger_id"


# -- files and response URLs ---------------------------------------------------------------------


def test_files_upload_v2_end_to_end(fake: FakeSlack, client: WebClient) -> None:
    content = b"mentee,score\namara,4\n"
    result = client.files_upload_v2(
        channel=fake.dm_channel(CORA.id),
        filename="report.csv",
        content=content,
        title="Weekly report",
        initial_comment="Here you go",
    )
    upload = fake.uploads[0]
    assert result["file"]["id"] == upload["file_id"]
    assert (upload["filename"], upload["title"], upload["content"]) == (
        "report.csv",
        "Weekly report",
        content,
    )
    assert (upload["channel_id"], upload["initial_comment"]) == (fake.dm_channel(CORA.id), "Here you go")


def test_response_url_records_valid_bodies_and_rejects_bad_blocks(fake: FakeSlack) -> None:
    url = fake.response_url()
    status, text = raw_post(
        url, json.dumps({"text": "done", "replace_original": True}).encode(), "application/json"
    )
    assert (status, text) == (200, "ok")
    assert fake.responses == [(url.rsplit("/", 1)[1], {"text": "done", "replace_original": True})]

    bad = json.dumps({"text": "x", "blocks": [section("y" * 3001)]}).encode()
    assert raw_post(url, bad, "application/json")[0] == 400
    assert [c.method for c in fake.invalid] == ["response_url"]
    assert raw_post(f"{fake.root_url}response/R-unknown", b'{"text": "x"}', "application/json")[0] == 404


# -- concurrency ---------------------------------------------------------------------------------


def test_concurrent_posts_get_unique_increasing_ts(fake: FakeSlack) -> None:
    def post_many(worker: int) -> None:
        client = WebClient(token="xoxb-test", base_url=fake.url)
        for i in range(50):
            client.chat_postMessage(channel=AMARA.id, text=f"{worker}-{i}")

    threads = [threading.Thread(target=post_many, args=(n,)) for n in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)

    messages = fake.messages(AMARA.id)
    stamps = [m["ts"] for m in messages]
    assert len(messages) == 400 == len(set(stamps))
    assert stamps == sorted(stamps, key=float)
    assert len({m["text"] for m in messages}) == 400


# -- signed request sender against a real Bolt app ------------------------------------------------


class _BoltHandler(BaseHTTPRequestHandler):
    app: App

    def log_message(self, format: str, *args: Any) -> None:
        return

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0)).decode()
        response = self.app.dispatch(BoltRequest(body=body, headers=dict(self.headers.items())))
        payload = (response.body or "").encode()
        self.send_response(response.status)
        for name, value in response.first_headers().items():
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)


@pytest.fixture(scope="module")
def bolt_url(fake: FakeSlack) -> Iterator[str]:
    client = WebClient(token="xoxb-test", base_url=fake.url)
    app = App(token="xoxb-test", signing_secret=SIGNING_SECRET, client=client)

    @app.command("/mentorship")
    def mentorship(ack: Any, respond: Any, command: dict[str, Any]) -> None:
        ack()
        respond(f"help for {command['user_name']}: {command['text']}")

    @app.action("checkin_wellbeing")
    def wellbeing(ack: Any, body: dict[str, Any], client: WebClient) -> None:
        ack()
        client.chat_postMessage(channel=body["user"]["id"], text=f"thanks {body['actions'][0]['value']}")

    @app.view("checkin")
    def submitted(ack: Any, view: dict[str, Any]) -> None:
        ack(response_action="errors", errors={"wellbeing": view["private_metadata"]})

    @app.event("app_home_opened")
    def home(event: dict[str, Any], client: WebClient) -> None:
        client.views_publish(user_id=event["user"], view={"type": "home", "blocks": [section("Home")]})

    handler = type("BoundBoltHandler", (_BoltHandler,), {"app": app})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}/slack/events"
    server.shutdown()
    server.server_close()


@pytest.fixture
def sender(bolt_url: str, fake: FakeSlack) -> SlackRequestSender:
    return SlackRequestSender(url=bolt_url, signing_secret=SIGNING_SECRET, fake=fake)


def test_command_is_acked_and_respond_reaches_response_url(
    fake: FakeSlack, sender: SlackRequestSender
) -> None:
    status, _body, _headers = sender.command("/mentorship", "help", user_id=CORA.id, channel_id="D0COORD1")
    assert status == 200
    fake.wait_for(lambda: bool(fake.responses), what="respond()")
    assert fake.responses[0][1]["text"] == "help for cora: help"


def test_block_action_from_message_reaches_listener(fake: FakeSlack, sender: SlackRequestSender) -> None:
    WebClient(token="xoxb-test", base_url=fake.url).chat_postMessage(channel=AMARA.id, text="rate")
    message = fake.messages(AMARA.id)[0]
    status, _, _ = sender.block_action(AMARA.id, action_id="checkin_wellbeing", value="4", message=message)
    assert status == 200
    fake.wait_for(lambda: len(fake.messages(AMARA.id)) == 2, what="listener reply")
    assert fake.messages(AMARA.id)[1]["text"] == "thanks 4"


def test_view_submission_gets_synchronous_ack_body(sender: SlackRequestSender) -> None:
    view = {**modal(), "private_metadata": "too vague", "state": {"values": {}}}
    response = sender.view_submission(AMARA.id, view=view)
    assert response.status == 200
    assert response.json() == {"response_action": "errors", "errors": {"wellbeing": "too vague"}}


def test_event_callback_is_dispatched(fake: FakeSlack, sender: SlackRequestSender) -> None:
    assert sender.event({"type": "app_home_opened", "user": CORA.id, "tab": "home"}).status == 200
    fake.wait_for(lambda: fake.home_view(CORA.id) is not None, what="home published")


def test_forged_and_stale_signatures_are_refused(sender: SlackRequestSender) -> None:
    body = b"command=%2Fmentorship&text=help&user_id=U0COORD1"
    forged = {"Content-Type": "application/x-www-form-urlencoded", **sender.sign(body)}
    forged["X-Slack-Signature"] = "v0=" + "0" * 64
    assert sender.raw(body, forged).status == 401
    stale = sender.command("/mentorship", "help", user_id=CORA.id, timestamp=int(time.time()) - 600)
    assert stale.status == 401


def test_a_channel_without_the_bot_refuses_posts_and_history(fake: FakeSlack, client: WebClient) -> None:
    fake.remove_bot("C0DIGEST")

    with pytest.raises(SlackApiError) as post:
        client.chat_postMessage(channel="C0DIGEST", text="digest")
    with pytest.raises(SlackApiError) as history:
        client.conversations_history(channel="C0DIGEST", limit=1)
    assert post.value.response["error"] == history.value.response["error"] == "not_in_channel"
    assert client.conversations_info(channel="C0DIGEST")["channel"]["is_member"] is False
    fake.invite_bot("C0DIGEST")
    assert client.chat_postMessage(channel="C0DIGEST", text="digest")["ok"]


def test_replies_name_the_granted_scopes(fake: FakeSlack, client: WebClient) -> None:
    assert client.auth_test().headers.get("x-oauth-scopes") == ",".join(fake.granted_scopes)
    fake.granted_scopes = ["commands", "chat:write"]
    assert client.auth_test().headers.get("x-oauth-scopes") == "commands,chat:write"
