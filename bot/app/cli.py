"""The `mentorbot` command line."""

from __future__ import annotations

import functools
import os
import signal
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, date, datetime
from pathlib import Path
from types import FrameType
from typing import TYPE_CHECKING, Annotated

import typer
from sqlalchemy.exc import DBAPIError

from bot.kernel.deps import Deps
from bot.kernel.logging_setup import configure_logging
from bot.kernel.programs import ConfigError
from bot.kernel.settings import Settings, SettingsError, get_settings
from storage.crypto import SecretKeyError
from storage.engine import database_problem

if TYPE_CHECKING:
    from slack_bolt import App
    from sqlalchemy import Engine

    from bot.app.health import Health
    from bot.app.socket_mode import SocketModeRunner
    from storage.keyring import Secrets

# Requests are CPU-bound Python: a process per core (GIL), beyond four the database is the limit.
DEFAULT_WORKERS = min(os.cpu_count() or 1, 4)

cli = typer.Typer(help="mentorbot: mentorship programs in Slack.", no_args_is_help=True, add_completion=False)
roster = typer.Typer(help="Manage mentor–mentee pairs in bulk.", no_args_is_help=True)
cli.add_typer(roster, name="roster")
profiles = typer.Typer(help="Matching profiles collected outside Slack.", no_args_is_help=True)
cli.add_typer(profiles, name="profiles")

OPERATOR_ERRORS = (ConfigError, SettingsError, SecretKeyError)


def fail(message: str) -> typer.Exit:
    typer.echo(message, err=True)
    return typer.Exit(1)


@contextmanager
def operator_errors() -> Iterator[None]:
    """Configuration problems become one line each on stderr and exit 1, never a traceback."""
    try:
        yield
    except OPERATOR_ERRORS as exc:
        raise fail(str(exc)) from None
    except DBAPIError as exc:  # disk full, read-only, cannot open, locked: say which and where
        problem = database_problem(exc)
        if problem is None:
            raise
        raise fail(str(problem)) from None


def settings_and_deps() -> tuple[Settings, Deps]:
    from bot.app.bootstrap import bootstrap

    settings = get_settings()
    configure_logging(settings.log_level)
    return settings, bootstrap(settings)


def parse_instant(value: str | None) -> datetime:
    if value is None:
        return datetime.now(UTC)
    try:
        instant = datetime.fromisoformat(value)
    except ValueError:
        raise fail(f"--at: '{value}' is not an ISO 8601 instant (like 2026-12-03T16:00:00+00:00)") from None
    return instant if instant.tzinfo else instant.replace(tzinfo=UTC)


def _raise_system_exit(signum: int, _frame: FrameType | None) -> None:
    raise SystemExit(0)


@cli.command()
def run(
    http: Annotated[bool, typer.Option("--http", help="serve HTTP even when SLACK_APP_TOKEN is set")] = False,
    port: Annotated[int, typer.Option(help="HTTP port")] = 3000,
    host: Annotated[str, typer.Option(help="HTTP bind address")] = "0.0.0.0",
    tick_seconds: Annotated[int, typer.Option(help="how often scheduled work runs")] = 60,
    workers: Annotated[
        int, typer.Option(min=1, help="HTTP worker processes (default: one per CPU, at most 4)")
    ] = DEFAULT_WORKERS,
    threads: Annotated[int, typer.Option(min=1, help="request threads per HTTP worker")] = 2,
    health_port: Annotated[
        int | None,
        typer.Option(
            envvar="MENTORBOT_HEALTH_PORT",
            help="also serve /healthz, /readyz and /metrics on this port (Socket Mode has no other)",
        ),
    ] = None,
) -> None:
    """Start the bot: Socket Mode when SLACK_APP_TOKEN is set (unless --http), else HTTP."""
    from bot.app.bolt_app import build_app
    from bot.app.http_server import serve_http
    from bot.app.ops_server import Operations, share_with_workers
    from bot.app.scheduler import start_scheduler
    from bot.kernel.programs_live import RunningCopy, request_reload, watch_programs

    with operator_errors():
        settings = get_settings()
        settings.require_for_run(http=http)
        # HTTP workers are processes: before anything counts a metric, give them a place to share.
        shared = share_with_workers() if http or not settings.socket_mode else None
        settings, deps = settings_and_deps()
    check_token(deps)
    signal.signal(signal.SIGTERM, _raise_system_exit)
    # SIGHUP re-reads programs.yml here; HTTP workers follow the file's changes by themselves.
    reload_programs = functools.partial(request_reload, deps)
    signal.signal(signal.SIGHUP, lambda _signum, _frame: reload_programs())
    watcher = watch_programs(deps)
    socket_mode = settings.socket_mode and not http
    runner = _socket_mode_runner(build_app(deps), deps) if socket_mode else None
    running_copy = None if socket_mode else RunningCopy(deps)  # for workers spawned during a bad edit
    scheduler = start_scheduler(deps, seconds=tick_seconds)
    ops = Operations.start(deps.engine, scheduler, shared=shared, host=host, health_port=health_port)
    exit_code: int | str | None = 0
    try:
        if runner is not None:
            _serve_socket_mode(runner, ops.health)
        else:
            typer.echo(
                f"mentorbot: HTTP on {host}:{port} (POST /slack/events; GET /healthz, /readyz, /metrics)",
                err=True,
            )
            serve_http(host=host, port=port, workers=workers, threads=threads, on_reload=reload_programs)
    except KeyboardInterrupt:
        pass
    except SystemExit as exc:  # our SIGTERM handler (0), or granian giving up on a crashed worker (1)
        exit_code = exc.code
    finally:
        ops.stop()
        scheduler.shutdown(wait=True)
        watcher.stop()
        if running_copy is not None:
            running_copy.remove()
        deps.engine.dispose()
        if shared is not None:
            shared.remove()
        typer.echo("mentorbot stopped", err=True)
    if exit_code:
        raise typer.Exit(exit_code if isinstance(exit_code, int) else 1)


def _socket_mode_runner(app: App, deps: Deps) -> SocketModeRunner:
    """The runner, after one apps.connections.open: a refused SLACK_APP_TOKEN stops here in one line."""
    from bot.app.socket_mode import SocketModeRefused, SocketModeRunner

    assert deps.settings.slack_app_token is not None
    runner = SocketModeRunner(app, deps.settings.slack_app_token.get_secret_value(), client=deps.client)
    try:
        runner.check_token()
    except SocketModeRefused as exc:
        deps.engine.dispose()
        raise fail(str(exc)) from None
    return runner


def _serve_socket_mode(runner: SocketModeRunner, health: Health) -> None:
    from bot.app.socket_mode import SocketModeRefused

    health.watch_socket(runner.connected)
    typer.echo("mentorbot: Socket Mode", err=True)
    try:
        runner.run()
    except SocketModeRefused as exc:  # revoked while running: retrying cannot help
        raise fail(str(exc)) from None


def check_token(deps: Deps) -> None:
    from slack_sdk.errors import SlackApiError

    try:
        deps.client.auth_test()
    except SlackApiError as exc:
        raise fail(
            f"SLACK_BOT_TOKEN: Slack refused it ({exc.response.get('error', 'unknown error')})"
        ) from None
    except OSError as exc:  # URLError included: DNS, refused, TLS, proxy
        reason = getattr(exc, "reason", exc)
        raise fail(
            f"SLACK_API_URL: cannot reach {deps.settings.slack_api_url} ({reason}); "
            "check the URL, the proxy (HTTPS_PROXY) and the firewall"
        ) from None


@cli.command()
def tick(
    at: Annotated[str | None, typer.Option(help="evaluate 'due' at this ISO 8601 instant")] = None,
) -> None:
    """Run all due scheduled work once, print what was done, exit."""
    from bot.app.tick import tick as run_tick
    from bot.slack.token_state import token_failure

    now = parse_instant(at)
    with operator_errors():
        _, deps = settings_and_deps()
    done = run_tick(deps, now)
    for line in done or ["nothing due"]:
        typer.echo(line)
    if token_failure() is not None:
        raise typer.Exit(1)  # Slack refused SLACK_BOT_TOKEN: the log line says so; cron must notice


@cli.command()
def migrate() -> None:
    """Apply database migrations and sync programs.yml into the database."""
    from storage.migrate import current_revision

    with operator_errors():
        _, deps = settings_and_deps()
    typer.echo(
        f"database at revision {current_revision(deps.engine)}; {len(deps.programs.programs)} programs synced"
    )


@cli.command("rotate-key")
def rotate_key(
    batch_size: Annotated[int, typer.Option(min=1, help="rows re-encrypted per transaction")] = 500,
    max_batches: Annotated[
        int | None, typer.Option(min=1, help="stop after this many batches; run again to continue")
    ] = None,
) -> None:
    """Re-encrypt all stored free text under a new secret key; safe to interrupt and run again.

    SQLite with the generated key file (mentorbot.db.key): stop the bot, back up the database and
    the key file, run `mentorbot rotate-key` with neither variable set, start the bot. The new key
    is written to mentorbot.db.key.new and replaces mentorbot.db.key when the rotation has finished.

    Keys set in the environment (required with PostgreSQL): set MENTORBOT_OLD_SECRET_KEY to the
    current key and MENTORBOT_SECRET_KEY to the new one, both for this command and for the bot
    (which then reads either and writes with the new one), run `mentorbot rotate-key`, then unset
    MENTORBOT_OLD_SECRET_KEY and restart the bot.
    """
    from storage.rotation import BatchDone, promote_pending_key
    from storage.rotation import rotate_key as run_rotation

    def report(done: BatchDone) -> None:
        if done.table_done:
            typer.echo(f"{done.table}: done")

    with operator_errors():
        engine, given = _rotation_start()
        try:
            result = run_rotation(
                engine,
                given,
                now=datetime.now(UTC),
                batch_size=batch_size,
                max_batches=max_batches,
                after_batch=report,
            )
        finally:
            engine.dispose()
    if not result.finished:
        raise fail(f"rotate-key: stopped after {result.batches} batches; run it again to continue")
    promoted = promote_pending_key(given)
    typer.echo(_rotation_summary(result.already_done, result.values, promoted, given.source))


def _rotation_start() -> tuple[Engine, Secrets]:
    from bot.app.bootstrap import secret_value
    from storage import migrate as migrations
    from storage.engine import make_engine
    from storage.rotation import rotation_secrets

    settings = get_settings()
    configure_logging(settings.log_level)
    engine = make_engine(settings.database_url)
    migrations.upgrade(engine)
    given = rotation_secrets(
        engine,
        configured=secret_value(settings.secret_key),
        old=secret_value(settings.old_secret_key),
        database_url=settings.database_url,
        now=datetime.now(UTC),
    )
    return engine, given


def _rotation_summary(already_done: bool, values: int, promoted: Path | None, source: str) -> str:
    if already_done:
        head = f"rotate-key: the database is already under {source}; nothing to re-encrypt"
    else:
        head = f"rotate-key: done, {values} values re-encrypted; the database is now under the new key"
    if promoted is not None:
        return f"{head}; {promoted} now holds it (start the bot again)"
    return f"{head}; unset MENTORBOT_OLD_SECRET_KEY and restart the bot"


@cli.command("check-config")
def check_config(path: Annotated[Path | None, typer.Argument(help="programs file")] = None) -> None:
    """Validate programs.yml and its track files; exit 1 naming file, key and reason for each problem."""
    from bot.app.config_check import check_programs_file

    with operator_errors():
        target = path or get_settings().programs_file
        _, summary = check_programs_file(Path(target))
    typer.echo(f"{target}: ok: {summary}")


@cli.command()
def doctor(
    request_url: Annotated[
        str | None,
        typer.Option(help="HTTP mode: also check that this URL (https://HOST/slack/events) answers Slack"),
    ] = None,
    manifest: Annotated[
        Path | None, typer.Option(help="the manifest.yml the app was created from (default: ./manifest.yml)")
    ] = None,
) -> None:
    """Check an installation: tokens, scopes, channels, people, programs.yml, database, key; one line each."""
    from bot.app.doctor import doctor_command

    raise typer.Exit(doctor_command(request_url=request_url, manifest=manifest))


@cli.command()
def digest(
    program: str,
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="print Block Kit JSON instead of posting")
    ] = False,
) -> None:
    """Build the program's weekly digest now."""
    from bot.app.commands import digest_command

    with operator_errors():
        _, deps = settings_and_deps()
    raise typer.Exit(digest_command(deps, program_id=program, dry_run=dry_run, now=deps.clock()))


@roster.command("import")
def roster_import(
    program: str,
    file: Path,
    replace: Annotated[
        bool, typer.Option("--replace", help="end pairs of the program not in the file")
    ] = False,
) -> None:
    """Add pairs from a CSV with columns mentor,mentee[,focus] (Slack ids or emails); all or nothing."""
    from bot.app.commands import roster_import_command

    with operator_errors():
        _, deps = settings_and_deps()
    raise typer.Exit(
        roster_import_command(deps, program_id=program, path=file, replace=replace, now=deps.clock())
    )


@roster.command("snapshot")
def roster_snapshot(program: str, file: Path) -> None:
    """Store HR's roster (employee,start_date[,end_date,role,participant]) for retention; all or nothing."""
    from bot.app.outcome_commands import roster_snapshot_command

    with operator_errors():
        _, deps = settings_and_deps()
    raise typer.Exit(roster_snapshot_command(deps, program_id=program, path=file, now=deps.clock()))


@profiles.command("import")
def profiles_import(program: str, file: Path) -> None:
    """Add or update matching profiles from a CSV (user,role,…; Slack ids or emails); all or nothing."""
    from bot.app.matching_commands import profiles_import_command

    with operator_errors():
        _, deps = settings_and_deps()
    raise typer.Exit(profiles_import_command(deps, program_id=program, path=file, now=deps.clock()))


@cli.command()
def match(
    program: str,
    dry_run: Annotated[bool, typer.Option("--dry-run", help="print the proposal without storing it")] = False,
    approve: Annotated[
        int | None,
        typer.Option("--approve", metavar="ID", help="approve stored proposal ID: create its pairs"),
    ] = None,
) -> None:
    """Propose an explainable assignment of the program's mentees to mentors (stored for approval)."""
    from bot.app.matching_commands import match_command

    if dry_run and approve is not None:
        raise fail("mentorbot match: use --dry-run or --approve ID, not both")
    with operator_errors():
        _, deps = settings_and_deps()
    raise typer.Exit(
        match_command(deps, program_id=program, dry_run_only=dry_run, approve_id=approve, now=deps.clock())
    )


@cli.command()
def report(
    program: str,
    from_: Annotated[str, typer.Option("--from", help="first day, YYYY-MM-DD")],
    to: Annotated[str, typer.Option("--to", help="last day, YYYY-MM-DD")],
    out: Annotated[Path | None, typer.Option(help="write the report here instead of stdout")] = None,
    format_: Annotated[str, typer.Option("--format", help="csv (default), md, or pdf (needs --out)")] = "csv",
    patient_experience: Annotated[
        Path | None,
        typer.Option(help="unit-level scores per quarter (unit,quarter,score,respondents[,participants])"),
    ] = None,
) -> None:
    """Outcome report per quarter: CSV plus a Markdown summary, the summary alone, or the annual PDF."""
    from bot.app.commands import report_command
    from bot.app.outcome_commands import annual_report_command

    start, end = parse_day("--from", from_), parse_day("--to", to)
    if format_ not in ("csv", "md", "pdf"):
        raise fail(f"--format: '{format_}' is not one of csv, md, pdf")
    with operator_errors():
        _, deps = settings_and_deps()
    if format_ == "csv" and patient_experience is None:
        raise typer.Exit(report_command(deps, program_id=program, start=start, end=end, out_file=out))
    raise typer.Exit(
        annual_report_command(
            deps,
            program_id=program,
            start=start,
            end=end,
            out_file=out,
            format_=format_,
            patient_experience=patient_experience,
        )
    )


@cli.command()
def cme(
    program: str,
    year: Annotated[int, typer.Option(help="calendar year")],
    out: Annotated[Path | None, typer.Option(help="write the CSV here instead of stdout")] = None,
) -> None:
    """Per-mentor protected hours and CME credits for a year, with the sessions behind them."""
    from bot.app.commands import cme_command

    with operator_errors():
        _, deps = settings_and_deps()
    raise typer.Exit(cme_command(deps, program_id=program, year=year, out_file=out))


@cli.command()
def evidence(
    person: Annotated[str, typer.Argument(help="the licensee: Slack user id or email")],
    track: Annotated[str, typer.Option(help="track id, like tn-supervised-practice")],
    out: Annotated[Path | None, typer.Option(help="FILE.pdf or FILE.csv; without it, CSV on stdout")] = None,
) -> None:
    """Supervised-practice evidence of one licensee on one track, for a licensing board (PDF or CSV)."""
    from bot.app.evidence_commands import evidence_command

    with operator_errors():
        _, deps = settings_and_deps()
    raise typer.Exit(evidence_command(deps, person=person, track_id=track, out_file=out, now=deps.clock()))


@cli.command()
def purge(
    dry_run: Annotated[bool, typer.Option("--dry-run", help="show what would be deleted")] = False,
) -> None:
    """Delete raw answers and free text older than each program's privacy.retention_days."""
    from bot.app.commands import purge_command

    with operator_errors():
        _, deps = settings_and_deps()
    raise typer.Exit(purge_command(deps, dry_run=dry_run, now=deps.clock()))


@cli.command()
def demo(
    out_dir: Annotated[Path, typer.Option(help="where the demo database and chart go")] = Path("demo-output"),
) -> None:
    """Offline demo: a simulated workspace against a local fake Slack, through the real code."""
    from bot.app.demo.run import run_demo

    configure_logging("WARNING")
    raise typer.Exit(run_demo(out_dir))


def parse_day(option: str, value: str) -> date:
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise fail(f"{option}: '{value}' is not a date like 2026-01-31") from None


def main() -> None:
    try:
        cli()
    except KeyboardInterrupt:
        sys.exit(130)
    except DBAPIError as exc:  # a database failure outside operator_errors(): still one line, not a traceback
        problem = database_problem(exc)
        if problem is None:
            raise
        typer.echo(str(problem), err=True)
        sys.exit(1)
