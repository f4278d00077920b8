"""Turn settings into ready dependencies: config, keys, database, schema, Slack client."""

from __future__ import annotations

from slack_sdk import WebClient

from bot.kernel.clock import utcnow
from bot.kernel.deps import Deps
from bot.kernel.programs import ProgramsConfig, load_programs
from bot.kernel.settings import Settings
from bot.slack.client import build_web_client
from storage import migrate
from storage.crypto import Keys, install_keys, resolve_secret
from storage.engine import make_engine, make_lookup_engine, make_read_sessions, make_sessions
from storage.repositories.programs import ProgramSpec, sync_programs


def bootstrap(
    settings: Settings,
    *,
    client: WebClient | None = None,
    programs: ProgramsConfig | None = None,
    prepare_database: bool = True,
) -> Deps:
    """Load and validate everything, migrate the schema and sync programs.yml into the database.

    HTTP worker processes pass prepare_database=False: the process that started them already did it.
    Raises ConfigError, SettingsError or SecretKeyError with operator-readable lines.
    """
    config = programs if programs is not None else load_programs(settings.programs_file)
    secret = resolve_secret(
        configured=settings.secret_key.get_secret_value() if settings.secret_key else None,
        database_url=settings.database_url,
    )
    keys = Keys.from_secret(secret)
    install_keys(keys)
    engine = make_engine(settings.database_url)
    sessions = make_sessions(engine)
    if prepare_database:
        migrate.upgrade(engine)
        with sessions.begin() as session:
            specs = [ProgramSpec(id=p.id, name=p.name, timezone=p.timezone) for p in config.programs]
            sync_programs(session, specs=specs, now=utcnow())
    return Deps(
        settings=settings,
        programs=config,
        engine=engine,
        sessions=sessions,
        read_sessions=make_read_sessions(engine),
        lookups=make_lookup_engine(engine),
        client=client if client is not None else build_web_client(settings),
        keys=keys,
    )
