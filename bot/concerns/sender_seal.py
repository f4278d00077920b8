"""The seal on a sender's status view: proof that whoever replies or closes opened the case with its key.

The status view's `private_metadata` is `<concern id>.<seal>`, where the seal is a keyed hash of the id
and the case key's stored hash. Concern ids are not secret — coordinators see them in button values —
so an id alone must never let anyone speak or act as the sender. Someone holding the signing secret can
forge a request, but not a seal without the secret key. Nothing about the sender is in it.
"""

from __future__ import annotations

import hmac

from storage.crypto import Keys
from storage.models import Concern

_PURPOSE = "concern-sender"
_LENGTH = 32  # hex digits: 128 bits, far beyond online guessing


def seal(keys: Keys, concern: Concern) -> str:
    """The status view's private_metadata for `concern`."""
    return f"{concern.id}.{_mac(keys, concern.id, concern.key_hash)}"


def concern_id_of(sealed: str) -> str:
    """The concern id a sealed value claims (not yet verified)."""
    return sealed.partition(".")[0]


def verified(keys: Keys, concern: Concern | None, sealed: str) -> bool:
    """Whether `sealed` was issued for `concern` by this bot."""
    claimed_id, _, mac = sealed.partition(".")
    if concern is None or claimed_id != concern.id or len(mac) != _LENGTH:
        return False
    return hmac.compare_digest(mac, _mac(keys, concern.id, concern.key_hash))


def _mac(keys: Keys, concern_id: str, key_hash: str) -> str:
    return keys.keyed_hash(_PURPOSE, f"{concern_id}:{key_hash}")[:_LENGTH]
