"""The portal of 信访人 (004 §2): 用户注册, 反映问题, 我反映的问题 (with 撤回 and the 办理过程), and
信访事项查询、评价 by name and 查询码 without an account. Rules: services.petitions."""
from __future__ import annotations

from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from sqlalchemy import select

from engine.db import utcnow
from engine.errors import Conflict, InvalidData, NotFound
from engine.models import ProcessInstance
from services.petitions import evaluations, handling, intake, petitioners
from services.petitions.labels import GENDERS, ID_TYPES, LEVELS, MODES, REASONS, STATUSES
from services.petitions.models import Petition
from services.platform import applicant_actions, documents
from services.platform.organisations import Organisation
from web.context import runtime, uow
from web.pages import pages
from web.pages.formatting import region_name
from web.pages.formdata import form_data, kept_values, uploads
from web.pages.i18n import translated_message
from web.pages.session import login_required, page_actor
from web.ratelimit import RateLimited, count_query_code_lookup

# the modes a petitioner sees in the 办理过程 (internal ones — 送审, 汇报审阅 — are the office's own)
SHOWN_MODES = frozenset({"transfer", "assign", "notice_accept", "notice_refuse", "notice_no_more", "self",
                         "reply", "file", "return", "accept_report", "extend"})
TOLD = frozenset({"extend"})  # modes whose opinion the petitioner is told (延期: its reason, 信访条例 §33)


def _petitioner_only() -> None:
    if not page_actor().has_role("petitioner"):
        abort(404)


# ---------------------------------------------------------------------- 用户注册
@pages.get("/xf/register")
def xf_register_form():
    return render_template("petitions/register.html", values={}, errors={}, genders=GENDERS, id_types=ID_TYPES)


@pages.post("/xf/register")
def xf_register():
    form = request.form
    values = form.to_dict()
    try:
        count_query_code_lookup()  # per client address, as every public lookup
    except RateLimited as limited:
        return render_template("petitions/register.html", values=values, errors={"_form": [limited.message]},
                               genders=GENDERS, id_types=ID_TYPES), 429
    work = uow()
    try:
        petitioners.register(work.session, petitioners.Registration(
            username=form.get("username", "")[:100], password=form.get("password", "")[:200],
            phone=form.get("phone", "")[:20], agreed=form.get("agreed") == "yes",
            anonymous=form.get("anonymous") == "yes", name=form.get("name", "")[:50], gender=form.get("gender", ""),
            id_type=form.get("id_type", ""), id_number=form.get("id_number", "")[:30],
            household_address=form.get("household_address", "")[:200],
            usual_address=form.get("usual_address", "")[:200], mail_address=form.get("mail_address", "")[:200]))
    except InvalidData as refused:
        work.session.rollback()
        return render_template("petitions/register.html", values=values,
                               errors=dict(refused.fields) | {"_form": [refused.message]},
                               genders=GENDERS, id_types=ID_TYPES), 400
    work.commit()
    flash(_("注册成功，请登录"), "success")
    return redirect(url_for("pages.signin", next=url_for("pages.xf_new_complaint")))


# ---------------------------------------------------------------------- 反映问题
def _complaint_page(values: dict, errors: dict | None = None, status: int = 200):
    session = uow().session
    form = runtime().engine.forms.get("xf_online_complaint")
    regions = intake.place_regions(session, petitioners.PROVINCE)
    bureaus = list(session.scalars(select(Organisation).where(Organisation.kind == "xf_bureau")
                                   .order_by(Organisation.region_code)))
    options = {"regions": [{"value": r.code, "label": region_name(r.name)} for r in regions],
               "bureaus": [{"value": str(o.id), "label": o.name, "user": True} for o in bureaus]}
    return render_template("petitions/complaint.html", form=form, values=values, errors=errors or {},
                           options=options), status


@pages.get("/xf/complaints/new")
@login_required
def xf_new_complaint():
    _petitioner_only()
    return _complaint_page({})


@pages.post("/xf/complaints/new")
@login_required
def xf_submit_complaint():
    _petitioner_only()
    form = runtime().engine.forms.get("xf_online_complaint")
    work = uow()
    try:
        petition = intake.submit_complaint(work, runtime().engine, page_actor(), form_data(form, request.form),
                                           uploads(form, request.files))
    except InvalidData as refused:
        work.session.rollback()
        return _complaint_page(kept_values(form, request.form), dict(refused.fields) | {"_form": [refused.message]},
                               400)
    work.commit()
    flash(_(intake.SUBMITTED), "success")
    return redirect(url_for("pages.xf_my_petition", petition_id=petition.id))


# ---------------------------------------------------------------------- 我反映的问题
@pages.get("/xf/mine")
@login_required
def xf_my_petitions():
    _petitioner_only()
    rows = uow().session.scalars(select(Petition).where(Petition.petitioner_username == page_actor().username)
                                 .order_by(Petition.id.desc()).limit(200))
    return render_template("petitions/my_petitions.html", petitions=list(rows), statuses=STATUSES)


def _view(petition: Petition, *, via_code: bool = False, name: str = "", code: str = "") -> str:
    session = uow().session
    engine = runtime().engine
    intake_case = session.get(ProcessInstance, petition.intake_instance_id) if petition.intake_instance_id else None
    shown = [(r, MODES.get(r.mode, r.mode), org, dest, r.opinion if r.mode in TOLD else "")
             for r, org, dest in handling.records(session, petition.id) if r.mode in SHOWN_MODES]
    notices = list(session.scalars(
        select(documents.CaseDocument).join(ProcessInstance, ProcessInstance.id == documents.CaseDocument.instance_id)
        .where(ProcessInstance.business_key == petition.number, documents.CaseDocument.kind == "petition_notice")))
    may_withdraw = (not via_code and intake_case is not None
                    and applicant_actions.may_withdraw(session, page_actor(), intake_case))
    return render_template("petitions/petition.html", petition=petition, intake_case=intake_case, records=shown,
                           notices=notices, statuses=STATUSES, evaluations=evaluations.given(session, petition.id),
                           eligibility=evaluations.eligibility(session, petition), levels=LEVELS, reasons=REASONS,
                           may_withdraw=may_withdraw, via_code=via_code, name=name, code=code,
                           engine=engine)


def _own(petition_id: int) -> Petition:
    _petitioner_only()
    try:
        return evaluations.own_petition(uow().session, page_actor(), petition_id)
    except NotFound:
        abort(404)


@pages.get("/xf/mine/<int:petition_id>")
@login_required
def xf_my_petition(petition_id: int):
    return _view(_own(petition_id))


def _evaluate(petition: Petition, back: str):
    work = uow()
    form = request.form
    try:
        evaluations.evaluate(work.session, petition, form.get("bureau_level", ""), form.get("unit_level", ""),
                             form.get("reason", ""), form.get("message", "")[:600], utcnow())
    except (InvalidData, Conflict) as refused:
        work.session.rollback()
        details = _("；").join(_(m) for ms in getattr(refused, "fields", {}).values() for m in ms)
        flash(_("%(message)s：%(details)s", message=translated_message(refused.message), details=details) if details
              else translated_message(refused.message), "error")
        return None
    work.commit()
    flash(_("评价已提交，感谢您的反馈"), "success")
    return redirect(back)


@pages.post("/xf/mine/<int:petition_id>/evaluate")
@login_required
def xf_evaluate_mine(petition_id: int):
    petition = _own(petition_id)
    back = url_for("pages.xf_my_petition", petition_id=petition_id)
    return _evaluate(petition, back) or redirect(back)


# ---------------------------------------------------------------------- 查询、评价 by 查询码
@pages.get("/xf/query")
def xf_query_form():
    return render_template("petitions/query.html", name="", code="", error=None)


@pages.post("/xf/query")
def xf_query():
    name = (request.form.get("name") or "").strip()[:50]
    code = (request.form.get("code") or "").strip()[:40]
    try:
        count_query_code_lookup()
    except RateLimited as limited:
        return render_template("petitions/query.html", name=name, code=code, error=limited.message), 429, \
            {"Retry-After": str(limited.retry_after)}
    try:
        petition = evaluations.by_query_code(uow().session, name, code)
    except NotFound as missing:
        return render_template("petitions/query.html", name=name, code=code, error=_(missing.message)), 404
    if request.form.get("action") == "evaluate":
        _evaluate(petition, "")
        petition = evaluations.by_query_code(uow().session, name, code)
    return _view(petition, via_code=True, name=name, code=code)


# ---------------------------------------------------------------------- 个人信息修改
def _profile_page(values: dict | None = None, errors: dict | None = None, status: int = 200):
    profile = intake.petitioner_of(uow().session, page_actor())
    return render_template("petitions/profile.html", profile=profile, values=values or {}, errors=errors or {},
                           genders=GENDERS, id_types=ID_TYPES), status


@pages.get("/xf/profile")
@login_required
def xf_profile():
    _petitioner_only()
    return _profile_page()


@pages.post("/xf/profile")
@login_required
def xf_change_profile():
    _petitioner_only()
    form = request.form
    work = uow()
    try:
        petitioners.change_profile(work.session, intake.petitioner_of(work.session, page_actor()),
                                   petitioners.ProfileChange(
                                       phone=form.get("phone", "")[:20],
                                       household_address=form.get("household_address", "")[:200],
                                       usual_address=form.get("usual_address", "")[:200],
                                       mail_address=form.get("mail_address", "")[:200],
                                       id_number=form.get("id_number", "")[:30]))
    except InvalidData as refused:
        work.session.rollback()
        return _profile_page(form.to_dict(), dict(refused.fields) | {"_form": [refused.message]}, 400)
    work.commit()
    flash(_("个人信息已保存"), "success")
    return redirect(url_for("pages.xf_profile"))
