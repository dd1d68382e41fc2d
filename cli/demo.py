"""Demo data for `nongedai seed` and `nongedai up`: db/seed.py's rows, then the demo archives' photos
through the imaging adapter (the simulator, as everywhere outside production)."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy.engine import Engine

from adapters.imaging.simulator import ImagingSimulator
from db.seed import seed_demo
from services.demo_archives import add_demo_images


def seed_demo_data(engine: Engine) -> dict[str, int]:
    """Whatever demo rows and photos are missing; returns how many of each kind were added."""
    now = datetime.now(UTC)
    added = seed_demo(engine, now=now)
    added["household_image"] = add_demo_images(engine, ImagingSimulator(engine), now=now)
    return added
