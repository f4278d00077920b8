"""Turn settings into ready dependencies: config, keys, database, schema, Slack client."""

from __future__ import annotations

from pydantic import SecretStr
from slack_sdk import WebClient
from sqlalchemy import Engine

from bot.app.slack_metrics import count_slack_failures
from bot.kernel.clock import utcnow
from bot.kernel.deps import Deps
from bot.kernel.programs import ProgramsConfig
from bot.kernel.programs_live import LivePrograms, open_programs, sync_program_rows
from bot.kernel.settings import Settings
from bot.slack.client import build_web_client
from storage import migrate
from storage.crypto import Keys, install_keys
from storage.engine import make_engine, make_lookup_engine, make_read_sessions, make_sessions
from storage.keyring import open_keys


def bootstrap(
    settings: Settings,
    *,
    client: WebClient | None = None,
    programs: ProgramsConfig | None = None,
    prepare_database: bool = True,
) -> Deps:
    """Load and validate everything, migrate the schema and sync programs.yml into the database.

    HTTP worker processes pass prepare_database=False: the process that started them already did it.
    Programs read from settings.programs_file follow the file from then on (bot.kernel.programs_live);
    `programs` given here stay as given.
    Raises ConfigError, SettingsError or SecretKeyError with operator-readable lines.
    """
    if programs is not None:
        live = LivePrograms(programs)
    else:  # a worker may start while the file holds an invalid edit: its parent's copy stands in
        live = open_programs(settings.programs_file, follower=not prepare_database)
    engine = make_engine(settings.database_url)
    sessions = make_sessions(engine)
    if prepare_database:
        # Before the keys: the key check lives in a table the migrations create.
        migrate.upgrade(engine, keys_only=True)
    keys = _open_keys(engine, settings, create=prepare_database)
    install_keys(keys)
    if prepare_database:
        migrate.upgrade(engine)  # after the keys: later migrations may encrypt (see migrate.KEYS_REVISION)
        sync_program_rows(sessions, live.current, now=utcnow())
    return Deps(
        settings=settings,
        programs=live,
        engine=engine,
        sessions=sessions,
        read_sessions=make_read_sessions(engine),
        lookups=make_lookup_engine(engine),
        client=count_slack_failures(client if client is not None else build_web_client(settings)),
        keys=keys,
    )


def _open_keys(engine: Engine, settings: Settings, *, create: bool) -> Keys:
    try:
        return open_keys(
            engine,
            configured=secret_value(settings.secret_key),
            old=secret_value(settings.old_secret_key),
            database_url=settings.database_url,
            create=create,
            now=utcnow(),
        )
    except BaseException:
        engine.dispose()  # the bot stops here: leave no connection (or SQLite file handle) open
        raise


def secret_value(secret: SecretStr | None) -> str | None:
    """The secret's text, or None when unset or empty."""
    if secret is None or not secret.get_secret_value():
        return None
    return secret.get_secret_value()
