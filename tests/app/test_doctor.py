"""`mentorbot doctor` against the fake Slack: all ✓ on a good setup, each broken piece named with its fix."""

from __future__ import annotations

import dataclasses
import socket
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
import yaml
from typer.testing import CliRunner, Result

from bot.app.cli import cli
from bot.app.doctor import doctor_command
from bot.app.doctor_slack import granted_scopes
from bot.fake_slack.server import FakeSlack
from bot.fake_slack.store import MANIFEST_BOT_SCOPES
from bot.kernel.deps import Deps
from storage import migrate
from storage.engine import make_engine
from tests.support.people import PROGRAMS_FILE, SECRET_KEY, SIGNING_SECRET

ROOT = Path(__file__).resolve().parents[2]
BOT_TOKEN = "xoxb-test-token"
APP_TOKEN = "xapp-1-A0MENTOR-doctor-test"
Env = dict[str, str | None]


@pytest.fixture
def env(database_url: str, fake_slack: FakeSlack) -> Env:
    """A good Socket Mode installation: the bot is in both digest channels (tests/data/programs.yml)."""
    for channel in ("C0DIGEST", "C0NURSEDIGEST"):
        fake_slack.add_channel(channel)
    return {
        "SLACK_BOT_TOKEN": BOT_TOKEN,
        "SLACK_APP_TOKEN": APP_TOKEN,
        "SLACK_SIGNING_SECRET": SIGNING_SECRET,
        "SLACK_API_URL": fake_slack.url,
        "DATABASE_URL": database_url,
        "MENTORBOT_PROGRAMS": str(PROGRAMS_FILE),
        "MENTORBOT_SECRET_KEY": SECRET_KEY,
        "MENTORBOT_OLD_SECRET_KEY": None,
    }


def doctor(env: Env, *args: str) -> Result:
    return CliRunner().invoke(cli, ["doctor", "--manifest", str(ROOT / "manifest.yml"), *args], env=env)


def failures(result: Result) -> list[str]:
    return [line for line in result.stdout.splitlines() if line.startswith("✗")]


def only_failure(result: Result) -> str:
    assert result.exit_code == 1, result.output
    found = failures(result)
    assert len(found) == 1, result.output
    assert result.stdout.strip().splitlines()[-1].startswith("mentorbot doctor: 1 of ")
    return found[0]


def test_good_setup_is_all_ticks(env: Env, deps: Deps) -> None:
    result = doctor(env)

    assert result.exit_code == 0, result.output
    lines = result.stdout.strip().splitlines()
    assert all(line.startswith("✓ ") for line in lines[:-1]), result.output
    assert lines[-1] == f"mentorbot doctor: all {len(lines) - 1} checks passed"
    text = result.stdout
    assert "✓ SLACK_BOT_TOKEN: accepted, bot @mentorbot in mentor" in text
    assert "✓ bot token scopes: all 10 in manifest.yml granted" in text
    assert "✓ Socket Mode: SLACK_APP_TOKEN accepted" in text
    for channel in ("C0DIGEST (img-2026 digest)", "C0NURSEDIGEST (nursing-2026 digest)"):
        assert f"✓ bot in channel {channel}" in text
    for person in ("U0COORD1 (img-2026 coordinators)", "U0COORD2", "U0DIO (img-2026 escalation.user)"):
        assert f"✓ person {person}" in text
    assert "migrated (" in text
    assert "✓ secret key MENTORBOT_SECRET_KEY: present, matches the database" in text


def test_missing_scope_is_named_with_its_fix(env: Env, fake_slack: FakeSlack) -> None:
    fake_slack.granted_scopes = [scope for scope in MANIFEST_BOT_SCOPES if scope != "files:write"]

    line = only_failure(doctor(env))

    assert line == (
        "✗ bot token scopes: missing files:write"
        " — fix: add them under OAuth & Permissions and reinstall the app"
    )


def test_bot_not_in_a_digest_channel(env: Env, fake_slack: FakeSlack) -> None:
    fake_slack.remove_bot("C0NURSEDIGEST")

    line = only_failure(doctor(env))

    assert line == (
        "✗ bot in channel C0NURSEDIGEST (nursing-2026 digest): the bot is not a member"
        " — fix: invite the bot: /invite @mentorbot in channel C0NURSEDIGEST"
    )


def test_deactivated_coordinator(env: Env, fake_slack: FakeSlack) -> None:
    fake_slack.add_user(dataclasses.replace(fake_slack.users["U0COORD2"], deleted=True))

    line = only_failure(doctor(env))

    assert line.startswith(
        "✗ person U0COORD2 (nursing-2026 coordinators): deactivated — fix: replace U0COORD2"
    )


def test_loose_key_file_then_chmod_600(env: Env, tmp_path: Path) -> None:
    database = tmp_path / "keyed" / "mentorbot.db"
    key_file = database.with_name("mentorbot.db.key")
    env = {**env, "DATABASE_URL": _migrated_sqlite(database), "MENTORBOT_SECRET_KEY": None}
    key_file.write_text(SECRET_KEY + "\n")
    key_file.chmod(0o644)

    line = only_failure(doctor(env))

    assert line == (
        f"✗ secret key file {key_file}: readable by group or others (mode 0644) — fix: chmod 600 {key_file}"
    )
    key_file.chmod(0o600)
    assert doctor(env).exit_code == 0


def test_bad_token_kinds_are_named_and_never_echoed(env: Env) -> None:
    user_token, bot_token_as_app = "xoxp-1234-user-token-value", "xoxb-9999-misplaced-value"

    result = doctor({**env, "SLACK_BOT_TOKEN": user_token, "SLACK_APP_TOKEN": bot_token_as_app})

    assert result.exit_code == 1
    found = failures(result)
    assert len(found) == 2, result.output  # checks needing the tokens are left out, not failed again
    assert (
        "✗ SLACK_BOT_TOKEN: must be a bot token starting with xoxb- — fix: copy the Bot User OAuth Token"
        in found[0]
    )
    assert found[1].startswith("✗ SLACK_APP_TOKEN: must be an app-level token starting with xapp- — fix: ")
    assert user_token not in result.output and bot_token_as_app not in result.output


def test_a_malformed_api_url_sends_the_token_nowhere(env: Env, fake_slack: FakeSlack) -> None:
    line = only_failure(doctor({**env, "SLACK_API_URL": "slack.example.org/api"}))

    assert line.startswith("✗ SLACK_API_URL: must be an http(s) URL — fix: ")
    assert fake_slack.calls == []


def test_refused_tokens_and_no_secret_in_the_output(env: Env, fake_slack: FakeSlack) -> None:
    fake_slack.force_error("auth.test", "invalid_auth")
    fake_slack.socket_mode.refuse(APP_TOKEN, "invalid_auth")

    result = doctor(env)

    assert result.exit_code == 1
    found = failures(result)
    assert found[0].startswith("✗ SLACK_BOT_TOKEN: Slack refused it (invalid_auth) — fix: copy the Bot User")
    assert found[1].startswith(
        "✗ SLACK_APP_TOKEN: Slack refused it (invalid_auth) — fix: create an app-level"
    )
    for secret in (BOT_TOKEN, APP_TOKEN, SIGNING_SECRET, SECRET_KEY):
        assert secret not in result.output


def test_unmigrated_database(env: Env, tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'old.db'}"
    engine = make_engine(url)
    migrate.upgrade(engine, keys_only=True)
    engine.dispose()

    line = only_failure(doctor({**env, "DATABASE_URL": url}))

    assert f"at revision {migrate.KEYS_REVISION}, this version needs {migrate.head_revision()}" in line
    assert line.endswith("— fix: run mentorbot migrate (back up the database first)")


def test_http_mode_checks_the_request_url_and_the_signing_secret(
    env: Env, deps: Deps, serve_bot: Callable[[Deps], str]
) -> None:
    url = serve_bot(deps)
    http = {**env, "SLACK_APP_TOKEN": None}

    good = doctor(http, "--request-url", url)
    wrong = doctor({**http, "SLACK_SIGNING_SECRET": "not-the-apps-secret"}, "--request-url", url)

    assert good.exit_code == 0, good.output
    assert f"✓ request URL {url} answers Slack's signed requests" in good.stdout
    assert only_failure(wrong).startswith(f"✗ request URL {url}: refused our signature (401) — fix: copy")
    assert "not-the-apps-secret" not in wrong.output


def test_the_fake_grants_the_manifest_scopes() -> None:
    manifest = yaml.safe_load((ROOT / "manifest.yml").read_text())
    assert tuple(manifest["oauth_config"]["scopes"]["bot"]) == MANIFEST_BOT_SCOPES


def _migrated_sqlite(database: Path) -> str:
    database.parent.mkdir()
    url = f"sqlite:///{database}"
    engine = make_engine(url)
    migrate.upgrade(engine)
    engine.dispose()
    return url


def test_invalid_programs_file_is_named_and_the_checks_needing_it_are_skipped(
    env: Env, tmp_path: Path
) -> None:
    programs = tmp_path / "programs.yml"
    programs.write_text(
        PROGRAMS_FILE.read_text().replace("timezone: America/Chicago", "timezone: Mars/Olympus")
    )

    line = only_failure(doctor({**env, "MENTORBOT_PROGRAMS": str(programs)}))

    assert line.startswith(f"✗ {programs}: programs[1].timezone: ")
    assert line.endswith("— fix: correct it; mentorbot check-config lists every problem")


@pytest.fixture
def silent_server() -> Iterator[int]:
    """A port that takes TCP connections and never answers: a firewall or a stuck server."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen(8)  # the kernel completes the handshake; nothing ever reads
        yield int(listener.getsockname()[1])


def test_a_database_server_that_never_answers_times_out(
    env: Env, silent_server: int, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    env = {**env, "DATABASE_URL": f"postgresql://u@127.0.0.1:{silent_server}/db"}
    for name, value in env.items():
        if value is None:
            monkeypatch.delenv(name, raising=False)
        else:
            monkeypatch.setenv(name, value)
    started = time.monotonic()

    code = doctor_command(request_url=None, manifest=ROOT / "manifest.yml", connect_timeout=2)

    assert time.monotonic() - started < 15
    out = capsys.readouterr().out
    assert code == 1, out
    database = [line for line in out.splitlines() if line.startswith("✗ database ")]
    assert database == [
        f"✗ database postgresql://127.0.0.1:{silent_server}/db: no answer within 2 s (connection timeout)"
        " — fix: check DATABASE_URL's host and port: PostgreSQL must answer there, not a firewall or"
        " another service"
    ], out


def test_a_connection_dropped_in_the_workspace_checks_is_a_line_not_a_traceback(
    env: Env, fake_slack: FakeSlack
) -> None:
    # One call and the client's two retries, for each of the first channel and the first person.
    fake_slack.inject("conversations.history", disconnect=True, times=3)
    fake_slack.inject("users.info", disconnect=True, times=3)

    result = doctor(env)

    assert result.exception is None or isinstance(result.exception, SystemExit), result.output
    line = only_failure(result)  # the same line for both: shown once
    assert line.startswith(f"✗ SLACK_API_URL: cannot reach {fake_slack.url}"), line
    assert line.endswith("— fix: check the URL, the proxy (HTTPS_PROXY) and the firewall")
    assert "✓ bot in channel C0NURSEDIGEST" in result.stdout and "✓ person U0COORD2" in result.stdout


def test_granted_scopes_match_the_header_in_any_case() -> None:
    assert granted_scopes({"X-OAuth-Scopes": "chat:write, im:write"}) == {"chat:write", "im:write"}
    assert granted_scopes({"x-oauth-scopes": "chat:write"}) == {"chat:write"}
    assert granted_scopes({"content-type": "application/json"}) is None


def test_request_url_in_socket_mode_is_checked_too(
    env: Env, deps: Deps, serve_bot: Callable[[Deps], str]
) -> None:
    url = serve_bot(deps)

    both = doctor(env, "--request-url", url)
    unsigned = doctor({**env, "SLACK_SIGNING_SECRET": None}, "--request-url", url)

    assert both.exit_code == 0, both.output
    assert "✓ Socket Mode: SLACK_APP_TOKEN accepted" in both.stdout
    assert f"✓ request URL {url} answers Slack's signed requests" in both.stdout
    assert only_failure(unsigned).startswith(
        "✗ SLACK_SIGNING_SECRET: not set, and --request-url checks HTTP mode (mentorbot run --http)"
    )
