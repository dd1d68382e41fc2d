"""Alembic environment: migrates db.metadata on the database that Settings (or the caller) names."""

from __future__ import annotations

from logging.config import fileConfig

from alembic import context
from alembic.autogenerate.api import AutogenContext
from sqlalchemy import create_engine, pool
from sqlalchemy.engine import Connection
from sqlalchemy.types import TypeEngine

from config.settings import get_settings
from db.metadata import metadata

config = context.config

# Programmatic callers (cli.migrate, tests) pass a URL or a live connection through `attributes`;
# the alembic command line falls back to Settings, i.e. DATABASE_URL or SQLite under var/.
if config.config_file_name is not None and not config.attributes.get("skip_logging_config"):
    fileConfig(config.config_file_name, disable_existing_loggers=False)


def _url() -> str:
    return config.attributes.get("url") or get_settings().database_url


def _render_item(kind: str, obj: object, autogen_context: AutogenContext) -> bool:
    """Default rendering, plus the import that our own column types (db.types.MoneyType, sqlmodel's
    AutoString, a simulator's UtcDateTime) need for the generated file to run."""
    if kind == "type" and isinstance(obj, TypeEngine):
        module = type(obj).__module__
        if not module.startswith("sqlalchemy"):
            autogen_context.imports.add(f"import {module}")
    return False


def _configure(*, is_sqlite: bool, **kw: object) -> None:
    context.configure(
        target_metadata=metadata,
        compare_type=True,
        render_item=_render_item,
        # SQLite cannot ALTER most things; batch mode rebuilds the table instead.
        render_as_batch=is_sqlite,
        **kw,
    )


def run_migrations_offline() -> None:
    url = _url()
    _configure(url=url, literal_binds=True, dialect_opts={"paramstyle": "named"}, is_sqlite=url.startswith("sqlite"))
    with context.begin_transaction():
        context.run_migrations()


def _run_on(connection: Connection) -> None:
    _configure(connection=connection, is_sqlite=connection.dialect.name == "sqlite")
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    connection = config.attributes.get("connection")
    if connection is not None:
        _run_on(connection)
        return
    # A plain engine, not db.engine.make_engine: its SQLite pragma turns foreign keys on, which breaks
    # batch-mode table rebuilds.
    engine = create_engine(_url(), poolclass=pool.NullPool)
    try:
        with engine.connect() as connection:
            _run_on(connection)
    finally:
        engine.dispose()


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
