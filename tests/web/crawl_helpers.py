"""Shared by the crawling tests: the application on its own database with the demo data, the ids
of real demo objects for every route variable, and route rules filled with candidate values."""
from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import text
from werkzeug.routing import Rule

from engine.definitions import files_under
from services import schema
from services.bootstrap import ROOT, Runtime, Settings, bootstrap
from services.demo import load_demo
from services.platform.queries import QUERIES

UNKNOWN = {"int": ["999999", "0"], "text": ["nope", "%E4%B8%AD", "..%2F..", "999999", "x" * 300]}


def urls(rule: Rule, values: dict[str, list[str]]) -> list[str]:
    """The rule with each variable replaced by each of its candidate values."""
    filled = [rule.rule]
    for name in rule._converters:
        placeholder = re.search(rf"<[^>]*\b{name}>", rule.rule).group(0)
        filled = [url.replace(placeholder, value) for url in filled for value in values[name]]
    return filled


@contextmanager
def demo_application(folder) -> Iterator[tuple[object, Runtime]]:
    """The application on its own database (in ``folder``) with the demo data (``make run``'s):
    for crawls that change what they find, or that must not share the suite's database."""
    from web import create_app

    runtime = bootstrap(Settings(database_url=f"sqlite:///{folder / 'demo.db'}"))
    schema.upgrade(runtime.db)
    with runtime.unit_of_work() as uow:
        runtime.deployer.deploy(uow.session, files_under([ROOT / "processes"]), "crawl")
        load_demo(uow, runtime.engine, runtime.modules)
        uow.commit()
    try:
        yield create_app(runtime, {"TESTING": True}), runtime
    finally:
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
        "form_key": ["declaration_review"],
        "grant_id": first("SELECT g.id FROM role_grant g JOIN app_user u ON u.id = g.user_id "
                          "WHERE u.username = 'clerk'"),
        "draft_id": first("SELECT id FROM design_draft ORDER BY id LIMIT 1"),
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
