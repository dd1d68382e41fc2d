"""All tables, the platform's and the simulators', registered on one SQLModel.metadata (for Alembic and tests)."""

from __future__ import annotations

from sqlmodel import SQLModel

import db.models  # noqa: F401  (registers tables)

metadata = SQLModel.metadata
