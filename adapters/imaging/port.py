"""Imaging platform port: a content-addressed store (the key is the SHA-256 of the bytes)."""

from __future__ import annotations

from typing import Protocol


class ImageStore(Protocol):
    def put(self, data: bytes, *, content_type: str) -> str:
        """Store bytes, return their SHA-256 hex. Storing the same bytes twice is a no-op."""
        ...

    def get(self, sha256: str) -> bytes:
        """Raise KeyError when absent."""
        ...
