"""Images of an archive (ID card, house, land, herd, shop) kept on the imaging platform through its adapter;
the archive keeps only each image's key (SHA-256), kind and who uploaded it."""

from __future__ import annotations

from datetime import datetime

from sqlmodel import Session

from adapters.errors import AdapterUnavailable, Refused
from adapters.imaging.port import ImageStore
from db.models import HouseholdImage
from domain.archive import IMAGE_KINDS
from services.errors import ProblemError
from services.households import editable, image_row, record, refuse_if_incomplete_archive
from services.principal import Principal
from services.schemas.households import ImageView

MAX_IMAGE_BYTES = 10 * 1024 * 1024
# The bytes decide the type, not the client's header: a tablet may label a HEIC photo as image/jpeg.
_SIGNATURES = ((b"\xff\xd8\xff", "image/jpeg"), (b"\x89PNG\r\n\x1a\n", "image/png"), (b"%PDF-", "application/pdf"))


def sniff(data: bytes) -> str | None:
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "image/webp"
    return next((kind for magic, kind in _SIGNATURES if data.startswith(magic)), None)


def _unavailable(exc: Exception) -> ProblemError:
    return ProblemError(503, "IMAGING_UNAVAILABLE", "影像平台暂时不可用,请稍后重试", "the imaging platform is unavailable",
                        headers={"Retry-After": "5"})


def add(session: Session, imaging: ImageStore, principal: Principal, household_id: int, *, kind: str, data: bytes,
        now: datetime) -> ImageView:
    row = editable(session, principal, household_id)
    if kind not in IMAGE_KINDS:
        raise ProblemError(422, "IMAGE_KIND_UNKNOWN", "影像类别不存在", "unknown image kind", "kind")
    if not data:
        raise ProblemError(422, "IMAGE_EMPTY", "文件为空", "the file is empty", "file")
    if len(data) > MAX_IMAGE_BYTES:
        raise ProblemError(413, "IMAGE_TOO_LARGE", "影像不能超过10MB", "an image may be at most 10 MB", "file")
    content_type = sniff(data)
    if content_type is None:
        raise ProblemError(422, "IMAGE_FORMAT", "只接受JPEG、PNG、WebP图片或PDF", "only JPEG, PNG, WebP images or PDF", "file")
    try:
        sha256 = imaging.put(data, content_type=content_type)
    except Refused as exc:
        raise ProblemError(422, f"IMAGE_{exc.code}", f"影像平台拒收:{exc.message}", "the imaging platform refused the file",
                           "file") from exc
    except AdapterUnavailable as exc:
        raise _unavailable(exc) from exc
    assert row.id is not None and not principal.is_customer
    image = HouseholdImage(household_id=row.id, kind=kind, sha256=sha256, content_type=content_type, size=len(data),
                           uploaded_by=principal.id, uploaded_at=now)
    session.add(image)
    session.flush()
    record(session, row.id, row.version, "image", principal, now, [(f"images.{kind}", None, sha256[:16])])
    session.commit()
    return ImageView.of(image, IMAGE_KINDS[kind])


def content(session: Session, imaging: ImageStore, principal: Principal, household_id: int,
            image_id: int) -> tuple[bytes, str]:
    image = image_row(session, principal, household_id, image_id)
    try:
        return imaging.get(image.sha256), image.content_type
    except KeyError as exc:
        raise ProblemError(404, "IMAGE_FILE_MISSING", "影像平台中找不到该文件", "the file is missing from the imaging platform",
                           "image_id") from exc
    except AdapterUnavailable as exc:
        raise _unavailable(exc) from exc


def remove(session: Session, principal: Principal, household_id: int, image_id: int, now: datetime) -> None:
    """Detach the image from the archive; the imaging platform keeps its content-addressed object."""
    row = editable(session, principal, household_id)
    image = image_row(session, principal, household_id, image_id)
    assert row.id is not None
    record(session, row.id, row.version, "image", principal, now, [(f"images.{image.kind}", image.sha256[:16], None)])
    session.delete(image)
    session.flush()
    refuse_if_incomplete_archive(session, row.id)
    session.commit()
