"""The test programs with matching switched on for img-2026 (nursing-2026 stays without it)."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.kernel.programs import ProgramsConfig, load_programs

MATCHING_PROGRAMS = Path(__file__).resolve().parents[1] / "data" / "matching_programs.yml"


@pytest.fixture
def programs() -> ProgramsConfig:
    return load_programs(MATCHING_PROGRAMS)
