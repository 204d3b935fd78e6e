"""查询统计: one generic page per query of services.platform.queries (7.1–7.6, 8.1–8.2): a filter form built
from the query's declared filters, a paged table and the Excel export. The service scopes every
query to the user's regions (属地) and checks the filters."""
from __future__ import annotations

from datetime import date
from math import ceil

from flask import render_template, request
from marshmallow import validate

from engine.errors import InvalidData
from engine.fields import Integer
from services.platform import queries
from services.platform.identity import list_regions
from services.platform.spreadsheets import XLSX
from web.api.downloads import file_response
from web.context import uow
from web.pages import pages
from web.pages.params import PageForm, load, page_number
from web.pages.session import login_required, page_actor

PAGING = ("page", "per_page")


class QueryPaging(PageForm):
    page = page_number()
    per_page = Integer(load_default=20, validate=validate.OneOf((20, 50, 100)))


@pages.app_template_global()
def may_query() -> bool:
    return queries.may_query(page_actor())


def _filter_args(query: queries.Query) -> dict[str, str]:
    """The query's filled-in filters: for the pager and the export link."""
    return {k: v for k, v in request.args.items() if k in query.filters and v.strip()}


def _choices(query: queries.Query) -> dict[str, dict]:
    """Filters whose column carries labels (kind, status, result, source…) become selects."""
    labelled = {c.key: c.labels for c in query.columns if c.labels is not None}
    return {key: labelled[key] for key, (kind, _label) in query.filters.items() if kind == "str" and key in labelled}


@pages.get("/queries")
@login_required
def query_index():
    visible = [q for q in queries.QUERIES.values() if not q.staff_only or queries.may_query(page_actor())]
    return render_template("query_index.html", queries=visible)


@pages.get("/queries/<query_name>")
@login_required
def query_page(query_name: str):
    query = queries.get_query(query_name)
    paging, _errors = load(QueryPaging(), {k: v for k, v in request.args.items() if k in PAGING})
    page, per_page = paging.get("page", 1), paging.get("per_page", 20)
    status, errors, rows, total = 200, {}, [], 0
    try:
        rows, total = queries.run(uow().session, page_actor(), query.name, request.args, page, per_page)
    except InvalidData as error:
        status, errors = 400, error.fields or {"_form": [error.message]}
    args = _filter_args(query)
    return render_template("query.html", query=query, rows=rows, total=total, page=page, per_page=per_page,
                           pages=max(1, ceil(total / per_page)), values=request.args, errors=errors,
                           args=args, pager_args={**args, "per_page": per_page}, choices=_choices(query),
                           regions=list_regions(uow().session)), status


@pages.get("/queries/<query_name>/export.xlsx")
@login_required
def query_export(query_name: str):
    query = queries.get_query(query_name)
    content = queries.export(uow().session, page_actor(), query.name, request.args)
    return file_response(content, f"{query.title}_{date.today():%Y%m%d}.xlsx", XLSX)
