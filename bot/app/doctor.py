"""`mentorbot doctor`: check a real installation, one line per check with its fix; exit 1 on any ✗.

The order follows what depends on what: settings, the bot token (its scopes, then Socket Mode or the
request URL), programs.yml (then the channels and people it names, in Slack), the database, the key.
A check that cannot run because an earlier one failed is left out rather than failed twice.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import typer
from pydantic import ValidationError

from bot.app.doctor_local import CONNECT_TIMEOUT_SECONDS, database_check, key_check, programs_check
from bot.app.doctor_result import Check, failed, passed
from bot.app.doctor_slack import (
    APP_TOKEN_FIX,
    BOT_TOKEN_FIX,
    BotAccess,
    connection_checks,
    open_bot_access,
    scope_check,
)
from bot.app.doctor_workspace import channel_checks, people_checks
from bot.kernel.logging_setup import configure_logging
from bot.kernel.settings import Settings

_VARIABLE_FIXES = {"SLACK_BOT_TOKEN": BOT_TOKEN_FIX, "SLACK_APP_TOKEN": APP_TOKEN_FIX}
_REPO_MANIFEST = Path(__file__).resolve().parents[2] / "manifest.yml"


def doctor_command(
    *, request_url: str | None, manifest: Path | None, connect_timeout: int = CONNECT_TIMEOUT_SECONDS
) -> int:
    """Print each check as it finishes and a summary; 1 when any failed. `connect_timeout` bounds the
    wait for a database server that takes the connection but never answers."""
    failures = total = 0
    shown: set[Check] = set()
    manifest = manifest or default_manifest()
    checks = doctor_checks(request_url=request_url, manifest=manifest, connect_timeout=connect_timeout)
    for check in checks:
        if check in shown:  # an unreachable SLACK_API_URL fails both token checks the same way
            continue
        shown.add(check)
        typer.echo(check.line())
        total += 1
        failures += not check.ok
    if failures:
        typer.echo(f"mentorbot doctor: {failures} of {total} checks failed")
        return 1
    typer.echo(f"mentorbot doctor: all {total} checks passed")
    return 0


def default_manifest() -> Path:
    """manifest.yml in the working directory, else the one in this checkout."""
    here = Path("manifest.yml")
    return here if here.exists() or not _REPO_MANIFEST.exists() else _REPO_MANIFEST


def doctor_checks(
    *, request_url: str | None, manifest: Path, connect_timeout: int = CONNECT_TIMEOUT_SECONDS
) -> Iterator[Check]:
    settings, problems = checked_settings()
    yield from problems
    configure_logging(settings.log_level)
    # A malformed variable stands at its default: checks that would use it are left out (a default
    # SLACK_API_URL would even send the token to slack.com instead of where it was meant to go).
    bad = {problem.what for problem in problems}
    bot = BotAccess(failed("SLACK_BOT_TOKEN", "", ""))
    if "SLACK_API_URL" not in bad:
        bot = open_bot_access(settings)
        yield from slack_checks(settings, bot, bad, request_url=request_url, manifest=manifest)
    config_check, config = programs_check(settings)
    yield config_check
    if config is not None and bot.client is not None:
        yield from channel_checks(bot.client, config, bot_name=bot.name)
        yield from people_checks(bot.client, config)
    if "DATABASE_URL" not in bad:
        yield from local_checks(settings, connect_timeout)


def slack_checks(
    settings: Settings, bot: BotAccess, bad: set[str], *, request_url: str | None, manifest: Path
) -> Iterator[Check]:
    if "SLACK_BOT_TOKEN" not in bad:
        yield bot.check
    if bot.response is not None:
        yield scope_check(bot.response, manifest)
    if "SLACK_APP_TOKEN" not in bad:
        yield from connection_checks(settings, request_url)


def local_checks(settings: Settings, connect_timeout: int) -> Iterator[Check]:
    database, engine = database_check(settings, connect_timeout=connect_timeout)
    yield database
    try:
        yield key_check(settings, engine)
    finally:
        if engine is not None:
            engine.dispose()


def checked_settings() -> tuple[Settings, list[Check]]:
    """Settings from the environment; a bad variable is one ✗ and is left at its default, so that
    the checks that do not need it still run."""
    try:
        return Settings(), [passed("environment: every variable well-formed")]
    except ValidationError as exc:
        variables = _variables()
        problems: list[Check] = []
        defaults: dict[str, Any] = {}
        for error in exc.errors():
            name = str(error["loc"][0]) if error["loc"] else "?"
            field = name if name in Settings.model_fields else variables.get(name, name)
            variable = next((v for v, f in variables.items() if f == field), name.upper())
            reason = error["msg"].removeprefix("Value error, ")
            fix = _VARIABLE_FIXES.get(variable, "correct it (README, Configuration reference)")
            problems.append(failed(variable, reason, fix))
            if field in Settings.model_fields:
                defaults[field] = Settings.model_fields[field].get_default(call_default_factory=True)
        return Settings(**defaults), problems


def _variables() -> dict[str, str]:
    """Environment variable -> settings field."""
    found = {}
    for field, info in Settings.model_fields.items():
        alias = info.validation_alias
        found[alias if isinstance(alias, str) else field.upper()] = field
    return found
