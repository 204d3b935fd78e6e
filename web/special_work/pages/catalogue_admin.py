"""名录管理 (seed 000, 6.1) for the ministry's catalogue_admin: add, edit, retire / re-activate and
delete work types; an entry in use cannot be deleted (services.special_work.catalogue says why)."""
from __future__ import annotations

from flask import flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from marshmallow import fields, validate

from engine.errors import Conflict, InvalidData
from engine.fields import Integer
from services.special_work import catalogue
from web.context import uow
from web.pages import pages
from web.pages.params import REQUIRED, PageForm, load
from web.pages.session import login_required, page_actor

TOO_LONG = "最多 {max} 个字符"


class WorkTypeForm(PageForm):
    code = fields.String(load_default="", allow_none=True, validate=validate.Length(max=20, error=TOO_LONG))
    name = fields.String(load_default="", allow_none=True, validate=validate.Length(max=100, error=TOO_LONG))
    industry = fields.String(load_default="", allow_none=True, validate=validate.Length(max=100, error=TOO_LONG))
    nature = fields.String(load_default="", allow_none=True, validate=validate.Length(max=30, error=TOO_LONG))


class NatureRuleForm(PageForm):
    required_years = Integer(minimum=0, required=True, error_messages={**REQUIRED, "invalid": "请填写整数"})
    min_age_male = Integer(minimum=0, required=True, error_messages={**REQUIRED, "invalid": "请填写整数"})
    min_age_female = Integer(minimum=0, required=True, error_messages={**REQUIRED, "invalid": "请填写整数"})


@pages.app_template_global()
def may_maintain_catalogue() -> bool:
    return catalogue.may_maintain(page_actor())


def render_catalogue(values: dict | None = None, errors: dict | None = None, status: int = 200,
                     editing: str | None = None):
    """The list with the add form; ``editing`` is the entry (or ``nature:<code>``) whose form holds
    ``values`` and ``errors``."""
    catalogue.require_maintainer(page_actor())
    session = uow().session
    industry = (request.args.get("industry") or "").strip() or None
    return render_template("special_work/catalogue_admin.html",
                           entries=catalogue.list_work_types(session, industry, True),
                           natures=catalogue.natures(session), industries=catalogue.industries(session),
                           industry=industry or "", values=values or {}, errors=errors or {},
                           editing=editing), status


@pages.get("/catalogue")
@login_required
def catalogue_admin():
    return render_catalogue(editing=request.args.get("edit"))


def _entry(data: dict, *keys: str) -> list[str]:
    return [data.get(key) or "" for key in keys]


def _refused(error: InvalidData | Conflict, values: dict, editing: str | None):
    uow().session.rollback()
    status = 409 if isinstance(error, Conflict) else 400
    return render_catalogue(values, getattr(error, "fields", None) or {"_form": [error.message]}, status, editing)


@pages.post("/catalogue/work-types")
@login_required
def catalogue_add():
    data, errors = load(WorkTypeForm(), request.form)
    if errors:
        return render_catalogue(request.form, errors, 400)
    work = uow()
    try:
        entry = catalogue.add_work_type(work.session, page_actor(), *_entry(data, "code", "name", "industry", "nature"))
    except (InvalidData, Conflict) as error:
        return _refused(error, request.form, None)
    work.commit()
    flash(_("已新增名录条目 %(code)s", code=entry.code), "success")
    return redirect(url_for("pages.catalogue_admin"))


@pages.post("/catalogue/work-types/<code>")
@login_required
def catalogue_update(code: str):
    data, errors = load(WorkTypeForm(), request.form)
    if errors:
        return render_catalogue(request.form, errors, 400, code)
    work = uow()
    try:
        catalogue.update_work_type(work.session, page_actor(), code, *_entry(data, "name", "industry", "nature"))
    except (InvalidData, Conflict) as error:
        return _refused(error, request.form, code)
    work.commit()
    flash(_("已保存名录条目 %(code)s", code=code), "success")
    return redirect(url_for("pages.catalogue_admin"))


@pages.post("/catalogue/work-types/<code>/active")
@login_required
def catalogue_active(code: str):
    work = uow()
    entry = catalogue.set_work_type_active(work.session, page_actor(), code, request.form.get("active") == "true")
    work.commit()
    flash(_("已启用 %(code)s", code=code) if entry.active else _("已停用 %(code)s", code=code), "success")
    return redirect(url_for("pages.catalogue_admin"))


@pages.post("/catalogue/work-types/<code>/delete")
@login_required
def catalogue_delete(code: str):
    work = uow()
    try:
        catalogue.delete_work_type(work.session, page_actor(), code)
    except Conflict as error:
        return _refused(error, {}, None)
    work.commit()
    flash(_("已删除名录条目 %(code)s", code=code), "success")
    return redirect(url_for("pages.catalogue_admin"))


@pages.post("/catalogue/natures/<code>")
@login_required
def catalogue_nature(code: str):
    data, errors = load(NatureRuleForm(), request.form)
    if errors:
        return render_catalogue(request.form, errors, 400, f"nature:{code}")
    work = uow()
    try:
        catalogue.update_nature_rule(work.session, page_actor(), code, data["required_years"], data["min_age_male"],
                                     data["min_age_female"])
    except InvalidData as error:
        return _refused(error, request.form, f"nature:{code}")
    work.commit()
    flash(_("已保存特殊工种性质 %(code)s 的提前退休条件", code=code), "success")
    return redirect(url_for("pages.catalogue_admin"))
