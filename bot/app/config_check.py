"""What `mentorbot check-config` and `mentorbot doctor` both validate: programs.yml and what it names."""

from __future__ import annotations

from pathlib import Path

from bot.instruments.config import check_instruments
from bot.kernel.programs import ProgramsConfig, load_programs, summarize
from bot.tracks.catalog import check_all


def check_programs_file(path: Path) -> tuple[ProgramsConfig, str]:
    """The file, every track file it names and every instrument schedule; raises ConfigError naming each
    problem. Returns the configuration and a one-line summary of it."""
    config = load_programs(path)
    tracks = check_all(config.programs, programs_file=path)
    surveys = check_instruments(config, source=str(path))
    return config, f"{summarize(config)}; {tracks} tracks; {surveys} instrument surveys"
