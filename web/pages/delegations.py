"""我的委托: a user hands their tasks of chosen processes to a colleague for a date range
(services.platform.standing_delegations)."""
from __future__ import annotations

from datetime import date

from flask import flash, redirect, render_template, request, url_for
from flask_babel import gettext as _

from engine.definitions import list_definitions
from engine.errors import InvalidData
from services.platform import standing_delegations
from web.context import uow
from web.pages import pages
from web.pages.outcomes import act
from web.pages.session import login_required, page_actor


def _processes() -> list[tuple[str, str]]:
    return [(d.key, d.name or d.key) for d in list_definitions(uow().session) if not d.filename.endswith(".dmn")]


@pages.get("/delegations")
@login_required
def delegations():
    return render_template("delegations.html", rows=standing_delegations.of(uow().session, page_actor()),
                           processes=_processes(), today=standing_delegations.today())


@pages.post("/delegations")
@login_required
def create_delegation():
    return act(lambda work: standing_delegations.create(
        work, page_actor(), request.form.get("delegate", "").strip(), request.form.getlist("process_keys"),
        _day("starts_on"), _day("ends_on")), _("委托已设置"), url_for("pages.delegations"))


@pages.post("/delegations/<int:delegation_id>/end")
@login_required
def end_delegation(delegation_id: int):
    work = uow()
    standing_delegations.end(work, page_actor(), delegation_id)
    work.commit()
    flash(_("委托已结束"), "success")
    return redirect(url_for("pages.delegations"))


def _day(name: str) -> date:
    try:
        return date.fromisoformat(request.form.get(name, ""))
    except ValueError:
        raise InvalidData(_("请填写有效的日期"), fields={name: [_("请填写有效的日期")]}) from None
