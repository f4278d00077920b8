from pathlib import Path

from typer.testing import CliRunner

from bot.app.cli import cli

runner = CliRunner()


def test_check_config_names_every_problem(tmp_path: Path) -> None:
    bad = tmp_path / "programs.yml"
    bad.write_text(
        """programs:
  - id: img-2026
    name: A
    timezone: Mars/Olympus
    coordinators: [U0COORD1]
    digest: {channel: C0DIGEST, weekday: mon, time: "08:00"}
    checkins: {cadence: weekly, weekday: thu, local_time: "16:00"}
    competencies: [ethics]
    colour: blue
  - id: img-2026
    name: B
    timezone: America/New_York
    coordinators: [U0COORD1]
    digest: {channel: C0DIGEST, weekday: mon, time: "08:00"}
    checkins: {cadence: weekly, weekday: thu, local_time: "16:00"}
    competencies: [ethics]
"""
    )
    result = runner.invoke(cli, ["check-config", str(bad)])
    assert result.exit_code == 1
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 3
    assert any("programs[0].timezone" in line and "Mars/Olympus" in line for line in lines)
    assert any("programs[0].colour: unknown key" in line for line in lines)
    assert any("programs[1].id" in line and "duplicate" in line for line in lines)
    assert all(line.startswith(str(bad)) for line in lines)
    assert "Traceback" not in result.output


def test_check_config_ok_prints_one_line() -> None:
    example = Path(__file__).resolve().parents[2] / "programs.example.yml"
    result = runner.invoke(cli, ["check-config", str(example)])
    assert result.exit_code == 0
    assert len(result.stdout.strip().splitlines()) == 1


def test_settings_errors_name_the_variable(monkeypatch: object) -> None:
    import pytest

    from bot.kernel.settings import SettingsError, load_settings

    mp = pytest.MonkeyPatch()
    mp.setenv("SLACK_BOT_TOKEN", "not-a-token")
    mp.setenv("DATABASE_URL", "mysql://x")
    try:
        with pytest.raises(SettingsError) as caught:
            load_settings()
    finally:
        mp.undo()
    text = str(caught.value)
    assert "SLACK_BOT_TOKEN: must be a bot token starting with xoxb-" in text
    assert "DATABASE_URL:" in text
