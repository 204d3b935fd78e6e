"""抽查 for provincial spot checkers: look a person up by ID number, mark work-history entries valid
or invalid (4.5 企业申报省级抽查) and early-retirement registrations passed or failed (5.4)."""
from __future__ import annotations

from flask import flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from marshmallow import fields, validate

from engine.errors import InvalidData, NotFound
from services.special_work import early_retirement, spot_checks
from services.special_work.person_view import person_for_spot_check
from web.context import uow
from web.pages import pages
from web.pages.params import REQUIRED, PageForm, load
from web.pages.session import login_required, page_actor

RESULT = validate.OneOf(tuple(spot_checks.RESULTS), error="请选择抽查通过或抽查不通过")

TOO_LONG = "最多 {max} 个字符"


class SpotCheckForm(PageForm):
    result = fields.String(required=True, validate=RESULT, error_messages=REQUIRED)
    note = fields.String(load_default="", allow_none=True, validate=validate.Length(max=500, error=TOO_LONG))
    id_number = fields.String(load_default="", allow_none=True)


@pages.app_template_global()
def may_spot_check() -> bool:
    return spot_checks.is_provincial_checker(page_actor())


def render_person(id_number: str, failed: tuple[str, int] | None = None, errors: dict | None = None,
                  status: int = 200):
    view, lookup_errors = None, {}
    spot_checks.require_any_provincial_checker(page_actor())
    if id_number:
        try:
            view = person_for_spot_check(uow().session, page_actor(), id_number)
        except NotFound as error:
            lookup_errors, status = {"id_number": [error.message]}, 404
    return render_template("special_work/spot_checks.html", view=view, id_number=id_number, failed=failed,
                           errors=errors or {}, lookup_errors=lookup_errors, results=spot_checks.RESULTS,
                           status_labels=early_retirement.STATUS_LABELS), status


@pages.get("/spot-checks")
@login_required
def spot_checks_page():
    return render_person((request.args.get("id_number") or "").strip()[:18])


def _check(kind: str, target_id: int, action) -> ResponseReturnValue:
    data, errors = load(SpotCheckForm(), request.form)
    id_number = (data.get("id_number") or "").strip()[:18]
    work = uow()
    try:
        if errors:
            raise InvalidData(_("请选择抽查结果"), fields=errors)
        action(work.session, data["result"], data.get("note") or "")
    except InvalidData as error:
        work.session.rollback()
        return render_person(id_number, (kind, target_id), error.fields or {"_form": [error.message]}, 400)
    work.commit()
    label = spot_checks.RESULTS[data["result"]]
    flash(_("已保存抽查结果：%(result)s", result=_(label)), "success")
    return redirect(url_for("pages.spot_checks_page", id_number=id_number))


@pages.post("/spot-checks/work-histories/<int:history_id>")
@login_required
def spot_check_history(history_id: int):
    return _check("work_history", history_id, lambda session, result, note: spot_checks.spot_check_work_histories(
        session, page_actor(), [history_id], result, note))


@pages.post("/spot-checks/early-retirements/<int:registration_id>")
@login_required
def spot_check_registration(registration_id: int):
    return _check("early_retirement", registration_id, lambda session, result, note: early_retirement.spot_check(
        session, page_actor(), registration_id, result, note))
