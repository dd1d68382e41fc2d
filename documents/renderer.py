"""Where contracts are rendered: in this process, or in a pool of processes of their own.

A contract render is ~0.2 s of pure-Python CPU (layout, font subsetting). Inside the worker it holds
the GIL and slows every other activity and workflow task; a process pool puts it on another core and
leaves the worker free to orchestrate.
"""

from __future__ import annotations

import multiprocessing
from concurrent.futures import ProcessPoolExecutor
from typing import Protocol

from documents.fonts import document_stylesheet
from documents.models import GuaranteeContractData, LoanContractData, LoanNoteData
from documents.render import (
    RenderedDocument,
    environment,
    render_drawdown_note,
    render_guarantee_contract,
    render_loan_contract,
)


class DocumentRenderer(Protocol):
    def loan_contract(self, data: LoanContractData) -> RenderedDocument: ...

    def guarantee_contract(self, data: GuaranteeContractData) -> RenderedDocument: ...

    def drawdown_note(self, data: LoanNoteData) -> RenderedDocument: ...

    def close(self) -> None: ...


class InProcessRenderer:
    def loan_contract(self, data: LoanContractData) -> RenderedDocument:
        return render_loan_contract(data)

    def guarantee_contract(self, data: GuaranteeContractData) -> RenderedDocument:
        return render_guarantee_contract(data)

    def drawdown_note(self, data: LoanNoteData) -> RenderedDocument:
        return render_drawdown_note(data)

    def close(self) -> None:
        return None


def _warm_up() -> None:
    # Import weasyprint, compile the templates and cut the font once per child, not on its first contract.
    environment()
    document_stylesheet()


class ProcessPoolRenderer:
    def __init__(self, processes: int) -> None:
        # spawn, not fork: the worker process runs Temporal's Rust threads, which fork would not copy safely.
        self._pool = ProcessPoolExecutor(max_workers=processes, mp_context=multiprocessing.get_context("spawn"),
                                         initializer=_warm_up)

    def loan_contract(self, data: LoanContractData) -> RenderedDocument:
        return self._pool.submit(render_loan_contract, data).result()

    def guarantee_contract(self, data: GuaranteeContractData) -> RenderedDocument:
        return self._pool.submit(render_guarantee_contract, data).result()

    def drawdown_note(self, data: LoanNoteData) -> RenderedDocument:
        return self._pool.submit(render_drawdown_note, data).result()

    def close(self) -> None:
        self._pool.shutdown(wait=True, cancel_futures=True)


def renderer_for(processes: int) -> DocumentRenderer:
    return ProcessPoolRenderer(processes) if processes > 0 else InProcessRenderer()
