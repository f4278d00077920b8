"""Which secret a database was written with, and the keys a process gets from it.

The `key_checks` row holds an HMAC of a fixed label under the secret (never the secret) and the
lookup pepper wrapped under that secret. On start the configured secret must match the check (or,
during a rotation, MENTORBOT_OLD_SECRET_KEY must); otherwise the bot stops with one line, data intact.

Migrations run before the keys are known (the check lives in a table they create), so a migration
must never read or write EncryptedText values.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from cryptography.fernet import InvalidToken
from sqlalchemy import Column, Connection, Engine, Table, Text, inspect, literal, select, type_coerce
from sqlalchemy.engine.reflection import Inspector
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from storage.crypto import (
    OLD_SECRET_VARIABLE,
    SECRET_VARIABLE,
    EncryptedText,
    Keys,
    SecretKeyError,
    key_check,
    key_file_for,
    legacy_pepper,
    pending_key_file,
    read_key_file,
    require_secret_length,
    resolve_secret,
    secret_fernet,
    unwrap_pepper,
    wrap_pepper,
)
from storage.models import Base
from storage.models.keys import KEY_CHECK_ID, KeyCheck

PEPPER_BYTES = 32
# Synced from programs.yml on every start, before anything is encrypted: not a sign of use.
_NOT_DATA = frozenset({"programs"})


@dataclass(frozen=True)
class Secrets:
    """The secret to write with, the one a rotation moves away from, and where each came from."""

    current: str
    source: str  # the variable or key file, as named in operator lines
    old: str | None = None
    old_source: str = OLD_SECRET_VARIABLE
    pending_file: Path | None = None  # set while `current` is a rotation's not yet promoted key file


def locate_secrets(
    *, configured: str | None, old: str | None, database_url: str, may_generate: Callable[[], bool]
) -> Secrets:
    """The secrets from the environment or, on SQLite, the key file (and a rotation's pending one)."""
    if old is not None:
        require_secret_length(old, source=OLD_SECRET_VARIABLE)
    if configured:
        require_secret_length(configured, source=SECRET_VARIABLE)
        return Secrets(current=configured, source=SECRET_VARIABLE, old=old)
    if database_url.startswith("sqlite"):
        key_file = key_file_for(database_url)
        pending = pending_key_file(key_file)
        if pending.exists() and key_file.exists():
            # `mentorbot rotate-key` is under way: the pending file holds the key it rotates to.
            return Secrets(
                current=read_key_file(pending),
                source=str(pending),
                old=read_key_file(key_file),
                old_source=str(key_file),
                pending_file=pending,
            )
    current = resolve_secret(configured=None, database_url=database_url, may_generate=may_generate)
    return Secrets(current=current, source=str(key_file_for(database_url)), old=old)


def open_keys(
    engine: Engine,
    *,
    configured: str | None,
    old: str | None,
    database_url: str,
    create: bool,
    now: datetime,
) -> Keys:
    """The keys this process encrypts and hashes with, checked against the database's key check.

    With `create` (the process that migrates) a database without a check gets one: a fresh one a
    random pepper, one written before the check existed the legacy pepper its hashes were made with.
    Raises SecretKeyError with one operator line when the key is missing, loose or not this database's.
    """
    given = locate_secrets(
        configured=configured,
        old=old,
        database_url=database_url,
        may_generate=lambda: create and not database_in_use(engine),
    )
    row = read_key_check(engine)
    if row is None and create:
        row = establish_key_check(engine, given, now=now)
    if row is None:
        raise SecretKeyError("key_checks: the database has no key check yet; run `mentorbot migrate` first")
    written_with, source = matching_secret(row.check, given)
    pepper = unwrap_pepper(row.pepper, written_with, source=source)
    return Keys.from_secret(given.current, pepper=pepper, old_secret=given.old)


def read_key_check(engine: Engine) -> KeyCheck | None:
    """The database's key check row, if it has one."""
    with Session(_reading(engine), expire_on_commit=False) as session, session.begin():
        return session.get(KeyCheck, KEY_CHECK_ID)


def matching_secret(check: str, given: Secrets) -> tuple[str, str]:
    """The given secret the check names, and its source; a one-line SecretKeyError if none does."""
    if check == key_check(given.current):
        return given.current, given.source
    if given.old is not None and check == key_check(given.old):
        return given.old, given.old_source
    raise SecretKeyError(_mismatch(given))


def _mismatch(given: Secrets) -> str:
    if given.old is not None:
        return (
            f"{given.source}, {given.old_source}: neither matches the key this database was written with; "
            f"set {OLD_SECRET_VARIABLE} to that key (or restore the key file)"
        )
    if given.source == SECRET_VARIABLE:
        return (
            f"{SECRET_VARIABLE}: does not match the key this database was written with; "
            f"set it to that key, or restore the key file and unset {SECRET_VARIABLE}"
        )
    return (
        f"{given.source}: does not match the key this database was written with; "
        f"restore the key file from your backup, or set {SECRET_VARIABLE} to that key"
    )


def _reading(engine: Engine) -> Engine:
    # A read needs no SQLite write lock: starting workers then never queue behind one another.
    return engine.execution_options(sqlite_begin="DEFERRED")


def establish_key_check(engine: Engine, given: Secrets, *, now: datetime) -> KeyCheck:
    """Store the key check and the wrapped pepper the first time the database meets a key."""
    try:
        with Session(engine, expire_on_commit=False) as session, session.begin():
            row = session.get(KeyCheck, KEY_CHECK_ID, with_for_update=True)
            if row is None:
                row = _new_key_check(session, given, now=now)
                session.add(row)
            return row
    except IntegrityError:
        # Another process stored its check between our read and our insert: that one counts.
        stored = read_key_check(engine)
        assert stored is not None
        return stored


def _new_key_check(session: Session, given: Secrets, *, now: datetime) -> KeyCheck:
    if _holds_data(session):
        # Written before the check existed: find the key from the data, keep the hashes' old pepper.
        secret = _secret_of_stored_text(session, given)
        pepper = legacy_pepper(secret)
    else:
        secret, pepper = given.current, os.urandom(PEPPER_BYTES)
    return KeyCheck(
        id=KEY_CHECK_ID, check=key_check(secret), pepper=wrap_pepper(pepper, secret), written_at=now
    )


def _secret_of_stored_text(session: Session, given: Secrets) -> str:
    token = first_encrypted_value(session)
    candidates = [given.current] + ([given.old] if given.old is not None else [])
    if token is None:
        return given.current
    for secret in candidates:
        try:
            secret_fernet(secret).decrypt(token.encode())
        except InvalidToken:
            continue
        return secret
    raise SecretKeyError(_mismatch(given))


def database_in_use(engine: Engine) -> bool:
    """Whether anything but the programs synced at start was ever written (a key check included)."""
    with Session(_reading(engine)) as session, session.begin():
        return _holds_data(session)


def _holds_data(session: Session) -> bool:
    existing = _existing_tables(session)
    for table in Base.metadata.sorted_tables:
        if table.name in _NOT_DATA or table.name not in existing:
            continue
        if session.execute(select(literal(1)).select_from(table).limit(1)).first() is not None:
            return True
    return False


def _existing_tables(session: Session) -> set[str]:
    # Only tables the migrations have created: a model can be ahead of the schema during development.
    return set(inspect(session.connection()).get_table_names())


def encrypted_columns(connection: Connection) -> list[tuple[Table, list[Column[Any]]]]:
    """Every mapped column of type EncryptedText, grouped by table and sorted by table name.

    Found by introspecting the models, so a column added later is covered without a change here;
    limited to the columns the database has (a model may be ahead of its migration while it is written).
    """
    schema = inspect(connection)
    existing = set(schema.get_table_names())
    found: dict[str, tuple[Table, list[Column[Any]]]] = {}
    for mapper in Base.registry.mappers:
        for column in mapper.columns:
            if isinstance(column, Column) and isinstance(column.type, EncryptedText):
                table = column.table
                assert isinstance(table, Table)
                entry = found.setdefault(table.name, (table, []))
                if column not in entry[1]:
                    entry[1].append(column)
    tables = [found[name] for name in sorted(found) if name in existing]
    return [(table, _present(schema, table, columns)) for table, columns in tables]


def _present(schema: Inspector, table: Table, columns: list[Column[Any]]) -> list[Column[Any]]:
    names = {column["name"] for column in schema.get_columns(table.name)}
    return [column for column in columns if column.name in names]


def raw_text(column: Column[Any]) -> Any:
    """The column as stored (the Fernet token), bypassing EncryptedText's decryption."""
    return type_coerce(column, Text)


def first_encrypted_value(session: Session) -> str | None:
    """Any one stored Fernet token, to tell which key the data was written with."""
    for table, columns in encrypted_columns(session.connection()):
        for column in columns:
            query = select(raw_text(column)).select_from(table).where(column.is_not(None)).limit(1)
            token = session.execute(query).scalar()
            if token is not None:
                return str(token)
    return None
