"""The evidence log's hash chain (no I/O): how an entry's hash is computed, and how a log is checked.

Part of the CA contract, so anyone holding a document's log can check it without the CA's tables.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from typing import Any


def entry_hash(entry: Any) -> str:
    """SHA-256 over the previous entry's hash and this entry's facts, in a canonical JSON form.
    `entry` is a ca_signature row or an EvidenceEntry: both carry these attributes."""
    facts = {"prev": entry.prev_hash, "signature_id": entry.signature_id, "document_ref": entry.document_ref,
             "field_name": entry.field_name, "signer_ref": entry.signer_ref,
             "certificate_serial": entry.certificate_serial, "signed_at": entry.signed_at.isoformat(),
             "document_sha256": entry.document_sha256, "signed_sha256": entry.signed_sha256,
             "evidence": entry.evidence}
    return hashlib.sha256(json.dumps(facts, sort_keys=True, ensure_ascii=False).encode()).hexdigest()


def chain_intact(entries: Sequence[Any]) -> bool:
    """Each entry's hash recomputes, each links to the one before, and each signed the previous output."""
    prev = None
    for i, entry in enumerate(entries):
        if entry.prev_hash != prev or entry_hash(entry) != entry.entry_hash:
            return False
        if i and entry.document_sha256 != entries[i - 1].signed_sha256:
            return False
        prev = entry.entry_hash
    return True
