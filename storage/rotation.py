"""Re-encrypt every EncryptedText value from an old secret to a new one, in batches, resumably.

State lives in the database: a `key_rotations` row names the new key's check value, and one
`key_rotation_cursors` row per table records the primary key of the last row re-encrypted, committed
in the same transaction as the batch. An interrupted run resumes there when started again. While it
runs, processes started with both keys read either (MultiFernet) and write with the new one. At the
end, in one transaction, the pepper is re-wrapped under the new key and the key check becomes the new
key's, so keyed hashes (case keys) stay valid.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import Any

from cryptography.fernet import InvalidToken, MultiFernet
from sqlalchemy import (
    Column,
    ColumnElement,
    Engine,
    Row,
    Select,
    Table,
    Text,
    delete,
    select,
    tuple_,
    type_coerce,
)
from sqlalchemy import update as sql_update
from sqlalchemy.orm import Session

from storage.crypto import (
    OLD_SECRET_VARIABLE,
    SECRET_VARIABLE,
    SecretKeyError,
    key_check,
    key_file_for,
    pending_key_file,
    secret_fernet,
    unwrap_pepper,
    wrap_pepper,
    write_key_file,
)
from storage.keyring import Secrets, database_in_use, encrypted_columns, locate_secrets, open_keys, raw_text
from storage.models.keys import KEY_CHECK_ID, KeyCheck, KeyRotation, KeyRotationCursor
from storage.scrub import scrub

BATCH_SIZE = 500


@dataclass(frozen=True)
class BatchDone:
    """One committed batch: the table, rows read, values re-encrypted, and whether the table is done."""

    table: str
    rows: int
    values: int
    table_done: bool


@dataclass(frozen=True)
class RotationResult:
    """What one run did; `finished` once the database's key check is the new key's."""

    finished: bool
    already_done: bool
    batches: int
    values: int


def rotation_secrets(
    engine: Engine, *, configured: str | None, old: str | None, database_url: str, now: datetime
) -> Secrets:
    """The secrets to rotate from and to, checked against the database.

    With MENTORBOT_SECRET_KEY set, MENTORBOT_OLD_SECRET_KEY must be too. On SQLite with the generated
    key file and neither set, a new key is generated into `<key file>.new` (mode 0600), which the
    rotation moves over the key file when it has finished.
    """

    def locate() -> Secrets:
        return locate_secrets(
            configured=configured,
            old=old,
            database_url=database_url,
            may_generate=lambda: not database_in_use(engine),
        )

    given = locate()
    if given.old is None:
        if configured or not database_url.startswith("sqlite"):
            raise SecretKeyError(
                f"{OLD_SECRET_VARIABLE}: required by rotate-key; set it to the key the database was "
                f"written with and {SECRET_VARIABLE} to the new key"
            )
        # Confirm the key file is this database's key before generating the one to rotate to.
        open_keys(engine, configured=None, old=None, database_url=database_url, create=True, now=now)
        write_key_file(pending_key_file(key_file_for(database_url)))
        given = locate()
    open_keys(engine, configured=configured, old=old, database_url=database_url, create=True, now=now)
    return given


def rotate_key(
    engine: Engine,
    given: Secrets,
    *,
    now: datetime,
    batch_size: int = BATCH_SIZE,
    max_batches: int | None = None,
    after_batch: Callable[[BatchDone], None] | None = None,
) -> RotationResult:
    """Re-encrypt all EncryptedText columns from `given.old` to `given.current`; resumable.

    Each batch of `batch_size` rows is one transaction with its cursor. Stops unfinished after
    `max_batches`; `after_batch` is called after each commit. Run again to continue.
    """
    if given.old is None:
        raise SecretKeyError(f"{OLD_SECRET_VARIABLE}: required by rotate-key")
    if not _begin(engine, given, now=now):
        return RotationResult(finished=True, already_done=True, batches=0, values=0)
    multi = MultiFernet([secret_fernet(given.current), secret_fernet(given.old)])
    new_check, batches, values = key_check(given.current), 0, 0
    with engine.connect() as connection:
        tables = encrypted_columns(connection)
    for table, columns in tables:
        while True:
            if max_batches is not None and batches >= max_batches:
                return RotationResult(finished=False, already_done=False, batches=batches, values=values)
            done = _rotate_batch(engine, table, columns, multi=multi, new_check=new_check, size=batch_size)
            if done is None:
                break
            batches, values = batches + 1, values + done.values
            if after_batch is not None:
                after_batch(done)
    _finish(engine, given, now=now)
    # Old ciphertext must not outlive the rotation in the WAL or in dead tuples (the old key may be why
    # the key was rotated).
    scrub(engine, tables=[table.name for table, _ in tables])
    return RotationResult(finished=True, already_done=False, batches=batches, values=values)


def promote_pending_key(given: Secrets) -> Path | None:
    """After a finished rotation of the SQLite key file, move the new key over the old one."""
    if given.pending_file is None or not given.pending_file.exists():
        return None
    key_file = given.pending_file.with_name(given.pending_file.name.removesuffix(".new"))
    os.replace(given.pending_file, key_file)  # atomic; the file keeps its 0600 mode
    return key_file


def _begin(engine: Engine, given: Secrets, *, now: datetime) -> bool:
    """Record the rotation (or find the one under way); False when the database already has the new key."""
    assert given.old is not None
    if given.old == given.current:
        raise SecretKeyError(f"{SECRET_VARIABLE}: is the same as {OLD_SECRET_VARIABLE}; set it to a new key")
    new_check = key_check(given.current)
    with Session(engine) as session, session.begin():
        row = session.get(KeyCheck, KEY_CHECK_ID, with_for_update=True)
        if row is None:
            raise SecretKeyError(
                "key_checks: the database has no key check yet; run `mentorbot migrate` first"
            )
        under_way = session.scalars(select(KeyRotation).with_for_update()).first()
        if under_way is not None and under_way.new_check != new_check:
            raise SecretKeyError(
                f"{given.source}: differs from the key of the rotation under way (started "
                f"{under_way.started_at:%Y-%m-%d}); run rotate-key again with that key"
            )
        if under_way is None and row.check == new_check:
            return False
        if row.check != key_check(given.old):
            raise SecretKeyError(
                f"{given.old_source}: does not match the key this database was written with; "
                "set it to that key"
            )
        if under_way is None:
            session.add(KeyRotation(new_check=new_check, started_at=now))
    return True


def _rotate_batch(
    engine: Engine, table: Table, columns: list[Column[Any]], *, multi: MultiFernet, new_check: str, size: int
) -> BatchDone | None:
    """Re-encrypt the next `size` rows of `table` after its cursor; None when the table is done."""
    with Session(engine) as session, session.begin():
        # Locking the rotation row makes concurrent runs take turns instead of racing on cursors.
        session.get(KeyRotation, new_check, with_for_update=True)
        cursor = session.get(KeyRotationCursor, (new_check, table.name))
        if cursor is None:
            cursor = KeyRotationCursor(new_check=new_check, table_name=table.name, after=None, done=False)
            session.add(cursor)
        elif cursor.done:
            return None
        rows = session.execute(_batch_query(table, columns, cursor.after, size)).all()
        values = sum(_reencrypt_row(session, table, columns, row, multi) for row in rows)
        if rows:
            cursor.after = _encode_key(table, rows[-1])
        cursor.done = len(rows) < size
        return BatchDone(table=table.name, rows=len(rows), values=values, table_done=cursor.done)


def _batch_query(table: Table, columns: list[Column[Any]], after: list[Any] | None, size: int) -> Select[Any]:
    keys = list(table.primary_key.columns)
    # FOR UPDATE (PostgreSQL): the bot must not change a value between our read and our write.
    query = select(*keys, *(raw_text(c) for c in columns)).order_by(*keys).limit(size).with_for_update()
    if after is None:
        return query
    return query.where(_after(keys, [_decode(c, v) for c, v in zip(keys, after, strict=True)]))


def _after(keys: Sequence[Column[Any]], values: list[Any]) -> ColumnElement[bool]:
    if len(keys) == 1:
        single: ColumnElement[bool] = keys[0] > values[0]
        return single
    return tuple_(*keys) > tuple_(*values)


def _reencrypt_row(
    session: Session, table: Table, columns: list[Column[Any]], row: Row[Any], multi: MultiFernet
) -> int:
    keys = list(table.primary_key.columns)
    tokens = row[len(keys) :]
    changed = {
        column.name: type_coerce(_rotate(multi, token, table, column), Text)
        for column, token in zip(columns, tokens, strict=True)
        if token is not None
    }
    if changed:
        where = [key == value for key, value in zip(keys, row[: len(keys)], strict=True)]
        session.execute(sql_update(table).where(*where).values(changed))
    return len(changed)


def _rotate(multi: MultiFernet, token: str, table: Table, column: Column[Any]) -> str:
    try:
        return multi.rotate(token.encode()).decode()
    except InvalidToken:
        raise SecretKeyError(
            f"{table.name}.{column.name}: a stored value decrypts with neither the old nor the new key; "
            "rotation stopped with nothing lost: check both keys and run rotate-key again"
        ) from None


def _encode_key(table: Table, row: Row[Any]) -> list[Any]:
    values = row[: len(table.primary_key.columns)]
    return [v.isoformat() if isinstance(v, date) else v for v in values]


def _decode(column: Column[Any], value: Any) -> Any:
    try:
        kind = column.type.python_type
    except NotImplementedError:
        return value
    if issubclass(kind, datetime):
        return datetime.fromisoformat(value)
    if issubclass(kind, date):
        return date.fromisoformat(value)
    return value


def _finish(engine: Engine, given: Secrets, *, now: datetime) -> None:
    """Re-wrap the pepper and switch the key check to the new key, ending the rotation, in one go."""
    assert given.old is not None
    new_check = key_check(given.current)
    with Session(engine) as session, session.begin():
        rotation = session.get(KeyRotation, new_check, with_for_update=True)
        if rotation is None:
            return  # a concurrent run finished it
        row = session.get(KeyCheck, KEY_CHECK_ID, with_for_update=True)
        assert row is not None
        pepper = unwrap_pepper(row.pepper, given.old, source=given.old_source)
        row.check, row.pepper, row.written_at = new_check, wrap_pepper(pepper, given.current), now
        session.execute(delete(KeyRotationCursor).where(KeyRotationCursor.new_check == new_check))
        session.delete(rotation)
