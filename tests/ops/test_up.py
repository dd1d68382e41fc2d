"""`nongedai up` end to end: dev server, migrations, seed, worker and API answer; Ctrl-C stops all; restart works."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from config.settings import PROJECT_ROOT

START_TIMEOUT_S = 120


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _children(pid: int) -> list[int]:
    kids = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == pid:
            kids.append(int(stat.parent.name))
    return kids


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    # A zombie has exited; only its parent's wait is missing.
    return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] != "Z"


def _status(url: str) -> int:
    with urllib.request.urlopen(url, timeout=5) as response:  # noqa: S310 - loopback
        return response.status


class Up:
    def __init__(self, env: dict[str, str], log: Path) -> None:
        self.log = log
        self.out = log.open("wb")
        self.proc = subprocess.Popen([sys.executable, "-m", "cli", "up"], cwd=PROJECT_ROOT, env=env,  # noqa: S603
                                     stdout=self.out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)

    def text(self) -> str:
        return self.log.read_text(encoding="utf-8", errors="replace")

    def wait_for(self, *needles: str) -> None:
        deadline = time.monotonic() + START_TIMEOUT_S
        while not all(n in self.text() for n in needles):
            assert self.proc.poll() is None, f"nongedai up exited early:\n{self.text()}"
            assert time.monotonic() < deadline, f"nongedai up did not start:\n{self.text()}"
            time.sleep(0.5)

    def stop(self, sig: int) -> list[int]:
        children = _children(self.proc.pid)
        self.proc.send_signal(sig)
        try:
            code = self.proc.wait(timeout=60)
        finally:
            self.out.close()
        assert code == 0, self.text()
        return children


@pytest.fixture
def up_env(tmp_path: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("NONGEDAI_") and k != "DATABASE_URL"}
    grpc, ui, api = _free_port(), _free_port(), _free_port()
    env.update(NONGEDAI_VAR_DIR=str(tmp_path / "var"), NONGEDAI_TEMPORAL_ADDRESS=f"127.0.0.1:{grpc}",
               NONGEDAI_TEMPORAL_UI_URL=f"http://127.0.0.1:{ui}", NONGEDAI_API_PORT=str(api))
    return env


def test_up_runs_everything_and_stops_cleanly(up_env: dict[str, str], tmp_path: Path) -> None:
    api = f"http://127.0.0.1:{up_env['NONGEDAI_API_PORT']}"
    first = Up(up_env, tmp_path / "first.log")
    try:
        # The banner follows the API's first answer; the worker may log its first line a little later.
        first.wait_for("农e贷 is running.", "worker |")
        assert _status(f"{api}/healthz") == 200
        assert _status(up_env["NONGEDAI_TEMPORAL_UI_URL"]) == 200
        text = first.text()
        assert ("demo data: 1 product, 5 rule_set, 4 lpr_rate, 2 branch, 6 staff, 5 customer, 5 village, 20 archive_code"
                in text)
        assert "temporal |" in text and "api |" in text
    finally:
        children = first.stop(signal.SIGINT)
    assert len(children) == 3  # dev server, worker, API
    assert not [pid for pid in children if _alive(pid)]
    assert (tmp_path / "var" / "temporal" / "dev.db").is_file()
    assert (tmp_path / "var" / "nongedai.db").is_file()

    second = Up(up_env, tmp_path / "second.log")
    try:
        second.wait_for("农e贷 is running.")
        assert "demo data: already there" in second.text()
        assert _status(f"{api}/healthz") == 200
    finally:
        children = second.stop(signal.SIGTERM)
    assert not [pid for pid in children if _alive(pid)]
