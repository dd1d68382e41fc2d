"""Photos for the demo archives (db/seed_archives.py): the ID card's two sides and the house, uploaded
through the imaging adapter by the demo customer manager, as on a tablet, so that the demo archives are
complete, as a submitted archive must be. The pictures are placeholders: a QR code reading "农e贷演示影像"
with the kind and the customer number. Run after the seed's rows are committed; adds only what is missing."""

from __future__ import annotations

import io
from datetime import datetime

import segno
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from adapters.imaging.port import ImageStore
from db.models import Customer, Household, HouseholdImage, StaffUser
from db.seed_archives import HOUSEHOLDS
from services import archive_images
from services.errors import ProblemError
from services.principal import Principal

KINDS = ("id_front", "id_back", "house")


def placeholder(kind: str, customer_no: str) -> bytes:
    png = io.BytesIO()
    segno.make(f"农e贷演示影像 {kind} {customer_no}", micro=False).save(png, kind="png", scale=6, border=2)
    return png.getvalue()


def add_demo_images(engine: Engine, imaging: ImageStore, *, now: datetime) -> int:
    """Uploads the missing photos of each demo archive; returns how many."""
    added = 0
    with Session(engine) as session:
        manager = session.exec(select(StaffUser).where(StaffUser.username == "manager01")).first()
        if manager is None or manager.id is None:
            return 0
        principal = Principal("staff", manager.id, manager.role, manager.branch_code)
        rows = session.exec(select(Household.id, Customer.customer_no)
                            .join(Customer, col(Customer.id) == col(Household.customer_id))
                            .where(col(Customer.customer_no).in_(list(HOUSEHOLDS)))).all()
        for household_id, customer_no in rows:
            present = set(session.exec(select(HouseholdImage.kind).where(HouseholdImage.household_id == household_id)))
            for kind in (k for k in KINDS if k not in present):
                try:
                    archive_images.add(session, imaging, principal, household_id, kind=kind,
                                       data=placeholder(kind, customer_no), now=now)
                except ProblemError:  # the archive moved to another manager, say: its photos are theirs to add
                    session.rollback()
                    break
                added += 1
    return added
