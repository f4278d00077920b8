"""The test workspace's people and the settings every test shares."""

from __future__ import annotations

import os
from pathlib import Path

from bot.fake_slack.models import FakeUser

SIGNING_SECRET = "test-signing-secret"
SECRET_KEY = "test-secret-key-that-is-long-enough-0123456789"
PROGRAMS_FILE = Path(__file__).resolve().parents[1] / "data" / "programs.yml"
BACKEND = os.environ.get("MENTORBOT_TEST_BACKEND", "sqlite")
PG_ADMIN_URL = os.environ.get("MENTORBOT_TEST_PG_URL", "")

USERS = [
    FakeUser(id="U0COORD1", name="cora", real_name="Cora Coordinator", tz="America/New_York"),
    FakeUser(id="U0COORD2", name="nia", real_name="Nia Nurse-Lead", tz="America/Chicago"),
    FakeUser(id="U0MENTOR1", name="dr.mendes", real_name="Ana Mendes", tz="America/New_York"),
    FakeUser(id="U0MENTOR2", name="dr.chen", real_name="Wei Chen", tz="America/Chicago"),
    FakeUser(id="U0MENTEE1", name="amara", real_name="Amara Okafor", tz="Asia/Kolkata"),
    FakeUser(id="U0MENTEE2", name="diego", real_name="Diego Ruiz", tz="America/Chicago"),
    FakeUser(id="U0MENTEE3", name="lin", real_name="Lin Park", tz="America/New_York"),
    FakeUser(id="U0OUTSIDE", name="olivia", real_name="Olivia Outsider", tz="Europe/London"),
    FakeUser(id="U0DIO", name="dio", real_name="Dana DIO", tz="America/New_York"),
]
for user in USERS:
    object.__setattr__(user, "email", f"{user.name}@example.org") if not user.email else None
