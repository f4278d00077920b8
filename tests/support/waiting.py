"""Waiting for work a lazy listener does on Bolt's thread pool after the HTTP response (not a scheduler)."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any


def wait_until(condition: Callable[[], Any], what: str = "condition", timeout: float = 5.0) -> Any:
    """Poll `condition` every 10 ms until it is truthy; return its value or fail naming `what`."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        result = condition()
        if result:
            return result
        time.sleep(0.01)
    raise AssertionError(f"{what} did not happen within {timeout}s")
