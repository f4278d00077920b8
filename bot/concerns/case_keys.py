"""Case keys: the sender's only handle on an anonymous concern.

A key is 12 symbols of Crockford's base32 (60 random bits), shown as `K7QF-2M9X-PD4C`. Only a
keyed hash (HMAC under MENTORBOT_SECRET_KEY) is stored, so the database alone cannot be searched
for a key, and guessing one online is hopeless at 2^60.
"""

from __future__ import annotations

import secrets

from storage.crypto import Keys

# Crockford's base32: no I, L, O or U, so a key read aloud or copied by hand survives.
ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
LENGTH = 12
GROUP = 4
_LOOKALIKES = str.maketrans({"O": "0", "I": "1", "L": "1"})
_SEPARATORS = str.maketrans("", "", " -_.\t\n\u2010\u2011\u2012\u2013\u2014")
_PURPOSE = "concern-case-key"


def new_case_key() -> str:
    """A fresh random key, grouped for reading: `K7QF-2M9X-PD4C`."""
    raw = "".join(secrets.choice(ALPHABET) for _ in range(LENGTH))
    return "-".join(raw[i : i + GROUP] for i in range(0, LENGTH, GROUP))


def normalize_case_key(typed: str) -> str:
    """The key as stored for hashing: upper case, no spaces or dashes, look-alike letters mapped.

    Anything else (wrong length, stray symbols) is returned as typed so that it hashes to
    something that matches no concern: a malformed key is answered like an unknown one.
    """
    compact = typed.strip().upper().translate(_SEPARATORS).translate(_LOOKALIKES)
    return compact


def hash_case_key(keys: Keys, typed: str) -> str:
    """The stored form of a key (64 hex characters), from whatever the person typed."""
    return keys.keyed_hash(_PURPOSE, normalize_case_key(typed))
