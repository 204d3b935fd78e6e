"""What an organisation holds now: its valid licence and its filing on record (one of each at most)."""
from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from services.hr_market.models import ACTIVE, HrFiling, HrLicence


def active_licence(session: Session, organisation_id: int) -> HrLicence | None:
    return session.scalar(select(HrLicence).where(HrLicence.organisation_id == organisation_id,
                                                  HrLicence.status == ACTIVE).limit(1))


def active_filing(session: Session, organisation_id: int) -> HrFiling | None:
    return session.scalar(select(HrFiling).where(HrFiling.organisation_id == organisation_id,
                                                 HrFiling.status == ACTIVE).limit(1))
