"""The migrations build exactly db.metadata on SQLite and PostgreSQL, and undo it."""

from __future__ import annotations

from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import create_engine, inspect

from cli.migrate import alembic_config, downgrade, upgrade
from db.metadata import metadata


def _differences(url: str) -> list:
    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            ctx = MigrationContext.configure(conn, opts={"compare_type": True})
            return compare_metadata(ctx, metadata)
    finally:
        engine.dispose()


def _tables(url: str) -> set[str]:
    engine = create_engine(url)
    try:
        return set(inspect(engine).get_table_names()) - {"alembic_version"}
    finally:
        engine.dispose()


@pytest.fixture
def sqlite_url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'var' / 'fresh.db'}"


def test_there_is_one_head() -> None:
    heads = ScriptDirectory.from_config(alembic_config("sqlite://")).get_heads()
    assert len(heads) == 1


def test_sqlite_upgrade_matches_metadata_and_downgrades(sqlite_url: str) -> None:
    upgrade(sqlite_url, quiet=True)  # also creates the missing var/ folder
    assert _tables(sqlite_url) == set(metadata.tables)
    assert _differences(sqlite_url) == []
    downgrade(sqlite_url, "base", quiet=True)
    assert _tables(sqlite_url) == set()


def test_upgrade_twice_is_a_no_op(sqlite_url: str) -> None:
    upgrade(sqlite_url, quiet=True)
    upgrade(sqlite_url, quiet=True)
    assert _differences(sqlite_url) == []


def test_postgresql_upgrade_matches_metadata_and_downgrades(fresh_pg_url: str) -> None:
    upgrade(fresh_pg_url, quiet=True)
    assert _tables(fresh_pg_url) == set(metadata.tables)
    assert _differences(fresh_pg_url) == []
    downgrade(fresh_pg_url, "base", quiet=True)
    assert _tables(fresh_pg_url) == set()
