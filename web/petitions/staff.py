"""The registrars' screens of the petition system: 来信详细登记 → 新建 (the letter's particulars; its
登记 step follows in the inbox) and the 判重 links chosen on the 登记 step's panel."""
from __future__ import annotations

from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from sqlalchemy import select

from engine.errors import InvalidData
from engine.models import HumanTask, TaskStatus
from services.petitions import intake, petitioners
from services.platform.organisations import Organisation
from web.context import runtime, uow
from web.pages import pages
from web.pages.formdata import form_data, kept_values, uploads
from web.pages.outcomes import act
from web.pages.session import login_required, page_actor


def _registrar_offices() -> list[Organisation]:
    offices = [org for post, org in page_actor().posts if post == "xf_registrar"]
    if not offices:
        abort(404)
    return list(uow().session.scalars(select(Organisation).where(Organisation.id.in_(offices))
                                      .order_by(Organisation.region_code)))


def _letter_page(values: dict, errors: dict | None = None, status: int = 200):
    session = uow().session
    form = runtime().engine.forms.get("xf_letter")
    offices = _registrar_offices()
    regions = intake.place_regions(session, petitioners.PROVINCE)
    options = {"regions": [{"value": r.code, "label": r.name} for r in regions]}
    return render_template("petitions/letter.html", form=form, values=values, errors=errors or {}, options=options,
                           offices=offices), status


@pages.get("/xf/letters/new")
@login_required
def xf_new_letter():
    return _letter_page({})


@pages.post("/xf/letters/new")
@login_required
def xf_register_letter():
    offices = _registrar_offices()
    form = runtime().engine.forms.get("xf_letter")
    office = request.form.get("office", type=int) or offices[0].id
    work = uow()
    try:
        petition = intake.register_letter(work, runtime().engine, page_actor(), office,
                                          form_data(form, request.form), uploads(form, request.files))
    except InvalidData as refused:
        work.session.rollback()
        return _letter_page(kept_values(form, request.form), dict(refused.fields) | {"_form": [refused.message]}, 400)
    work.commit()
    row = work.session.scalar(select(HumanTask).where(HumanTask.business_key == petition.number,
                                                      HumanTask.status == TaskStatus.OPEN))
    flash(_("来信已保存，信访件编号 %(number)s；请判重并完成登记", number=petition.number), "success")
    return redirect(url_for("pages.task", task_id=row.id) if row is not None else url_for("pages.inbox"))


@pages.post("/xf/tasks/<task_id>/link")
@login_required
def xf_link(task_id: str):
    """The registrar's 判重 choice: 相同信访事项, 相同信访人 or none."""
    kind = request.form.get("kind", "")
    other = request.form.get("petition_id", type=int)
    words = intake.LINKS.get(kind, "")
    return act(lambda work: intake.link(work, page_actor(), task_id, kind, other),
               _("已选择：%(choice)s", choice=_(words)), url_for("pages.task", task_id=task_id))
