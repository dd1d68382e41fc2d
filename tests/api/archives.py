"""Archive test data: villages of the API test branches, the code tables, a complete form and small images."""

from __future__ import annotations

import struct
import zlib
from typing import Any

from sqlalchemy.engine import Engine

from db import archive_seed
from db.engine import session_scope
from db.models import Village
from tests.api import data

VILLAGE_A, VILLAGE_A_CREDIT, VILLAGE_B = "990000000101", "990000000102", "990000000201"


def ensure_reference(engine: Engine) -> None:
    data.ensure_reference(engine)
    with session_scope(engine) as s:
        archive_seed.install_codes(s)
        for code, name, branch, credit in ((VILLAGE_A, "甲一村", data.BRANCH_A, False),
                                           (VILLAGE_A_CREDIT, "甲二村", data.BRANCH_A, True),
                                           (VILLAGE_B, "乙一村", data.BRANCH_B, False)):
            if s.get(Village, code) is None:
                s.add(Village(code=code, name=name, branch_code=branch, credit_village=credit))


def person(name: str = "林阿福") -> dict[str, str]:
    return {"name": name, "resident_id": data.resident_id(), "mobile": data.mobile(), "address": "榜头镇坝下村12号"}


def form(**override: Any) -> dict[str, Any]:
    """A complete archive form (images aside): 3 people, 2 labourers, tea and pigs, every finance category."""
    body: dict[str, Any] = {
        "village_code": VILLAGE_A, "member_count": 3, "labour_count": 2, "main_business": "crop",
        "business_years": 12, "house_owned": True,
        "members": [
            {"relation": "spouse", "name": "陈美华", "resident_id": data.resident_id(), "mobile": data.mobile(),
             "is_labour": True, "occupation": "务农"},
            {"relation": "child", "name": "林小宝", "birth_date": "2015-03-02"},
        ],
        "production": [
            {"kind": "crop", "code": "tea", "quantity": "8", "acreage_mu": "8.5", "annual_revenue": "64000.00"},
            {"kind": "crop", "code": "rice", "quantity": "3", "acreage_mu": "3.25", "annual_revenue": "6000"},
            {"kind": "livestock", "code": "pig", "quantity": "12", "annual_revenue": "30000.00"},
        ],
        "finance": [
            {"category": "income", "kind": "crop", "amount": "70000.00"},
            {"category": "income", "kind": "livestock", "amount": "30000.00"},
            {"category": "expense", "kind": "production", "amount": "25000.00"},
            {"category": "expense", "kind": "living", "amount": "18000.00"},
            {"category": "asset", "kind": "house", "amount": "300000.00"},
            {"category": "asset", "kind": "deposit", "amount": "45000.50"},
            {"category": "liability", "kind": "bank_loan", "amount": "20000.00"},
        ],
    }
    body.update(override)
    return body


def png(seed: int = 0) -> bytes:
    """A real 1x1 PNG; `seed` changes the pixel so each image has its own content address."""
    def chunk(kind: bytes, payload: bytes) -> bytes:
        return struct.pack(">I", len(payload)) + kind + payload + struct.pack(">I", zlib.crc32(kind + payload))

    pixel = bytes([0, seed % 256, (seed >> 8) % 256, 7])
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", 1, 1, 8, 2, 0, 0, 0))
            + chunk(b"IDAT", zlib.compress(pixel)) + chunk(b"IEND", b""))
