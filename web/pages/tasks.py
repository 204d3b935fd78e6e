"""The task page: the step's form (rendered from forms/<key>.json) beside the case's context."""
from __future__ import annotations

from flask import flash, redirect, render_template, request, url_for
from flask_babel import gettext as _

from engine import signers
from engine.errors import Conflict, InvalidData
from engine.models import ProcessInstance, TaskStatus
from services.platform import applicant_actions, attachments, carbon_copies, task_actions, urges
from services.platform.case_view import get_task_view, get_visible_task
from services.platform.identity import colleagues_for
from web.context import runtime, uow
from web.pages import pages
from web.pages.formdata import form_data, kept_values, uploads
from web.pages.i18n import translated_message
from web.pages.outcomes import act
from web.pages.params import DelegateForm, load
from web.pages.session import login_required, page_actor, safe_next


def render_task(task_id: str, values: dict | None = None, errors: dict | None = None, status: int = 200):
    session = uow().session
    view = get_task_view(session, runtime().engine, page_actor(), task_id, runtime().modules,
                         request.args.get("q", ""))
    colleagues = colleagues_for(session, view.task.lane, view.task.region_code, page_actor().username) \
        if view.may_act else []
    instance = session.get(ProcessInstance, view.task.instance_id)
    if instance is not None and request.method == "GET":  # a refused POST re-renders inside its own
        # (SQLite: write-locked) transaction; the page was opened before it was posted
        applicant_actions.note_staff_opened(runtime().engine, runtime().unit_of_work(), page_actor(), instance)
    allowed = task_actions.available_actions(session, runtime().engine, page_actor(), task_id)
    return render_template("task.html", view=view, values=view.prefill if values is None else values,
                           errors=errors or {}, colleagues=colleagues, actions=allowed,
                           urges=urges.urges_of(session, task_id),
                           signer_tasks=signers.added_tasks(session, task_id, SIGNER_STATUSES)), status


SIGNER_STATUSES = (TaskStatus.OPEN, signers.WAITING, TaskStatus.COMPLETED, TaskStatus.CANCELLED)


@pages.get("/tasks/<task_id>")
@login_required
def task(task_id: str):
    return render_task(task_id)


@pages.post("/tasks/<task_id>")
@login_required
def complete(task_id: str):
    work = uow()
    row = get_visible_task(work.session, page_actor(), task_id)  # only what the form needs
    form = runtime().engine.task_form(work.session, row)
    try:
        attachments.complete(work, runtime().engine, page_actor(), task_id, form_data(form, request.form),
                             uploads(form, request.files))
    except InvalidData as error:
        work.session.rollback()
        errors = dict(error.fields) or {}
        errors.setdefault("_form", [error.message])
        return render_task(task_id, kept_values(form, request.form), errors, 400)
    work.commit()
    flash(_("已办理：%(key)s %(step)s", key=row.business_key, step=row.label), "success")
    if row.lane in runtime().engine.applicant_roles:  # an applicant's own step: back to their case
        return redirect(url_for("pages.my_case", instance_id=row.instance_id))
    return redirect(url_for("pages.inbox"))


@pages.post("/tasks/<task_id>/claim")
@login_required
def claim(task_id: str):
    work = uow()
    runtime().engine.claim(work, task_id, page_actor())
    work.commit()
    flash(_("已认领"), "success")
    return redirect(safe_next(request.form.get("back") or url_for("pages.task", task_id=task_id)))


@pages.post("/tasks/<task_id>/unclaim")
@login_required
def unclaim(task_id: str):
    work = uow()
    runtime().engine.unclaim(work, task_id, page_actor())
    work.commit()
    flash(_("已取消认领，任务回到组内待办"), "success")
    return redirect(safe_next(request.form.get("back") or url_for("pages.task", task_id=task_id)))


@pages.post("/tasks/<task_id>/delegate")
@login_required
def delegate(task_id: str):
    data, errors = load(DelegateForm(), request.form)
    if errors:
        raise InvalidData(_("请选择转交对象"), fields=errors)
    work = uow()
    task_actions.delegate(work, runtime().engine, page_actor(), task_id, data["to"], data["note"] or "")
    work.commit()
    flash(_("已转交给 %(name)s", name=data["to"]), "success")
    return redirect(url_for("pages.inbox"))


@pages.post("/tasks/<task_id>/return")
@login_required
def return_task(task_id: str):
    """退回 to an earlier step, with a reason; refused with the reason on the task page."""
    work = uow()
    try:
        runtime().engine.return_task(work, task_id, page_actor(), request.form.get("target", ""),
                                     request.form.get("reason", ""))
    except (InvalidData, Conflict) as refused:  # a refusal stays on the task, a success goes to the inbox
        work.session.rollback()
        flash(translated_message(refused.message), "error")
        return redirect(url_for("pages.task", task_id=task_id))
    work.commit()
    flash(_("已退回"), "success")
    return redirect(url_for("pages.inbox"))


@pages.post("/tasks/<task_id>/withdraw")
@login_required
def withdraw_task(task_id: str):
    """撤回 one's own step while the next is untouched: the step is open again, for its doer."""
    return act(lambda work: runtime().engine.withdraw_task(work, task_id, page_actor()), _("已撤回，可重新办理"),
               url_for("pages.task", task_id=task_id))


@pages.post("/tasks/<task_id>/cc")
@login_required
def copy_task(task_id: str):
    """抄送 the case from this step to colleagues (usernames, comma or space separated)."""
    names = _usernames(request.form.get("to", ""))
    return act(lambda work: carbon_copies.send(work, runtime().engine, runtime().notifier, page_actor(), task_id,
                                               names, request.form.get("note", "")),
               lambda sent: _("已抄送给 %(names)s", names="、".join(c.recipient for c in sent)),
               url_for("pages.task", task_id=task_id))


@pages.post("/tasks/<task_id>/urge")
@login_required
def urge_task(task_id: str):
    """催办 a step (the applicant from 我的办件, a supervisor from the task or case page)."""
    return act(lambda work: urges.urge(work, runtime().engine, runtime().notifier, page_actor(), task_id,
                                       request.form.get("message", "")),
               _("已催办"), safe_next(request.form.get("back") or url_for("pages.task", task_id=task_id)))


@pages.post("/tasks/<task_id>/add-signers")
@login_required
def add_signers(task_id: str):
    """加签 (usernames comma or space separated, one of the three modes)."""
    names = _usernames(request.form.get("users", ""))
    return act(lambda work: task_actions.add_signers(work, runtime().engine, page_actor(), task_id, names,
                                                     request.form.get("mode", ""), request.form.get("note", "")),
               _("已加签：%(names)s", names="、".join(names)), url_for("pages.task", task_id=task_id))


@pages.post("/tasks/<task_id>/remove-signers")
@login_required
def remove_signers(task_id: str):
    return act(lambda work: runtime().engine.remove_signers(work, task_id, page_actor(), request.form.getlist("users")),
               _("已减签"), url_for("pages.task", task_id=task_id))


def _usernames(text: str) -> list[str]:
    """User names typed into one field, separated by commas (half- or full-width) or spaces."""
    return text.replace("，", ",").replace(",", " ").split()
