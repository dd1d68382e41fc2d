"""Alembic, driven from code: upgrade the database named by Settings (or a given URL) to a revision."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from sqlalchemy.engine import make_url

from config.settings import PROJECT_ROOT


def alembic_config(url: str, *, quiet: bool = False) -> Config:
    cfg = Config(str(PROJECT_ROOT / "alembic.ini"))
    # Passed as an attribute, not as sqlalchemy.url: ini interpolation would mangle '%' in passwords.
    cfg.attributes["url"] = url
    # Quiet leaves the caller's logging alone instead of applying alembic.ini's INFO-level console log.
    cfg.attributes["skip_logging_config"] = quiet
    return cfg


def upgrade(url: str, revision: str = "head", *, quiet: bool = False) -> None:
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite" and parsed.database:
        # SQLite creates the file but not its folder (var/ on a fresh clone).
        Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
    command.upgrade(alembic_config(url, quiet=quiet), revision)


def downgrade(url: str, revision: str, *, quiet: bool = False) -> None:
    command.downgrade(alembic_config(url, quiet=quiet), revision)
