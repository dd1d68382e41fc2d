"""The rating models in force: the credit scorecard and the contribution model that ratings use now.

Until model versions are kept in the database (issue 4, part B, which replaces this module), the models in
force are the seeded defaults. The quarterly batch asks here once per run and records the versions it used.
"""

from __future__ import annotations

from sqlmodel import Session

from domain.rating.model import ContributionModel, CreditScorecard, default_scorecard


def active_models(session: Session) -> tuple[CreditScorecard, ContributionModel]:
    del session  # read by part B's version, which looks the active versions up
    return default_scorecard(), ContributionModel()
