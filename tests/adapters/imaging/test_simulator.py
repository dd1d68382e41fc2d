"""Imaging simulator: content-addressed, idempotent put; get and head; size limit and injected faults."""

from __future__ import annotations

import hashlib
import os
from concurrent.futures import ThreadPoolExecutor

import pytest
from sqlalchemy.engine import Engine

from adapters.errors import AdapterUnavailable, OutcomeUnknown, Refused
from adapters.imaging.simulator import ImagingSimulator


@pytest.fixture
def img(db_engine: Engine):
    sim = ImagingSimulator(db_engine, max_bytes=1024 * 1024)
    sim.clear_faults()
    yield sim
    sim.clear_faults()


def test_put_returns_the_sha256_and_get_returns_the_bytes(img: ImagingSimulator) -> None:
    data = os.urandom(4096)
    sha = img.put(data, content_type="application/pdf")
    assert sha == hashlib.sha256(data).hexdigest()
    assert img.get(sha) == data
    head = img.head(sha)
    assert head is not None
    assert (head.sha256, head.content_type, head.size) == (sha, "application/pdf", 4096)
    assert head.created_at.tzinfo is not None


def test_storing_the_same_bytes_twice_keeps_the_first(img: ImagingSimulator) -> None:
    data = os.urandom(64)
    sha = img.put(data, content_type="image/jpeg")
    assert img.put(data, content_type="image/png") == sha
    head = img.head(sha)
    assert head is not None and head.content_type == "image/jpeg"


def test_racing_puts_of_one_object_store_it_once(img: ImagingSimulator) -> None:
    data = os.urandom(2048)
    with ThreadPoolExecutor(6) as pool:
        keys = set(pool.map(lambda _: img.put(data, content_type="image/jpeg"), range(6)))
    assert keys == {hashlib.sha256(data).hexdigest()}


def test_a_put_that_loses_the_race_at_the_primary_key_succeeds(
    img: ImagingSimulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    data = os.urandom(32)
    sha = img.put(data, content_type="image/jpeg")
    real = img._head
    calls = []

    def blind_first(sha256: str):
        calls.append(sha256)
        return None if len(calls) == 1 else real(sha256)

    monkeypatch.setattr(img, "_head", blind_first)
    assert img.put(data, content_type="image/jpeg") == sha
    assert len(calls) == 2


def test_absent_objects(img: ImagingSimulator) -> None:
    missing = hashlib.sha256(b"never stored " + os.urandom(8)).hexdigest()
    with pytest.raises(KeyError):
        img.get(missing)
    assert img.head(missing) is None


def test_empty_and_binary_content(img: ImagingSimulator) -> None:
    assert img.get(img.put(b"", content_type="text/plain")) == b""
    blob = bytes(range(256)) * 4
    assert img.get(img.put(blob, content_type="application/octet-stream")) == blob


def test_refusals(img: ImagingSimulator) -> None:
    with pytest.raises(Refused) as refused:
        img.put(b"x" * (1024 * 1024 + 1), content_type="image/jpeg")
    assert refused.value.code == "TOO_LARGE"
    with pytest.raises(Refused) as refused:
        img.put(b"x", content_type="")
    assert refused.value.code == "INVALID_CONTENT_TYPE"


def test_faults(img: ImagingSimulator) -> None:
    data = os.urandom(16)
    img.inject_fault(operation="put", kind="unavailable")
    with pytest.raises(AdapterUnavailable):
        img.put(data, content_type="image/jpeg")
    assert img.head(hashlib.sha256(data).hexdigest()) is None
    img.inject_fault(operation="put", kind="timeout_after_commit")
    with pytest.raises(OutcomeUnknown):
        img.put(data, content_type="image/jpeg")
    sha = hashlib.sha256(data).hexdigest()
    assert img.get(sha) == data
    img.inject_fault(operation="get", kind="refuse:SERVICE_SUSPENDED")
    with pytest.raises(Refused) as refused:
        img.get(sha)
    assert refused.value.code == "SERVICE_SUSPENDED"
    assert img.get(sha) == data
