"""Imaging platform simulator behind adapters.imaging.port: a content-addressed object store in img_object."""

from __future__ import annotations

import hashlib
from datetime import datetime

from pydantic import BaseModel
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, select

from adapters.errors import Refused
from adapters.imaging.tables import ImgFault, ImgObject
from adapters.simkit import SimulatedLink, utcnow
from db.engine import session_scope

OPERATIONS = frozenset({"put", "get", "head"})
DEFAULT_MAX_BYTES = 20 * 1024 * 1024


class ObjectHead(BaseModel):
    sha256: str
    content_type: str
    size: int
    created_at: datetime


class ImagingSimulator:
    def __init__(self, engine: Engine, *, latency_s: float = 0.0, max_bytes: int = DEFAULT_MAX_BYTES) -> None:
        self._engine = engine
        self._max_bytes = max_bytes
        self.link = SimulatedLink(
            engine, system="imaging platform", fault_table=ImgFault, operations=OPERATIONS, latency_s=latency_s
        )

    def put(self, data: bytes, *, content_type: str) -> str:
        with self.link.call("put"):
            if not content_type or len(content_type) > 128:
                raise Refused("INVALID_CONTENT_TYPE", "文件类型不正确")
            if len(data) > self._max_bytes:
                raise Refused("TOO_LARGE", f"文件超过{self._max_bytes}字节")
            sha256 = hashlib.sha256(data).hexdigest()
            # Look first so a re-upload of a large scan does not ship its bytes to the database again.
            if self._head(sha256) is not None:
                return sha256
            try:
                with session_scope(self._engine) as session:
                    session.add(ImgObject(sha256=sha256, content_type=content_type, size=len(data), data=bytes(data),
                                          created_at=utcnow()))
            except IntegrityError:
                if self._head(sha256) is None:
                    raise
            return sha256

    def get(self, sha256: str) -> bytes:
        with self.link.call("get"), Session(self._engine) as session:
            data = session.exec(select(ImgObject.data).where(ImgObject.sha256 == sha256)).first()
            if data is None:
                raise KeyError(sha256)
            return bytes(data)

    def head(self, sha256: str) -> ObjectHead | None:
        with self.link.call("head"):
            return self._head(sha256)

    def inject_fault(self, *, operation: str, kind: str, times: int = 1) -> None:
        self.link.inject_fault(operation=operation, kind=kind, times=times)

    def clear_faults(self) -> None:
        self.link.clear_faults()

    def _head(self, sha256: str) -> ObjectHead | None:
        with Session(self._engine) as session:
            row = session.exec(
                select(ImgObject.sha256, ImgObject.content_type, ImgObject.size, ImgObject.created_at)
                .where(ImgObject.sha256 == sha256)
            ).first()
        if row is None:
            return None
        return ObjectHead(sha256=row[0], content_type=row[1], size=row[2], created_at=row[3])
