"""All tables, the platform's and the simulators', registered on one SQLModel.metadata (for Alembic and tests)."""

from __future__ import annotations

from sqlmodel import SQLModel

import adapters.ca.tables  # noqa: F401  (registers ca_ tables)
import adapters.core_banking.tables  # noqa: F401  (registers cbs_ tables)
import adapters.imaging.tables  # noqa: F401  (registers img_ tables)
import adapters.sms.tables  # noqa: F401  (registers sms_ tables)
import db.models  # noqa: F401  (registers tables)

metadata = SQLModel.metadata
