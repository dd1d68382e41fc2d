"""Products and their versions as the API shows and takes them."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, Field

from db.models import Product, ProductVersion
from services.schemas.common import RequestModel


class ProductVersionIn(RequestModel):
    """New terms for a product (domain.products.ProductTerms without code and version); unset fields take the
    defaults of 农e贷."""

    name: str = Field(min_length=1, max_length=64)
    terms: dict[str, Any] = Field(default_factory=dict)
    note: str = Field(default="", max_length=200)


class ProductVersionView(BaseModel):
    code: str
    version: int
    name: str
    status: str
    terms: dict[str, Any]
    note: str
    created_by: str
    created_at: datetime
    activated_by: str | None
    activated_at: datetime | None

    @classmethod
    def of(cls, row: ProductVersion) -> ProductVersionView:
        return cls.model_validate(row, from_attributes=True)


class ProductView(BaseModel):
    code: str
    version: int
    name: str
    active: bool
    terms: dict[str, Any]
    versions: list[ProductVersionView] = []

    @classmethod
    def of(cls, row: Product, versions: list[ProductVersion] | None = None) -> ProductView:
        return cls(code=row.code, version=row.version, name=row.name, active=row.active, terms=row.terms,
                   versions=[ProductVersionView.of(v) for v in versions or []])
