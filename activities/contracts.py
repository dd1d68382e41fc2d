"""Contract generation: the loan contract and each guarantee contract, and per drawdown its note (借据) and
repayment schedule, rendered from templates, stored in the imaging platform by SHA-256, and recorded with
their template version and data snapshot."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from pydantic import ValidationError
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select
from temporalio import activity

from activities.clock import business_today, utcnow
from adapters.core_banking.port import CoreBanking
from adapters.imaging.port import ImageStore
from db import lpr_store, product_store, rule_store
from db.application_store import get_application, get_customer
from db.document_store import documents_of, lender_branches
from db.engine import session_scope
from db.line_store import get_line, note_by_no
from db.models import Customer, Document, LoanApplication, LoanNote, ScheduleInstallment
from db.repositories.applications import documents as all_documents_of
from db.repositories.documents import by_no as document_by_no
from documents.models import (
    GuaranteeContractData,
    Lender,
    LoanContractData,
    LoanNoteData,
    Party,
    ScheduleRow,
    SpreadTerm,
)
from documents.render import RenderedDocument
from documents.renderer import DocumentRenderer
from domain import pricing, reasons
from domain.pricing import PriceBreakdown
from domain.schedule import add_months
from workflows.messages import (
    DocumentRef,
    IssueContractsInput,
    IssueNoteDocumentsInput,
    NoteDocuments,
    SupersedeDocumentsInput,
)

BP = Decimal("0.0001")
GUARANTEE_PERIOD_MONTHS = 6
PERSONAL_FIELDS = {"borrower", "guarantor", "guarantors", "borrower_name", "co_guarantors"}


@dataclass(frozen=True)
class _Draft:
    kind: str
    signer_id: int
    slot: int | None
    data: LoanContractData | GuaranteeContractData


def _party(customer: Customer) -> Party:
    return Party(name=customer.name, resident_id=customer.resident_id, mobile=customer.mobile,
                 address=customer.address or f"行政区划代码{customer.region_code}")


def _spread_terms(price: PriceBreakdown | None, printed_bp: int, guarantee_type: str) -> list[SpreadTerm]:
    """The spread term by term, as the customer's price breakdown shows it; a floor or cap that held the
    rate is a term of its own, so the terms add up to the spread the contract prints."""
    if price is None:
        return []
    terms = [SpreadTerm(label=f"{'保证' if guarantee_type == 'guaranteed' else '信用'}贷款基础加点", bp=price.spread_bp)]
    if price.adjustments:
        terms += [SpreadTerm(label=reasons.explain(a.code, {}).zh, bp=a.bp) for a in price.adjustments]
    elif price.grade_adjust_bp:  # priced before adjustments were itemised
        terms.append(SpreadTerm(label="信用等级利率调整", bp=price.grade_adjust_bp))
    held = printed_bp - sum(t.bp for t in terms)
    if held:
        terms.append(SpreadTerm(label="按产品利率下限执行" if held > 0 else "按产品利率上限执行", bp=held))
    return terms


def _note_price(session: Session, app: LoanApplication, note: LoanNote) -> PriceBreakdown | None:
    """The drawdown's price as activities/lines.create_note made it: the application's pinned product, the
    pricing decision recorded for the note, the LPR on its start date. None if that no longer gives the
    note's rate (a note priced before its decision was recorded): then the note prints the spread whole."""
    decision = rule_store.by_key(session, f"{note.note_no}:pricing")
    try:
        product = product_store.terms_of(session, app.product_code, app.product_version)
    except ValidationError:  # an old version's terms that today's model no longer reads
        return None
    if decision is None or decision.outcome != "priced" or product is None:
        return None
    price = pricing.price(product, app.guarantee_type, app.grade or "B", note.start_date, lpr_store.table(session),
                          pricing.adjustments_of(decision.result))
    return price if price.annual_rate == note.annual_rate else None


def _contract_no(app_no: str, revision: int) -> str:
    """HT<app number>; contracts reissued for amended terms add -R2, -R3, ..."""
    base = "HT" + app_no[2:]
    return base if revision == 1 else f"{base}-R{revision}"


def _boxes(rendered: RenderedDocument) -> dict[str, list[float]]:
    return {name: list(box) for name, box in rendered.signature_boxes.items()}


def _ref(doc: Document, slot: int | None) -> DocumentRef:
    return DocumentRef(document_id=doc.id, doc_no=doc.doc_no, kind=doc.kind, signer_customer_id=doc.signer_customer_id,
                       sha256=doc.sha256, guarantor_slot=slot)


def _link_replaced(session: Session, app: LoanApplication, revision: int, new_nos: list[str]) -> None:
    """Point each contract of the previous revision to the one that replaces it (same kind and guarantor
    slot), so that scanning an old contract's QR code leads to the new one."""
    old_base, new_base = _contract_no(app.app_no, revision - 1), _contract_no(app.app_no, revision)
    for doc in all_documents_of(session, app.id):  # the old ones are void by now
        if doc.doc_no == old_base or doc.doc_no.startswith(f"{old_base}-G"):
            replacement = new_base + doc.doc_no.removeprefix(old_base)
            if replacement in new_nos and doc.superseded_by is None:
                doc.superseded_by = replacement
                session.add(doc)


class ContractActivities:
    def __init__(self, engine: Engine, imaging: ImageStore, core_banking: CoreBanking, renderer: DocumentRenderer,
                 public_base_url: str) -> None:
        self._engine = engine
        self._renderer = renderer
        self._imaging = imaging
        self._cb = core_banking
        self._base = public_base_url.rstrip("/")

    @activity.defn
    def issue_contracts(self, request: IssueContractsInput) -> list[DocumentRef]:
        """Render, store and record every contract of the application; a retry returns what was issued.

        Three phases, so no database write is held open while another connection writes (the imaging
        and core-banking simulators have their own; SQLite, the embedded default, allows one writer):
        read the terms, render and store the PDFs, then record everything in one transaction."""
        slots_by_signer = {c: s for s, c in request.guarantor_slots.items()}
        with Session(self._engine) as session:
            app = get_application(session, request.application_id)
            contract_no = _contract_no(app.app_no, request.revision)
            existing = [d for d in documents_of(session, app.id)
                        if d.doc_no == contract_no or d.doc_no.startswith(f"{contract_no}-G")]
            if existing:
                return [_ref(d, slots_by_signer.get(d.signer_customer_id) if d.kind == "guarantee_contract" else None)
                        for d in existing]
            customer_no = get_customer(session, app.customer_id).customer_no
        account = self._cb.open_deposit_account(customer_no=customer_no)
        with Session(self._engine) as session:
            drafts = self._drafts(session, get_application(session, request.application_id), request, account)
        stored = [(draft, self._store(draft)) for draft in drafts]
        with session_scope(self._engine) as session:
            app = get_application(session, request.application_id)
            borrower = get_customer(session, app.customer_id)
            borrower.settlement_account = account
            session.add(borrower)
            refs = [self._record(session, app, draft, rendered, sha) for draft, (rendered, sha) in stored]
            if request.revision > 1:
                _link_replaced(session, app, request.revision, [draft.data.contract_no for draft, _ in stored])
            return refs

    def _drafts(self, session: Session, app: LoanApplication, request: IssueContractsInput,
                account: str) -> list[_Draft]:
        borrower = get_customer(session, app.customer_id)
        loan = self._loan_data(session, app, borrower, request, account)
        drafts = [_Draft("loan_contract", borrower.id, None, loan)]
        for slot, guarantor_id in sorted(request.guarantor_slots.items()):
            others = [get_customer(session, c).name for s, c in request.guarantor_slots.items() if s != slot]
            contract_no = f"{loan.contract_no}-G{slot}"
            drafts.append(_Draft("guarantee_contract", guarantor_id, slot, GuaranteeContractData(
                contract_no=contract_no, loan_contract_no=loan.contract_no, signed_on=None, lender=loan.lender,
                guarantor=_party(get_customer(session, guarantor_id)), borrower_name=borrower.name,
                amount=loan.amount, term_months=loan.term_months, annual_rate=loan.annual_rate,
                line_expiry=loan.line_expiry, guarantee_period_months=GUARANTEE_PERIOD_MONTHS,
                co_guarantors=others, share=None, verify_url=f"{self._base}/v1/documents/{contract_no}/verification")))
        return drafts

    def _store(self, draft: _Draft) -> tuple[RenderedDocument, str]:
        if isinstance(draft.data, LoanContractData):
            rendered = self._renderer.loan_contract(draft.data)
        else:
            rendered = self._renderer.guarantee_contract(draft.data)
        return rendered, self._imaging.put(rendered.pdf, content_type="application/pdf")

    def _loan_data(self, session: Session, app: LoanApplication, borrower: Customer, request: IssueContractsInput,
                   account: str) -> LoanContractData:
        branch, cooperative = lender_branches(session, app.branch_code)
        if request.price is not None:
            lpr_date, lpr, tenor = request.price.lpr_date, request.price.lpr, request.price.lpr_tenor
        else:
            lpr_date, lpr = pricing.lpr_on(business_today(), "1Y", lpr_store.table(session))
            tenor = "1Y"
        contract_no = _contract_no(app.app_no, request.revision)
        today = business_today()
        return LoanContractData(
            contract_no=contract_no, app_no=app.app_no, signed_on=None,
            lender=Lender(cooperative_name=cooperative.name, branch_name=branch.name,
                          address=branch.address or cooperative.address or branch.name),
            borrower=_party(borrower), amount=request.approved_amount, term_months=app.term_months,
            repayment_method=app.repayment_method, purpose=app.purpose, lpr=lpr, lpr_tenor=tenor, lpr_date=lpr_date,
            # The rate may have been clamped to the product's floor or cap: print the spread that adds up.
            spread_bp=int((request.annual_rate - lpr) / BP), repricing="fixed", annual_rate=request.annual_rate,
            spread_terms=_spread_terms(request.price, int((request.annual_rate - lpr) / BP), app.guarantee_type),
            guarantee_type=app.guarantee_type,
            guarantors=[_party(get_customer(session, c)) for _, c in sorted(request.guarantor_slots.items())],
            line_expiry=add_months(today, request.line_validity_months), revolving=request.revolving, disbursement_account=account,
            verify_url=f"{self._base}/v1/documents/{contract_no}/verification")

    def _record(self, session: Session, app: LoanApplication, draft: _Draft, rendered: RenderedDocument,
                sha: str) -> DocumentRef:
        # The snapshot keeps the terms, not the personal data: names and IDs stay in `customer`.
        snapshot = draft.data.model_dump(mode="json", exclude=PERSONAL_FIELDS)
        doc = Document(doc_no=draft.data.contract_no, application_id=app.id, kind=draft.kind,
                       signer_customer_id=draft.signer_id, template_version=rendered.template_version, sha256=sha,
                       data_snapshot=snapshot, signature_boxes=_boxes(rendered), created_at=utcnow())
        session.add(doc)
        session.flush()
        return _ref(doc, draft.slot)

    @activity.defn
    def issue_note_documents(self, request: IssueNoteDocumentsInput) -> NoteDocuments:
        """The drawdown note (借据) with its repayment schedule, rendered from the note as written; a retry
        returns what was issued. Same three phases as issue_contracts: read, render and store, record."""
        with Session(self._engine) as session:
            issued = document_by_no(session, request.note_no)
            if issued is not None:
                return NoteDocuments(doc_nos=[d.doc_no for d in self._note_documents(session, request.note_no)],
                                     note_document_id=issued.id)
            data, application_id, customer_id = self._note_data(session, request.note_no)
        rendered = self._renderer.drawdown_note(data)
        sha = self._imaging.put(rendered.pdf, content_type="application/pdf")
        with session_scope(self._engine) as session:
            row = Document(doc_no=request.note_no, application_id=application_id, kind="drawdown_note",
                           signer_customer_id=customer_id, template_version=rendered.template_version, sha256=sha,
                           data_snapshot=data.model_dump(mode="json", exclude=PERSONAL_FIELDS),
                           signature_boxes=_boxes(rendered), created_at=utcnow())
            session.add(row)
            session.flush()
            return NoteDocuments(doc_nos=[row.doc_no], note_document_id=row.id)

    @activity.defn
    def void_note_documents(self, request: IssueNoteDocumentsInput) -> int:
        """Void a cancelled drawdown's unsigned note (and the schedule issued apart before drawdown-note/4):
        no debt stands on them. Returns how many."""
        with session_scope(self._engine) as session:
            docs = [d for d in self._note_documents(session, request.note_no) if d.status == "issued"]
            for doc in docs:
                doc.status, doc.void_reason = "void", "DRAWDOWN_CANCELLED"
                session.add(doc)
            return len(docs)

    @staticmethod
    def _note_documents(session: Session, note_no: str) -> list[Document]:
        """The note's document, and the schedule `<note_no>-S` that notes issued before drawdown-note/4 had."""
        return [d for d in (document_by_no(session, note_no), document_by_no(session, f"{note_no}-S")) if d is not None]

    def _note_data(self, session: Session, note_no: str) -> tuple[LoanNoteData, int, int]:
        note = note_by_no(session, note_no)
        if note is None:
            raise LookupError(f"note {note_no} not found")
        line = get_line(session, note.line_id)
        app = get_application(session, line.application_id)
        borrower = get_customer(session, note.customer_id)
        branch, cooperative = lender_branches(session, line.branch_code)
        contract = next((d for d in documents_of(session, app.id) if d.kind == "loan_contract"), None)
        installments = session.exec(select(ScheduleInstallment).where(ScheduleInstallment.note_id == note.id)
                                    .order_by(col(ScheduleInstallment.period))).all()
        lpr_date, lpr = pricing.lpr_on(note.start_date, "1Y")
        spread_bp = int((note.annual_rate - lpr) / BP)
        data = LoanNoteData(
            note_no=note.note_no, contract_no=contract.doc_no if contract else "HT" + app.app_no[2:],
            line_no=line.line_no,
            lender=Lender(cooperative_name=cooperative.name, branch_name=branch.name,
                          address=branch.address or cooperative.address or branch.name),
            borrower=_party(borrower), amount=note.amount, term_months=note.term_months, start_date=note.start_date,
            maturity_date=note.maturity_date, repayment_method=note.repayment_method, purpose=app.purpose,
            lpr=lpr, lpr_tenor="1Y", lpr_date=lpr_date, spread_bp=spread_bp,
            spread_terms=_spread_terms(_note_price(session, app, note), spread_bp, app.guarantee_type),
            annual_rate=note.annual_rate, disbursement_account=borrower.settlement_account or "",
            schedule=[ScheduleRow(period=i.period, due_date=i.due_date, principal=i.principal, interest=i.interest)
                      for i in installments],
            verify_url=f"{self._base}/v1/documents/{note.note_no}/verification")
        return data, app.id, borrower.id

    @activity.defn
    def supersede_documents(self, request: SupersedeDocumentsInput | int) -> int:
        """Void every live contract of the application, signed or not: its terms were amended. Returns how many.
        (An int is the application id, as workflows started before the reason was recorded send it.)"""
        if isinstance(request, int):
            request = SupersedeDocumentsInput(application_id=request, reason_code="TERMS_AMENDED")
        with session_scope(self._engine) as session:
            docs = [d for d in documents_of(session, request.application_id)
                    if d.kind in ("loan_contract", "guarantee_contract") and d.status != "void"]
            for doc in docs:
                doc.status, doc.void_reason = "void", f"AMENDED:{request.reason_code}"[:48]
                session.add(doc)
            return len(docs)

    @activity.defn
    def void_documents(self, application_id: int) -> int:
        """Void every unsigned document of an application that ended; returns how many."""
        with session_scope(self._engine) as session:
            docs = [d for d in documents_of(session, application_id) if d.status == "issued"]
            for doc in docs:
                doc.status, doc.void_reason = "void", "APPLICATION_ENDED"
                session.add(doc)
            return len(docs)
