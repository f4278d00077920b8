"""Day arithmetic that compiles on SQLite and PostgreSQL, so medians of day counts stay in SQL."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Integer
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.functions import FunctionElement

# julianday() of 1970-01-01 00:00 UTC.
_UNIX_EPOCH_JULIAN = 2440587.5


class day_of_date(FunctionElement[int]):  # noqa: N801 - SQL function names are lower case
    """Whole days since 1970-01-01 of a DATE column."""

    type = Integer()
    inherit_cache = True


class day_of_utc(FunctionElement[int]):  # noqa: N801
    """Whole days since 1970-01-01 of the UTC date of a UTC datetime column."""

    type = Integer()
    inherit_cache = True


@compiles(day_of_date, "sqlite")
@compiles(day_of_utc, "sqlite")
def _sqlite_day(element: FunctionElement[int], compiler: Any, **kw: Any) -> str:
    # SQLite keeps both as ISO text (UTC wall time for datetimes); date() drops the time of day.
    return (
        f"CAST(julianday(date({compiler.process(element.clauses, **kw)})) - {_UNIX_EPOCH_JULIAN} AS INTEGER)"
    )


@compiles(day_of_date, "postgresql")
def _pg_day_of_date(element: FunctionElement[int], compiler: Any, **kw: Any) -> str:
    return f"(({compiler.process(element.clauses, **kw)}) - DATE '1970-01-01')"


@compiles(day_of_utc, "postgresql")
def _pg_day_of_utc(element: FunctionElement[int], compiler: Any, **kw: Any) -> str:
    # AT TIME ZONE 'UTC' so the session's TimeZone setting cannot move the day.
    return (
        f"(CAST(({compiler.process(element.clauses, **kw)}) AT TIME ZONE 'UTC' AS DATE) - DATE '1970-01-01')"
    )


def median_from_histogram(counts: list[tuple[int, int]]) -> float | None:
    """Median of values given as (value, how many) pairs, as GROUP BY value returns them."""
    total = sum(count for _, count in counts)
    if total == 0:
        return None
    ordered = sorted(counts)
    lower = _nth(ordered, (total - 1) // 2)
    upper = _nth(ordered, total // 2)
    return (lower + upper) / 2


def _nth(ordered: list[tuple[int, int]], index: int) -> int:
    seen = 0
    for value, count in ordered:
        seen += count
        if index < seen:
            return value
    raise IndexError(index)
