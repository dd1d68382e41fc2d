"""API fixtures: the real app on the session's PostgreSQL database, with Temporal faked at the service boundary."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.engine import Engine

from api.main import create_app
from config.settings import Settings
from services.otp import RESEND_AFTER
from services.throttle import Throttle
from tests.api import data
from tests.api.fakes import FakeWorkflows


@pytest.fixture(scope="session")
def api_settings(pg_url: str, engine: Engine) -> Settings:
    # Port 9 (discard) refuses connections: the app falls back to a lazy client, which the tests replace.
    return Settings(env="test", database_url=pg_url, otp_echo=True, temporal_address="127.0.0.1:9",
                    jwt_secret="api-tests-secret-0123456789abcdef0123456789")


@pytest.fixture(scope="session")
def app_client(api_settings: Settings, engine: Engine) -> Iterator[TestClient]:
    data.ensure_reference(engine)
    with TestClient(create_app(api_settings), raise_server_exceptions=False) as client:
        yield client


@pytest.fixture
def workflows(app_client: TestClient) -> FakeWorkflows:
    fake = FakeWorkflows()
    runtime = app_client.app.state.runtime
    runtime.workflows = fake
    runtime.otp_throttle = Throttle(RESEND_AFTER)
    return fake


@pytest.fixture
def client(app_client: TestClient, workflows: FakeWorkflows) -> TestClient:
    return app_client

