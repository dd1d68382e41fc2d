"""`nongedai verify-pdf FILE` and `nongedai revoke-certificate SERIAL`: the CA simulator from a terminal.

Verification reads the trust root and the revocation list from the database the platform runs on
(DATABASE_URL), so it checks a contract exactly as the API does, offline. Run by ops on the server, it
prints the signers' names, which the public API never shows.
"""

from __future__ import annotations

import hashlib
import json
from datetime import datetime
from pathlib import Path

from config.settings import Settings


def _ca(settings: Settings):  # noqa: ANN202 - a wiring point: the concrete simulator is the adapter here
    from adapters.ca.simulator import CaSimulator
    from db.engine import make_engine

    engine = make_engine(settings.database_url)
    return engine, CaSimulator(engine, crl_url=settings.crl_url)


def verify_pdf(settings: Settings, path: Path, *, as_json: bool, offline: bool = False) -> int:
    """0 when every signature holds and nothing changed after signing, 1 otherwise. `offline`: judge the
    file only by what it carries (chain, CRLs and timestamps embedded at signing), as a court would."""
    pdf = path.read_bytes()
    engine, ca = _ca(settings)
    try:
        result = ca.verify_pdf(pdf, offline=offline)
    finally:
        engine.dispose()
    if as_json:
        print(json.dumps({"file": str(path), "sha256": hashlib.sha256(pdf).hexdigest(),
                          **result.model_dump(mode="json")}, ensure_ascii=False, indent=2))
        return 0 if result.valid else 1
    print(f"{path}  SHA-256 {hashlib.sha256(pdf).hexdigest()}")
    verdict = "有效 VALID" if result.valid else ("已被篡改 TAMPERED" if result.tampered else "无效 INVALID")
    print(f"结论 verdict: {verdict}" + (f" ({result.problem})" if result.problem else "")
          + (f"  level {result.level}" if result.level else "") + ("  (offline)" if offline else ""))
    for s in result.signatures:
        when = s.signed_at.isoformat() if s.signed_at else "-"
        status = "ok" if s.valid else s.problem
        later = f"  revoked later, at {s.revoked_at.isoformat()}" if s.valid and s.revoked_at else ""
        print(f"  {s.field_name:<12} {s.signer_kind:<6} {s.signer_name or '-'}  ref {s.signer_ref or '-'}  "
              f"at {when}  cert {s.certificate_serial}  {s.level or '-'}  {status}{later}")
    return 0 if result.valid else 1


def revoke_certificate(settings: Settings, serial: str, reason: str, *, effective_at: datetime | None = None) -> int:
    engine, ca = _ca(settings)
    try:
        ca.revoke(certificate_serial=serial, reason=reason, effective_at=effective_at)
    finally:
        engine.dispose()
    print(f"revoked {serial.upper()} ({reason}); it is on the next CRL")
    return 0
