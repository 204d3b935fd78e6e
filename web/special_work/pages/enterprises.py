"""单位管理 (seed 000, 3.1): list, create and edit enterprises with the manual's field errors, open or
close their portal access, reset the portal password (shown once). Rules: services.special_work.enterprises."""
from __future__ import annotations

from math import ceil

from flask import flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from marshmallow import fields, validate

from engine.errors import Conflict, InvalidData
from services.platform import audit, queries
from services.platform.identity import list_regions
from services.special_work import catalogue, enterprises
from web.context import uow
from web.pages import pages
from web.pages.params import PageForm, PageQuery, load
from web.pages.session import login_required, page_actor

PER_PAGE = 50
FIELDS = ("code", *enterprises.REQUIRED)

TOO_LONG = "最多 {max} 个字符"


class EnterpriseForm(PageForm):
    code = fields.String(load_default="", allow_none=True, validate=validate.Length(max=30, error=TOO_LONG))
    name = fields.String(load_default="", allow_none=True, validate=validate.Length(max=200, error=TOO_LONG))
    region_code = fields.String(load_default="", allow_none=True, validate=validate.Length(max=6, error=TOO_LONG))
    industry = fields.String(load_default="", allow_none=True, validate=validate.Length(max=100, error=TOO_LONG))
    address = fields.String(load_default="", allow_none=True, validate=validate.Length(max=300, error=TOO_LONG))
    postal_code = fields.String(load_default="", allow_none=True, validate=validate.Length(max=20, error=TOO_LONG))
    contact_person = fields.String(load_default="", allow_none=True, validate=validate.Length(max=50, error=TOO_LONG))
    contact_phone = fields.String(load_default="", allow_none=True, validate=validate.Length(max=30, error=TOO_LONG))


@pages.app_template_global()
def may_manage_enterprises() -> bool:
    return enterprises.may_manage(page_actor())


def _input(data: dict) -> enterprises.EnterpriseInput:
    return enterprises.EnterpriseInput(**{k: data.get(k) or "" for k in enterprises.REQUIRED})


def _form_context() -> dict:
    session = uow().session
    return {"regions": [r for r in list_regions(session) if enterprises.may_manage(page_actor(), r.code)],
            "industries": catalogue.industries(session)}


def render_new(values: dict | None = None, errors: dict | None = None, status: int = 200):
    enterprises.require_any_manager(page_actor())
    return render_template("special_work/enterprise_form.html", enterprise=None, values=values or {},
                           errors=errors or {},
                           **_form_context()), status


def render_edit(code: str, values: dict | None = None, errors: dict | None = None, status: int = 200,
                credentials: dict | None = None):
    enterprises.require_any_manager(page_actor())
    session = uow().session
    enterprise = enterprises.get_visible_enterprise(session, page_actor(), code)
    current = {k: getattr(enterprise, k) for k in FIELDS}
    return render_template("special_work/enterprise_form.html", enterprise=enterprise, values=values or current,
                           errors=errors or {}, credentials=credentials,
                           audit_entries=audit.entries_for(session, "enterprise", code),
                           field_labels=enterprises.REQUIRED, **_form_context()), status


@pages.get("/enterprises")
@login_required
def enterprise_list():
    enterprises.require_any_manager(page_actor())
    page = load(PageQuery(), request.args)[0].get("page", 1)
    filters = {k: request.args.get(k, "") for k in ("code", "name")}
    rows, total = queries.run(uow().session, page_actor(), "enterprises", filters, page, PER_PAGE)
    return render_template("special_work/enterprises.html", rows=rows, total=total, page=page, filters=filters,
                           pages=max(1, ceil(total / PER_PAGE)))


@pages.get("/enterprises/new")
@login_required
def enterprise_new():
    return render_new()


@pages.post("/enterprises")
@login_required
def enterprise_create():
    data, errors = load(EnterpriseForm(), request.form)
    if errors:
        return render_new(request.form, errors, 400)
    work = uow()
    try:
        enterprise = enterprises.create_enterprise(work.session, page_actor(), data.get("code") or "", _input(data))
    except (InvalidData, Conflict) as error:
        work.session.rollback()
        fields_ = getattr(error, "fields", None) or {"_form": [error.message]}
        return render_new(request.form, fields_, 409 if isinstance(error, Conflict) else 400)
    work.commit()
    flash(_("已新增单位 %(name)s", name=enterprise.name), "success")
    return redirect(url_for("pages.enterprise_edit", code=enterprise.code))


@pages.get("/enterprises/<code>")
@login_required
def enterprise_edit(code: str):
    return render_edit(code)


@pages.post("/enterprises/<code>")
@login_required
def enterprise_update(code: str):
    data, errors = load(EnterpriseForm(), request.form)
    if errors:
        return render_edit(code, {**request.form, "code": code}, errors, 400)
    work = uow()
    try:
        enterprises.update_enterprise(work.session, page_actor(), code, _input(data))
    except InvalidData as error:
        work.session.rollback()
        return render_edit(code, {**request.form, "code": code}, error.fields or {"_form": [error.message]}, 400)
    work.commit()
    flash(_("单位信息已保存"), "success")
    return redirect(url_for("pages.enterprise_edit", code=code))


@pages.post("/enterprises/<code>/portal")
@login_required
def enterprise_portal(code: str):
    work = uow()
    enterprise = enterprises.set_portal_access(work.session, page_actor(), code, request.form.get("enabled") == "true")
    work.commit()
    flash(_("已开启网厅权限") if enterprise.portal_enabled else _("已关闭网厅权限，该单位的账号已停用"), "success")
    return redirect(url_for("pages.enterprise_edit", code=code))


@pages.post("/enterprises/<code>/password")
@login_required
def enterprise_password(code: str):
    """The new password is rendered in this answer only (never stored readable, never redirected)."""
    work = uow()
    credentials = enterprises.reset_portal_password(work.session, page_actor(), code)
    work.commit()
    body, status = render_edit(code, credentials=credentials)
    return body, status, {"Cache-Control": "no-store"}
