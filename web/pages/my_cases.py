"""发起办件 (start a case from a process's start form) and 我的办件 (the cases the user started, and
each one's applicant page). The rules live in services.platform.my_cases."""
from __future__ import annotations

from typing import Any

from flask import flash, g, redirect, render_template, request, url_for
from flask_babel import gettext as _

from engine import case_clock, query_code
from engine.db import utcnow
from engine.errors import InvalidData
from services.platform import applicant_actions, modules, my_cases, ratings
from services.platform.identity import is_applicant
from web.context import runtime, uow
from web.pages import pages
from web.pages.formdata import form_data, kept_values, uploads
from web.pages.outcomes import act
from web.pages.params import PageQuery, load
from web.pages.session import login_required, page_actor

PER_PAGE = 20
STATUSES = ("running", "waiting", "error", "completed", "terminated")


@pages.app_template_global()
def may_start() -> bool:
    """Whether the user may start any process (the menu offers 发起办件 then); asked once a request."""
    if "may_start" not in g:
        g.may_start = bool(my_cases.startable_processes(uow().session, page_actor(), g.user.region_code))
    return bool(g.may_start)


@pages.app_template_global()
def applicant_user() -> bool:
    """Whether the signed-in account is an applicant's (services.platform.identity.is_applicant)."""
    return is_applicant(page_actor())


@pages.app_template_global()
def clock_of(instance: Any) -> dict[str, Any] | None:
    """The case clock of an instance (or of a row with its clock columns), for the badge."""
    return case_clock.view(instance, utcnow(), runtime().engine.working_days)


@pages.app_template_global()
def module_menu() -> list[modules.MenuEntry]:
    """The process modules' own menu entries the user sees (after the platform's)."""
    return modules.menu_for(runtime().modules, page_actor())


@pages.get("/start")
@login_required
def start_index():
    processes = my_cases.startable_processes(uow().session, page_actor(), g.user.region_code)
    return render_template("start.html", processes=processes)


def render_start(process_key: str, values: dict | None = None, errors: dict | None = None, status: int = 200):
    page = my_cases.start_page(uow().session, runtime().engine, page_actor(), g.user.region_code, process_key)
    return render_template("start_form.html", page=page, values=values or {}, errors=errors or {}), status


@pages.get("/start/<process_key>")
@login_required
def start_form(process_key: str):
    return render_start(process_key)


@pages.post("/start/<process_key>")
@login_required
def start_case(process_key: str):
    work = uow()
    page = my_cases.start_page(work.session, runtime().engine, page_actor(), g.user.region_code, process_key)
    try:
        instance = my_cases.start_case(work, runtime().engine, page_actor(), g.user.region_code, process_key,
                                       form_data(page.form, request.form), utcnow(), uploads(page.form, request.files))
    except InvalidData as error:
        work.session.rollback()
        errors = dict(error.fields)
        errors.setdefault("_form", [error.message])
        return render_start(process_key, kept_values(page.form, request.form), errors, 400)
    work.commit()
    code = query_code.shown(instance.query_code)
    flash(_("已发起办件 %(key)s，查询码 %(code)s", key=instance.business_key, code=code), "success")
    return redirect(url_for("pages.my_case", instance_id=instance.id))


@pages.get("/my/cases")
@login_required
def my_case_list():
    page = load(PageQuery(), request.args)[0].get("page", 1)
    status = request.args.get("status") if request.args.get("status") in STATUSES else None
    rows, total = my_cases.list_my_cases(uow().session, page_actor(), page, PER_PAGE, status)
    return render_template("my_cases.html", rows=rows, total=total, page=page, pages=max(1, -(-total // PER_PAGE)),
                           status=status or "", statuses=STATUSES)


@pages.get("/my/cases/<int:instance_id>")
@login_required
def my_case(instance_id: int):
    session = uow().session
    view = my_cases.my_case(session, runtime().engine, page_actor(), instance_id, runtime().modules)
    return render_template("my_case.html", case=view,
                           may_withdraw=applicant_actions.may_withdraw(session, page_actor(), view.instance),
                           may_cancel=applicant_actions.may_cancel(session, page_actor(), view.instance),
                           rating=ratings.eligibility(session, runtime().engine, page_actor(), view.instance, utcnow()),
                           ratings=ratings.ratings_of(session, instance_id), grades=ratings.GRADES)


@pages.post("/my/cases/<int:instance_id>/cancel")
@login_required
def cancel_case(instance_id: int):
    """撤销 by the applicant once the office has begun, with a reason."""
    return act(lambda work: applicant_actions.cancel(work, runtime().engine, page_actor(), instance_id,
                                                     request.form.get("reason", "")),
               _("申请已撤销"), url_for("pages.my_case", instance_id=instance_id))


@pages.post("/my/cases/<int:instance_id>/rating")
@login_required
def rate_case(instance_id: int):
    """好差评 by the applicant; a 差评 opens its follow-up for a supervisor."""
    grade = request.form.get("grade", "")
    return act(lambda work: ratings.rate(work, runtime().engine, page_actor(), instance_id,
                                         int(grade) if grade.isdigit() else 0, request.form.get("comment", "")),
               lambda rating: _("感谢您的评价") if rating.followup_instance_id is None
               else _("感谢您的评价，您反映的问题已转督办人员核实整改"),
               url_for("pages.my_case", instance_id=instance_id) + "#rating")


@pages.post("/my/cases/<int:instance_id>/withdraw")
@login_required
def withdraw_case(instance_id: int):
    """撤回 by the applicant; refused (with the reason, nothing changed) once staff have begun."""
    back = url_for("pages.my_case", instance_id=instance_id)
    if request.form.get("confirm") != "yes":
        flash(_("请勾选“确认撤回”后再提交"), "error")
        return redirect(back)
    return act(lambda work: applicant_actions.withdraw(work, runtime().engine, page_actor(), instance_id,
                                                       request.form.get("reason", "")), _("申请已撤回"), back)
