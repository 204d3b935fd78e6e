"""Every route of the application, for every kind of user, with ids that do not exist, with the ids
of real objects, and with nonsense parameters and forms, answers with a clear status — never a
server error.

The routes are read from the application itself, so a route added later is crawled too. The
application runs with TESTING on: an unhandled exception in a page is raised into the test rather
than turned into the generic 500 page (the API turns it into its JSON 500, which the test sees).
"""
from __future__ import annotations

from collections.abc import Iterator

import pytest
from werkzeug.routing import IntegerConverter

from engine import case_clock
from tests.web.conftest import Browser
from tests.web.crawl_helpers import UNKNOWN, demo_application, existing_values, urls

NONSENSE = {"nonsense": "1", "decision": "maybe", "conclusion": "长" * 5000, "page": "abc", "per_page": "-5",
            "region_code": "zz", "rejected_persons": "abc", "due_at": "not-a-date", "reason": "", "username": "",
            "assignee": "nobody", "status": "?", "sort": "'; drop table", "q": "%"}
# signing out, or ending one's other sessions or one's token, would end the crawl's own session or token halfway
SKIPPED = {"static", "pages.signout", "pages.end_other_sessions", "api.revoke_token"}


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
    """The application on its own database with the demo data: the crawl below changes what it
    finds, so it must not share the suite's database."""
    with demo_application(tmp_path_factory.mktemp("crawl")) as built:
        yield built


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
