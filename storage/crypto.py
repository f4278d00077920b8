"""Encryption of free text at rest and keyed hashing, from one process secret and a lookup pepper.

Free text is Fernet-encrypted under a subkey of MENTORBOT_SECRET_KEY. Lookups (case keys, quota
counters) are HMACs under the *lookup pepper*: random bytes stored in the database wrapped under the
secret (see storage.keyring), so that rotating the secret re-wraps the pepper and every stored hash
stays valid. Databases from before the pepper use the old secret-derived HMAC subkey as their pepper.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import logging
import os
import secrets
import stat
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from sqlalchemy import Dialect, Text
from sqlalchemy.types import TypeDecorator

log = logging.getLogger(__name__)

SECRET_VARIABLE = "MENTORBOT_SECRET_KEY"
OLD_SECRET_VARIABLE = "MENTORBOT_OLD_SECRET_KEY"
_CHECK_LABEL = b"mentorbot/key-check"


class SecretKeyError(Exception):
    """The secret key is missing or unusable; the message names the variable or file."""


def require_secret_length(secret: str, *, source: str) -> None:
    """Refuse a secret too short to be a key; `source` names the variable or file it came from."""
    if len(secret) < 32:
        raise SecretKeyError(f"{source}: must be at least 32 characters")


def secret_fernet(secret: str) -> Fernet:
    """The Fernet that encrypts free text (and wraps the pepper) under this secret."""
    enc = hmac.new(secret.encode(), b"mentorbot/fernet", hashlib.sha256).digest()
    return Fernet(base64.urlsafe_b64encode(enc))


def legacy_pepper(secret: str) -> bytes:
    """The HMAC subkey every keyed hash used before the pepper was stored: existing hashes need it."""
    return hmac.new(secret.encode(), b"mentorbot/hmac", hashlib.sha256).digest()


def key_check(secret: str) -> str:
    """A value that tells whether a secret is the one a database was written with; reveals nothing of it."""
    return hmac.new(secret.encode(), _CHECK_LABEL, hashlib.sha256).hexdigest()


@dataclass(frozen=True)
class Keys:
    """The Fernet for free text (reading any listed secret, writing with the first) and the pepper."""

    fernet: Fernet | MultiFernet
    hmac_key: bytes

    @classmethod
    def from_secret(cls, secret: str, *, pepper: bytes | None = None, old_secret: str | None = None) -> Keys:
        """Keys for `secret`; during a rotation `old_secret` still decrypts what it wrote.

        Without `pepper` the legacy derivation is used (what databases written before it hold).
        """
        require_secret_length(secret, source=SECRET_VARIABLE)
        fernet: Fernet | MultiFernet = secret_fernet(secret)
        if old_secret is not None and old_secret != secret:
            require_secret_length(old_secret, source=OLD_SECRET_VARIABLE)
            fernet = MultiFernet([secret_fernet(secret), secret_fernet(old_secret)])
        return cls(fernet=fernet, hmac_key=legacy_pepper(secret) if pepper is None else pepper)

    def keyed_hash(self, purpose: str, value: str) -> str:
        """HMAC-SHA256 of `value` under a purpose-specific subkey of the pepper, hex encoded."""
        key = hmac.new(self.hmac_key, purpose.encode(), hashlib.sha256).digest()
        return hmac.new(key, value.encode(), hashlib.sha256).hexdigest()


def key_file_for(database_url: str) -> Path:
    """Where the generated secret of a SQLite database lives: `<database>.key` beside it."""
    path = database_url.split(":///", 1)[1].split("?", 1)[0] if ":///" in database_url else ""
    if not path or path == ":memory:":
        return Path("mentorbot.key")
    return Path(path).with_name(Path(path).name + ".key")


def pending_key_file(key_file: Path) -> Path:
    """Where `mentorbot rotate-key` keeps the new key until the rotation has finished."""
    return key_file.with_name(key_file.name + ".new")


def read_key_file(key_file: Path) -> str:
    """The secret in a key file, refusing one that group or others may read or change."""
    mode = stat.S_IMODE(key_file.stat().st_mode)
    if mode & 0o077:
        how = "readable" if mode & 0o044 else "writable"
        raise SecretKeyError(
            f"{key_file}: {how} by group or others (mode {mode:04o}); run chmod 600 {key_file}"
        )
    secret = key_file.read_text().strip()
    require_secret_length(secret, source=str(key_file))
    return secret


def write_key_file(key_file: Path) -> str:
    """Generate a secret into a new file, mode 0600 from the start; if another process won, read its."""
    key_file.parent.mkdir(parents=True, exist_ok=True)
    secret = secrets.token_urlsafe(48)
    try:
        fd = os.open(key_file, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return read_key_file(key_file)
    with os.fdopen(fd, "w") as handle:
        handle.write(secret + "\n")
        handle.flush()
        os.fsync(handle.fileno())
    return secret


def resolve_secret(*, configured: str | None, database_url: str, may_generate: Callable[[], bool]) -> str:
    """The configured secret, or on SQLite the one in the 0600 key file beside the database.

    The file is generated only when `may_generate()` (a database nothing was written to yet): a
    missing key file in front of existing data is an error, never silently a new key.
    """
    if configured:
        return configured
    if not database_url.startswith("sqlite"):
        raise SecretKeyError(f"{SECRET_VARIABLE}: required with PostgreSQL (free text is encrypted at rest)")
    key_file = key_file_for(database_url)
    if key_file.exists():
        return read_key_file(key_file)
    if not may_generate():
        raise SecretKeyError(
            f"{key_file}: missing, but {key_file.with_suffix('')} already holds data written with a key; "
            f"restore the key file from your backup, or set {SECRET_VARIABLE} to that key"
        )
    secret = write_key_file(key_file)
    log.warning("generated a secret key in %s (mode 0600); back it up, or set %s", key_file, SECRET_VARIABLE)
    return secret


def wrap_pepper(pepper: bytes, secret: str) -> str:
    """The pepper encrypted under `secret`, as stored in the key check row."""
    return secret_fernet(secret).encrypt(pepper).decode()


def unwrap_pepper(wrapped: str, secret: str, *, source: str) -> bytes:
    """The pepper from its stored form; `source` names the key for the error line."""
    try:
        return secret_fernet(secret).decrypt(wrapped.encode())
    except InvalidToken:
        raise SecretKeyError(
            f"{source}: matches the key check but cannot unwrap the lookup pepper; "
            "the key_checks row is damaged: restore it from a backup"
        ) from None


_active: Keys | None = None


def install_keys(keys: Keys) -> None:
    """Make `keys` the ones EncryptedText columns use in this process."""
    global _active
    _active = keys


def active_keys() -> Keys:
    if _active is None:
        raise SecretKeyError(f"{SECRET_VARIABLE}: no key installed; call install_keys() at start")
    return _active


class EncryptedText(TypeDecorator[str]):
    """Text stored as a Fernet token: readable by the bot, opaque in the database file."""

    impl = Text
    cache_ok = True

    def process_bind_param(self, value: Any, dialect: Dialect) -> str | None:
        if value is None:
            return None
        return active_keys().fernet.encrypt(str(value).encode()).decode()

    def process_result_value(self, value: Any, dialect: Dialect) -> str | None:
        if value is None:
            return None
        try:
            return active_keys().fernet.decrypt(value.encode()).decode()
        except InvalidToken:
            raise SecretKeyError(
                f"{SECRET_VARIABLE}: cannot decrypt stored text; is this the key it was written with?"
            ) from None
