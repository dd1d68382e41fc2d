"""Visible signatures: each signer's box on the signature page, drawn by the CA in the CJK face, read back."""

from __future__ import annotations

import io
import re
import shutil
import subprocess
import uuid

import pytest
from pypdf import PdfReader
from sqlalchemy.engine import Engine

from adapters.ca.port import PersonSigner, SealSigner, SignatureAppearance
from adapters.ca.simulator import CaSimulator
from documents.models import GuaranteeContractData, LoanContractData
from documents.render import RenderedDocument, render_guarantee_contract, render_loan_contract
from tests.documents.contract_data import make_guarantee_fields, make_loan_fields

pytestmark = pytest.mark.skipif(shutil.which("pdftotext") is None, reason="poppler-utils (bootstrap) reads PDFs back")


@pytest.fixture(scope="module")
def loan_doc() -> RenderedDocument:
    return render_loan_contract(LoanContractData(**make_loan_fields()))


def box(doc: RenderedDocument, field: str, lines: list[str]) -> SignatureAppearance:
    page, *corners = doc.signature_boxes[field]
    return SignatureAppearance(page=page, box=tuple(corners), lines=lines)


def page_text(pdf: bytes, page: int) -> str:
    """poppler's text of one page, annotation appearances included (pypdf leaves those out)."""
    out = subprocess.run(["pdftotext", "-f", str(page + 1), "-l", str(page + 1), "-", "-"], input=pdf,
                         capture_output=True, check=True, timeout=60).stdout.decode()
    return re.sub(r"\s+", "", out)


def signed(ca: CaSimulator, doc: RenderedDocument) -> bytes:
    ref = f"HT{uuid.uuid4().hex[:12]}"
    borrower = ca.sign_pdf(
        idempotency_key=f"{ref}:sign", document_ref=ref, pdf=doc.pdf, evidence={}, field_name="borrower",
        signer=PersonSigner(signer_ref="C1", name="林秀英", resident_id="350582199503121238"),
        appearance=box(doc, "borrower", ["借款人：林**"]))
    return ca.sign_pdf(
        idempotency_key=f"{ref}:seal", document_ref=ref, pdf=borrower.pdf, evidence={}, field_name="lender_seal",
        signer=SealSigner(signer_ref="SEAL-350582", organisation="福建省晋江农村商业银行股份有限公司", branch="安海支行"),
        appearance=box(doc, "lender_seal", ["贷款人（电子签章）：", "福建省晋江农村商业银行股份有限公司"]),
        archive=True).pdf


def test_the_templates_leave_a_box_per_signer_on_the_last_page(loan_doc: RenderedDocument) -> None:
    guarantee = render_guarantee_contract(GuaranteeContractData(**make_guarantee_fields()))
    assert set(loan_doc.signature_boxes) == {"borrower", "lender_seal"}
    assert set(guarantee.signature_boxes) == {"guarantor", "lender_seal"}
    for doc in (loan_doc, guarantee):
        for page, x1, y1, x2, y2 in doc.signature_boxes.values():
            assert page == doc.page_count - 1
            # ~62 x 15 mm inside an A4 page (595 x 842 pt)
            assert 0 < x1 < x2 <= 595 and 0 < y1 < y2 <= 842
            assert 170 < x2 - x1 < 180 and 40 < y2 - y1 < 45


def test_each_signature_is_a_visible_widget_with_the_masked_name_role_and_time(engine: Engine,
                                                                               loan_doc: RenderedDocument) -> None:
    ca = CaSimulator(engine)
    pdf = signed(ca, loan_doc)
    assert ca.verify_pdf(pdf).valid
    reader = PdfReader(io.BytesIO(pdf))
    last = loan_doc.page_count - 1
    widgets = {str(a.get_object()["/T"]): a.get_object() for a in reader.pages[last].get("/Annots", [])}
    assert set(widgets) == {"borrower", "lender_seal"}
    for name, widget in widgets.items():
        assert (widget["/Subtype"], widget["/FT"]) == ("/Widget", "/Sig")
        assert [round(float(v), 2) for v in widget["/Rect"]] == list(loan_doc.signature_boxes[name][1:])
        appearance = widget["/AP"]["/N"].get_object()
        fonts = _fonts(appearance)
        # The face the project installs, embedded (a subset, as PDF/A wants).
        assert fonts and all("NotoSansCJKsc" in base and embedded for base, embedded in fonts), fonts
    text = page_text(pdf, last)
    assert "借款人：林**" in text and "贷款人（电子签章）：福建省晋江农村商业银行股份有限公司" in text
    assert len(re.findall(r"签署时间：\d{4}-\d\d-\d\d\d\d:\d\d:\d\d（北京时间）", text)) == 2
    assert "林秀英" in text  # the contract's own text still names the borrower in full above the box


def _fonts(xobject) -> list[tuple[str, bool]]:  # noqa: ANN001 - a pypdf stream
    """(base font, has an embedded font file) for every font the appearance and its nested forms use."""
    found: list[tuple[str, bool]] = []
    resources = xobject.get("/Resources", {})
    for font in resources.get("/Font", {}).values():
        font = font.get_object()
        descendant = font["/DescendantFonts"][0].get_object() if "/DescendantFonts" in font else font
        descriptor = descendant["/FontDescriptor"].get_object()
        found.append((str(descendant["/BaseFont"]), any(k.startswith("/FontFile") for k in descriptor)))
    for inner in resources.get("/XObject", {}).values():
        found.extend(_fonts(inner.get_object()))
    return found
