"""机构管理 (003 §2.14): list, add, correct and delete human-resources service organisations.
Rules: services.hr_market.organisations."""
from __future__ import annotations

from math import ceil

from flask import flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from marshmallow import fields, validate

from engine.errors import Conflict, Forbidden, InvalidData
from services.hr_market import annual_reports, changes, organisations
from services.hr_market.labels import CHANGE_TYPES, ORGANISATION_KINDS
from services.platform import audit
from services.platform.identity import list_regions
from web.context import uow
from web.pages import pages
from web.pages.i18n import translated_message
from web.pages.outcomes import act
from web.pages.params import PageForm, PageQuery, load
from web.pages.session import login_required, page_actor

PER_PAGE = 50
TOO_LONG = "最多 {max} 个字符"
FIELDS = ("credit_code", "name", "kind", "legal_representative", "address", "region_code", "contact_person",
          "contact_phone")


def _text(limit: int) -> fields.String:
    return fields.String(load_default="", allow_none=True, validate=validate.Length(max=limit, error=TOO_LONG))


class OrganisationForm(PageForm):
    credit_code = _text(18)
    name = _text(200)
    kind = _text(20)
    legal_representative = _text(50)
    address = _text(200)
    region_code = _text(6)
    contact_person = _text(50)
    contact_phone = _text(30)


def _render_form(organisation_id: int | None, values: dict, errors: dict | None = None, status: int = 200):
    session, actor = uow().session, page_actor()
    organisation = organisations.get_visible(session, actor, organisation_id) if organisation_id else None
    if organisation is None and not organisations.may_manage(actor):
        raise Forbidden("您无权添加人力资源服务机构")
    return render_template(
        "hr_market/organisation_form.html", organisation=organisation, values=values, errors=errors or {},
        kinds=ORGANISATION_KINDS, regions=[r for r in list_regions(session) if organisations.may_manage(actor, r.code)],
        licensed=organisation is not None and organisations.has_licence(session, organisation.id),
        audit_entries=audit.entries_for(session, "hr_organisation", organisation.id) if organisation else [],
        changes=changes.history(session, organisation.id) if organisation else [], change_types=CHANGE_TYPES), status


@pages.get("/hr/organisations")
@login_required
def hr_organisations():
    page = load(PageQuery(), request.args)[0].get("page", 1)
    text = request.args.get("q", "")[:100]
    rows, total = organisations.search(uow().session, page_actor(), text, page, PER_PAGE)
    return render_template("hr_market/organisations.html", rows=rows, total=total, page=page, q=text,
                           kinds=ORGANISATION_KINDS, pages=max(1, ceil(total / PER_PAGE)))


@pages.get("/hr/organisations/new")
@login_required
def hr_organisation_new():
    return _render_form(None, {"kind": "enterprise"})


@pages.post("/hr/organisations/new")
@login_required
def hr_organisation_create():
    data, errors = load(OrganisationForm(), request.form)
    if errors:
        return _render_form(None, request.form.to_dict(), errors, 400)
    work = uow()
    try:
        organisation = organisations.create(work.session, page_actor(), organisations.OrganisationInput(
            **{key: data.get(key) or "" for key in FIELDS}))
    except InvalidData as error:
        work.session.rollback()
        return _render_form(None, request.form.to_dict(), dict(error.fields) | {"_form": [error.message]}, 400)
    work.commit()
    flash(_("已添加机构 %(name)s", name=organisation.name), "success")
    return redirect(url_for("pages.hr_organisation_edit", organisation_id=organisation.id))


@pages.get("/hr/organisations/<int:organisation_id>")
@login_required
def hr_organisation_edit(organisation_id: int):
    organisation = organisations.get_visible(uow().session, page_actor(), organisation_id)
    return _render_form(organisation_id, {key: getattr(organisation, key) for key in FIELDS})


@pages.post("/hr/organisations/<int:organisation_id>")
@login_required
def hr_organisation_update(organisation_id: int):
    data, errors = load(OrganisationForm(), request.form)
    if errors:
        return _render_form(organisation_id, request.form.to_dict(), errors, 400)
    work = uow()
    try:
        organisations.update(work.session, page_actor(), organisation_id, organisations.OrganisationInput(
            **{key: data.get(key) or "" for key in FIELDS}))
    except InvalidData as error:
        work.session.rollback()
        return _render_form(organisation_id, request.form.to_dict(),
                            dict(error.fields) | {"_form": [error.message]}, 400)
    work.commit()
    flash(_("已保存"), "success")
    return redirect(url_for("pages.hr_organisation_edit", organisation_id=organisation_id))


@pages.post("/hr/organisations/<int:organisation_id>/delete")
@login_required
def hr_organisation_delete(organisation_id: int):
    work = uow()
    try:
        organisations.delete(work.session, page_actor(), organisation_id)
    except Conflict as refused:
        work.session.rollback()
        flash(translated_message(refused.message), "error")
        return redirect(url_for("pages.hr_organisation_edit", organisation_id=organisation_id))
    work.commit()
    flash(_("已删除机构"), "success")
    return redirect(url_for("pages.hr_organisations"))


@pages.post("/hr/annual-reports/<int:report_id>/reopen")
@login_required
def hr_reopen_report(report_id: int):
    """退回重填 of a passed annual report, from its case page."""
    case_id = request.form.get("instance_id", type=int)
    back = url_for("pages.case", instance_id=case_id) if case_id else url_for("pages.inbox")
    reason = request.form.get("reason", "")
    return act(lambda work: annual_reports.reopen(work.session, page_actor(), report_id, reason),
               _("年度报告已退回重填，机构可重新报送"), back)
