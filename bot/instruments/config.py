"""programs.yml's `instruments:` checked against the shipped catalogue.

The kernel validates the key's shape; which instruments exist, and that one rating the mentor goes by
`pair_months` (a mentee rates the mentor of one pair, some months into it) while the others go by a
calendar `cadence`, is known only here. Problems read like every other programs.yml problem:
``programs.yml: programs[0].instruments[1].id: 'mini-q' is not a shipped instrument (use ...)``.
"""

from __future__ import annotations

from bot.instruments.catalog import Instrument, shipped_instruments
from bot.kernel.programs import ConfigError, InstrumentSchedule, ProgramsConfig


def problem_of(schedule: InstrumentSchedule, catalogue: dict[str, Instrument]) -> tuple[str, str] | None:
    """(key, reason) when this schedule cannot be sent as configured, None when it can."""
    instrument = catalogue.get(schedule.id)
    if instrument is None:
        return "id", f"'{schedule.id}' is not a shipped instrument (use {', '.join(sorted(catalogue))})"
    if instrument.rates == "mentor" and not schedule.pair_months:
        return "cadence", f"{schedule.id} rates the mentor: use pair_months (like [3, 12]) instead"
    if instrument.rates != "mentor" and schedule.pair_months:
        return "pair_months", "only for instruments rating the mentor; use cadence: monthly or quarterly"
    return None


def check_instruments(config: ProgramsConfig, *, source: str) -> int:
    """Raise ConfigError naming every bad `instruments:` entry; return how many entries are scheduled."""
    catalogue = shipped_instruments()
    found, count = [], 0
    for p, program in enumerate(config.programs):
        for i, schedule in enumerate(program.instruments):
            count += 1
            problem = problem_of(schedule, catalogue)
            if problem is not None:
                found.append(f"programs[{p}].instruments[{i}].{problem[0]}: {problem[1]}")
    if found:
        raise ConfigError(source, found)
    return count
