"""Reading an operator's CSV file (rosters, HR snapshots, profiles, patient experience) the one way."""

from __future__ import annotations

import csv
from pathlib import Path


class CsvUnreadable(Exception):
    """The file cannot be read as CSV; its text is the operator's line, naming the file and why."""


def csv_lines(path: Path) -> list[tuple[int, list[str]]]:
    """The non-blank rows, each with the line it ended on (a quoted cell may span lines).

    UTF-8 with or without a byte-order mark, as spreadsheets save it. Raises CsvUnreadable when the
    file is missing, not UTF-8 or not CSV.
    """
    try:
        with path.open(encoding="utf-8-sig", newline="") as handle:
            reader = csv.reader(handle)
            found = [(reader.line_num, cells) for cells in reader]
    except FileNotFoundError:
        raise CsvUnreadable(f"{path}: file not found") from None
    except UnicodeDecodeError as exc:
        raise CsvUnreadable(f"{path}: is not UTF-8 text (byte {exc.start})") from None
    except csv.Error as exc:
        raise CsvUnreadable(f"{path}: not a readable CSV file ({exc})") from None
    return [(line, cells) for line, cells in found if any(cell.strip() for cell in cells)]
