"""An in-process sliding window that limits how often one key may be used (keys are hashed, never kept raw)."""

from __future__ import annotations

import hashlib
import threading
from datetime import datetime, timedelta


class Throttle:
    def __init__(self, window: timedelta, *, max_keys: int = 100_000) -> None:
        self._window = window
        self._max_keys = max_keys
        self._last: dict[str, datetime] = {}
        self._lock = threading.Lock()

    def hit(self, key: str, now: datetime) -> timedelta | None:
        """Record a use of `key`; return how long to wait instead when it was used within the window."""
        digest = hashlib.sha256(key.encode()).hexdigest()
        with self._lock:
            last = self._last.get(digest)
            if last is not None and now - last < self._window:
                return self._window - (now - last)
            if len(self._last) >= self._max_keys:
                self._last = {k: t for k, t in self._last.items() if now - t < self._window}
            self._last[digest] = now
            return None
