"""注销单位行政许可 (003 §2.13): the list of cancellations and the form that adds one (after a
confirmation). Rules: services.hr_market.cancellations."""
from __future__ import annotations

from math import ceil

from flask import flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from marshmallow import fields, validate

from engine.db import utcnow
from engine.errors import Conflict, InvalidData, NotFound
from engine.fields import Date
from services.hr_market import cancellations
from services.hr_market.labels import CANCEL_REASONS, LICENCE_ITEMS
from services.platform.documents import CST
from web.context import uow
from web.pages import pages
from web.pages.params import PageForm, PageQuery, load
from web.pages.session import login_required, page_actor

PER_PAGE = 50


class CancellationForm(PageForm):
    licence_number = fields.String(load_default="", allow_none=True, validate=validate.Length(max=40))
    items = fields.List(fields.String(validate=validate.OneOf(list(LICENCE_ITEMS))), load_default=list)
    reason = fields.String(load_default="", allow_none=True, validate=validate.Length(max=20))
    basis = fields.String(load_default="", allow_none=True, validate=validate.Length(max=200))
    cancelled_on = Date(load_default=None, allow_none=True)
    note = fields.String(load_default="", allow_none=True, validate=validate.Length(max=500))


def _render(values: dict, errors: dict | None = None, status: int = 200):
    page = load(PageQuery(), request.args)[0].get("page", 1)
    rows, total = cancellations.list_cancellations(uow().session, page_actor(), page, PER_PAGE)
    licence = None
    if values.get("licence_number"):  # the licence being cancelled stays on the page with its errors
        try:
            licence = cancellations.licence_by_number(uow().session, page_actor(), values["licence_number"])
        except NotFound as missing:
            errors = (errors or {}) | {"licence_number": [missing.message]}
    return render_template("hr_market/cancellations.html", rows=rows, total=total, page=page,
                           pages=max(1, ceil(total / PER_PAGE)), values=values, errors=errors or {},
                           licence=licence, reasons=CANCEL_REASONS, items=LICENCE_ITEMS,
                           today=(utcnow() + CST).date().isoformat()), status


@pages.get("/hr/cancellations")
@login_required
def hr_cancellations():
    """The list; with ``licence_number`` the licence to cancel is looked up and its items offered."""
    return _render({"licence_number": request.args.get("licence_number", "")[:40]})


@pages.post("/hr/cancellations")
@login_required
def hr_cancel_licence():
    data, errors = load(CancellationForm(), {**request.form.to_dict(), "items": request.form.getlist("items")})
    values = request.form.to_dict() | {"items": request.form.getlist("items")}
    if errors or not data.get("cancelled_on"):
        return _render(values, errors or {"cancelled_on": [_("请填写注销日期")]}, 400)
    work = uow()
    try:
        done = cancellations.cancel(work.session, page_actor(), cancellations.CancellationInput(
            licence_number=data.get("licence_number") or "", items=data.get("items") or [],
            reason=data.get("reason") or "", basis=data.get("basis") or "", cancelled_on=data["cancelled_on"],
            note=data.get("note") or ""))
    except (InvalidData, Conflict) as refused:
        work.session.rollback()
        return _render(values, getattr(refused, "fields", {}) | {"_form": [refused.message]}, 400)
    work.commit()
    flash(_("已注销许可证 %(number)s 的许可事项", number=data["licence_number"]) if not done.whole
          else _("已注销许可证 %(number)s", number=data["licence_number"]), "success")
    return redirect(url_for("pages.hr_cancellations"))
