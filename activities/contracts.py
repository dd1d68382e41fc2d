"""Contract generation: the loan contract and each guarantee contract rendered from templates, stored
in the imaging platform by SHA-256, and recorded with their template version and data snapshot."""

from __future__ import annotations

from decimal import Decimal

from sqlalchemy.engine import Engine
from sqlmodel import Session
from temporalio import activity

from activities.clock import business_today, utcnow
from adapters.core_banking.port import CoreBanking
from adapters.imaging.port import ImageStore
from db.application_store import get_application, get_customer
from db.document_store import documents_of, lender_branches
from db.engine import session_scope
from db.models import Customer, Document, LoanApplication
from documents.models import GuaranteeContractData, Lender, LoanContractData, Party
from documents.render import RenderedDocument
from documents.renderer import DocumentRenderer
from domain import pricing
from domain.schedule import add_months
from workflows.messages import DocumentRef, IssueContractsInput

BP = Decimal("0.0001")
GUARANTEE_PERIOD_MONTHS = 6


def _party(customer: Customer) -> Party:
    return Party(name=customer.name, resident_id=customer.resident_id, mobile=customer.mobile,
                 address=customer.address or f"行政区划代码{customer.region_code}")


def _ref(doc: Document, slot: int | None) -> DocumentRef:
    return DocumentRef(document_id=doc.id, doc_no=doc.doc_no, kind=doc.kind, signer_customer_id=doc.signer_customer_id,
                       sha256=doc.sha256, guarantor_slot=slot)


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
        """Render, store and record every contract of the application; a retry returns what was issued."""
        with session_scope(self._engine) as session:
            app = get_application(session, request.application_id)
            existing = documents_of(session, app.id)
            if existing:
                slots = {c: s for s, c in request.guarantor_slots.items()}
                return [_ref(d, slots.get(d.signer_customer_id) if d.kind == "guarantee_contract" else None)
                        for d in existing]
            borrower = get_customer(session, app.customer_id)
            customer_no = borrower.customer_no
        account = self._cb.open_deposit_account(customer_no=customer_no)
        with session_scope(self._engine) as session:
            app = get_application(session, request.application_id)
            borrower = get_customer(session, app.customer_id)
            borrower.settlement_account = account
            session.add(borrower)
            loan = self._loan_data(session, app, borrower, request, account)
            issued = [self._record(session, app, "loan_contract", loan.contract_no, borrower.id,
                                   self._renderer.loan_contract(loan), loan, None)]
            for slot, guarantor_id in sorted(request.guarantor_slots.items()):
                guarantor = get_customer(session, guarantor_id)
                others = [get_customer(session, c).name for s, c in request.guarantor_slots.items() if s != slot]
                data = GuaranteeContractData(
                    contract_no=f"{loan.contract_no}-G{slot}", loan_contract_no=loan.contract_no, signed_on=None,
                    lender=loan.lender, guarantor=_party(guarantor), borrower_name=borrower.name,
                    amount=loan.amount, term_months=loan.term_months, annual_rate=loan.annual_rate,
                    line_expiry=loan.line_expiry, guarantee_period_months=GUARANTEE_PERIOD_MONTHS,
                    co_guarantors=others, share=None,
                    verify_url=f"{self._base}/v1/documents/{loan.contract_no}-G{slot}/verification")
                issued.append(self._record(session, app, "guarantee_contract", data.contract_no, guarantor.id,
                                           self._renderer.guarantee_contract(data), data, slot))
            return issued

    def _loan_data(self, session: Session, app: LoanApplication, borrower: Customer, request: IssueContractsInput,
                   account: str) -> LoanContractData:
        branch, cooperative = lender_branches(session, app.branch_code)
        lpr_date, lpr = pricing.lpr_on(app.created_at.date(), "1Y")
        contract_no = "HT" + app.app_no[2:]
        today = business_today()
        return LoanContractData(
            contract_no=contract_no, app_no=app.app_no, signed_on=None,
            lender=Lender(cooperative_name=cooperative.name, branch_name=branch.name,
                          address=branch.address or cooperative.address or branch.name),
            borrower=_party(borrower), amount=request.approved_amount, term_months=app.term_months,
            repayment_method=app.repayment_method, purpose=app.purpose, lpr=lpr, lpr_tenor="1Y", lpr_date=lpr_date,
            # The rate may have been clamped to the product's floor or cap: print the spread that adds up.
            spread_bp=int((request.annual_rate - lpr) / BP), repricing="fixed", annual_rate=request.annual_rate,
            guarantee_type=app.guarantee_type,
            guarantors=[_party(get_customer(session, c)) for _, c in sorted(request.guarantor_slots.items())],
            line_expiry=add_months(today, request.line_validity_months), revolving=request.revolving, disbursement_account=account,
            verify_url=f"{self._base}/v1/documents/{contract_no}/verification")

    def _record(self, session: Session, app: LoanApplication, kind: str, doc_no: str, signer_id: int,
                rendered: RenderedDocument, data: LoanContractData | GuaranteeContractData,
                slot: int | None) -> DocumentRef:
        sha = self._imaging.put(rendered.pdf, content_type="application/pdf")
        # The snapshot keeps the terms, not the personal data: that stays in `customer`.
        snapshot = data.model_dump(mode="json", exclude={"borrower", "guarantor", "guarantors"})
        doc = Document(doc_no=doc_no, application_id=app.id, kind=kind, signer_customer_id=signer_id,
                       template_version=rendered.template_version, sha256=sha, data_snapshot=snapshot,
                       created_at=utcnow())
        session.add(doc)
        session.flush()
        return _ref(doc, slot)

    @activity.defn
    def void_documents(self, application_id: int) -> int:
        """Void every unsigned document of an application that ended; returns how many."""
        with session_scope(self._engine) as session:
            docs = [d for d in documents_of(session, application_id) if d.status == "issued"]
            for doc in docs:
                doc.status = "void"
                session.add(doc)
            return len(docs)
