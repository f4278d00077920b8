"""Encryption of free text at rest and keyed hashing, from one process secret."""

from __future__ import annotations

import base64
import hashlib
import hmac
import logging
import os
import secrets
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cryptography.fernet import Fernet, InvalidToken
from sqlalchemy import Dialect, Text
from sqlalchemy.types import TypeDecorator

log = logging.getLogger(__name__)


class SecretKeyError(Exception):
    """The secret key is missing or unusable; the message names the variable or file."""


@dataclass(frozen=True)
class Keys:
    """Subkeys derived from MENTORBOT_SECRET_KEY: one for Fernet, one for HMAC."""

    fernet: Fernet
    hmac_key: bytes

    @classmethod
    def from_secret(cls, secret: str) -> Keys:
        if len(secret) < 32:
            raise SecretKeyError("MENTORBOT_SECRET_KEY: must be at least 32 characters")
        master = secret.encode()
        enc = hmac.new(master, b"mentorbot/fernet", hashlib.sha256).digest()
        mac = hmac.new(master, b"mentorbot/hmac", hashlib.sha256).digest()
        return cls(fernet=Fernet(base64.urlsafe_b64encode(enc)), hmac_key=mac)

    def keyed_hash(self, purpose: str, value: str) -> str:
        """HMAC-SHA256 of `value` under a purpose-specific subkey, hex encoded."""
        key = hmac.new(self.hmac_key, purpose.encode(), hashlib.sha256).digest()
        return hmac.new(key, value.encode(), hashlib.sha256).hexdigest()


def resolve_secret(*, configured: str | None, database_url: str) -> str:
    """The configured secret, or on SQLite one generated once into a 0600 file beside the database."""
    if configured:
        return configured
    if not database_url.startswith("sqlite"):
        raise SecretKeyError(
            "MENTORBOT_SECRET_KEY: required with PostgreSQL (free text is encrypted at rest)"
        )
    key_file = _key_file_for(database_url)
    if key_file.exists():
        return key_file.read_text().strip()
    key_file.parent.mkdir(parents=True, exist_ok=True)
    secret = secrets.token_urlsafe(48)
    fd = os.open(key_file, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as handle:
        handle.write(secret + "\n")
    log.warning("generated a secret key in %s (mode 0600); back it up, or set MENTORBOT_SECRET_KEY", key_file)
    return secret


def _key_file_for(database_url: str) -> Path:
    path = database_url.split(":///", 1)[1] if ":///" in database_url else ""
    if not path or path == ":memory:":
        return Path("mentorbot.key")
    return Path(path).with_name(Path(path).name + ".key")


_active: Keys | None = None


def install_keys(keys: Keys) -> None:
    """Make `keys` the ones EncryptedText columns use in this process."""
    global _active
    _active = keys


def active_keys() -> Keys:
    if _active is None:
        raise SecretKeyError("MENTORBOT_SECRET_KEY: no key installed; call install_keys() at start")
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
                "MENTORBOT_SECRET_KEY: cannot decrypt stored text; is this the key it was written with?"
            ) from None
