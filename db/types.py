"""Column types shared by every table."""

from __future__ import annotations

from datetime import UTC
from decimal import Decimal
from typing import Any

from sqlalchemy import BigInteger, DateTime, Numeric, String
from sqlalchemy.engine import Dialect
from sqlalchemy.types import TypeDecorator


class MoneyType(TypeDecorator):
    """NUMERIC(18,2) on PostgreSQL; a decimal string on SQLite, which has no exact decimal type."""

    impl = Numeric(18, 2)
    cache_ok = True

    def load_dialect_impl(self, dialect: Dialect) -> Any:
        if dialect.name == "sqlite":
            return dialect.type_descriptor(String(32))
        return dialect.type_descriptor(Numeric(18, 2))

    def process_bind_param(self, value: Any, dialect: Dialect) -> Any:
        if value is None:
            return None
        value = Decimal(value)
        return str(value) if dialect.name == "sqlite" else value

    def process_result_value(self, value: Any, dialect: Dialect) -> Any:
        return None if value is None else Decimal(value)


class RateType(MoneyType):
    """Annual interest rates as exact decimals with six places (0.046000 = 4.6%)."""

    impl = Numeric(9, 6)
    cache_ok = True

    def load_dialect_impl(self, dialect: Dialect) -> Any:
        if dialect.name == "sqlite":
            return dialect.type_descriptor(String(16))
        return dialect.type_descriptor(Numeric(9, 6))


class UtcDateTime(TypeDecorator):
    """Timezone-aware UTC timestamps on every database (SQLite keeps them naive; we restore the zone)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: Any, dialect: Dialect) -> Any:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime: pass an aware UTC datetime")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: Any, dialect: Dialect) -> Any:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


class FenAmount(TypeDecorator):
    """Money stored as a whole number of fen (BIGINT); Decimal yuan in Python.

    The servicing columns that end of day adds up in SQL use it: integer arithmetic is exact on every
    database, where SQLite would add MoneyType's decimal strings as floats. Also holds balance x days
    accumulations (积数, yuan-days), which are whole fen too."""

    impl = BigInteger
    cache_ok = True

    def process_bind_param(self, value: Any, dialect: Dialect) -> Any:
        if value is None:
            return None
        fen = Decimal(value) * 100
        if fen != fen.to_integral_value():
            raise ValueError(f"{value} is not a whole number of fen")
        return int(fen)

    def process_result_value(self, value: Any, dialect: Dialect) -> Any:
        return None if value is None else Decimal(int(value)).scaleb(-2)
