"""deploy/mentorbot.service as systemd itself reads it: valid, restarting on failure, hardened."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from tests.support.running import BIN

UNIT = Path(__file__).resolve().parents[2] / "deploy" / "mentorbot.service"

pytestmark = pytest.mark.skipif(
    shutil.which("systemd-analyze") is None,
    reason="systemd-analyze is missing (Debian's systemd package; .ci/run installs it)",
)


def _installed(tmp_path: Path) -> Path:
    """The unit as installed, except that ExecStart runs this checkout's mentorbot: verify checks that
    the program exists and is executable."""
    text = UNIT.read_text().replace("/opt/mentorbot/bin/mentorbot", str(BIN / "mentorbot"))
    unit = tmp_path / "mentorbot.service"
    unit.write_text(text)
    return unit


def test_systemd_analyze_verify_accepts_the_unit_without_a_warning(tmp_path: Path) -> None:
    unit = _installed(tmp_path)
    result = subprocess.run(
        ["systemd-analyze", "verify", "--man=no", str(unit)], capture_output=True, text=True, timeout=60
    )
    assert (result.returncode, result.stderr) == (0, "")


def test_the_unit_restarts_on_failure_as_its_own_user_and_reloads_with_sighup() -> None:
    lines = set(UNIT.read_text().splitlines())
    for directive in (
        "Restart=on-failure",
        "User=mentorbot",
        "EnvironmentFile=/etc/mentorbot/mentorbot.env",
        "ExecReload=/bin/kill -HUP $MAINPID",
        "KillMode=mixed",
    ):
        assert directive in lines


def test_systemd_rates_the_units_exposure_ok(tmp_path: Path) -> None:
    unit = _installed(tmp_path)
    result = subprocess.run(
        # --threshold is in tenths: fail above an overall exposure of 2.5 ("OK" ends at 3.9).
        ["systemd-analyze", "security", "--offline=yes", "--threshold=25", "--no-pager", str(unit)],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stdout[-500:]
