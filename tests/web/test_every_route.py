"""Every route of the application, for every kind of user, with ids that do not exist, with the ids
of real objects, and with nonsense parameters and forms, answers with a clear status — never a
server error.

The routes are read from the application itself, so a route added later is crawled too. The
application runs with TESTING on: an unhandled exception in a page is raised into the test rather
than turned into the generic 500 page (the API turns it into its JSON 500, which the test sees).
"""
from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
from sqlalchemy import text
from werkzeug.routing import IntegerConverter, Rule

from engine import case_clock
from engine.definitions import files_under
from services import schema
from services.bootstrap import ROOT, Settings, bootstrap
from services.demo import load_demo
from services.platform.queries import QUERIES
from tests.web.conftest import Browser

UNKNOWN = {"int": ["999999", "0"], "text": ["nope", "%E4%B8%AD", "..%2F..", "999999", "x" * 300]}
NONSENSE = {"nonsense": "1", "decision": "maybe", "conclusion": "长" * 5000, "page": "abc", "per_page": "-5",
            "region_code": "zz", "rejected_persons": "abc", "due_at": "not-a-date", "reason": "", "username": "",
            "assignee": "nobody", "status": "?", "sort": "'; drop table", "q": "%"}
# signing out, or ending one's other sessions or one's token, would end the crawl's own session or token halfway
SKIPPED = {"static", "pages.signout", "pages.end_other_sessions", "api.revoke_token"}


def urls(rule: Rule, values: dict[str, list[str]]) -> list[str]:
    """The rule with each variable replaced by each of its candidate values."""
    filled = [rule.rule]
    for name in rule._converters:
        placeholder = re.search(rf"<[^>]*\b{name}>", rule.rule).group(0)
        filled = [url.replace(placeholder, value) for url in filled for value in values[name]]
    return filled


def crawl(app, pages: Browser, api_headers: dict[str, str], values: dict[str, list[str]],
          data: dict[str, str]) -> Iterator[tuple[str, str, int]]:
    """(method, url, status) of every route with every candidate value, ``data`` as query string,
    form or JSON body."""
    for rule in app.url_map.iter_rules():
        if rule.endpoint in SKIPPED:
            continue
        for url in urls(rule, values):
            for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
                if url.startswith("/api/"):
                    response = pages.client.open(url, method=method, headers=api_headers, json=data,
                                                 query_string=data if method == "GET" else None)
                elif method == "GET":
                    response = pages.client.get(url, query_string=data)  # some answers are workbooks
                else:
                    response = pages.post(url, data)
                yield method, url, response.status_code


def unknown_values(app) -> dict[str, list[str]]:
    return {name: UNKNOWN["int" if isinstance(converter, IntegerConverter) else "text"]
            for rule in app.url_map.iter_rules() for name, converter in rule._converters.items()}


def api_token(client, username: str, password: str) -> dict[str, str]:
    answer = client.post("/api/auth/token", json={"username": username, "password": password})
    assert answer.status_code == 200, answer.json
    return {"Authorization": f"Bearer {answer.json['token']}"}


@pytest.mark.parametrize("user", ["admin", "supervisor", "reviewer", "designer", "enterprise", None])
def test_no_route_answers_unknown_ids_with_a_server_error(app, browser, login, user):
    answered = list(crawl(app, browser(user), login(user) if user else {}, unknown_values(app), {"nonsense": "1"}))
    assert [entry for entry in answered if entry[2] >= 500] == []
    assert len(answered) > 300  # the crawl did reach the application's routes
    assert {status for _method, _url, status in answered} >= ({400, 404} if user else {302, 401})


@pytest.fixture(scope="module")
def demo_app(tmp_path_factory):
    """The application on its own database with the demo data (``make run``'s): the crawl below
    changes what it finds, so it must not share the suite's database."""
    from web import create_app

    runtime = bootstrap(Settings(database_url=f"sqlite:///{tmp_path_factory.mktemp('crawl') / 'demo.db'}"))
    schema.upgrade(runtime.db)
    with runtime.unit_of_work() as uow:
        runtime.deployer.deploy(uow.session, files_under([ROOT / "processes"]), "crawl")
        load_demo(uow, runtime.engine, runtime.modules)
        uow.commit()
    yield create_app(runtime, {"TESTING": True}), runtime
    runtime.db.dispose()


def existing_values(runtime) -> dict[str, list[str]]:
    """For every route variable, the ids of real demo objects (two where there are two)."""
    def first(sql: str) -> list[str]:
        with runtime.db.connect() as connection:
            return [str(row[0]) for row in connection.execute(text(sql))]

    values = {
        "attachment_id": first("SELECT id FROM attachment LIMIT 1") + first("SELECT id FROM case_attachment LIMIT 1"),
        "batch_id": first("SELECT id FROM declaration_batch ORDER BY id LIMIT 2"),
        "code": first("SELECT code FROM enterprise ORDER BY code LIMIT 1")
        + first("SELECT code FROM work_type ORDER BY code LIMIT 1")
        + first("SELECT code FROM work_nature ORDER BY code LIMIT 1")
        + first("SELECT verify_code FROM case_document ORDER BY id LIMIT 1"),
        "copy_id": first("SELECT id FROM carbon_copy ORDER BY id LIMIT 1"),
        "delegation_id": first("SELECT id FROM standing_delegation ORDER BY id LIMIT 1"),
        "definition_id": first("SELECT id FROM process_definition ORDER BY id LIMIT 2"),
        "grant_id": first("SELECT g.id FROM role_grant g JOIN app_user u ON u.id = g.user_id "
                          "WHERE u.username = 'clerk'"),
        "document_id": first("SELECT id FROM case_document ORDER BY id LIMIT 2"),
        "history_id": first("SELECT id FROM work_history ORDER BY id LIMIT 1"),
        "id_number": first("SELECT id_number FROM person ORDER BY id LIMIT 1"),
        "instance_id": first("SELECT id FROM process_instance ORDER BY id LIMIT 2"),
        "job_id": first("SELECT id FROM job ORDER BY id LIMIT 1"),
        "lang": ["en", "zh"],
        "report_id": first("SELECT id FROM hr_annual_report ORDER BY id LIMIT 1"),
        "organisation_id": first("SELECT id FROM hr_organisation ORDER BY id LIMIT 2"),
        "notification_id": first("SELECT id FROM notification ORDER BY id LIMIT 1"),
        "petition_id": first("SELECT id FROM xf_petition ORDER BY id LIMIT 2"),
        "post_id": first("SELECT id FROM organisation_post ORDER BY id LIMIT 1"),
        "process_key": first("SELECT DISTINCT key FROM process_definition ORDER BY key LIMIT 2"),
        "query_name": list(QUERIES),
        "registration_id": first("SELECT id FROM early_retirement ORDER BY id LIMIT 1"),
        "session_id": [],  # a real one of the user's would be the crawl's own session or token
        "task_id": first("SELECT id FROM human_task WHERE status = 'open' ORDER BY created_at LIMIT 2"),
        "user_id": first("SELECT id FROM app_user WHERE username = 'clerk'"),
    }
    return {name: found or UNKNOWN["int"] for name, found in values.items()}  # none in the demo: unknown


# the administrator last: the crawl makes them reset other users' passwords and close accounts
@pytest.mark.parametrize("user", ["enterprise", "petitioner", "jn_registrar", "clerk", "reviewer", "supervisor",
                                  "designer", "admin"])
def test_no_route_answers_real_objects_and_nonsense_with_a_server_error(demo_app, user):
    app, runtime = demo_app
    pages = Browser(app.test_client()).sign_in(user, "demo")
    answered = list(crawl(app, pages, api_token(pages.client, user, "demo"), existing_values(runtime), NONSENSE))
    assert [entry for entry in answered if entry[2] >= 500] == []
    assert len(answered) > 150


def test_the_demo_shows_a_supervisor_every_clock_level_an_overdue_task_and_an_incident(demo_app):
    from engine.db import utcnow
    from engine.models import HumanTask, Incident, ProcessInstance

    _app, runtime = demo_app
    now = utcnow()
    with runtime.unit_of_work() as uow:
        levels = {case_clock.view(i, now, runtime.engine.working_days)["level"] for i in uow.session.query(
            ProcessInstance).filter(ProcessInstance.clock_state != "")}
        overdue = uow.session.query(HumanTask).filter(HumanTask.status == "open", HumanTask.due_at < now).count()
        incidents = uow.session.query(Incident).filter(Incident.resolved_at.is_(None)).count()
    assert {"normal", "warning", "overdue"} <= levels and overdue >= 1 and incidents >= 1
