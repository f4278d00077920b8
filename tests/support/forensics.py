"""Read a database the way a hostile operator would: from the raw files, not through the ORM.

SQLite: the `-wal` file is parsed frame by frame and grouped into transactions (a frame whose
"database size after commit" field is non-zero ends one); every page, from the WAL and from the main
file, is parsed as a b-tree page and its leaf cells decoded into records. PostgreSQL: after CHECKPOINT,
each table's heap file is read page by page and every tuple, live or dead, is taken with its `xmin`.

The attack (`link_senders`) is the one a holder of the files and the key would run: find each concern
(any value that decrypts under the key to a known concern text), take everything written in the same
transaction, and test every enrolled user id against every value there — the id itself, any keyed hash
of it, and any keyed hash of (some stored 64-hex value, id), which is how a per-day salted hash falls.
"""

from __future__ import annotations

import re
import struct
from collections import defaultdict
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

from cryptography.fernet import InvalidToken

from storage.crypto import Keys

Value = int | float | bytes | str | None
FERNET = re.compile(rb"gAAAAA[A-Za-z0-9_\-]+=*")
HEX_RUN = re.compile(rb"[0-9a-f]{64,}")
# Purposes a hostile reader would try: every label the code (old or new) passes to keyed_hash.
PURPOSES = ("concern-quota", "concern-case-key", "concern-sender", "climate", "checkin", "people")


# --- SQLite ---------------------------------------------------------------------------------------------


def wal_transactions(wal: Path) -> list[list[bytes]]:
    """The committed transactions in a WAL file, oldest first, each as the page images it wrote."""
    data = wal.read_bytes() if wal.exists() else b""
    if len(data) < 32:
        return []
    page_size = struct.unpack(">I", data[8:12])[0]
    salts = data[16:24]
    done: list[list[bytes]] = []
    pending: list[bytes] = []
    for offset in range(32, len(data) - 24 - page_size + 1, 24 + page_size):
        header = data[offset : offset + 24]
        if header[8:16] != salts:
            break  # frames left over from before the last reset
        pending.append(data[offset + 24 : offset + 24 + page_size])
        if struct.unpack(">I", header[4:8])[0]:
            done.append(pending)
            pending = []
    return done


def main_file_pages(path: Path) -> list[bytes]:
    data = path.read_bytes()
    page_size = struct.unpack(">H", data[16:18])[0] or 65536
    return [data[i : i + page_size] for i in range(0, len(data), page_size)]


def page_records(page: bytes, *, first_page: bool = False) -> list[list[Value]]:
    """Decode the records of a b-tree leaf page (table leaf 0x0D or index leaf 0x0A, which is how
    WITHOUT ROWID tables are stored); other pages give nothing. Overflowing payloads are cut."""
    base = 100 if first_page else 0
    kind = page[base] if len(page) > base else 0
    if kind not in (0x0A, 0x0D):
        return []
    cells = struct.unpack(">H", page[base + 3 : base + 5])[0]
    records = []
    for i in range(cells):
        pointer = struct.unpack(">H", page[base + 8 + 2 * i : base + 10 + 2 * i])[0]
        try:
            records.append(_cell_record(page, pointer, table=kind == 0x0D))
        except (IndexError, struct.error, ValueError):
            continue
    return records


def _varint(buf: bytes, at: int) -> tuple[int, int]:
    value = 0
    for i in range(9):
        byte = buf[at + i]
        if i == 8:
            return (value << 8) | byte, at + 9
        value = (value << 7) | (byte & 0x7F)
        if byte < 0x80:
            return value, at + i + 1
    raise ValueError("varint")


def _cell_record(page: bytes, at: int, *, table: bool) -> list[Value]:
    size, at = _varint(page, at)
    if table:
        _rowid, at = _varint(page, at)
    payload = page[at : at + size]
    header_len, pos = _varint(payload, 0)
    types = []
    while pos < header_len:
        serial, pos = _varint(payload, pos)
        types.append(serial)
    values: list[Value] = []
    body = header_len
    for serial in types:
        value, length = _column(payload, body, serial)
        values.append(value)
        body += length
    return values


def _column(payload: bytes, at: int, serial: int) -> tuple[Value, int]:
    widths = {1: 1, 2: 2, 3: 3, 4: 4, 5: 6, 6: 8}
    if serial in (0, 8, 9):
        return (None if serial == 0 else serial - 8), 0
    if serial in widths:
        n = widths[serial]
        return int.from_bytes(payload[at : at + n], "big", signed=True), n
    if serial == 7:
        return struct.unpack(">d", payload[at : at + 8])[0], 8
    n = (serial - 12) // 2 if serial % 2 == 0 else (serial - 13) // 2
    raw = payload[at : at + n]
    return (raw if serial % 2 == 0 else raw.decode("utf-8", "replace")), n


def record_values(pages: Iterable[bytes], *, first_page_index: int | None = None) -> list[Value]:
    found: list[Value] = []
    for index, page in enumerate(pages):
        for record in page_records(page, first_page=index == first_page_index):
            found.extend(record)
    return found


# --- PostgreSQL -----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Tuple:
    table: str
    ctid: tuple[int, int]
    xmin: int
    raw: bytes


def heap_tuples(table: str, path: Path) -> Iterator[Tuple]:
    """Every tuple in a heap file with LP_NORMAL line pointers: live and dead alike."""
    data = path.read_bytes() if path.exists() else b""
    for block in range(len(data) // 8192):
        page = data[block * 8192 : (block + 1) * 8192]
        lower = struct.unpack("<H", page[12:14])[0]
        for index, at in enumerate(range(24, lower, 4), start=1):
            word = struct.unpack("<I", page[at : at + 4])[0]
            offset, flags, length = word & 0x7FFF, (word >> 15) & 0x3, word >> 17
            if flags != 1 or not length:
                continue
            raw = page[offset : offset + length]
            yield Tuple(table, (block, index), struct.unpack("<I", raw[0:4])[0], raw)


# --- the attack -----------------------------------------------------------------------------------------


def _strings(values: Iterable[Value]) -> list[bytes]:
    out = []
    for value in values:
        if isinstance(value, str):
            out.append(value.encode())
        elif isinstance(value, bytes):
            out.append(value)
    return out


def decrypt_all(keys: Keys, blob: bytes) -> list[str]:
    """Every Fernet token in `blob` that the key opens, as text."""
    plain = []
    for token in FERNET.findall(blob):
        try:
            plain.append(keys.fernet.decrypt(token).decode("utf-8", "replace"))
        except InvalidToken:
            continue
    return plain


def hex64_values(blob: bytes) -> set[bytes]:
    """Every 64-hex-digit string in `blob`, including those glued to neighbouring hex digits (a record
    stores `2026-11-23` and a key side by side)."""
    found = set()
    for run in HEX_RUN.findall(blob):
        found.update(run[i : i + 64] for i in range(len(run) - 63))
    return found


def _derived(keys: Keys, user_id: str, salts: Iterable[bytes]) -> set[bytes]:
    values = {user_id.encode()}
    for purpose in PURPOSES:
        values.add(keys.keyed_hash(purpose, user_id).encode())
        values.update(keys.keyed_hash(purpose, f"{salt.decode()}:{user_id}").encode() for salt in salts)
    return values


def link_senders(
    units: list[list[bytes]], *, keys: Keys, texts: Iterable[str], user_ids: Iterable[str], everything: bytes
) -> dict[str, set[str]]:
    """For each concern text, the user ids that the transaction which first wrote it names.

    `units` are transactions in commit order, each a list of stored values (a record's strings, or a
    tuple's bytes); only what a transaction adds to what came before counts, as an attacker would diff
    successive WAL images of a page. `everything` is all the bytes held; 64-hex values in it are tried
    as salts.
    """
    salts = hex64_values(everything)
    derived = {user_id: _derived(keys, user_id, salts) for user_id in user_ids}
    wanted = set(texts)
    named: dict[str, set[str]] = defaultdict(set)
    seen: set[bytes] = set()
    for unit in units:
        fresh = [value for value in unit if value not in seen]
        seen.update(unit)
        found = set(decrypt_all(keys, b"\0".join(fresh))) & wanted
        for text in found:
            named[text] |= {
                user_id for user_id, values in derived.items() if any(v in f for v in values for f in fresh)
            }
    return dict(named)  # only the texts actually found and decrypted in the files


def link_senders_postgres(
    tuples: list[Tuple], *, keys: Keys, texts: Iterable[str], user_ids: Iterable[str]
) -> dict[str, set[str]]:
    """For each concern text found in the heap, the user ids named by tuples of its transaction.

    A tuple's xmin is its writing transaction; a savepoint inside it writes under a subtransaction id,
    which PostgreSQL assigns right after its parent's. So the transaction of a concern with xmin X is
    taken to be every tuple of another table with X <= xmin <= X + SUBXACTS — generous on purpose.
    """
    everything = b"".join(row.raw for row in tuples)
    derived = {user_id: _derived(keys, user_id, hex64_values(everything)) for user_id in user_ids}
    wanted, named = set(texts), {}
    for row in tuples:
        for text in set(decrypt_all(keys, row.raw)) & wanted:
            near = [
                o.raw for o in tuples if o.table != row.table and row.xmin <= o.xmin <= row.xmin + SUBXACTS
            ]
            named[text] = {
                u for u, values in derived.items() if any(v in raw for v in values for raw in near)
            }
    return named


SUBXACTS = 4


def sqlite_units(db: Path) -> tuple[list[list[bytes]], bytes]:
    """Each WAL transaction's values in commit order, then the main file's leaf pages one by one."""
    wal = Path(f"{db}-wal")
    units = [_strings(record_values(tx)) for tx in wal_transactions(wal)]
    pages = main_file_pages(db)
    units += [
        _strings(record_values([page], first_page_index=0 if i == 0 else None))
        for i, page in enumerate(pages)
    ]
    everything = db.read_bytes() + (wal.read_bytes() if wal.exists() else b"")
    return units, everything
