"""Argument parsing and dispatch for `nongedai` (up, migrate, seed, worker, api, verify-pdf, revoke-certificate,
dev-server)."""

from __future__ import annotations

import argparse
import os
import sys
from datetime import datetime
from pathlib import Path

from pydantic import ValidationError

from cli.devserver import StartupError, dev_server_command
from config.settings import Settings, get_settings


def _up(settings: Settings, _args: argparse.Namespace) -> int:
    from cli.up import run_up

    return run_up(settings)


def _migrate(settings: Settings, args: argparse.Namespace) -> int:
    from cli.migrate import upgrade

    upgrade(settings.database_url, args.revision)
    return 0


def _seed(settings: Settings, _args: argparse.Namespace) -> int:
    from cli.demo import seed_demo_data
    from db.engine import make_engine

    if settings.env == "production":
        raise StartupError("refusing to seed demo staff and customers with production settings")
    engine = make_engine(settings.database_url)
    try:
        added = seed_demo_data(engine)
    finally:
        engine.dispose()
    print("added: " + (", ".join(f"{n} {k}" for k, n in added.items() if n) or "nothing, all there"))
    return 0


def _worker(_settings: Settings, _args: argparse.Namespace) -> int:
    import worker

    worker.main()
    return 0


def _api(settings: Settings, args: argparse.Namespace) -> int:
    import uvicorn

    uvicorn.run("api.main:create_app", factory=True, host=args.host or settings.api_host,
                port=args.port or settings.api_port)
    return 0


def _dev_server(settings: Settings, _args: argparse.Namespace) -> int:
    argv = dev_server_command(settings)
    (settings.var_dir / "temporal").mkdir(parents=True, exist_ok=True)
    os.execv(argv[0], argv)  # noqa: S606 - replace ourselves so signals reach the server directly


def _aware_datetime(text: str) -> datetime:
    value = datetime.fromisoformat(text)
    if value.tzinfo is None:
        raise argparse.ArgumentTypeError("give a time zone, e.g. +08:00")
    return value


def _verify_pdf(settings: Settings, args: argparse.Namespace) -> int:
    from cli.verify import verify_pdf

    return verify_pdf(settings, args.file, as_json=args.json, offline=args.offline)


def _revoke(settings: Settings, args: argparse.Namespace) -> int:
    from adapters.errors import Refused
    from cli.verify import revoke_certificate

    try:
        return revoke_certificate(settings, args.serial, args.reason, effective_at=args.effective_at)
    except Refused as refused:
        raise StartupError(f"{refused.code}: {refused.message}") from refused
def _whitelist(settings: Settings, args: argparse.Namespace) -> int:
    from pathlib import Path

    from cli.whitelist import upload_file

    return upload_file(settings, Path(args.file), username=args.staff, dry_run=args.dry_run)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="nongedai", description="农e贷 — run the loan platform or one part of it.")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    sub.add_parser("up", help="dev server + migrations + demo data + worker + API, until Ctrl-C").set_defaults(run=_up)
    migrate = sub.add_parser("migrate", help="upgrade the database (DATABASE_URL, else SQLite under var/)")
    migrate.add_argument("--revision", default="head", help="target revision (default: head)")
    migrate.set_defaults(run=_migrate)
    sub.add_parser("seed", help="add the demo product, branches, staff and customers if missing").set_defaults(run=_seed)
    sub.add_parser("worker", help="run the Temporal worker until SIGINT/SIGTERM").set_defaults(run=_worker)
    api = sub.add_parser("api", help="serve the HTTP API with uvicorn")
    api.add_argument("--host", help="bind address (default: NONGEDAI_API_HOST)")
    api.add_argument("--port", type=int, help="port (default: NONGEDAI_API_PORT)")
    api.set_defaults(run=_api)
    verify = sub.add_parser("verify-pdf", help="check a signed contract PDF: integrity, chain, revocation, signers")
    verify.add_argument("file", type=Path)
    verify.add_argument("--json", action="store_true", help="print the full result as JSON")
    verify.add_argument("--offline", action="store_true",
                        help="use only the validation data inside the PDF (not the CA's current CRL)")
    verify.set_defaults(run=_verify_pdf)
    revoke = sub.add_parser("revoke-certificate", help="put a signer's or seal's certificate on the CA's CRL")
    revoke.add_argument("serial", help="certificate serial number, hex")
    revoke.add_argument("--reason", default="unspecified", help="e.g. keyCompromise")
    revoke.add_argument("--effective-at", type=_aware_datetime, default=None,
                        help="ISO time the key stopped being trustworthy, if before now (e.g. 2026-12-01T08:00:00+08:00)")
    revoke.set_defaults(run=_revoke)
    sub.add_parser("dev-server", help="run only the Temporal dev server (persisted under var/temporal)").set_defaults(
        run=_dev_server)
    whitelist = sub.add_parser("whitelist", help="upload a whitelist (CSV or XLSX) and start its campaign")
    wl_sub = whitelist.add_subparsers(dest="whitelist_command", required=True, metavar="ACTION")
    upload = wl_sub.add_parser("upload", help="check every row (with a progress bar), store and start the campaign")
    upload.add_argument("file", help="a .csv (UTF-8 or GBK) or .xlsx file")
    upload.add_argument("--staff", required=True, help="the uploading staff member's username")
    upload.add_argument("--dry-run", action="store_true", help="check and report only; store and start nothing")
    upload.set_defaults(run=_whitelist)
    return parser


def main(argv: list[str] | None = None) -> None:
    args = build_parser().parse_args(argv)
    try:
        code = args.run(get_settings(), args)
    except StartupError as exc:
        print(f"nongedai: {exc}", file=sys.stderr)
        code = 1
    except ValidationError as exc:
        print(f"nongedai: the settings are not valid:\n{exc}", file=sys.stderr)
        code = 2
    sys.exit(code)
