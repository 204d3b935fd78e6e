"""The registrars' screens of the petition system: 来信详细登记 and 来访登记 → 新建 (the particulars;
the 登记 step follows in the inbox) and the 判重 links chosen on the 登记 step's panel."""
from __future__ import annotations

from flask import abort, flash, jsonify, redirect, render_template, request, url_for
from flask_babel import gettext as _
from sqlalchemy import select

from engine.errors import InvalidData
from engine.models import HumanTask, TaskStatus
from services.petitions import actions, batches, intake, petitioners, query_codes, reviews, simple
from services.petitions.labels import SIMPLE_KINDS, SIMPLE_MODES
from services.platform import organisations
from services.platform.organisations import Organisation
from web.context import runtime, uow
from web.pages import pages
from web.pages.formatting import region_name
from web.pages.formdata import form_data, kept_values, uploads
from web.pages.i18n import translated_message
from web.pages.outcomes import act
from web.pages.session import login_required, page_actor

# kind → (form, page title, the endpoint that posts it)
KINDS = {"letter": ("xf_letter", "来信详细登记", "pages.xf_register_letter"),
         "visit": ("xf_visit", "来访登记", "pages.xf_register_visit")}


def _registrar_offices() -> list[Organisation]:
    offices = [org for post, org in page_actor().posts if post == "xf_registrar"]
    if not offices:
        abort(404)
    return list(uow().session.scalars(select(Organisation).where(Organisation.id.in_(offices))
                                      .order_by(Organisation.region_code)))


def _page(kind: str, values: dict, errors: dict | None = None, status: int = 200):
    session = uow().session
    form_key, title, action = KINDS[kind]
    offices = _registrar_offices()
    regions = intake.place_regions(session, petitioners.PROVINCE)
    interviewers = [(name, shown) for post in intake.INTERVIEWERS
                    for name, shown in organisations.holders(session, offices[0].id, post)]
    options = {"regions": [{"value": r.code, "label": region_name(r.name)} for r in regions],
               "interviewers": [{"value": name, "label": shown, "user": True}  # user data: display names
                                for name, shown in dict(interviewers).items()]}
    return render_template("petitions/letter.html", form=runtime().engine.forms.get(form_key), values=values,
                           errors=errors or {}, options=options, offices=offices, title=title, action=action), status


def _register(kind: str):
    offices = _registrar_offices()
    form = runtime().engine.forms.get(KINDS[kind][0])
    office = request.form.get("office", type=int) or offices[0].id
    work = uow()
    warnings: list[str] = []
    try:
        if kind == "visit":
            petition, warnings = intake.register_visit(work, runtime().engine, page_actor(), office,
                                                       form_data(form, request.form), uploads(form, request.files))
        else:
            petition = intake.register_letter(work, runtime().engine, page_actor(), office,
                                              form_data(form, request.form), uploads(form, request.files))
    except InvalidData as refused:
        work.session.rollback()
        return _page(kind, kept_values(form, request.form), dict(refused.fields) | {"_form": [refused.message]}, 400)
    work.commit()
    for warning in warnings:
        flash(_(warning), "warning")
    row = work.session.scalar(select(HumanTask).where(HumanTask.business_key == petition.number,
                                                      HumanTask.status == TaskStatus.OPEN))
    flash(_("已保存，信访件编号 %(number)s；请判重并完成登记", number=petition.number), "success")
    return redirect(url_for("pages.task", task_id=row.id) if row is not None else url_for("pages.inbox"))


@pages.get("/xf/letters/new")
@login_required
def xf_new_letter():
    return _page("letter", {})


@pages.post("/xf/letters/new")
@login_required
def xf_register_letter():
    return _register("letter")


@pages.get("/xf/visits/new")
@login_required
def xf_new_visit():
    return _page("visit", {"visitors": "1"})


@pages.post("/xf/visits/new")
@login_required
def xf_register_visit():
    return _register("visit")


@pages.post("/xf/tasks/<task_id>/link")
@login_required
def xf_link(task_id: str):
    """The registrar's 判重 choice: 相同信访事项, 相同信访人 or none."""
    kind = request.form.get("kind", "")
    other = request.form.get("petition_id", type=int)
    words = intake.LINKS.get(kind, "")
    return act(lambda work: intake.link(work, page_actor(), task_id, kind, other),
               _("已选择：%(choice)s", choice=_(words)), url_for("pages.task", task_id=task_id))


def _simple_page(values: dict, errors: dict | None = None, status: int = 200):
    return render_template("petitions/simple.html", offices=_registrar_offices(),
                           rows=simple.recent(uow().session, page_actor()), kinds=SIMPLE_KINDS, modes=SIMPLE_MODES,
                           values=values, errors=errors or {}), status


@pages.get("/xf/simple")
@login_required
def xf_simple():
    return _simple_page({})


@pages.post("/xf/simple")
@login_required
def xf_add_simple():
    offices = _registrar_offices()
    form = request.form
    work = uow()
    try:
        simple.register(work.session, page_actor(), form.get("office", type=int) or offices[0].id, simple.SimpleLetter(
            name=form.get("name", ""), address=form.get("address", ""), kind=form.get("kind", ""),
            letters=form.get("letters", type=int) or 0, recipient=form.get("recipient", ""),
            note=form.get("note", ""), mode=form.get("mode", ""), destination=form.get("destination", "")))
    except InvalidData as refused:
        work.session.rollback()
        return _simple_page(form.to_dict(), dict(refused.fields) | {"_form": [refused.message]}, 400)
    work.commit()
    flash(_("已简单登记"), "success")
    return redirect(url_for("pages.xf_simple"))


def _public_url() -> str:
    return runtime().settings.public_url or request.host_url.rstrip("/")


@pages.get("/xf/petitions/<int:petition_id>/slip")
@login_required
def xf_query_code_slip(petition_id: int):
    """打印查询码: a slip for the petitioner (the page prints itself on paper)."""
    found = query_codes.slip(uow().session, runtime().engine, page_actor(), petition_id, _public_url())
    return render_template("petitions/slip.html", slip=found)


@pages.post("/xf/petitions/<int:petition_id>/sms")
@login_required
def xf_send_query_code(petition_id: int):
    return act(lambda work: query_codes.send_sms(work, runtime().engine, runtime().notifier.sms, page_actor(),
                                                 petition_id, _public_url()),
               _("已发送查询码短信"), _back(url_for("pages.inbox")))


@pages.get("/xf/batch")
@login_required
def xf_batch():
    """个人待办 for 集中转送 / 集中交办: the items waiting for 办理 at the user's offices."""
    if not any(post == "xf_handler" for post, _org in page_actor().posts):
        abort(404)
    return render_template("petitions/batch.html", rows=batches.waiting(uow().session, page_actor()),
                           modes=batches.FORWARDS, outcomes=None)


@pages.post("/xf/batch")
@login_required
def xf_forward_batch():
    form = request.form
    try:
        outcomes = batches.forward(runtime().unit_of_work, runtime().engine, page_actor(), form.getlist("task_id"),
                                   form.get("mode", ""), form.get("opinion", "")[:2000],
                                   form.get("deadline_days", type=int))
    except InvalidData as refused:
        flash(translated_message(refused.message), "error")
        return redirect(url_for("pages.xf_batch"))
    return render_template("petitions/batch.html", rows=batches.waiting(uow().session, page_actor()),
                           modes=batches.FORWARDS, outcomes=outcomes, mode=form.get("mode", ""))


def _back(default: str) -> str:
    back = request.form.get("back") or default
    return back if back.startswith("/") and not back.startswith("//") else default


@pages.post("/xf/petitions/<int:petition_id>/recall")
@login_required
def xf_recall(petition_id: int):
    """收回 of a 转送 / 交办 the destination has not begun."""
    return act(lambda work: actions.recall(work, runtime().engine, page_actor(), petition_id,
                                           request.form.get("reason", "")[:500]),
               _("已收回，信访件回到本单位待办"), _back(url_for("pages.inbox")))


@pages.post("/xf/tasks/<task_id>/extend")
@login_required
def xf_extend(task_id: str):
    """延期 of a 自办 step by a leader of its office."""
    return act(lambda work: actions.extend(work, runtime().engine, page_actor(), task_id,
                                           request.form.get("days", type=int) or 0, request.form.get("reason", "")),
               _("已批准延期"), url_for("pages.task", task_id=task_id))


@pages.get("/xf/online")
@login_required
def xf_online_desk():
    """网信登记: 未登记 / 已登记 / 已撤回 (004 §3.1)."""
    tab = request.args.get("tab", "waiting")
    if tab not in intake.ONLINE_TABS or not any(post == "xf_registrar" for post, _org in page_actor().posts):
        abort(404)
    return render_template("petitions/online.html", rows=intake.online_desk(uow().session, page_actor(), tab),
                           tab=tab, tabs=intake.ONLINE_TABS)


@pages.get("/xf/tasks/<task_id>/scope")
@login_required
def xf_scope(task_id: str):
    """The 满意度评价 scope the rule gives for the 登记 step's answers so far (JSON, for the page's script)."""
    found = intake.scope_of_step(uow().session, runtime().engine, page_actor(), task_id,
                                 purpose=request.args.get("purpose", "")[:20],
                                 law_related=request.args.get("law_related") == "true",
                                 anonymous=request.args.get("anonymous") == "true")
    return jsonify(locked=found.locked, value=found.value, words=_(found.words))


@pages.get("/xf/workbench")
@login_required
def xf_workbench():
    """信访工作台: the functions of the user's posts at their offices."""
    posts = {post for post, _org in page_actor().posts}
    if not posts & {"xf_registrar", "xf_handler"}:
        abort(404)
    return render_template("petitions/workbench.html", registrar="xf_registrar" in posts, handler="xf_handler" in posts)


@pages.post("/xf/reviews/<int:instance_id>/suspend")
@login_required
def xf_review_suspend(instance_id: int):
    """发起中止 of a 复查/复核 by a leader of its office."""
    return act(lambda work: reviews.suspend(work, runtime().engine, page_actor(), instance_id,
                                            request.form.get("reason", "")),
               _("已中止，办理期限暂停计算"), url_for("pages.case", instance_id=instance_id))


@pages.post("/xf/reviews/<int:instance_id>/resume")
@login_required
def xf_review_resume(instance_id: int):
    return act(lambda work: reviews.resume(work, runtime().engine, page_actor(), instance_id),
               _("已恢复办理"), url_for("pages.case", instance_id=instance_id))


@pages.post("/xf/reviews/<int:instance_id>/terminate")
@login_required
def xf_review_terminate(instance_id: int):
    return act(lambda work: reviews.terminate(work, runtime().engine, page_actor(), instance_id,
                                              request.form.get("reason", "")),
               _("已终止"), url_for("pages.case", instance_id=instance_id))
