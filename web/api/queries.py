"""信息查询与统计 (seed 000, 7 and 8): one paged JSON endpoint and one Excel export per query of
services.platform.queries, each with its row schema in the OpenAPI document."""
from __future__ import annotations

from datetime import date

from flask import request

from services.platform import queries
from services.platform.spreadsheets import XLSX
from web.api import api, documented
from web.api.downloads import file_response
from web.api.paging import page_body, query_args
from web.api.review_schemas import query_filter_schema, query_row_schema
from web.auth import api_login_required, current_actor
from web.context import uow


def _filters_text(query: queries.Query) -> str:
    return "；筛选：" + "、".join(f"{key}（{label}）" for key, (_kind, label) in query.filters.items())


def _add_routes(query: queries.Query) -> None:
    endpoint = query.name.replace("-", "_")
    row_schema = query_row_schema(query)
    paged, filters = query_filter_schema(query, paged=True), query_filter_schema(query, paged=False)

    @api_login_required
    def listing():
        args = query_args(paged)
        rows, total = queries.run(uow().session, current_actor(), query.name, request.args, args["page"],
                                  args["per_page"])
        return page_body(row_schema(many=True).dump(rows), total, args["page"], args["per_page"])

    @api_login_required
    def export():
        query_args(filters)
        content = queries.export(uow().session, current_actor(), query.name, request.args)
        return file_response(content, f"{query.title}_{date.today():%Y%m%d}.xlsx", XLSX)

    documented(query.title + _filters_text(query), response=row_schema, many=True, envelope="page",
               query=paged)(listing)
    documented(query.title + "（导出 Excel，筛选同上）", content_type=XLSX, query=filters)(export)
    api.add_url_rule(f"/queries/{query.name}", f"query_{endpoint}", listing, methods=["GET"])
    api.add_url_rule(f"/queries/{query.name}/export", f"query_{endpoint}_export", export, methods=["GET"])


for _query in queries.QUERIES.values():
    _add_routes(_query)
