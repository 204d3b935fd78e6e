"""人员信息管理 for the local clerk (seed 000, 5.1–5.3): look a person up by ID number (with their
work history and earlier early-retirement registrations), add a work-history entry, add an unfiled
person, register an early retirement. Rules: services.special_work.register and
services.special_work.early_retirement."""
from __future__ import annotations

from flask import flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from marshmallow import fields, validate

from engine.errors import Conflict, InvalidData, NotFound
from engine.fields import Date
from services.special_work import catalogue, early_retirement, register
from services.special_work.person_view import person_view
from web.context import runtime, uow
from web.pages import pages
from web.pages.params import REQUIRED, PageForm, load
from web.pages.session import login_required, page_actor

TOO_LONG = "最多 {max} 个字符"


def _text(size: int, required: bool = False) -> fields.String:
    if required:
        return fields.String(required=True, error_messages=REQUIRED, validate=validate.Length(max=size, error=TOO_LONG))
    return fields.String(load_default="", allow_none=True, validate=validate.Length(max=size, error=TOO_LONG))


class HistoryForm(PageForm):
    id_number = _text(18, required=True)
    enterprise_code = _text(30, required=True)
    work_type_code = _text(20, required=True)
    start_date = Date(required=True, error_messages=REQUIRED)
    end_date = Date(required=True, error_messages=REQUIRED)


class UnfiledForm(HistoryForm):
    name = _text(50)
    gender = _text(10)
    region_code = _text(6)


class RetirementForm(PageForm):
    id_number = _text(18, required=True)
    nature = _text(30, required=True)
    retirement_date = Date(required=True, error_messages=REQUIRED)
    note = _text(500)


@pages.app_template_global()
def may_maintain_register() -> bool:
    return register.may_maintain(page_actor())


def render_register(id_number: str, form: str | None = None, errors: dict | None = None, status: int = 200):
    """The look-up page; ``form`` names the form (history, unfiled, retirement) that holds ``errors``."""
    register.require_any_maintainer(page_actor())
    session = uow().session
    view, lookup_errors = None, {}
    if id_number:
        try:
            view = person_view(session, page_actor(), id_number)
        except NotFound as error:
            lookup_errors, status = {"id_number": [error.message]}, status if form else 404
    return render_template("special_work/register.html", view=view, id_number=id_number, form=form, errors=errors or {},
                           values=request.form, lookup_errors=lookup_errors,
                           work_types=catalogue.list_work_types(session), natures=catalogue.natures(session),
                           status_labels=early_retirement.STATUS_LABELS), status


def _history(data: dict) -> list[register.HistoryInput]:
    return [register.HistoryInput(data["enterprise_code"].strip(), data["work_type_code"], data["start_date"],
                                  data["end_date"])]


def _refused(form: str, id_number: str, error: InvalidData | Conflict) -> ResponseReturnValue:
    uow().session.rollback()
    fields_ = getattr(error, "fields", None) or {}
    messages = [m for key, found in fields_.items() if key.startswith("work_histories") for m in found]
    errors = {k: v for k, v in fields_.items() if not k.startswith("work_histories")}
    if messages or not errors:
        errors["_form"] = [error.message, *messages]
    return render_register(id_number, form, errors, 409 if isinstance(error, Conflict) else 400)


@pages.get("/register")
@login_required
def register_page():
    return render_register((request.args.get("id_number") or "").strip()[:18])


@pages.post("/register/histories")
@login_required
def register_add_history():
    data, errors = load(HistoryForm(), request.form)
    id_number = (request.form.get("id_number") or "").strip()[:18]
    if errors:
        return render_register(id_number, "history", errors, 400)
    work = uow()
    try:
        register.save_person_histories(work.session, page_actor(), id_number, _history(data))
    except (InvalidData, Conflict) as error:
        return _refused("history", id_number, error)
    work.commit()
    flash(_("已新增从业经历"), "success")
    return redirect(url_for("pages.register_page", id_number=id_number))


@pages.post("/register/unfiled")
@login_required
def register_add_unfiled():
    data, errors = load(UnfiledForm(), request.form)
    id_number = (request.form.get("id_number") or "").strip()[:18]
    if errors:
        return render_register(id_number, "unfiled", errors, 400)
    details = register.PersonDetails(data.get("name") or "", data.get("gender") or "", data.get("region_code") or "")
    work = uow()
    try:
        person = register.add_unfiled_person(work.session, page_actor(), id_number, details, _history(data))
    except (InvalidData, Conflict) as error:
        return _refused("unfiled", id_number, error)
    work.commit()
    flash(_("已新增未备案人员 %(name)s", name=person.name), "success")
    return redirect(url_for("pages.register_page", id_number=person.id_number))


@pages.post("/register/early-retirements")
@login_required
def register_early_retirement():
    data, errors = load(RetirementForm(), request.form)
    id_number = (request.form.get("id_number") or "").strip()[:18]
    if errors:
        return render_register(id_number, "retirement", errors, 400)
    work = uow()
    try:
        registration = early_retirement.register(work, runtime().engine, page_actor(), id_number, data["nature"],
                                                 data["retirement_date"], data.get("note") or "")
    except (InvalidData, Conflict) as error:
        return _refused("retirement", id_number, error)
    work.commit()
    flash(_("已登记提前退休（登记编号 %(id)s），核验后交审批", id=registration.id), "success")
    return redirect(url_for("pages.register_page", id_number=id_number))
