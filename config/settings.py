"""Typed settings read from the environment (prefix NONGEDAI_, plus DATABASE_URL).

Every process (api, worker, cli, tests) builds one `Settings` at start-up and passes it down; nothing
reads os.environ elsewhere. Outside development the placeholders below are refused, so a production
deployment cannot start with the demo secret or the embedded SQLite file.
"""

from __future__ import annotations

from datetime import timedelta
from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import AliasChoices, Field, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

DEV_JWT_SECRET = "dev-only-not-a-secret-change-me-0000000000"
PROJECT_ROOT = Path(__file__).resolve().parent.parent


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="NONGEDAI_", env_file=None, extra="ignore")

    env: Literal["development", "test", "production"] = "development"
    var_dir: Path = PROJECT_ROOT / "var"
    database_url: str = Field(
        default="",
        validation_alias=AliasChoices("DATABASE_URL", "NONGEDAI_DATABASE_URL"),
        description="SQLAlchemy URL; empty means SQLite under var_dir",
    )
    temporal_address: str = "127.0.0.1:7233"
    temporal_namespace: str = "default"
    temporal_ui_url: str = "http://127.0.0.1:8233"
    task_queue: str = "nongedai-loans"
    api_host: str = "127.0.0.1"
    api_port: int = 8000
    public_base_url: str = "http://127.0.0.1:8000"
    jwt_secret: str = DEV_JWT_SECRET
    jwt_ttl_minutes: int = 8 * 60
    otp_ttl_minutes: int = 5
    otp_max_attempts: int = 5
    # In development the OTP request answer carries the code so the demo works without a phone.
    otp_echo: bool = False
    activity_threads: int = 16
    # Processes that render contract PDFs beside the worker (0 renders inside the worker process).
    render_processes: int = 1
    # Simulators are the only adapters shipped so far; the setting exists so a real client can be chosen.
    adapters: Literal["simulator"] = "simulator"
    # Fault injection for the core-banking simulator: seconds of latency added to each posting.
    core_banking_latency_s: float = 0.0
    # ... and seconds before it answers a posting it has already committed (a slow or lost answer).
    core_banking_answer_delay_s: float = 0.0
    # Latency injected into each call to the rating service simulator (real-time rating).
    rating_latency_s: float = Field(default=0.0, ge=0)
    # End of day: notes per chunk (one transaction each) and chunks run at once (SQLite runs one).
    eod_chunk_size: int = Field(default=5000, ge=1)
    eod_parallel_chunks: int = Field(default=2, ge=1)
    # SMS reminder this many days before a due date (0: none); the line freezes at this many days past due.
    reminder_days_before_due: int = Field(default=3, ge=0)
    freeze_line_at_dpd: int = Field(default=8, ge=1)
    # The daily end-of-day Schedule fires at this Beijing time and closes every date up to yesterday.
    eod_schedule_time: str = Field(default="00:10", pattern=r"^([01]\d|2[0-3]):[0-5]\d$")
    # Whitelist campaigns: rows being rated and invited at once, days an invitation stays open, rows per file.
    whitelist_window: int = Field(default=50, ge=1, le=1000)
    whitelist_offer_days: int = Field(default=15, ge=1, le=90)
    whitelist_max_rows: int = Field(default=20000, ge=1)
    # Quarterly batch rating: households per chunk (one transaction each), chunks at once (SQLite runs one),
    # and the Beijing time its Schedule fires on the first day of each quarter.
    rating_batch_chunk_size: int = Field(default=10000, ge=1)
    rating_batch_parallel_chunks: int = Field(default=2, ge=1)
    rating_batch_schedule_time: str = Field(default="02:00", pattern=r"^([01]\d|2[0-3]):[0-5]\d$")
    # Runs are exclusive: a run not completed whose start or latest chunk is this recent holds off new ones
    # (a run terminated mid-way stops blocking once its lease ran out).
    rating_run_lease_minutes: int = Field(default=30, ge=1)

    @model_validator(mode="after")
    def _refuse_unsafe_defaults(self) -> Settings:
        if not self.database_url:
            self.database_url = f"sqlite:///{(self.var_dir / 'nongedai.db').as_posix()}"
        if self.env == "production":
            problems = []
            if self.jwt_secret == DEV_JWT_SECRET or len(self.jwt_secret) < 32:
                problems.append("NONGEDAI_JWT_SECRET must be set to a random value of 32+ characters")
            if self.database_url.startswith("sqlite"):
                problems.append("DATABASE_URL must point at PostgreSQL in production")
            if self.otp_echo:
                problems.append("NONGEDAI_OTP_ECHO must be off in production")
            if problems:
                raise ValueError("; ".join(problems))
        return self

    @property
    def rating_run_lease(self) -> timedelta:
        return timedelta(minutes=self.rating_run_lease_minutes)

    @property
    def is_sqlite(self) -> bool:
        return self.database_url.startswith("sqlite")

    @property
    def crl_url(self) -> str:
        """Where the CA simulator's certificates say their revocation list is: served by this API."""
        return f"{self.public_base_url.rstrip('/')}/v1/ca/crl"


@lru_cache
def get_settings() -> Settings:
    return Settings()
