"""cme service (filled in by its feature issue)."""

from __future__ import annotations

from typing import Any

from bot.deps import Deps


def cme_command(deps: Deps, **kwargs: Any) -> int:
    """Not built yet: says so and exits 2."""
    import sys

    sys.stderr.write("mentorbot: this command is not built yet\n")
    return 2
