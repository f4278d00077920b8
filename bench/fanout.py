"""Check-in fan-out to 5,000 mentees through the real tick, against the fake Slack in its own process.

Run 1, "the bot's own work": 0 ms latency, the rate ceiling lifted; the check-in tick (plan, claim,
build, dnd.info, chat.postMessage, record) on SQLite and on PostgreSQL (from MENTORBOT_TEST_PG_URL,
else a throwaway cluster started by scripts/with-postgres.sh around a sub-run). The figure held
against the 300 prompts/s target is prompts per CPU-second of the bot process (all its threads): at
0 ms the fake Slack, a thread-per-connection Python server using ~2 ms of CPU per call, paces the wall
clock, so wall prompts/s (also printed) measures the fake as much as the bot.

Run 2, "Slack's limits": 20 ms latency on every call and 5% of calls answered 429 (Retry-After 1) on
SQLite, with MENTORBOT-style settings of --workers and --rate. All prompts must be delivered once:
duplicates 0, lost 0, and wall time within 1.2x the ideal for that concurrency and ceiling:
ideal = max(N / rate, N * calls_per_prompt * latency / workers).

The fake runs in a child process so its CPU does not count as the bot's. Last line: both runs.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import os
import subprocess
import sys
import tempfile
import time
import uuid
from collections import Counter
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from sqlalchemy import create_engine, insert, select, text  # noqa: E402
from sqlalchemy.engine import make_url  # noqa: E402

from bot.app.bootstrap import bootstrap  # noqa: E402
from bot.checkins.home import run_due  # noqa: E402
from bot.kernel.deps import Deps  # noqa: E402
from bot.kernel.settings import Settings  # noqa: E402
from storage.models import Checkin, Pair, Person  # noqa: E402

TARGET = 300.0
MAX_RATIO = 1.2
MENTORS = 500
ZONES = ("Asia/Kolkata", "Europe/London", "America/New_York", "America/Chicago", "America/Los_Angeles")
STARTED = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)
NOW = datetime(2026, 11, 27, 1, 0, tzinfo=UTC)  # after Thursday 16:00 in every zone above
CALLS_PER_PROMPT = 2  # dnd.info, chat.postMessage
PROGRAMS = """programs:
  - id: bench
    name: Fan-out benchmark
    timezone: America/New_York
    coordinators: [U0BENCHCOORD]
    digest: {channel: C0BENCH, weekday: mon, time: "08:00"}
    checkins: {cadence: weekly, weekday: thu, local_time: "16:00"}
    competencies: [ethics]
"""


# -- the fake Slack, in a child process --------------------------------------------------------------


def serve_fake(conn: Connection, mentees: int) -> None:
    from bot.fake_slack.models import FakeUser
    from bot.fake_slack.server import FakeSlack

    fake = FakeSlack(bot_user_id="UBENCHBOT").start()
    for n in range(mentees):
        fake.add_user(FakeUser(id=mentee_id(n), name=f"mentee{n}", tz=ZONES[n % len(ZONES)]))
    conn.send(fake.url)
    cpu = time.process_time()
    while True:
        command, argument = conn.recv()
        if command == "stop":
            break
        if command == "setup":
            fake.reset()
            fake.set_latency(argument["latency"])
            fake.set_error_rate("*", 429, argument["error_ratio"], retry_after=1)
            cpu = time.process_time()
            conn.send(None)
        elif command == "observe":
            conn.send(observe(fake, time.process_time() - cpu))
    fake.stop()


def observe(fake: Any, cpu_seconds: float) -> dict[str, Any]:
    prompts: Counter[str] = Counter()
    for call in fake.calls_to("chat.postMessage", ok_only=True):
        if (call.args.get("metadata") or {}).get("event_type") == "mentorbot_checkin":
            prompts[call.response["channel"]] += 1
    limited = sum(1 for call in fake.calls if call.status == 429)
    return {"prompts": dict(prompts), "rate_limited": limited, "fake_cpu_seconds": cpu_seconds}


class FakeProcess:
    def __init__(self, mentees: int) -> None:
        context = multiprocessing.get_context("spawn")
        self.conn, child = context.Pipe()
        self.process = context.Process(target=serve_fake, args=(child, mentees), daemon=True)
        self.process.start()
        self.url: str = self.conn.recv()

    def setup(self, *, latency: float, error_ratio: float) -> None:
        self.conn.send(("setup", {"latency": latency, "error_ratio": error_ratio}))
        self.conn.recv()

    def observe(self) -> dict[str, Any]:
        self.conn.send(("observe", None))
        result: dict[str, Any] = self.conn.recv()
        return result

    def stop(self) -> None:
        self.conn.send(("stop", None))
        self.process.join(10)


# -- one run -----------------------------------------------------------------------------------------


def mentee_id(n: int) -> str:
    return f"U0ME{n:05d}"


@dataclass
class Result:
    backend: str
    mentees: int
    seconds: float
    cpu_seconds: float
    sent: int
    duplicates: int
    lost: int
    rate_limited: int
    fake_cpu_seconds: float
    ideal: float = 0.0

    @property
    def per_second(self) -> float:
        return self.mentees / self.seconds

    @property
    def own_rate(self) -> float:
        """Prompts per CPU-second of the bot process (all its threads): its own work, not the fake's."""
        return self.mentees / self.cpu_seconds


def seed(deps: Deps, mentees: int) -> None:
    """Bulk-insert mentors, mentees (timezones already cached) and their pairs through the models."""
    people = [
        {"id": f"U0MR{n:05d}", "display_name": f"mentor{n}", "real_name": f"Mentor {n}", "timezone": ZONES[0]}
        for n in range(MENTORS)
    ]
    people += [
        {
            "id": mentee_id(n),
            "display_name": f"mentee{n}",
            "real_name": f"Mentee {n}",
            "timezone": ZONES[n % 5],
        }
        for n in range(mentees)
    ]
    for person in people:
        person.update(active=True, first_seen_at=STARTED, refreshed_at=NOW)
    pairs = [
        {"program_id": "bench", "mentor_id": f"U0MR{n % MENTORS:05d}", "mentee_id": mentee_id(n)}
        | {"started_at": STARTED}
        for n in range(mentees)
    ]
    with deps.sessions.begin() as session:
        session.execute(insert(Person), people)
        session.execute(insert(Pair), pairs)


def run_once(
    backend: str,
    database_url: str,
    fake: FakeProcess,
    folder: Path,
    *,
    mentees: int,
    workers: int,
    rate: float,
    latency: float,
    error_ratio: float,
) -> Result:
    programs = folder / "programs.yml"
    programs.write_text(PROGRAMS)
    settings = Settings(
        _env_file=None,  # type: ignore[call-arg]
        slack_bot_token="xoxb-bench",
        slack_signing_secret="bench-signing-secret",
        slack_api_url=fake.url,
        database_url=database_url,
        programs_file=programs,
        secret_key="bench-secret-key-not-for-production-0123456789",
        send_rate_per_second=rate,
        send_workers=workers,
    )
    deps = bootstrap(settings)
    seed(deps, mentees)
    fake.setup(latency=latency, error_ratio=error_ratio)
    started, cpu = time.perf_counter(), time.process_time()
    run_due(deps, NOW)
    seconds, cpu_seconds = time.perf_counter() - started, time.process_time() - cpu
    seen = fake.observe()
    with deps.sessions.begin() as session:
        sent = len(session.scalars(select(Checkin.id).where(Checkin.status == "sent")).all())
    deps.engine.dispose()
    prompts: dict[str, int] = seen["prompts"]
    return Result(
        backend=backend,
        mentees=mentees,
        seconds=seconds,
        cpu_seconds=cpu_seconds,
        sent=sent,
        duplicates=sum(n - 1 for n in prompts.values()),
        lost=mentees - len(prompts),
        rate_limited=seen["rate_limited"],
        fake_cpu_seconds=seen["fake_cpu_seconds"],
        ideal=max(mentees / rate, mentees * CALLS_PER_PROMPT * latency / workers),
    )


# -- PostgreSQL --------------------------------------------------------------------------------------


def pg_database(admin_url: str) -> tuple[str, str]:
    name = f"mb_bench_{uuid.uuid4().hex[:8]}"
    engine = create_engine(admin_url, isolation_level="AUTOCOMMIT")
    with engine.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    engine.dispose()
    return name, make_url(admin_url).set(database=name).render_as_string(hide_password=False)


def drop_pg_database(admin_url: str, name: str) -> None:
    engine = create_engine(admin_url, isolation_level="AUTOCOMMIT")
    with engine.connect() as connection:
        connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    engine.dispose()


def postgres_run(args: argparse.Namespace, fake: FakeProcess, folder: Path) -> Result | None:
    admin_url = os.environ.get("MENTORBOT_TEST_PG_URL")
    if admin_url:
        name, url = pg_database(admin_url)
        try:
            return run_once("postgresql", url, fake, folder, **zero_latency(args))
        finally:
            drop_pg_database(admin_url, name)
    out = folder / "postgresql.json"
    command = [str(ROOT / "scripts" / "with-postgres.sh"), sys.executable, __file__, "--only-postgresql"]
    command += ["--mentees", str(args.mentees), "--json", str(out)]
    subprocess.run(command, check=True)
    if not out.exists():  # with-postgres.sh skipped: PostgreSQL is not installed
        return None
    return Result(**json.loads(out.read_text()))


def zero_latency(args: argparse.Namespace) -> dict[str, Any]:
    return {
        "mentees": args.mentees,
        "workers": args.fast_workers,
        "rate": 1e9,
        "latency": 0.0,
        "error_ratio": 0.0,
    }


# -- report ------------------------------------------------------------------------------------------


def describe(result: Result) -> str:
    return (
        f"{result.backend}: {result.sent}/{result.mentees} sent in {result.seconds:.1f} s wall = "
        f"{result.per_second:.0f} prompts/s; bot CPU {result.cpu_seconds:.1f} s = {result.own_rate:.0f} "
        f"prompts per bot CPU-second; fake Slack CPU {result.fake_cpu_seconds:.1f} s; "
        f"duplicates {result.duplicates}, lost {result.lost}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--mentees", type=int, default=5000)
    parser.add_argument("--fast-workers", type=int, default=8, help="workers for the 0 ms runs")
    parser.add_argument("--workers", type=int, default=32, help="workers for the 20 ms + 429 run")
    parser.add_argument("--rate", type=float, default=100.0, help="messages/s ceiling for the 20 ms run")
    parser.add_argument("--only-postgresql", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--json", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    fake = FakeProcess(args.mentees)
    try:
        with tempfile.TemporaryDirectory() as tmp:
            folder = Path(tmp)
            if args.only_postgresql:
                result = postgres_run(args, fake, folder)
                if args.json and result is not None:
                    args.json.write_text(json.dumps(asdict(result)))
                return
            report(args, fake, folder)
    finally:
        fake.stop()


def report(args: argparse.Namespace, fake: FakeProcess, folder: Path) -> None:
    sqlite = run_once("sqlite", f"sqlite:///{folder / 'fast.db'}", fake, folder, **zero_latency(args))
    print(describe(sqlite), flush=True)
    postgres = postgres_run(args, fake, folder)
    print(describe(postgres) if postgres else "postgresql: skipped (not installed)", flush=True)
    slow = run_once(
        "sqlite",
        f"sqlite:///{folder / 'slow.db'}",
        fake,
        folder,
        mentees=args.mentees,
        workers=args.workers,
        rate=args.rate,
        latency=0.020,
        error_ratio=0.05,
    )
    print(
        f"20 ms + 5% 429: {describe(slow)}; {slow.rate_limited} calls answered 429; "
        f"wall {slow.seconds:.1f} s vs ideal {slow.ideal:.1f} s ({args.workers} workers, {args.rate:g}/s)",
        flush=True,
    )
    fast = [sqlite, postgres] if postgres else [sqlite]
    own = ", ".join(f"{r.backend} {r.own_rate:.0f}/s ({r.own_rate / TARGET:.2f}x)" for r in fast)
    wall = ", ".join(f"{r.backend} {r.per_second:.0f}/s" for r in fast)
    print(
        f"fanout {args.mentees} mentees — 0 ms, no ceiling: bot's own work {own} of target {TARGET:.0f}/s "
        f"(wall {wall}, paced by the fake Slack); dup {sum(r.duplicates for r in fast)}, "
        f"lost {sum(r.lost for r in fast)} | 20 ms + 5% 429: {slow.mentees - slow.lost}/{slow.mentees} "
        f"delivered, dup {slow.duplicates}, lost {slow.lost}, wall/ideal {slow.seconds / slow.ideal:.2f} "
        f"(target <= {MAX_RATIO})"
    )


if __name__ == "__main__":
    main()
