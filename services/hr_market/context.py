"""What the human-resources market system shows beside its cases on the generic task and case pages:
the applying organisation as the register holds it now, and its licences."""
from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select

from services.hr_market import annual_reports
from services.hr_market.labels import (
    LICENCE_STATUSES,
    ORGANISATION_KINDS,
    ORGANISATION_STATUSES,
    REPORT_STATUSES,
    items_text,
)
from services.hr_market.models import HrAnnualReport, HrLicence, HrOrganisation
from services.platform.modules import ContextPanel, Panel, PanelContext

TEMPLATE = "hr_market/organisation_panel.html"
REPORT_TEMPLATE = "hr_market/report_panel.html"


@dataclass(frozen=True)
class LicenceRow:
    licence: HrLicence
    items: str
    status: str


@dataclass(frozen=True)
class OrganisationContext:
    organisation: HrOrganisation
    kind: str
    status: str
    licences: list[LicenceRow]


def organisation_panel(context: PanelContext) -> Panel | None:
    """The organisation a case is about (the case carries its id from the start check); the case's
    own visibility was checked by the page."""
    organisation_id = context.data.get("organisation_id")
    if not isinstance(organisation_id, int):
        return None
    organisation = context.session.get(HrOrganisation, organisation_id)
    if organisation is None:
        return None
    licences = context.session.scalars(select(HrLicence).where(HrLicence.organisation_id == organisation.id)
                                       .order_by(HrLicence.issued_on.desc()))
    return Panel(TEMPLATE, OrganisationContext(
        organisation, ORGANISATION_KINDS.get(organisation.kind, organisation.kind),
        ORGANISATION_STATUSES.get(organisation.status, organisation.status),
        [LicenceRow(licence, items_text(licence.items), LICENCE_STATUSES.get(licence.status, licence.status))
         for licence in licences]))


@dataclass(frozen=True)
class ReportContext:
    report: HrAnnualReport
    status: str
    may_reopen: bool  # staff who may return it now (退回重填): it passed, and this case is its latest


def report_panel(context: PanelContext) -> Panel | None:
    """The annual report a case submitted, as it stands now (a later case may have resubmitted it)."""
    if context.instance.process_key != annual_reports.PROCESS:
        return None
    organisation_id, year = context.data.get("organisation_id"), context.data.get("report_year")
    if not isinstance(organisation_id, int) or not isinstance(year, int | float):
        return None
    report = annual_reports.report_for(context.session, organisation_id, int(year))
    if report is None:
        return None
    return Panel(REPORT_TEMPLATE, ReportContext(
        report, REPORT_STATUSES.get(report.status, report.status),
        context.staff and report.status == "approved" and report.instance_id == context.instance.id
        and annual_reports.may_reopen(context.actor, context.instance.region_code)))


PANELS = (ContextPanel("organisation", organisation_panel), ContextPanel("annual_report", report_panel))
