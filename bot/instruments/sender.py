"""Instrument survey DMs, each exactly once per (program, mentee, instrument, period).

Claimed, fenced, recovered and retried by bot.slack.claimed_dms, like track DMs: a survey is claimed by
inserting its unique row with this tick's token before it goes out, and a claim whose process died, or
a send that failed ambiguously, is looked for in the mentee's DM by its metadata before it goes again.
"""

from __future__ import annotations

from collections import Counter
from datetime import datetime
from typing import Any

from bot.instruments.blocks import metadata, survey_message
from bot.instruments.catalog import shipped_instruments
from bot.instruments.release import Closed, close_due
from bot.instruments.surveys import GRACE, Due, surveys_due
from bot.kernel.deps import Deps
from bot.slack.claimed_dms import LEASE, ClaimedDmTick, Message
from storage.repositories import instruments as repo


def run_due(deps: Deps, now: datetime) -> list[str]:
    """Close the answer periods past their close (bot.instruments.release), then claim and send every
    survey due at `now`; one line per closed period, and per program and outcome."""
    closed = [closed_line(c) for c in close_due(deps, now)]
    return closed + SurveyTick(deps, now).run()


def closed_line(closed: Closed) -> str:
    where = f"instruments {closed.program_id}: {closed.instrument_id} {closed.period}"
    if not closed.answered:
        return f"{where}: late answers discarded"
    if not closed.released:
        return f"{where} closed: fewer answers than min_group_size, discarded"
    return f"{where} closed: {closed.released} answers released"


class SurveyTick(ClaimedDmTick[repo.Claimed]):
    """This tick's survey DMs (bot.slack.claimed_dms does the claiming, sending and recording)."""

    noun = "survey"

    def __init__(self, deps: Deps, now: datetime) -> None:
        super().__init__(deps, now)
        self.counts: Counter[tuple[str, str]] = Counter()  # (program, outcome) -> n

    def claim_due(self) -> list[repo.Claimed]:
        rows = [self._row(d) for d in self._plan()]
        with self.deps.sessions.begin() as session:
            return repo.insert_claims(session, rows=rows)

    def _plan(self) -> list[Due]:
        catalogue = shipped_instruments()
        due: list[Due] = []
        with self.deps.read_sessions.begin() as session:
            for program in self.deps.programs.programs:
                if not program.instruments:
                    continue
                pairs = repo.active_pairs(session, program_id=program.id)
                found = surveys_due(program, pairs, self.now, catalogue)
                known = repo.known_claims(session, program_id=program.id, periods={d.period for d in found})
                due += [d for d in found if (d.person_id, d.instrument_id, d.period) not in known]
        return due

    def _row(self, due: Due) -> dict[str, Any]:
        return {
            "program_id": due.program_id,
            "person_id": due.person_id,
            "instrument_id": due.instrument_id,
            "period": due.period,
            "pair_id": due.pair_id,
            "due_at": due.due_at,
            "status": repo.CLAIMED,
            "claimed_by": self.token,
            "claimed_at": self.clock(),
            "attempts": 0,
            "answered": False,
        }

    def retry_candidates(self) -> list[int]:
        with self.deps.read_sessions.begin() as session:
            return repo.retry_candidates(session, now=self.now, stale_before=self.now - LEASE)

    def reclaim(self, row_id: int) -> repo.Claimed | None:
        with self.deps.sessions.begin() as session:
            return repo.reclaim(
                session,
                survey_id=row_id,
                token=self.token,
                now=self.clock(),
                stale_before=self.clock() - LEASE,
            )

    def recipient(self, claimed: repo.Claimed) -> str:
        return claimed.person_id

    def metadata(self, claimed: repo.Claimed) -> dict[str, Any]:
        return metadata(claimed.id)

    def message(self, claimed: repo.Claimed) -> Message | None:
        program = self.deps.programs.get(claimed.program_id)
        instrument = shipped_instruments().get(claimed.instrument_id)
        if program is None or instrument is None or self.now - claimed.due_at > GRACE:
            return None  # gone from programs.yml, or too late to ask
        return survey_message(
            survey_id=claimed.id, instrument=instrument, min_group=program.privacy.min_group_size
        )

    def renew(self, claimed: repo.Claimed) -> bool:
        with self.deps.sessions.begin() as session:
            return repo.renew_claim(session, survey_id=claimed.id, token=self.token, now=self.clock())

    def record(self, claimed: repo.Claimed, status: str, values: dict[str, Any]) -> None:
        with self.deps.sessions.begin() as session:
            if repo.record_claim(session, survey_id=claimed.id, token=self.token, values=values):
                self.counts[(claimed.program_id, status)] += 1

    def lines(self) -> list[str]:
        by_program: dict[str, list[str]] = {}
        for (program_id, status), n in sorted(self.counts.items()):
            by_program.setdefault(program_id, []).append(f"{n} {status}")
        return [f"instruments {pid}: surveys {', '.join(parts)}" for pid, parts in by_program.items()]
