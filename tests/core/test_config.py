"""Settings: documented, safe defaults, placeholder secrets refused outside development."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from pydantic import ValidationError

from h2h.config import PLACEHOLDER_SECRET, Environment, Settings

README = Path(__file__).resolve().parents[2] / "README.md"


def test_every_setting_is_described_and_documented_in_the_readme() -> None:
    text = README.read_text(encoding="utf-8")
    rows = dict(re.findall(r"^\| `(H2H_[A-Z_]+)` \| (.+?) \|", text, flags=re.MULTILINE))
    for name, field in Settings.model_fields.items():
        variable = f"H2H_{name.upper()}"
        assert field.description, f"{name} has no description"
        assert variable in rows, f"{variable} is missing from the README configuration table"
        default = str(getattr(field.default, "value", field.default))
        shown = "(empty)" if default == "" else f"`{default}`"
        assert rows[variable] == shown, f"README says {variable} defaults to {rows[variable]}"
    documented = set(rows) - {f"H2H_{n.upper()}" for n in Settings.model_fields}
    assert not documented, f"README documents settings that do not exist: {documented}"


def test_the_default_database_is_sqlite_in_the_data_directory(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("H2H_DATA_DIR", str(tmp_path))
    monkeypatch.delenv("H2H_DATABASE_URL", raising=False)
    settings = Settings(_env_file=None)
    assert settings.sqlalchemy_url == f"sqlite:///{tmp_path.resolve() / 'h2h.sqlite3'}"


@pytest.mark.parametrize("env", [Environment.PRODUCTION, Environment.TEST])
def test_a_placeholder_secret_is_refused_outside_development(env: Environment) -> None:
    with pytest.raises(ValidationError, match="H2H_SECRET_KEY is still the placeholder"):
        Settings(env=env, secret_key=PLACEHOLDER_SECRET, _env_file=None)
    with pytest.raises(ValidationError, match="at least 32 characters"):
        Settings(env=env, secret_key="short", _env_file=None)
    assert Settings(env=env, secret_key="k" * 40, _env_file=None).secret_key == "k" * 40


def test_development_accepts_the_placeholder_and_production_sends_secure_cookies() -> None:
    assert not Settings(env=Environment.DEVELOPMENT, _env_file=None).cookie_secure
    assert Settings(env=Environment.PRODUCTION, secret_key="k" * 40, _env_file=None).cookie_secure


def test_settings_come_from_h2h_environment_variables(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("H2H_PORT", "9100")
    monkeypatch.setenv("H2H_DEFAULT_LANGUAGE", "en")
    settings = Settings(_env_file=None)
    assert (settings.port, settings.default_language) == (9100, "en")
    monkeypatch.setenv("H2H_DEFAULT_LANGUAGE", "de")
    with pytest.raises(ValidationError, match="default_language"):
        Settings(_env_file=None)
