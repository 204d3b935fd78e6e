"""现场招聘会 of an organisation (its 机构端 page): the fairs it entered and the form that adds one. The
office reads them through the query 现场招聘会查阅. Rules: services.hr_market.job_fairs."""
from __future__ import annotations

from flask import flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from marshmallow import fields, validate

from engine.errors import InvalidData
from engine.fields import Date, Integer
from services.hr_market import job_fairs
from services.platform.identity import list_regions
from web.context import uow
from web.pages import pages
from web.pages.params import PageForm, load
from web.pages.session import login_required, page_actor


def _text(limit: int) -> fields.String:
    return fields.String(load_default="", allow_none=True, validate=validate.Length(max=limit))


class JobFairForm(PageForm):
    name = _text(200)
    starts_on = Date(load_default=None, allow_none=True)
    ends_on = Date(load_default=None, allow_none=True)
    venue = _text(200)
    region_code = _text(6)
    booths = Integer(load_default=None, allow_none=True, minimum=1, maximum=100_000)
    contact_person = _text(50)
    contact_phone = _text(30)


def _render(values: dict, errors: dict | None = None, status: int = 200):
    session = uow().session
    return render_template("hr_market/job_fairs.html", fairs=job_fairs.own_fairs(session, page_actor()),
                           may_add=job_fairs.may_add(session, page_actor()), values=values, errors=errors or {},
                           regions=[r for r in list_regions(session) if r.level == "county"]), status


@pages.get("/hr/job-fairs")
@login_required
def hr_job_fairs():
    return _render({})


@pages.post("/hr/job-fairs")
@login_required
def hr_add_job_fair():
    data, errors = load(JobFairForm(), request.form)
    if errors:
        return _render(request.form.to_dict(), errors, 400)
    work = uow()
    try:
        fair = job_fairs.add(work.session, page_actor(), job_fairs.JobFairInput(
            name=data.get("name") or "", starts_on=data.get("starts_on"), ends_on=data.get("ends_on"),
            venue=data.get("venue") or "", region_code=data.get("region_code") or "", booths=data.get("booths"),
            contact_person=data.get("contact_person") or "", contact_phone=data.get("contact_phone") or ""))
    except InvalidData as refused:
        work.session.rollback()
        return _render(request.form.to_dict(), dict(refused.fields) | {"_form": [refused.message]}, 400)
    work.commit()
    flash(_("已添加现场招聘会：%(name)s", name=fair.name), "success")
    return redirect(url_for("pages.hr_job_fairs"))
