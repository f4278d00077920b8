"""Process settings from the environment (and a `.env` file), validated at start."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from pydantic import Field, SecretStr, ValidationError, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict


class SettingsError(Exception):
    """One line per bad variable: `VARIABLE: reason`."""


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_file=".env", extra="ignore", frozen=True, populate_by_name=True)

    slack_bot_token: SecretStr | None = None
    slack_app_token: SecretStr | None = None
    slack_signing_secret: SecretStr | None = None
    slack_api_url: str = "https://slack.com/api/"
    database_url: str = "sqlite:///mentorbot.db"
    programs_file: Path = Field(default=Path("programs.yml"), validation_alias="MENTORBOT_PROGRAMS")
    secret_key: SecretStr | None = Field(default=None, validation_alias="MENTORBOT_SECRET_KEY")
    # Only while rotating (`mentorbot rotate-key`): the key the database was written with.
    old_secret_key: SecretStr | None = Field(default=None, validation_alias="MENTORBOT_OLD_SECRET_KEY")
    # Well under Slack's ~1 msg/s/channel and workspace-wide chat.postMessage limits for DM fan-out.
    send_rate_per_second: float = Field(default=10.0, validation_alias="MENTORBOT_SEND_RATE", gt=0)
    send_workers: int = Field(default=4, validation_alias="MENTORBOT_SEND_WORKERS", ge=1, le=64)
    concerns_per_day: int = Field(default=5, validation_alias="MENTORBOT_CONCERNS_PER_DAY", ge=1)
    log_level: str = Field(default="INFO", validation_alias="MENTORBOT_LOG_LEVEL")

    @field_validator("slack_bot_token")
    @classmethod
    def _bot_token_shape(cls, value: SecretStr | None) -> SecretStr | None:
        if (
            value is not None
            and value.get_secret_value()
            and not value.get_secret_value().startswith("xoxb-")
        ):
            raise ValueError("must be a bot token starting with xoxb-")
        return value

    @field_validator("slack_app_token")
    @classmethod
    def _app_token_shape(cls, value: SecretStr | None) -> SecretStr | None:
        if (
            value is not None
            and value.get_secret_value()
            and not value.get_secret_value().startswith("xapp-")
        ):
            raise ValueError("must be an app-level token starting with xapp-")
        return value

    @field_validator("slack_api_url")
    @classmethod
    def _api_url_shape(cls, value: str) -> str:
        if not value.startswith(("http://", "https://")):
            raise ValueError("must be an http(s) URL")
        return value if value.endswith("/") else value + "/"

    @field_validator("database_url")
    @classmethod
    def _database_url_shape(cls, value: str) -> str:
        if not value.startswith(("sqlite", "postgresql")):
            raise ValueError("must be a sqlite:/// or postgresql+psycopg:// URL")
        if value.startswith(("postgresql://", "postgres://")):
            return "postgresql+psycopg://" + value.split("://", 1)[1]
        return value

    @property
    def is_postgres(self) -> bool:
        return self.database_url.startswith("postgresql")

    @property
    def socket_mode(self) -> bool:
        return self.slack_app_token is not None and bool(self.slack_app_token.get_secret_value())

    def require_for_run(self, *, http: bool) -> None:
        """Fail fast with one line per variable that `mentorbot run` cannot do without."""
        missing = []
        if not _has(self.slack_bot_token):
            missing.append("SLACK_BOT_TOKEN: required to run the bot (xoxb-...)")
        if (http or not self.socket_mode) and not _has(self.slack_signing_secret):
            missing.append("SLACK_SIGNING_SECRET: required in HTTP mode (Basic Information > Signing Secret)")
        if not http and not self.socket_mode and not _has(self.slack_signing_secret):
            missing.append("SLACK_APP_TOKEN: set it for Socket Mode, or use --http")
        if missing:
            raise SettingsError("\n".join(missing))


def _has(secret: SecretStr | None) -> bool:
    return secret is not None and bool(secret.get_secret_value())


_ALIASES = {
    "programs_file": "MENTORBOT_PROGRAMS",
    "secret_key": "MENTORBOT_SECRET_KEY",
    "old_secret_key": "MENTORBOT_OLD_SECRET_KEY",
}


def load_settings() -> Settings:
    """Read settings from the environment; raise SettingsError naming each bad variable."""
    try:
        return Settings()
    except ValidationError as exc:
        lines = []
        for error in exc.errors():
            field = str(error["loc"][0]) if error["loc"] else "?"
            variable = _ALIASES.get(field, field.upper())
            lines.append(f"{variable}: {error['msg'].removeprefix('Value error, ')}")
        raise SettingsError("\n".join(lines)) from None


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    return load_settings()
