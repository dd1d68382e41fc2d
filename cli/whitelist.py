"""`nongedai whitelist upload FILE --staff USERNAME [--dry-run]`: a whitelist file through the same service as
the API, with a progress bar while the rows are checked, then the per-row report of refused rows."""

from __future__ import annotations

import asyncio
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import TextIO

from sqlmodel import Session
from tqdm import tqdm

from cli.devserver import StartupError
from config.settings import Settings
from db.engine import make_engine
from db.repositories import staff
from services import whitelist
from services.errors import ProblemError
from services.gateway import TemporalGateway
from services.principal import Principal
from services.schemas.whitelist import CampaignView
from services.temporal_client import connect


def upload_file(settings: Settings, path: Path, *, username: str, dry_run: bool = False,
                out: TextIO = sys.stdout, err: TextIO = sys.stderr) -> int:
    if not path.is_file():
        raise StartupError(f"no such file: {path}")
    data = path.read_bytes()
    engine = make_engine(settings.database_url)
    try:
        with Session(engine) as session:
            user = staff.by_username(session, username)
            if user is None or not user.active or user.id is None:
                raise StartupError(f"no active staff user {username!r}")
            principal = Principal("staff", user.id, user.role, user.branch_code)
            bar = tqdm(desc="检查 rows", unit="行", file=err, leave=True)

            def progress(done: int, total: int) -> None:
                if bar.total != total:
                    bar.total = total
                bar.update(done - bar.n)
            try:
                view = asyncio.run(_upload(session, settings, principal, data, path.name, dry_run, progress))
            except ProblemError as problem:
                print(f"refused: {problem.code} {problem.zh} / {problem.en}", file=err)
                for e in problem.errors:
                    print(f"  {e['field']}: {e['code']} {e['zh']} / {e['en']}", file=err)
                return 1
            finally:
                bar.close()
    finally:
        engine.dispose()
    _print(view, out)
    return 0


async def _upload(session: Session, settings: Settings, principal: Principal, data: bytes, filename: str,
                  dry_run: bool, progress) -> CampaignView:
    # A dry run never talks to Temporal: a lazy client connects only when used.
    client = await connect(settings, lazy=dry_run)
    gateway = TemporalGateway(client, task_queue=settings.task_queue)
    return await whitelist.upload(session, gateway, settings, principal, data=data, filename=filename,
                                  now=datetime.now(UTC), dry_run=dry_run, progress=progress)


def _print(view: CampaignView, out: TextIO) -> None:
    what = "dry run" if view.dry_run else ("already uploaded" if view.duplicate else "campaign")
    print(f"{what} {view.campaign_no or '-'}: {view.rows_total} rows, {view.rows_valid} valid, "
          f"{view.rows_refused} refused ({view.format}{', ' + view.encoding if view.encoding else ''}); "
          f"status {view.status}", file=out)
    for row in view.report or []:
        for p in row.problems:
            print(f"  row {row.row_no} {p.field}: {p.code} {p.zh} / {p.en}", file=out)
