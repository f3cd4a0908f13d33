"""Settings: one object, read from H2H_* environment variables (and an optional .env file)."""

from __future__ import annotations

import enum
from functools import cached_property
from pathlib import Path

from pydantic import Field, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

PLACEHOLDER_SECRET = "change-me"  # noqa: S105 - the value we refuse outside development


class Environment(enum.StrEnum):
    DEVELOPMENT = "development"
    TEST = "test"
    PRODUCTION = "production"


class Settings(BaseSettings):
    """Every field is documented by its description; docs/configuration.md is checked against it."""

    model_config = SettingsConfigDict(env_prefix="H2H_", env_file=".env", extra="ignore")

    env: Environment = Field(
        Environment.DEVELOPMENT,
        description="`development`, `test` or `production`. Production refuses a placeholder "
        "secret key and sends cookies only over HTTPS.",
    )
    data_dir: Path = Field(
        Path("data"),
        description="Directory for the SQLite database and other local files; created if missing.",
    )
    database_url: str = Field(
        "",
        description="SQLAlchemy URL. Empty means SQLite at `<data_dir>/h2h.sqlite3`. "
        "For PostgreSQL: `postgresql+psycopg://user:password@host:5432/h2h`.",
    )
    secret_key: str = Field(
        PLACEHOLDER_SECRET,
        description="Key for signing CSRF tokens and flash messages. Must be changed outside "
        "development "
        "(for example `python -c 'import secrets; print(secrets.token_urlsafe(48))'`).",
    )
    host: str = Field("127.0.0.1", description="Address `h2h serve` listens on.")
    port: int = Field(8000, ge=1, le=65535, description="Port `h2h serve` listens on.")
    default_language: str = Field(
        "ru",
        pattern="^(ru|en)$",
        description="Interface language when neither the user nor the browser chooses one "
        "(`ru` or `en`).",
    )
    session_days: int = Field(
        14, ge=1, le=365, description="Days a login session lasts without activity."
    )
    login_max_failures: int = Field(
        5,
        ge=1,
        description="Failed logins for one email within `login_lockout_minutes` before further "
        "attempts are refused.",
    )
    login_lockout_minutes: int = Field(
        15, ge=1, description="Window, in minutes, over which failed logins are counted."
    )
    public_url: str = Field(
        "",
        pattern=r"^(https?://[^\s/]+(/[^\s]*)?)?$",
        description="Address people open H2H at, e.g. `https://h2h.example.com`; links in "
        "notifications sent by email and Telegram start with it (empty: bare paths).",
    )
    job_workers: int = Field(
        4, ge=1, le=64, description="Threads that run background jobs inside `h2h serve`."
    )

    @model_validator(mode="after")
    def _refuse_placeholder_secret(self) -> Settings:
        if self.env is not Environment.DEVELOPMENT and self.secret_key in ("", PLACEHOLDER_SECRET):
            raise ValueError(
                f"H2H_SECRET_KEY is still the placeholder; set a long random value "
                f"(H2H_ENV={self.env.value} refuses it)"
            )
        if self.env is not Environment.DEVELOPMENT and len(self.secret_key) < 32:
            raise ValueError("H2H_SECRET_KEY must be at least 32 characters long")
        return self

    @cached_property
    def sqlalchemy_url(self) -> str:
        if self.database_url:
            return self.database_url
        return f"sqlite:///{(self.data_dir / 'h2h.sqlite3').resolve()}"

    @property
    def cookie_secure(self) -> bool:
        return self.env is Environment.PRODUCTION


def get_settings() -> Settings:
    """Read settings from the environment (each call reads again, so tests can change it)."""
    return Settings()
