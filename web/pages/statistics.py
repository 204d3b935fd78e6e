"""办件统计 for supervisors (/supervision/statistics): cases by 办件状态, 超期率 and handling time in
working days, with the same figures as an Excel workbook. The figures and their definitions are
services.platform.lifecycle_statistics'; the endpoints are named cockpit_* so that the navigation
shows them under 监控台."""
from __future__ import annotations

from flask import render_template, request
from marshmallow import EXCLUDE

from engine.db import utcnow
from services.platform import lifecycle_statistics as statistics
from services.platform import supervision
from services.platform.spreadsheets import XLSX
from web.api.downloads import file_response
from web.api.statistics import LifecycleFilterArgs, statistics_filter
from web.context import uow
from web.pages import pages
from web.pages.formatting import ymd
from web.pages.params import load
from web.pages.session import login_required, page_actor

FILTERS = ("from", "to", "process", "region")


def _query() -> tuple[dict, dict[str, list[str]], dict[str, str]]:
    """(values, field errors, the valid filters as given — for the export link): a bad filter is
    reported beside its field and left out, as on the other pages."""
    query, errors = load(LifecycleFilterArgs(unknown=EXCLUDE), request.args)
    args = {k: v for k, v in request.args.items() if k in FILTERS and k not in errors and v}
    return query, errors, args


@pages.get("/supervision/statistics")
@login_required
def cockpit_statistics():
    session = uow().session
    query, errors, args = _query()
    stats = statistics.lifecycle_statistics(session, page_actor(), statistics_filter(query), utcnow())
    return render_template("statistics.html", stats=stats, query=query, errors=errors, args=args,
                           process_names=statistics.process_names(session),
                           regions=supervision.regions_in_scope(session, page_actor()))


@pages.get("/supervision/statistics.xlsx")
@login_required
def cockpit_statistics_export():
    query, _errors, _args = _query()  # a bad filter is left out, as on the page
    now = utcnow()
    stats = statistics.lifecycle_statistics(uow().session, page_actor(), statistics_filter(query), now)
    return file_response(statistics.workbook(stats), f"办件统计-{ymd(now)}.xlsx", XLSX)
