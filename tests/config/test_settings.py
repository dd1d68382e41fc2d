"""Settings come from the environment and refuse the development placeholders in production."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from config.settings import DEV_JWT_SECRET, Settings

PG = "postgresql+psycopg://nongedai@db:5432/nongedai"
SECRET = "k" * 40


def test_development_defaults_to_sqlite_under_var(tmp_path, monkeypatch):
    monkeypatch.delenv("DATABASE_URL", raising=False)
    monkeypatch.delenv("NONGEDAI_DATABASE_URL", raising=False)
    settings = Settings(_env_file=None, var_dir=tmp_path)
    assert settings.env == "development" and settings.is_sqlite
    assert settings.database_url == f"sqlite:///{(tmp_path / 'nongedai.db').as_posix()}"


def test_database_url_comes_from_the_conventional_variable(monkeypatch):
    monkeypatch.setenv("DATABASE_URL", PG)
    monkeypatch.setenv("NONGEDAI_TASK_QUEUE", "loans-b")
    settings = Settings()
    assert (settings.database_url, settings.task_queue) == (PG, "loans-b")


@pytest.mark.parametrize(("overrides", "complaint"), [
    ({"jwt_secret": DEV_JWT_SECRET, "database_url": PG}, "NONGEDAI_JWT_SECRET"),
    ({"jwt_secret": "short", "database_url": PG}, "NONGEDAI_JWT_SECRET"),
    ({"jwt_secret": SECRET, "database_url": "sqlite:///x.db"}, "DATABASE_URL"),
    ({"jwt_secret": SECRET, "database_url": PG, "otp_echo": True}, "NONGEDAI_OTP_ECHO"),
])
def test_production_refuses_unsafe_defaults(monkeypatch, overrides, complaint):
    monkeypatch.delenv("DATABASE_URL", raising=False)
    with pytest.raises(ValidationError, match=complaint):
        Settings(env="production", **overrides)


def test_production_with_real_values_starts():
    settings = Settings(env="production", jwt_secret=SECRET, database_url=PG)
    assert not settings.is_sqlite
