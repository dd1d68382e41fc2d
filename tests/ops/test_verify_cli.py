"""`nongedai verify-pdf` and `nongedai revoke-certificate` against the platform's database."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import uuid
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy.engine import Engine

from adapters.ca.port import PersonSigner, SealSigner
from adapters.ca.simulator import CaSimulator
from cli.verify import revoke_certificate, verify_pdf
from config.settings import Settings
from documents.models import LoanContractData
from documents.render import render_loan_contract
from tests.documents.contract_data import make_loan_fields

NONGEDAI = Path(sys.executable).with_name("nongedai")


def sign_contract(engine: Engine, path: Path) -> tuple[Path, str, datetime]:
    ca = CaSimulator(engine)
    ref = f"HT{uuid.uuid4().hex[:10]}"
    pdf = render_loan_contract(LoanContractData(**make_loan_fields())).pdf
    first = ca.sign_pdf(idempotency_key=f"{ref}:sign", document_ref=ref, pdf=pdf, field_name="borrower",
                        signer=PersonSigner(signer_ref="C-CLI-1", name="林秀英", resident_id="350582199503121238"),
                        evidence={})
    sealed = ca.sign_pdf(idempotency_key=f"{ref}:seal", document_ref=ref, pdf=first.pdf, field_name="lender_seal",
                         signer=SealSigner(signer_ref="SEAL-CLI", organisation="晋江农商银行", branch="安海支行"),
                         evidence={}, archive=True)
    path.write_bytes(sealed.pdf)
    return path, first.certificate_serial, first.signed_at


@pytest.fixture(scope="module")
def signed(engine: Engine, tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str, datetime]:
    return sign_contract(engine, tmp_path_factory.mktemp("cli") / "contract.pdf")


def test_the_command_verifies_a_signed_contract(signed: tuple[Path, str], pg_url: str) -> None:
    path, _, _ = signed
    env = {**os.environ, "DATABASE_URL": pg_url}
    for extra in ([], ["--offline"]):
        done = subprocess.run([str(NONGEDAI), "verify-pdf", *extra, str(path)], env=env, capture_output=True,
                              text=True, timeout=120, check=False)
        assert done.returncode == 0, done.stderr
        assert "有效 VALID" in done.stdout and "林秀英" in done.stdout and "晋江农商银行" in done.stdout
        assert "level B-LTA" in done.stdout
    tampered = path.with_name("tampered.pdf")
    data = bytearray(path.read_bytes())
    data[1000] ^= 0x01
    tampered.write_bytes(bytes(data))
    done = subprocess.run([str(NONGEDAI), "verify-pdf", "--json", str(tampered)], env=env, capture_output=True,
                          text=True, timeout=120, check=False)
    assert done.returncode == 1, done.stderr
    result = json.loads(done.stdout)
    assert result["tampered"] is True and result["valid"] is False


def test_revocation_after_signing_holds_and_before_it_fails(signed: tuple[Path, str, datetime], engine: Engine,
                                                             pg_url: str, tmp_path: Path,
                                                             capsys: pytest.CaptureFixture) -> None:
    path, serial, _ = signed
    settings = Settings(env="test", database_url=pg_url)
    assert revoke_certificate(settings, serial, "keyCompromise") == 0
    capsys.readouterr()
    assert verify_pdf(settings, path, as_json=True) == 0
    result = json.loads(capsys.readouterr().out)
    assert [s["problem"] for s in result["signatures"]] == [None, None]
    assert result["signatures"][0]["revoked_at"] is not None and result["level"] == "B-LTA"

    other, other_serial, signed_at = sign_contract(engine, tmp_path / "other.pdf")
    env = {**os.environ, "DATABASE_URL": pg_url}
    effective = (signed_at - timedelta(minutes=5)).isoformat()
    done = subprocess.run([str(NONGEDAI), "revoke-certificate", other_serial, "--reason", "keyCompromise",
                           "--effective-at", effective], env=env, capture_output=True, text=True, timeout=120,
                          check=False)
    assert done.returncode == 0, done.stderr
    assert verify_pdf(settings, other, as_json=True) == 1
    result = json.loads(capsys.readouterr().out)
    assert [s["problem"] for s in result["signatures"]] == ["CERTIFICATE_REVOKED", None]
