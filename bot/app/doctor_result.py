"""One `mentorbot doctor` check's outcome and the line it prints."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Check:
    """What was checked; when it failed, why and what the operator should do. Never a secret."""

    ok: bool
    what: str
    reason: str = ""
    fix: str = ""

    def line(self) -> str:
        if self.ok:
            return f"✓ {self.what}"
        return f"✗ {self.what}: {self.reason} — fix: {self.fix}"


def passed(what: str) -> Check:
    return Check(ok=True, what=what)


def failed(what: str, reason: str, fix: str) -> Check:
    return Check(ok=False, what=what, reason=reason, fix=fix)
