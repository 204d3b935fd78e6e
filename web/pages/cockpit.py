"""The supervisor's cockpit (监控台): running cases with counts, incidents, overdue tasks (督办), and the
retry / terminate actions of the case page. The rules live in services.platform.supervision."""
from __future__ import annotations

from dataclasses import replace
from math import ceil
from types import SimpleNamespace

from flask import flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from marshmallow import fields, validate

from engine.db import utcnow
from engine.definitions import list_definitions
from engine.errors import Conflict, InvalidData
from engine.models import InstanceStatus
from services.platform import case_repair, dashboard, supervision
from services.platform.case_view import get_case
from web.api.downloads import file_response
from web.context import runtime, uow
from web.pages import pages
from web.pages.cases import lanes_in_words
from web.pages.formatting import region_label, region_name
from web.pages.jobs import job_progress
from web.pages.params import PageForm, load, page_number
from web.pages.session import login_required, page_actor, safe_next

REGION = validate.Regexp(r"^\d{6}$", error="区划代码应为 6 位数字")


class MonitorQuery(PageForm):
    process_key = fields.String(load_default=None)
    status = fields.String(load_default=None, validate=validate.OneOf(InstanceStatus.ALL, error="未知的办件状态"))
    region_code = fields.String(load_default=None, validate=REGION)
    overdue = fields.Boolean(load_default=False)
    page = page_number()


class ListQuery(PageForm):
    region_code = fields.String(load_default=None, validate=REGION)
    page = page_number()


class NoteForm(PageForm):
    note = fields.String(load_default=None)
    back = fields.String(load_default=None)


@pages.app_template_global()
def may_supervise(region_code: str) -> bool:
    """Whether the case page offers 重试 / 终止 (the services check again on every action)."""
    return supervision.may_supervise(page_actor(), region_code)


@pages.get("/cockpit")
@login_required
def cockpit():
    session = uow().session
    query, errors = load(MonitorQuery(), request.args)
    flt = supervision.MonitorFilter(process_key=query.get("process_key"), status=query.get("status"),
                                    region_code=query.get("region_code"), overdue=query.get("overdue", False))
    view = supervision.monitor(session, page_actor(), flt, utcnow(), query.get("page", 1), 20)
    definitions = list_definitions(session)
    args = {k: v for k, v in request.args.items() if k != "page" and k not in errors and v}
    return render_template("cockpit.html", view=view, query=query, errors=errors, args=args,
                           pages=max(1, ceil(view.total / 20)), definitions=definitions,
                           process_names={d.key: d.name or d.key for d in definitions}, statuses=InstanceStatus.ALL,
                           regions=supervision.regions_in_scope(session, page_actor()))


@pages.get("/cockpit/incidents")
@login_required
def cockpit_incidents():
    session = uow().session
    query, _errors = load(ListQuery(), request.args)
    rows, total = supervision.open_incidents(session, page_actor(), query.get("page", 1), 50)
    names = {d.key: d.name or d.key for d in list_definitions(session)}
    return render_template("cockpit_incidents.html", rows=rows, total=total, page=query.get("page", 1),
                           pages=max(1, ceil(total / 50)), process_names=names)


@pages.get("/cockpit/overdue")
@login_required
def cockpit_overdue():
    session = uow().session
    query, errors = load(ListQuery(), request.args)
    view = supervision.overdue_tasks(session, page_actor(), utcnow(), query.get("page", 1), 50,
                                     query.get("region_code"), (request.args.get("assignee") or "")[:100] or None)
    names = {d.key: d.name or d.key for d in list_definitions(session)}
    args = {k: v for k, v in request.args.items() if k != "page" and k not in errors and v}
    return render_template("cockpit_overdue.html", view=view, page=query.get("page", 1),
                           pages=max(1, ceil(view.total / 50)), process_names=names, args=args,
                           query=query, errors=errors, regions=supervision.regions_in_scope(session, page_actor()))


@pages.post("/cockpit/overdue/<task_id>/supervise")
@login_required
def supervise(task_id: str):
    data, _errors = load(NoteForm(), request.form)
    work = uow()
    row = supervision.supervise_task(work, runtime().engine, runtime().notifier, page_actor(), task_id,
                                     data.get("note") or "")
    work.commit()
    flash(_("已督办：%(key)s %(step)s", key=row.business_key, step=row.label), "success")
    return redirect(safe_next(data.get("back") or url_for("pages.cockpit_overdue")))


@pages.post("/cases/<int:instance_id>/retry")
@login_required
def retry_case(instance_id: int):
    work = uow()
    instance = supervision.retry_case(work, runtime().engine, page_actor(), instance_id)
    work.commit()
    if instance.status == InstanceStatus.ERROR:
        flash(_("重试未成功，办件仍处于异常状态，请查看异常信息"), "error")
    else:
        flash(_("已重试，办件恢复办理"), "success")
    return redirect(url_for("pages.case", instance_id=instance_id))


def _with_reason(instance_id: int, action, done: str, errors_key: str, value_key: str):
    """A supervisor's action on a case that needs a reason: on a refused reason the case page again,
    with the error beside the field and what was typed; else back to the case page."""
    work = uow()
    reason = request.form.get("reason", "")
    try:
        action(work, runtime().engine, page_actor(), instance_id, reason)
    except InvalidData as error:
        work.session.rollback()
        view = get_case(work.session, runtime().engine, page_actor(), instance_id, runtime().modules)
        context = {errors_key: error.fields or {"reason": [error.message]}, value_key: reason}
        return render_template("case.html", case=view, **context), 400
    work.commit()
    flash(done, "success")
    return redirect(url_for("pages.case", instance_id=instance_id))


@pages.post("/cases/<int:instance_id>/terminate")
@login_required
def terminate_case(instance_id: int):
    return _with_reason(instance_id, supervision.terminate_case, _("办件已终止"), "terminate_errors", "reason")


@pages.post("/cases/<int:instance_id>/clock/pause")
@login_required
def pause_clock(instance_id: int):
    """中止计时 with a reason (supervisors of the case's region; the service refuses others)."""
    return _with_reason(instance_id, supervision.pause_clock, _("已中止计时"), "clock_errors", "clock_reason")


@pages.post("/cases/<int:instance_id>/clock/resume")
@login_required
def resume_clock(instance_id: int):
    work = uow()
    supervision.resume_clock(work, runtime().engine, page_actor(), instance_id, request.form.get("note", ""))
    work.commit()
    flash(_("已恢复计时"), "success")
    return redirect(url_for("pages.case", instance_id=instance_id))


# ---------------------------------------------------------------------- case repair (services.platform.case_repair)
@pages.app_template_global()
def repair_options(instance) -> dict:
    """What the case page's 调整环节 and 修改业务数据 forms offer (shown to supervisors only; the
    services check again)."""
    session = uow().session
    return {"steps": case_repair.movable_steps(session, runtime().engine, instance),
            "data": case_repair.editable_data(session, runtime().engine, instance),
            "versions": case_repair.other_versions(session, instance)}


@pages.post("/cases/<int:instance_id>/migrate")
@login_required
def migrate_case(instance_id: int):
    """迁移 one case to another version of its process (试运行: only what it would do). A case in error
    moves to a version that fixes its failing step, which runs again there."""
    work = uow()
    dry_run = request.form.get("action") == "dry_run"
    try:
        mapping = case_repair.parse_mapping(request.form.get("mapping", ""))
        plan = case_repair.migrate_case(work, runtime().engine, page_actor(), instance_id,
                                        request.form.get("to_definition_id", type=int) or 0, mapping, dry_run)
    except (InvalidData, Conflict) as error:
        work.session.rollback()
        flash(error.message, "error")
        return redirect(url_for("pages.case", instance_id=instance_id))
    if dry_run:
        work.session.rollback()
        flash(_("试运行：%(plan)s", plan=plan.describe()), "error" if plan.refused else "info")
    else:
        work.commit()
        flash(_("已迁移到第 %(version)s 版：%(plan)s", version=plan.to_version, plan=plan.describe()), "success")
    return redirect(url_for("pages.case", instance_id=instance_id))


@pages.post("/cases/<int:instance_id>/move")
@login_required
def move_case(instance_id: int):
    """调整环节 with a reason (supervisors of the case's region; the service refuses others)."""
    target = request.form.get("target", "")
    return _with_reason(instance_id, lambda work, engine, actor, case_id, reason: case_repair.move_case(
        work, engine, actor, case_id, target, reason), _("已调整办件环节"), "move_errors", "move_reason")


@pages.post("/cases/<int:instance_id>/data")
@login_required
def edit_case_data(instance_id: int):
    """修改业务数据: one variable, its new value and a reason (supervisors; the service refuses others)."""
    key, value = request.form.get("key", ""), request.form.get("value", "")
    return _with_reason(instance_id, lambda work, engine, actor, case_id, reason: case_repair.edit_case_value(
        work, engine, actor, case_id, key, value, reason), _("已修改业务数据"), "data_errors", "data_reason")


def _migration_form() -> dict:
    definitions = [d for d in list_definitions(uow().session) if not d.filename.endswith(".dmn")]
    return {"definitions": definitions, "from_id": request.values.get("from_definition_id", type=int),
            "to_id": request.values.get("to_definition_id", type=int), "mapping": request.values.get("mapping", "")}


@pages.get("/cockpit/migration")
@login_required
def cockpit_migration():
    """版本迁移: running cases of a process version to another version — 试运行 shows the plan, 迁移
    starts the background job (services.platform.case_repair)."""
    session = uow().session
    supervision.regions_in_scope(session, page_actor())  # Forbidden to all but supervisors
    job, result = None, None
    if request.args.get("job", "").isdigit():
        row = runtime().jobs.get_visible(session, int(request.args["job"]), page_actor(),
                                         runtime().engine.applicant_roles)
        job, result = job_progress(row), row.result if row.kind == case_repair.KIND else None
    return render_template("cockpit_migration.html", plan=None, errors={}, job=job, result=result,
                           **_migration_form())


@pages.post("/cockpit/migration")
@login_required
def cockpit_migration_run():
    work = uow()
    form = _migration_form()
    try:
        if not form["from_id"] or not form["to_id"]:
            raise InvalidData(_("请选择原版本和目标版本"), fields={"to_definition_id": [_("请选择版本")]})
        mapping = case_repair.parse_mapping(form["mapping"])
        if request.form.get("action") != "migrate":
            plan = case_repair.plan_batch(work, runtime().engine, page_actor(), form["from_id"], form["to_id"],
                                          mapping)
            return render_template("cockpit_migration.html", plan=plan, errors={}, job=None, result=None, **form)
        job = case_repair.submit_batch(work.session, runtime().jobs, work.after_commit, page_actor(),
                                       form["from_id"], form["to_id"], mapping)
    except InvalidData as error:
        work.session.rollback()
        return render_template("cockpit_migration.html", plan=None, errors=error.fields or {"_": [error.message]},
                               job=None, result=None, **form), 400
    work.commit()
    return redirect(url_for("pages.cockpit_migration", job=job.id))


@pages.get("/cockpit/dashboard")
@login_required
def cockpit_dashboard():
    """监控看板: charts of how the office is doing (services.platform.dashboard)."""
    session = uow().session
    query, _errors = load(ListQuery(), request.args)
    region_code = query.get("region_code")
    board = dashboard.dashboard(session, page_actor(), utcnow(), region_code=region_code)
    definitions = [d for d in list_definitions(session) if not d.filename.endswith(".dmn")]
    chosen = request.args.get("definition_id", type=int)
    heat = dashboard.heatmap(session, page_actor(), chosen, utcnow(), region_code) if chosen else None
    if heat is not None:  # the step names in the page's language, on the diagram's badges too
        heat = (heat[0], [replace(step, label=_(step.label)) for step in heat[1]])
    regions = [SimpleNamespace(code=r.code, name=region_name(r.name))  # the names in the page's language
               for r in supervision.regions_in_scope(session, page_actor())]
    return render_template("cockpit_dashboard.html", board=board, charts=_charts(board, region_code),
                           links=_links(board, region_code), definitions=definitions, chosen=chosen, heat=heat,
                           region_code=region_code or "", regions=regions)


def _links(board: dashboard.Dashboard, region_code: str | None) -> dict[str, dict[str, str]]:
    """The case lists behind the figures of the window (/cases with the dashboard's filters): the
    cases closed in it and the cases with a step done in it, and of those the late ones."""
    closed = {"closed_from": board.first_day.isoformat(), "closed_to": board.last_day.isoformat()}
    done = {"done_from": board.first_day.isoformat(), "done_to": board.last_day.isoformat()}
    region = {"region_code": region_code} if region_code else {}
    return {"closed": {**closed, **region}, "closed_late": {**closed, **region, "closed_late": "1"},
            "region": closed, "region_late": {**closed, "closed_late": "1"},
            "done": {**done, **region}, "done_late": {**done, **region, "done_late": "1"}}


def _figure_series(rows: list[dashboard.Figures], average: bool = False) -> list[dict]:
    """The bars of handling time: (the average,) P50 and P90 side by side, in working days."""
    series = [{"name": _("平均工作日"), "data": [f.average for f in rows], "colour": "#1565c0", "stack": "average"}] \
        if average else []
    return [*series,
            {"name": _("P50 工作日"), "data": [f.p50 for f in rows], "colour": "#64b5f6", "stack": "p50"},
            {"name": _("P90 工作日"), "data": [f.p90 for f in rows], "colour": "#ed6c02", "stack": "p90"}]


def _charts(board: dashboard.Dashboard, region_code: str | None = None) -> dict[str, dict]:
    """What each chart draws (static/js/dashboard.js), in the page's language, with the list each
    element links to (``__VALUE__``: the day, the level, the status, the process, region or person)."""
    links = {name: url_for("pages.cases", **args) for name, args in _links(board, region_code).items()}
    timed = [d for d in board.durations if d.timed]
    reviewers = board.reviewers[:dashboard.TOP_PEOPLE]
    return {
        "daily": {"kind": "daily", "days": [d.day.isoformat() for d in board.days],
                  "link": url_for("pages.cockpit_statistics") + "?from=__VALUE__&to=__VALUE__",
                  "series": [{"name": _("新增"), "type": "line", "data": [d.opened for d in board.days],
                              "colour": "#1565c0"},
                             {"name": _("办结"), "type": "line", "data": [d.closed for d in board.days],
                              "colour": "#2e7d32"},
                             {"name": _("异常"), "type": "bar", "data": [d.incidents for d in board.days],
                              "colour": "#c62828"}]},
        "levels": {"kind": "pie", "link": url_for("pages.cases") + "?clock=__VALUE__",
                   "items": [{"code": code, "name": _(words), "value": n} for code, words, n in board.by_level]},
        "statuses": {"kind": "bars", "link": url_for("pages.cases") + "?case_status=__VALUE__",
                     "items": [{"code": code, "name": _(words)} for code, words, _n in board.by_status],
                     "series": [{"name": _("在办"), "data": [n for _c, _w, n in board.by_status],
                                 "colour": "#1565c0"}]},
        "durations": {"kind": "bars", "link": links["closed"] + "&process_key=__VALUE__",
                      "items": [{"code": d.key, "name": _(d.name)} for d in board.durations],
                      "series": _figure_series(board.durations, average=True)},
        "rates": {"kind": "bars", "unit": "%", "max": 100, "link": links["closed_late"] + "&process_key=__VALUE__",
                  "items": [{"code": d.key, "name": _(d.name)} for d in timed],
                  "series": [{"name": _("超期率"), "data": [d.percent for d in timed], "colour": "#c62828"}]},
        "regions": {"kind": "bars", "link": links["region"] + "&region_code=__VALUE__",
                    "items": [{"code": r.key, "name": region_label(r.key)} for r in board.regions],
                    "series": _figure_series(board.regions)},
        "reviewers": {"kind": "bars", "link": links["done"] + "&done_by=__VALUE__",
                      "items": [{"code": r.key, "name": r.name} for r in reviewers],
                      "series": _figure_series(reviewers)},
        "workload": {"kind": "bars", "link": url_for("pages.cockpit_overdue") + "?assignee=__VALUE__",
                     "items": [{"code": user, "name": name} for user, name, _n, _late in board.workload],
                     "series": [{"name": _("按期"), "data": [n - late for _u, _na, n, late in board.workload],
                                 "colour": "#1565c0"},
                                {"name": _("逾期"), "data": [late for _u, _na, _n, late in board.workload],
                                 "colour": "#c62828"}]},
    }


@pages.get("/cockpit/dashboard.xlsx")
@login_required
def cockpit_dashboard_export():
    query, _errors = load(ListQuery(), request.args)
    board = dashboard.dashboard(uow().session, page_actor(), utcnow(), region_code=query.get("region_code"))
    return file_response(dashboard.workbook(board), "监控看板.xlsx",
                         "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")


@pages.get("/cockpit/definitions/<int:definition_id>.bpmn")
@login_required
def cockpit_definition_diagram(definition_id: int):
    """A process version's diagram for the heatmap (supervisors; lanes by their roles in words)."""
    definition, _steps = dashboard.heatmap(uow().session, page_actor(), definition_id, utcnow())
    return file_response(lanes_in_words(definition.xml, definition.filename), f"{definition.key}.bpmn",
                         "application/xml")
