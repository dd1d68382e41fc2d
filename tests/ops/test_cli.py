"""The `nongedai` command: its subcommands, the dev server's command line, ports, and child processes."""

from __future__ import annotations

import io
import socket
import sys
import time
from pathlib import Path

import pytest

from cli.devserver import StartupError, dev_server_command, ensure_port_free, temporal_binary
from cli.main import build_parser
from cli.supervisor import Child, Supervisor
from cli.up import api_argv, banner, child_env, worker_argv
from config.settings import Settings
from db.seed import DEMO_PASSWORD
from workflows.search_attributes import cli_flags


def _settings(tmp_path: Path, **kw) -> Settings:
    return Settings(var_dir=tmp_path, **kw)


def test_subcommands() -> None:
    parser = build_parser()
    for name in ("up", "migrate", "seed", "worker", "api", "dev-server"):
        assert parser.parse_args([name]).command == name
    assert parser.parse_args(["migrate"]).revision == "head"
    assert parser.parse_args(["verify-pdf", "contract.pdf", "--json"]).json is True
    assert parser.parse_args(["revoke-certificate", "ABC123"]).reason == "unspecified"
    assert parser.parse_args(["api", "--host", "0.0.0.0", "--port", "9000"]).port == 9000


def test_dev_server_command(tmp_path: Path) -> None:
    argv = dev_server_command(_settings(tmp_path))
    assert Path(argv[0]) == temporal_binary() and argv[1:3] == ["server", "start-dev"]
    flags = " ".join(argv)
    assert f"--db-filename {tmp_path / 'temporal' / 'dev.db'}" in flags
    assert "--ip 127.0.0.1 --port 7233 --ui-port 8233" in flags
    assert "--log-level warn" in flags
    assert "--dynamic-config-value system.forceSearchAttributesCacheRefreshOnRead=true" in flags
    assert all(flag in argv for flag in cli_flags())


def test_dev_server_follows_the_settings(tmp_path: Path) -> None:
    argv = dev_server_command(_settings(tmp_path, temporal_address="127.0.0.1:7300",
                                        temporal_ui_url="http://127.0.0.1:8300"))
    assert "--port 7300 --ui-port 8300" in " ".join(argv)


def test_a_taken_port_is_a_clear_error() -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        with pytest.raises(StartupError, match=f"127.0.0.1:{port} \\(API\\) is already in use"):
            ensure_port_free("127.0.0.1", port, "API")
    ensure_port_free("127.0.0.1", port, "API")


def test_children(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("NONGEDAI_OTP_ECHO", raising=False)
    settings = _settings(tmp_path)
    assert worker_argv() == [sys.executable, "-c", "import worker; worker.main()"]
    assert api_argv(settings)[1:] == ["-m", "uvicorn", "api.main:create_app", "--factory",
                                      "--host", "127.0.0.1", "--port", "8000"]
    assert child_env(settings, api=True)["NONGEDAI_OTP_ECHO"] == "true"
    assert "NONGEDAI_OTP_ECHO" not in child_env(settings)  # only the API echoes codes
    assert "NONGEDAI_OTP_ECHO" not in child_env(_settings(tmp_path, env="test"), api=True)


def test_banner_names_urls_and_logins(tmp_path: Path) -> None:
    text = "\n".join(banner(_settings(tmp_path)))
    for expected in ("http://127.0.0.1:8000/docs", "http://127.0.0.1:8233", DEMO_PASSWORD, "manager01",
                     "approver01", "approver02", "ops01", "admin01", "13800000001", "13800000005"):
        assert expected in text


def _python(code: str) -> list[str]:
    return [sys.executable, "-c", code]


def test_supervisor_prefixes_output_and_stops_in_reverse_order(tmp_path: Path) -> None:
    out = io.StringIO()
    sup = Supervisor(cwd=tmp_path, out=out)
    stubborn = sup.start(Child("stubborn", _python(
        "import signal, time; signal.signal(signal.SIGTERM, signal.SIG_IGN); print('up', flush=True); time.sleep(60)"),
        stop_timeout_s=0.5), env={})
    polite = sup.start(Child("polite", _python("import time; print('up', flush=True); time.sleep(60)")), env={})
    deadline = time.monotonic() + 10
    while out.getvalue().count("| up") < 2 and time.monotonic() < deadline:
        time.sleep(0.05)
    assert sup.exited() is None
    started = time.monotonic()
    sup.stop_all()
    assert time.monotonic() - started < 5
    assert polite.proc.returncode == -15  # SIGTERM was enough
    assert stubborn.proc.returncode == -9  # ignored SIGTERM, killed after its timeout
    lines = out.getvalue().splitlines()
    assert "stubborn | up" in [line.strip() for line in lines]
    assert any("stubborn | did not stop within" in line for line in lines)


def test_supervisor_reports_a_child_that_exits(tmp_path: Path) -> None:
    sup = Supervisor(cwd=tmp_path, out=io.StringIO())
    child = sup.start(Child("short", _python("raise SystemExit(3)")), env={})
    child.proc.wait(timeout=10)
    assert sup.exited() is child
    sup.stop_all()


def test_seed_refuses_production_settings(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture) -> None:
    from cli.main import main
    from config.settings import get_settings

    monkeypatch.setenv("NONGEDAI_ENV", "production")
    monkeypatch.setenv("NONGEDAI_JWT_SECRET", "x" * 40)
    monkeypatch.setenv("DATABASE_URL", "postgresql+psycopg://nobody@127.0.0.1:1/none")
    get_settings.cache_clear()
    try:
        with pytest.raises(SystemExit) as exit_:
            main(["seed"])
    finally:
        get_settings.cache_clear()
    assert exit_.value.code == 1
    assert "refusing to seed" in capsys.readouterr().err


def test_invalid_settings_are_reported_without_a_traceback(monkeypatch: pytest.MonkeyPatch,
                                                           capsys: pytest.CaptureFixture) -> None:
    from cli.main import main
    from config.settings import get_settings

    monkeypatch.setenv("NONGEDAI_ENV", "production")  # with the development JWT secret and SQLite
    get_settings.cache_clear()
    try:
        with pytest.raises(SystemExit) as exit_:
            main(["migrate"])
    finally:
        get_settings.cache_clear()
    assert exit_.value.code == 2
    assert "NONGEDAI_JWT_SECRET must be set" in capsys.readouterr().err
