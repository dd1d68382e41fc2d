"""Connects the one Temporal client a process holds, with the pydantic converter so Decimal stays exact."""

from __future__ import annotations

import logging

from temporalio.client import Client
from temporalio.contrib.pydantic import pydantic_data_converter

from config.settings import Settings

log = logging.getLogger(__name__)


async def connect(settings: Settings, *, lazy: bool = False) -> Client:
    return await Client.connect(settings.temporal_address, namespace=settings.temporal_namespace,
                                data_converter=pydantic_data_converter, lazy=lazy)


async def connect_or_defer(settings: Settings) -> Client:
    """Connect now, or return a lazy client that connects on first use.

    The API must come up (and answer /healthz, reads and /readyz=503) while Temporal is still starting
    or briefly away; calls made meanwhile fail with TemporalUnavailable and map to 503.
    """
    try:
        return await connect(settings)
    except RuntimeError as exc:
        log.warning("Temporal at %s not reachable yet (%s); connecting on first use", settings.temporal_address, exc)
        return await connect(settings, lazy=True)
