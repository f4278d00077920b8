"""Roster import of 500 rows on SQLite against the local fake Slack: lookups, validation and the write.

A workspace of 50 mentors and N mentees; the CSV names mentors by Slack id and mentees by email (so
each mentee costs a users.lookupByEmail and each mentor a users.info, as on a first import). Timed:
reading the file, resolving everyone, validating and committing (`bot.pairs.roster.run_import`). The
welcome DMs that follow are timed separately, since they are paced by MENTORBOT_SEND_RATE.

Last line: `roster import N rows X s; target 5 s; ratio R` (R = X / 5).
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bot.app.bootstrap import bootstrap  # noqa: E402
from bot.fake_slack.models import FakeUser  # noqa: E402
from bot.fake_slack.server import FakeSlack  # noqa: E402
from bot.kernel.settings import Settings  # noqa: E402
from bot.pairs.pairing import send_messages  # noqa: E402
from bot.pairs.roster import run_import  # noqa: E402

TARGET_SECONDS = 5.0
MENTORS = 50
ZONES = ("America/New_York", "America/Chicago", "Asia/Kolkata", "Europe/London", "Africa/Lagos")


def workspace(fake: FakeSlack, rows: int) -> None:
    for i in range(MENTORS):
        fake.add_user(
            FakeUser(id=f"U0MR{i:05d}", name=f"mentor{i}", real_name=f"Mentor {i}", tz=ZONES[i % 5])
        )
    for i in range(rows):
        fake.add_user(
            FakeUser(
                id=f"U0ME{i:05d}",
                name=f"mentee{i}",
                real_name=f"Mentee {i}",
                tz=ZONES[(i + 2) % 5],
                email=f"mentee{i}@hospital.example",
            )
        )


def roster_file(folder: Path, rows: int) -> Path:
    path = folder / "roster.csv"
    lines = ["mentor,mentee,focus"]
    lines += [f"U0MR{i % MENTORS:05d},mentee{i}@hospital.example,cohort {i % 7}" for i in range(rows)]
    path.write_text("\n".join(lines) + "\n")
    return path


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=500)
    parser.add_argument("--rate", type=float, default=500.0, help="welcome DMs per second")
    args = parser.parse_args()
    now = datetime(2026, 11, 23, 14, 0, tzinfo=UTC)
    with tempfile.TemporaryDirectory() as folder, FakeSlack().start() as fake:
        workspace(fake, args.rows)
        settings = Settings(
            _env_file=None,  # type: ignore[call-arg]
            slack_bot_token="xoxb-bench",
            slack_api_url=fake.url,
            database_url=f"sqlite:///{folder}/bench.db",
            programs_file=ROOT / "tests" / "data" / "programs.yml",
            secret_key="bench-secret-key-0123456789-0123456789-0123",
            send_rate_per_second=args.rate,
        )
        deps = bootstrap(settings)
        program = deps.programs.get("img-2026")
        assert program is not None
        path = roster_file(Path(folder), args.rows)

        started = time.perf_counter()
        first = run_import(deps, program=program, path=path, replace=False, now=now)
        first_s = time.perf_counter() - started
        lookups = len(fake.calls_to("users.info")) + len(fake.calls_to("users.lookupByEmail"))
        print(f"first import: {first.summary(program.id)} {first_s:.2f} s, {lookups} Slack lookups")

        started = time.perf_counter()
        failures = send_messages(deps.client, first.messages, rate_per_second=args.rate)
        dm_s = time.perf_counter() - started
        print(
            f"welcome DMs: {len(first.messages) - len(failures)} sent in {dm_s:.2f} s "
            f"(paced at {args.rate:g}/s)"
        )

        started = time.perf_counter()
        second = run_import(deps, program=program, path=path, replace=False, now=now)
        second_s = time.perf_counter() - started
        print(f"second import: {second.summary(program.id)} {second_s:.2f} s")
        assert first.added == args.rows and second.added == 0, "the import is not idempotent"
        deps.engine.dispose()
    print(
        f"roster import {args.rows} rows {first_s:.2f} s; target {TARGET_SECONDS:g} s; "
        f"ratio {first_s / TARGET_SECONDS:.2f}"
    )


if __name__ == "__main__":
    main()
