"""`nongedai whitelist upload`: a progress bar while rows are checked, the report, a dry run, a real start."""

from __future__ import annotations

import io
import uuid
from pathlib import Path

import pytest
from sqlmodel import Session, select

from cli.devserver import StartupError
from cli.main import build_parser
from cli.whitelist import upload_file
from db.models import WhitelistCampaign
from tests import factories


def _file(tmp_path: Path, manager: str, *, encoding: str = "gbk") -> Path:
    rows = [f"{factories.resident_id()},黄大山,1365{uuid.uuid4().int % 10**7:07d},50000,NONG_E_DAI,{manager},"
            f"{factories.BRANCH}" for _ in range(3)]
    rows.append(f"3.50102E+17,王五,13655500001,50000,NONG_E_DAI,{manager},{factories.BRANCH}")
    path = tmp_path / "名单.csv"
    path.write_bytes(("身份证号,姓名,手机号,预授信额度,产品,客户经理,机构\n" + "\n".join(rows) + "\n").encode(encoding))
    return path


def test_the_parser_knows_the_command():
    args = build_parser().parse_args(["whitelist", "upload", "a.csv", "--staff", "manager01", "--dry-run"])
    assert (args.file, args.staff, args.dry_run) == ("a.csv", "manager01", True)


def test_dry_run_shows_progress_and_the_report_and_stores_nothing(tmp_path, engine, settings):
    factories.ensure_reference_data(engine)
    manager = factories.staff(engine, "customer_manager")
    out, err = io.StringIO(), io.StringIO()
    path = _file(tmp_path, manager.username)
    assert upload_file(settings, path, username=manager.username, dry_run=True, out=out, err=err) == 0
    assert "4/4" in err.getvalue()  # the progress bar reached the last row
    assert "dry run -: 4 rows, 3 valid, 1 refused (csv, gbk)" in out.getvalue()
    assert "row 5 resident_id: ID_SCIENTIFIC_NOTATION" in out.getvalue()
    with Session(engine) as s:
        assert s.exec(select(WhitelistCampaign).where(WhitelistCampaign.filename == path.name)).first() is None


def test_upload_starts_the_campaign_once_and_refuses_unknown_staff(tmp_path, engine, settings, dev_env):
    factories.ensure_reference_data(engine)
    manager = factories.staff(engine, "customer_manager")
    target = dev_env.client.service_client.config.target_host
    cli_settings = settings.model_copy(update={"temporal_address": target, "task_queue": f"cli-{uuid.uuid4().hex[:6]}"})
    path = _file(tmp_path, manager.username, encoding="utf-8-sig")
    out = io.StringIO()
    assert upload_file(cli_settings, path, username=manager.username, out=out, err=io.StringIO()) == 0
    assert "status running" in out.getvalue()
    again = io.StringIO()
    assert upload_file(cli_settings, path, username=manager.username, out=again, err=io.StringIO()) == 0
    assert again.getvalue().startswith("already uploaded WL")
    empty = tmp_path / "empty.csv"
    empty.write_bytes(b"")
    err = io.StringIO()
    assert upload_file(cli_settings, empty, username=manager.username, out=io.StringIO(), err=err) == 1
    assert "FILE_EMPTY" in err.getvalue()
    with pytest.raises(StartupError, match="no active staff user 'nobody'"):
        upload_file(cli_settings, path, username="nobody", out=io.StringIO(), err=io.StringIO())
