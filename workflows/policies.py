"""Timeouts and retry policies for every activity call, in one place.

Business refusals are non-retryable ApplicationErrors raised by the activities themselves; everything
else (an outside system down, a database hiccup) retries with backoff until the timeout budget ends.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from temporalio.common import RetryPolicy


@dataclass(frozen=True)
class ActivityOptions:
    start_to_close_timeout: timedelta
    retry_policy: RetryPolicy
    schedule_to_close_timeout: timedelta | None = None
    heartbeat_timeout: timedelta | None = None

    def kwargs(self) -> dict:
        out = {"start_to_close_timeout": self.start_to_close_timeout, "retry_policy": self.retry_policy}
        if self.schedule_to_close_timeout:
            out["schedule_to_close_timeout"] = self.schedule_to_close_timeout
        if self.heartbeat_timeout:
            out["heartbeat_timeout"] = self.heartbeat_timeout
        return out


_BACKOFF = RetryPolicy(initial_interval=timedelta(seconds=1), backoff_coefficient=2.0,
                       maximum_interval=timedelta(minutes=1))

# Database read-model writes: quick, retried for as long as it takes (the DB may be restarting).
DB_WRITE = ActivityOptions(timedelta(seconds=30), _BACKOFF)
# Rating, rules, pricing: an outside service that may be slow.
RATING = ActivityOptions(timedelta(seconds=60), _BACKOFF, schedule_to_close_timeout=timedelta(hours=1))
# SMS: keep trying for a day; a lost reminder is worse than a late one.
SMS = ActivityOptions(timedelta(seconds=30), _BACKOFF, schedule_to_close_timeout=timedelta(days=1))
# Contract rendering is CPU work; a render that takes minutes is a bug, not a reason to wait.
DOCUMENTS = ActivityOptions(timedelta(minutes=2), RetryPolicy(initial_interval=timedelta(seconds=2),
                                                              maximum_attempts=5))
SIGNING = ActivityOptions(timedelta(seconds=60), _BACKOFF, schedule_to_close_timeout=timedelta(hours=1))
# Money: short attempts so an unknown outcome is looked up quickly; never give up on its own.
CORE_BANKING = ActivityOptions(timedelta(seconds=20), RetryPolicy(
    initial_interval=timedelta(seconds=1), backoff_coefficient=2.0, maximum_interval=timedelta(seconds=30),
    non_retryable_error_types=["PostingRefused"]))
# The bookkeeping step right after money moved: bounded, because its failure triggers compensation.
AFTER_POSTING = ActivityOptions(timedelta(seconds=30), RetryPolicy(
    initial_interval=timedelta(seconds=1), maximum_interval=timedelta(seconds=10), maximum_attempts=10,
    non_retryable_error_types=["NoteStateConflict"]))
# End of day: one chunk is one transaction of seconds; retried until it goes through (it is a no-op
# once done). Notices heartbeat per message, so a stuck SMS gateway is noticed within a minute.
EOD_CHUNK = ActivityOptions(timedelta(minutes=10), _BACKOFF)
EOD_NOTICES = ActivityOptions(timedelta(hours=1), _BACKOFF, heartbeat_timeout=timedelta(minutes=1))
# Quarterly rating: a chunk is one transaction of seconds that heartbeats between read, score and write;
# retried until it goes through (a no-op once done).
RATING_CHUNK = ActivityOptions(timedelta(minutes=10), _BACKOFF, heartbeat_timeout=timedelta(minutes=2))
# Planning a quarterly-rating run fails (retryably) while another run is in progress and alive: the run
# waits for it, however long, polling at most every five minutes; attempts and time are not limited.
RATING_PLAN = ActivityOptions(timedelta(seconds=60), RetryPolicy(
    initial_interval=timedelta(seconds=1), backoff_coefficient=2.0, maximum_interval=timedelta(minutes=5)))
