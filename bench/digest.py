"""Digest build time and memory for a large program, and the yearly outcome report, on SQLite and PostgreSQL.

The program: 5,000 mentees and 1,500 mentors, a year of weekly check-ins (260,000, three in four
answered), 25,000 sessions with a reflection each, 10,000 competency observations and 1,000 concerns,
generated with bulk Core inserts. Each backend is then measured in a fresh child process:

- the digest build (every SQL aggregate, the suppression decisions, Block Kit) with no frozen figures
  yet (the worst case: all 8 trend weeks decided at once), then again in steady state;
- the trend chart PNG (matplotlib, first render in the process);
- the yearly outcome report, first with no week frozen, then again (as after a year of digests);
- peak memory: the child's peak resident set (VmHWM: everything, interpreter and matplotlib
  included) after the digest and its chart, and after the report; plus the tracemalloc peak of
  the cold build.

Target: digest built in <= 2 s with peak RSS <= 300 MB on each backend. PostgreSQL comes from
MENTORBOT_TEST_PG_URL, else a throwaway cluster started by scripts/with-postgres.sh around a sub-run.
The last line prints both backends and the ratio to the 2 s target.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import resource
import subprocess
import sys
import tempfile
import time
import tracemalloc
import uuid
from collections import Counter
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from sqlalchemy import Engine, create_engine, insert, text  # noqa: E402
from sqlalchemy.engine import make_url  # noqa: E402
from sqlalchemy.orm import configure_mappers  # noqa: E402

from bot.kernel.programs import Program, parse_programs  # noqa: E402
from storage import migrate  # noqa: E402
from storage.crypto import Keys, install_keys  # noqa: E402
from storage.engine import make_engine, make_sessions  # noqa: E402
from storage.models import (  # noqa: E402
    Checkin,
    CheckinAnswer,
    ClimateAnswer,
    ClimateWeek,
    CompetencyObservation,
    Concern,
    MentoringSession,
    Pair,
    Person,
    Reflection,
)
from storage.repositories.programs import ProgramSpec, sync_programs  # noqa: E402

TARGET_SECONDS = 2.0
TARGET_MB = 300
MENTEES, MENTORS, WEEKS = 5_000, 1_500, 52
SESSIONS, OBSERVATIONS, CONCERNS = 25_000, 10_000, 1_000
NOW = datetime(2026, 11, 23, 13, 1, tzinfo=UTC)  # one minute after Monday's 08:00 New York digest
LAST_WEEK = date(2026, 11, 16)
FIRST_WEEK = LAST_WEEK - timedelta(weeks=WEEKS - 1)
CHUNK = 10_000
SECRET = "bench-secret-key-not-for-production-0123456789"
TOPICS = [
    "clinical-reasoning",
    "documentation-ehr",
    "institutional-communication",
    "cultural-fluency",
    "ethics",
]
COMPETENCIES = ["ehr-documentation", "institutional-communication", "cultural-fluency", "clinical-reasoning"]
CATEGORIES = ["psychological_safety", "disrespect", "workload", "supervision", "patient_safety", "other"]
PROGRAMS = {
    "programs": [
        {
            "id": "bench",
            "name": "Digest benchmark cohort",
            "timezone": "America/New_York",
            "coordinators": ["U0BENCHCOORD"],
            "digest": {"channel": "C0BENCH", "weekday": "mon", "time": "08:00"},
            "checkins": {"cadence": "weekly", "weekday": "thu", "local_time": "16:00"},
            "privacy": {"min_group_size": 5},
            "competencies": COMPETENCIES + ["ethics"],
            "cme": {"credits_per_hour": 1.0, "max_credits_per_year": 20.0},
        }
    ]
}


def program() -> Program:
    return parse_programs(PROGRAMS).programs[0]


def mentee(i: int) -> str:
    return f"UME{i:05d}"


def mentor(i: int) -> str:
    return f"UMR{i:05d}"


def _bulk(engine: Engine, table: Any, rows: list[dict[str, Any]]) -> None:
    with engine.begin() as connection:
        for start in range(0, len(rows), CHUNK):
            connection.execute(insert(table), rows[start : start + CHUNK])


def _people_and_pairs(engine: Engine, rng: random.Random) -> None:
    seen = datetime(2025, 10, 1, tzinfo=UTC)
    people = [
        {
            "id": mentee(i),
            "real_name": f"Mentee {i}",
            "display_name": "",
            "active": True,
            "first_seen_at": seen,
        }
        for i in range(MENTEES)
    ]
    people += [
        {
            "id": mentor(i),
            "real_name": f"Mentor {i}",
            "display_name": "",
            "active": True,
            "first_seen_at": seen,
        }
        for i in range(MENTORS)
    ]
    _bulk(engine, Person.__table__, people)
    pairs = [
        {
            "id": i + 1,
            "program_id": "bench",
            "mentor_id": mentor(i % MENTORS),
            "mentee_id": mentee(i),
            "started_at": seen + timedelta(days=rng.randrange(0, 120)),
            "ended_at": seen + timedelta(days=300) if i % 25 == 0 else None,
        }
        for i in range(MENTEES)
    ]
    _bulk(engine, Pair.__table__, pairs)


def _checkins(engine: Engine, rng: random.Random) -> None:
    checkins, answers, climate = [], [], []
    for week_index in range(WEEKS):
        period = FIRST_WEEK + timedelta(weeks=week_index, days=3)
        due = datetime(period.year, period.month, period.day, 21, 0, tzinfo=UTC)
        for i in range(MENTEES):
            roll = rng.random()
            status = (
                "paused"
                if roll < 0.02
                else "missed"
                if roll < 0.03
                else "answered"
                if roll < 0.78
                else "expired"
            )
            checkin_id = len(checkins) + 1
            checkins.append(
                {
                    "id": checkin_id, "program_id": "bench", "mentee_id": mentee(i), "period": period,
                    "due_at": due, "expires_at": due + timedelta(hours=96), "status": status,
                    "psych_item": 1 + (week_index + i) % 7, "claimed_at": due, "claimed_by": "bench",
                    "sent_at": None if status in ("paused", "missed") else due, "attempts": 1,
                }
            )  # fmt: skip
            if status == "answered":
                at = due + timedelta(minutes=rng.randrange(10, 3000))
                answers.append(
                    {
                        "checkin_id": checkin_id, "wellbeing": rng.randint(1, 5),
                        "climate_answered": True, "met_mentor": rng.random() < 0.4, "note": None,
                        "answered_at": at, "updated_at": at,
                    }
                )  # fmt: skip
                # Closed weeks' team-climate answers live unlinked (bot.checkins.climate).
                week = period - timedelta(days=3)
                climate.append({"program_id": "bench", "week": week, "met": None, "score": rng.randint(1, 7)})
    _bulk(engine, Checkin.__table__, checkins)
    _bulk(engine, CheckinAnswer.__table__, answers)
    _bulk(engine, ClimateAnswer.__table__, climate)
    per_week = Counter(row["week"] for row in climate)
    _bulk(
        engine,
        ClimateWeek.__table__,
        [{"program_id": "bench", "week": w, "answered": n} for w, n in per_week.items()],
    )


def _sessions(engine: Engine, rng: random.Random) -> None:
    sessions, reflections, observations = [], [], []
    for n in range(SESSIONS):
        pair = rng.randrange(MENTEES)
        day = FIRST_WEEK + timedelta(days=rng.randrange(WEEKS * 7))
        logged = datetime(day.year, day.month, day.day, 18, tzinfo=UTC)
        roll = rng.random()
        status = "confirmed" if roll < 0.85 else "pending" if roll < 0.95 else "disputed"
        sessions.append(
            {
                "id": n + 1, "pair_id": pair + 1, "program_id": "bench", "session_date": day,
                "duration_minutes": rng.choice((30, 45, 60, 90)), "format": "in_person",
                "logged_by": mentor(pair % MENTORS), "logged_at": logged, "status": status,
            }
        )  # fmt: skip
        shared = rng.random() < 0.02
        reflections.append(
            {
                "session_id": n + 1, "author_id": mentor(pair % MENTORS), "author_role": "mentor",
                "topics": rng.sample(TOPICS, rng.randint(1, 3)),
                "learned": "What I learned." if shared else None, "share_learned": shared,
                "share_named": False, "created_at": logged,
            }
        )  # fmt: skip
        if n < OBSERVATIONS:
            level = rng.choice(("developing", "demonstrated"))
            observations.append(
                {
                    "session_id": n + 1, "program_id": "bench", "mentee_id": mentee(pair),
                    "competency": rng.choice(COMPETENCIES), "level": level, "observed_on": day,
                }
            )  # fmt: skip
    _bulk(engine, MentoringSession.__table__, sessions)
    _bulk(engine, Reflection.__table__, reflections)
    _bulk(engine, CompetencyObservation.__table__, observations)


def _concerns(engine: Engine, rng: random.Random) -> None:
    rows = []
    for n in range(CONCERNS):
        week = FIRST_WEEK + timedelta(weeks=rng.randrange(WEEKS))
        replied = rng.random() < 0.8
        resolved = replied and rng.random() < 0.6
        rows.append(
            {
                "id": uuid.uuid4().hex, "program_id": "bench", "category": rng.choice(CATEGORIES),
                "urgent": rng.random() < 0.05, "escalated": rng.random() < 0.05,
                "text": f"Concern {n}: the handover culture on ward {n % 12}.", "week": week,
                "status": "resolved" if resolved else "open", "key_hash": uuid.uuid4().hex * 2,
                "replies_allowed": True, "notify_pending": False,
                "first_reply_on": week + timedelta(days=rng.randrange(0, 10)) if replied else None,
                "resolved_on": week + timedelta(days=rng.randrange(5, 40)) if resolved else None,
            }
        )  # fmt: skip
    _bulk(engine, Concern.__table__, rows)


def generate(url: str) -> float:
    """Create the schema and the program's year of data; return the seconds it took."""
    started = time.perf_counter()
    install_keys(Keys.from_secret(SECRET))
    engine = make_engine(url)
    migrate.upgrade(engine)
    with make_sessions(engine).begin() as session:
        sync_programs(
            session, specs=[ProgramSpec("bench", "Digest benchmark cohort", "America/New_York")], now=NOW
        )
    rng = random.Random(7)
    _people_and_pairs(engine, rng)
    _checkins(engine, rng)
    _sessions(engine, rng)
    _concerns(engine, rng)
    with engine.begin() as connection:
        connection.execute(text("ANALYZE"))
    engine.dispose()
    return time.perf_counter() - started


def measure(url: str) -> dict[str, Any]:
    """Run in a fresh child: time the digest (cold, then frozen), the chart and the yearly report."""
    from bot.digests.blocks import render_digest
    from bot.digests.content import build_digest
    from bot.digests.posting import chart_png
    from bot.reports.outcomes import build_report

    install_keys(Keys.from_secret(SECRET))
    engine = make_engine(url)
    sessions, bench = make_sessions(engine), program()

    def build() -> tuple[float, Any]:
        started = time.perf_counter()
        with sessions.begin() as session:
            digest = build_digest(session, program=bench, week=LAST_WEEK, now=NOW)
            render_digest(digest, text_trend=False)
        return time.perf_counter() - started, digest

    # A running bot has its mappers configured and its pool connected before any digest is due.
    configure_mappers()
    with sessions.begin() as session:
        session.execute(text("SELECT 1"))
    tracemalloc.start()
    cold, digest = build()
    traced_peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    warm, _ = build()
    started = time.perf_counter()
    png = chart_png(digest)
    chart = time.perf_counter() - started
    digest_mb = peak_rss_mb()

    def yearly() -> tuple[float, list[Any]]:
        started = time.perf_counter()
        with sessions.begin() as session:
            rows = build_report(
                session, program=bench, start=date(2026, 1, 1), end=date(2026, 12, 31), now=NOW
            )
        return time.perf_counter() - started, rows

    report, rows = yearly()
    report_frozen, _ = yearly()
    engine.dispose()
    return {
        "cold": cold, "warm": warm, "chart": chart, "report": report, "report_frozen": report_frozen,
        "traced_mb": traced_peak / 2**20,
        "rss_mb": digest_mb, "report_rss_mb": peak_rss_mb(),
        "png_bytes": len(png), "quarters": len(rows), "answered": digest.this_week.answered,
    }  # fmt: skip


def peak_rss_mb() -> float:
    """This process's peak resident set (VmHWM): unlike ru_maxrss it does not count the parent's
    memory from before exec, which Linux carries over to a forked child."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def run_child(url: str) -> dict[str, Any]:
    """Measure in a fresh child process, so imports, caches and memory start from nothing."""
    child = subprocess.run(
        [sys.executable, __file__, "--measure", url], stdout=subprocess.PIPE, text=True, cwd=ROOT, check=False
    )
    if child.returncode != 0:
        raise SystemExit(f"measuring {make_url(url).get_backend_name()} failed")
    result: dict[str, Any] = json.loads(child.stdout.strip().splitlines()[-1])
    return result


def backend_run(name: str, url: str) -> dict[str, Any]:
    print(f"{name}: generating a year of data…", flush=True)
    result = {"backend": name, "generate": generate(url)}
    result.update(run_child(url))
    print(describe(result), flush=True)
    return result


def describe(r: dict[str, Any]) -> str:
    return (
        f"{r['backend']}: data {r['generate']:.0f} s; "
        f"digest cold {r['cold']:.2f} s, frozen {r['warm']:.2f} s; "
        f"chart {r['chart']:.2f} s; yearly report {r['report']:.2f} s (again, all weeks frozen: "
        f"{r['report_frozen']:.2f} s); "
        f"peak RSS {r['rss_mb']:.0f} MB after the digest and chart, "
        f"{r['report_rss_mb']:.0f} MB after the report "
        f"(tracemalloc of the build {r['traced_mb']:.0f} MB); "
        f"{r['answered']} answers in the digest week"
    )


def sqlite_run(folder: Path) -> dict[str, Any]:
    return backend_run("sqlite", f"sqlite:///{folder / 'bench.db'}")


def postgres_run(folder: Path) -> dict[str, Any] | None:
    admin = os.environ.get("MENTORBOT_TEST_PG_URL")
    if not admin:
        out = folder / "postgresql.json"
        command = [
            str(ROOT / "scripts" / "with-postgres.sh"),
            sys.executable,
            __file__,
            "--only-postgresql",
            str(out),
        ]
        subprocess.run(command, check=True, cwd=ROOT)
        return json.loads(out.read_text()) if out.exists() else None
    name = f"mb_bench_{uuid.uuid4().hex[:8]}"
    admin_engine = create_engine(admin, isolation_level="AUTOCOMMIT")
    with admin_engine.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        url = make_url(admin).set(database=name).render_as_string(hide_password=False)
        return backend_run("postgresql", url)
    finally:
        with admin_engine.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin_engine.dispose()


def summary(results: list[dict[str, Any]]) -> str:
    parts = [
        f"{r['backend']} {r['cold']:.2f} s ({r['cold'] / TARGET_SECONDS:.2f}x of {TARGET_SECONDS:g} s), "
        f"{r['rss_mb']:.0f} MB ({r['rss_mb'] / TARGET_MB:.2f}x of {TARGET_MB} MB), report {r['report']:.1f} s"
        for r in results
    ]
    return "digest build, 5,000 mentees, a year of data: " + "; ".join(parts)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--measure", metavar="URL", help=argparse.SUPPRESS)
    parser.add_argument("--only-postgresql", metavar="JSON", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.measure:
        print(json.dumps(measure(args.measure)))
        return
    with tempfile.TemporaryDirectory(prefix="mentorbot-bench-digest-") as tmp:
        if args.only_postgresql:
            result = postgres_run(Path(tmp))
            if result is not None:
                Path(args.only_postgresql).write_text(json.dumps(result))
            return
        results = [sqlite_run(Path(tmp))]
        pg = postgres_run(Path(tmp))
        if pg is not None:
            results.append(pg)
        else:
            print("postgresql: not installed, skipped", flush=True)
        print(summary(results))


if __name__ == "__main__":
    main()
