"""Signed contracts per second, against weasyprint rendering the same HTML without signing.

One signed contract is what the platform does for a borrower, minus Temporal: the loan contract's
template rendered (jinja2) and laid out (weasyprint), then the borrower's PAdES signature (a fresh event
certificate, an RFC 3161 timestamp, chain and CRL in the DSS, a visible box) and the cooperative's seal
(visible, with the archive timestamp: PAdES B-LTA) appended by the CA simulator, each stored with its
evidence in a fresh PostgreSQL database. The baseline, in the same run and process, is
weasyprint turning the same HTML into a PDF, nothing else. Both run one after the other in alternating
blocks, so a noisy neighbour slows both alike.

    .venv/bin/python bench/contracts.py [--contracts 40] [--block 5]

Progress goes to stderr; the last line of stdout is one JSON object (see bench/README.md).
"""

from __future__ import annotations

import argparse
import hashlib
import statistics
import sys
import time
import uuid
from pathlib import Path
from typing import Any

if not __package__:  # run as a script (`python bench/x.py`): the project root is not on the path yet
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from bench.common import json_line, scratch_database  # noqa: E402

BENCH = "contracts"
TARGET = 0.7  # the target for value / baseline


def _log(message: str) -> None:
    print(f"[{BENCH}] {message}", file=sys.stderr, flush=True)


def _contract_data() -> Any:
    from datetime import date
    from decimal import Decimal

    from documents.models import Lender, LoanContractData, Party

    borrower = Party(name="林秀英", resident_id="350582199503121238", mobile="13905951234",
                     address="福建省晋江市安海镇前蔡村三组45号")
    return LoanContractData(
        contract_no="HT2025061800012", app_no="LA2025061800012", signed_on=None,
        lender=Lender(cooperative_name="福建省晋江农村商业银行股份有限公司", branch_name="安海支行",
                      address="福建省晋江市安海镇成功街88号"),
        borrower=borrower, amount=Decimal("50000.00"), term_months=12, repayment_method="equal_installment",
        purpose="购买茶苗及有机肥", lpr=Decimal("0.0300"), lpr_tenor="1Y", lpr_date=date(2025, 5, 20), spread_bp=200,
        repricing="fixed", annual_rate=Decimal("0.0500"), guarantee_type="credit", guarantors=[],
        line_expiry=date(2027, 6, 17), revolving=True, disbursement_account="6229000000001234567",
        verify_url="https://nongedai.example.cn/v1/documents/HT2025061800012/verification")


def run_bench(engine: Any, *, contracts: int = 40, block: int = 5) -> dict[str, Any]:
    from weasyprint import HTML

    from adapters.ca.port import PersonSigner, SealSigner, SignatureAppearance
    from adapters.ca.simulator import CaSimulator
    from documents.fonts import font_configuration
    from documents.render import LOAN_CONTRACT, TEMPLATE_DIR, render_html, render_loan_contract
    from domain.identity import mask_name

    if contracts < 1 or block < 1:
        raise ValueError("contracts and block must be >= 1")
    data = _contract_data()
    html = render_html(LOAN_CONTRACT, data)
    ca = CaSimulator(engine)
    person = PersonSigner(signer_ref="C-BENCH", name=data.borrower.name, resident_id=data.borrower.resident_id)
    seal = SealSigner(signer_ref="SEAL-BENCH", organisation=data.lender.cooperative_name, branch=data.lender.branch_name)
    run = uuid.uuid4().hex[:8]
    phases: dict[str, list[float]] = {"render": [], "sign": [], "seal": []}

    def _box(rendered: Any, field: str, lines: list[str]) -> SignatureAppearance:
        page, *corners = rendered.signature_boxes[field]
        return SignatureAppearance(page=page, box=tuple(corners), lines=lines)

    def baseline_one() -> int:
        return len(HTML(string=html, base_url=str(TEMPLATE_DIR)).write_pdf(font_config=font_configuration()))

    def signed_one(i: int) -> bytes:
        ref = f"BENCH-{run}-{i}"
        t0 = time.perf_counter()
        rendered = render_loan_contract(data)
        t1 = time.perf_counter()
        signed = ca.sign_pdf(idempotency_key=f"{ref}:sign", document_ref=ref, pdf=rendered.pdf, signer=person,
                             field_name="borrower", evidence={"channel": "bench", "otp_ref": ref,
                                                              "document_sha256": rendered.sha256},
                             appearance=_box(rendered, "borrower", [f"借款人：{mask_name(person.name)}"]),
                             long_term=False)  # as activities/signing.py: the seal embeds for both
        t2 = time.perf_counter()
        # As the platform seals: visible, and with the archive timestamp over everything (PAdES B-LTA).
        sealed = ca.sign_pdf(idempotency_key=f"{ref}:seal", document_ref=ref, pdf=signed.pdf, signer=seal,
                             field_name="lender_seal", evidence={"channel": "system"}, archive=True,
                             appearance=_box(rendered, "lender_seal", ["贷款人（电子签章）：", seal.organisation]))
        t3 = time.perf_counter()
        phases["render"].append(t1 - t0)
        phases["sign"].append(t2 - t1)
        phases["seal"].append(t3 - t2)
        return sealed.pdf

    _log("warming up (fonts, templates, CA keys)")
    baseline_one()
    last = signed_one(-1)
    for key in phases:
        phases[key].clear()
    signed_s = baseline_s = 0.0
    done = 0
    while done < contracts:
        k = min(block, contracts - done)
        t = time.perf_counter()
        for _ in range(k):
            baseline_one()
        baseline_s += time.perf_counter() - t
        t = time.perf_counter()
        for i in range(done, done + k):
            last = signed_one(i)
        signed_s += time.perf_counter() - t
        done += k
        _log(f"{done}/{contracts}")
    t = time.perf_counter()
    check = ca.verify_pdf(last)
    verify_ms = (time.perf_counter() - t) * 1000
    if not check.valid or len(check.signatures) != 2 or check.level != "B-LTA":
        raise RuntimeError(f"the last signed contract does not verify: {check}")
    value, baseline = contracts / signed_s, contracts / baseline_s
    return {
        "bench": BENCH, "value": round(value, 3), "unit": "signed contracts/s", "baseline": round(baseline, 3),
        "baseline_unit": "weasyprint renders/s (same HTML, unsigned)", "ratio": round(value / baseline, 3),
        "n": contracts, "target": TARGET, "meets_target": value / baseline >= TARGET,
        "ms_per_signed_contract": {k: round(statistics.mean(v) * 1000, 1) for k, v in phases.items()},
        "ms_per_baseline_render": round(baseline_s / contracts * 1000, 1),
        "verify_ms": round(verify_ms, 1), "level": check.level, "signed_pdf_bytes": len(last),
        "signed_pdf_sha256": hashlib.sha256(last).hexdigest(),
    }



def _main(args: argparse.Namespace) -> dict[str, Any]:
    from db.engine import make_engine

    with scratch_database("contracts", _log) as url:
        engine = make_engine(url)
        try:
            return run_bench(engine, contracts=args.contracts, block=args.block)
        finally:
            engine.dispose()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--contracts", type=int, default=40, help="signed contracts and baseline renders (40)")
    parser.add_argument("--block", type=int, default=5, help="contracts per alternating block (5)")
    result = _main(parser.parse_args(argv))
    _log(f"{result['value']} signed contracts/s vs {result['baseline']} renders/s: ratio {result['ratio']} "
         f"(target {TARGET}); per contract {result['ms_per_signed_contract']}")
    print(json_line(result))
    return 0


if __name__ == "__main__":
    from pathlib import Path

    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
    sys.exit(main())
