"""Contract PDFs (loan and guarantee contracts, drawdown notes, repayment schedules): typed data -> jinja2
HTML (templates/documents) -> weasyprint PDF, hash and page count."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path

from jinja2 import Environment, FileSystemLoader, StrictUndefined
from pydantic import BaseModel
from weasyprint import HTML

from documents.amounts import rmb_capitals, rmb_figures
from documents.fonts import CUT_FAMILY, document_stylesheet, font_configuration
from documents.formatting import (
    LPR_TENOR_ZH,
    REPAYMENT_EXPLAINED,
    account_groups,
    chinese_count,
    date_zh,
    percent,
    rate_formula,
    repayment_method_zh,
)
from documents.models import GuaranteeContractData, LoanContractData, LoanNoteData
from documents.qr import qr_data_uri

TEMPLATE_DIR = Path(__file__).resolve().parent.parent / "templates" / "documents"
# The families base.css asks for; anything else means the CJK font is not installed here.
CJK_FAMILIES = frozenset({CUT_FAMILY, "Noto Serif CJK SC", "Noto Sans CJK SC"})


@dataclass(frozen=True)
class DocumentTemplate:
    """A template file and the version recorded with every document issued from it."""

    name: str
    version: str


# Bump a version whenever its template, _macros.html or base.css changes what a signer reads:
# issued documents record it, and re-rendering a stored snapshot must give the same text.
LOAN_CONTRACT = DocumentTemplate("loan_contract.html", "loan-contract/3")
GUARANTEE_CONTRACT = DocumentTemplate("guarantee_contract.html", "guarantee-contract/2")
DRAWDOWN_NOTE = DocumentTemplate("drawdown_note.html", "drawdown-note/4")


# A signature box's position: page index, then x1, y1, x2, y2 in PDF points from the page's lower left.
SignatureBox = tuple[int, float, float, float, float]
BOX_ID_PREFIX = "sig-"
PT_PER_CSS_PX = 0.75


@dataclass(frozen=True)
class RenderedDocument:
    pdf: bytes = field(repr=False)
    sha256: str
    template_version: str
    page_count: int
    # Signature field name -> where its visible signature goes (the template's sig-<field> boxes).
    signature_boxes: dict[str, SignatureBox] = field(default_factory=dict)


@cache
def environment() -> Environment:
    """One Environment per process, so parsed templates are compiled once and reused."""
    env = Environment(
        loader=FileSystemLoader(TEMPLATE_DIR),
        autoescape=True,
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters.update(
        rmb_capitals=rmb_capitals,
        rmb_figures=rmb_figures,
        percent=percent,
        date_zh=date_zh,
        chinese_count=chinese_count,
        repayment_method_zh=repayment_method_zh,
        account_groups=account_groups,
        qr_data_uri=qr_data_uri,
    )
    env.globals.update(
        rate_formula=rate_formula,
        lpr_tenor_zh=LPR_TENOR_ZH,
        repayment_explained=REPAYMENT_EXPLAINED,
    )
    return env


def render_html(template: DocumentTemplate, data: BaseModel) -> str:
    """The document as self-contained HTML (stylesheet inlined); any missing value raises."""
    return environment().get_template(template.name).render(d=data)


def render_pdf(template: DocumentTemplate, data: BaseModel) -> RenderedDocument:
    html = render_html(template, data)
    document = HTML(string=html, base_url=str(TEMPLATE_DIR)).render(
        font_config=font_configuration(), stylesheets=[document_stylesheet()])
    pdf = document.write_pdf()
    # Pango silently falls back to whatever font is installed; a contract in the wrong font or
    # with missing glyphs must not be issued. `fonts` is filled in by write_pdf.
    families = {font.family for font in document.fonts.values()}
    if not families & CJK_FAMILIES:
        raise RuntimeError(f"no CJK font embedded (got {sorted(families)}): install fonts-noto-cjk")
    return RenderedDocument(pdf=pdf, sha256=hashlib.sha256(pdf).hexdigest(),
                            template_version=template.version, page_count=len(document.pages),
                            signature_boxes=_signature_boxes(document))


def _signature_boxes(document) -> dict[str, SignatureBox]:  # noqa: ANN001 - weasyprint's Document
    """Each sig-<field> element's box, from CSS pixels from the top left to PDF points from the bottom left."""
    boxes: dict[str, SignatureBox] = {}
    for index, page in enumerate(document.pages):
        height = page.height * PT_PER_CSS_PX
        for anchor, (x1, y1, x2, y2) in page.anchors.items():
            if anchor.startswith(BOX_ID_PREFIX):
                boxes[anchor.removeprefix(BOX_ID_PREFIX)] = (
                    index, round(x1 * PT_PER_CSS_PX, 2), round(height - y2 * PT_PER_CSS_PX, 2),
                    round(x2 * PT_PER_CSS_PX, 2), round(height - y1 * PT_PER_CSS_PX, 2))
    return boxes


def render_loan_contract(data: LoanContractData) -> RenderedDocument:
    # Re-validate: model_copy(update=...) and model_construct skip validation, and a contract
    # must never be issued from terms that would not pass it.
    return render_pdf(LOAN_CONTRACT, LoanContractData.model_validate(data.model_dump()))


def render_guarantee_contract(data: GuaranteeContractData) -> RenderedDocument:
    return render_pdf(GUARANTEE_CONTRACT, GuaranteeContractData.model_validate(data.model_dump()))


def render_drawdown_note(data: LoanNoteData) -> RenderedDocument:
    """借款借据 of one drawdown, with its repayment schedule: every installment, with the principal left
    after it. One document, so the borrower's signature covers the schedule too (until drawdown-note/4
    the schedule was a document of its own, `<note_no>-S`, issued but not signed)."""
    return render_pdf(DRAWDOWN_NOTE, LoanNoteData.model_validate(data.model_dump()))
