"""`nongedai up`: the dev server, migrations, demo data, worker and API together, until Ctrl-C."""

from __future__ import annotations

import os
import signal
import sys
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable

from sqlalchemy.engine import make_url

from cli.demo import seed_demo_data
from cli.devserver import (
    StartupError,
    dev_server_command,
    ensure_port_free,
    split_address,
    ui_port,
    wait_for_temporal,
)
from cli.migrate import upgrade
from cli.supervisor import Child, Supervisor
from config.settings import PROJECT_ROOT, Settings
from db.engine import make_engine
from db.seed import DEMO_PASSWORD, demo_customer_specs, demo_staff_specs

TEMPORAL_START_TIMEOUT_S = 90.0
API_START_TIMEOUT_S = 60.0
ME = "nongedai"


def child_env(settings: Settings, *, api: bool = False) -> dict[str, str]:
    env = dict(os.environ, PYTHONUNBUFFERED="1")
    if api and settings.env == "development":
        # The demo's customer login answers with the SMS code, so it works without a phone.
        env["NONGEDAI_OTP_ECHO"] = "true"
    return env


def worker_argv() -> list[str]:
    return [sys.executable, "-c", "import worker; worker.main()"]


def api_argv(settings: Settings) -> list[str]:
    return [sys.executable, "-m", "uvicorn", "api.main:create_app", "--factory",
            "--host", settings.api_host, "--port", str(settings.api_port)]


def api_base_url(settings: Settings) -> str:
    return f"http://{settings.api_host}:{settings.api_port}"


def wait_for_http(url: str, *, timeout_s: float, alive: Callable[[], bool]) -> bool:
    """True once the URL answers at all (any HTTP status), False if `alive` turns false first."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if not alive():
            return False
        try:
            with urllib.request.urlopen(url, timeout=2):  # noqa: S310 - our own loopback URL
                return True
        except urllib.error.HTTPError:
            return True
        except OSError:
            time.sleep(0.3)
    raise StartupError(f"the API did not answer on {url} within {timeout_s:.0f}s (its output is above)")


def banner(settings: Settings) -> list[str]:
    staff = ", ".join(f"{s.username} ({s.role}{f' up to {s.authority_limit:,.0f}' if s.authority_limit else ''})"
                      for s in demo_staff_specs())
    lines = [
        "农e贷 is running.",
        f"  API docs     {api_base_url(settings)}/docs",
        f"  Temporal UI  {settings.temporal_ui_url}",
        f"  Database     {make_url(settings.database_url).render_as_string(hide_password=True)}",
        f"  Staff logins (password {DEMO_PASSWORD!r}): {staff}",
        "  Customer logins by mobile; in development the SMS code comes back in the API answer:",
    ]
    lines += [f"    {c.mobile}  {c.name}  {c.demo_role}" for c in demo_customer_specs()]
    lines.append("Ctrl-C stops everything; loans in flight carry on at the next `make up`.")
    return lines


def _install_signal_handlers(stop: threading.Event, hurry: threading.Event) -> None:
    def on_signal(_signum: int, _frame: object) -> None:
        # The first signal stops gracefully; a second one kills whatever is still running.
        if stop.is_set():
            hurry.set()
        stop.set()

    for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
        signal.signal(sig, on_signal)


def _prepare(settings: Settings) -> None:
    host, port = split_address(settings.temporal_address)
    ensure_port_free(host, port, "Temporal gRPC")
    ensure_port_free(host, ui_port(settings), "Temporal UI")
    ensure_port_free(settings.api_host, settings.api_port, "API")
    (settings.var_dir / "temporal").mkdir(parents=True, exist_ok=True)


def _migrate_and_seed(settings: Settings, sup: Supervisor) -> None:
    upgrade(settings.database_url, quiet=True)
    sup.say(ME, "database migrated to head")
    if settings.env == "production":
        sup.say(ME, "production settings: demo data not seeded")
        return
    engine = make_engine(settings.database_url)
    try:
        added = seed_demo_data(engine)
    finally:
        engine.dispose()
    sup.say(ME, "demo data: " + (", ".join(f"{n} {k}" for k, n in added.items() if n) or "already there"))


def run_up(settings: Settings) -> int:
    stop, hurry = threading.Event(), threading.Event()
    _install_signal_handlers(stop, hurry)
    sup = Supervisor(cwd=PROJECT_ROOT)
    _prepare(settings)
    code = 0
    try:
        temporal = sup.start(Child("temporal", dev_server_command(settings), quiet_on_stop=True), child_env(settings))
        sup.say(ME, f"waiting for the Temporal dev server on {settings.temporal_address}")
        try:
            wait_for_temporal(settings, timeout_s=TEMPORAL_START_TIMEOUT_S,
                              alive=lambda: not stop.is_set() and temporal.proc.poll() is None)
        except StartupError:
            if stop.is_set():
                return 130
            raise
        _migrate_and_seed(settings, sup)
        # The worker drains its activities on SIGTERM; give it longer than the others.
        sup.start(Child("worker", worker_argv(), stop_timeout_s=30), child_env(settings))
        api = sup.start(Child("api", api_argv(settings)), child_env(settings, api=True))
        if wait_for_http(f"{api_base_url(settings)}/healthz", timeout_s=API_START_TIMEOUT_S,
                         alive=lambda: not stop.is_set() and api.proc.poll() is None):
            for line in banner(settings):
                sup.say(ME, line)
        while not stop.wait(0.5):
            gone = sup.exited()
            if gone is not None:
                sup.say(ME, f"{gone.name} exited with code {gone.proc.returncode}; stopping everything")
                code = 1
                break
    finally:
        sup.say(ME, "stopping")
        sup.stop_all(hurry=hurry)
        sup.say(ME, "stopped")
    return code
