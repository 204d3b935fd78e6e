"""Schemathesis over /api/openapi.json: every operation of the API, fed generated (valid and invalid)
parameters and bodies as several demo users, answers without a server error, with a documented
status code, a body that conforms to the documented schema and the documented content type.

The application runs in-process (WSGI) on its own database with the demo data (``make run``'s) —
SQLite, and PostgreSQL (in a schema of its own) when BANJIAN_TEST_DATABASE_URL is set — because
the fuzzer creates, changes and deletes what it finds. Generation is derandomized, so a failure
repeats on the next run. ``BANJIAN_FUZZ_EXAMPLES`` sets the examples per operation and mode
(default 3: a quick pass in ``make test``; .ci/run sets more).

The test drives schemathesis's strategies with Hypothesis itself: schemathesis's pytest
integration needs the schema at import time, and its fixture-based variant (``from_fixture``)
relies on a private pytest attribute that pytest 9 no longer has.
"""
from __future__ import annotations

import os
from collections.abc import Iterator

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.errors import Unsatisfiable
from schemathesis import GenerationMode
from sqlalchemy import text
from sqlalchemy.engine import make_url

from engine.db import make_engine
from engine.definitions import files_under
from services import schema as database_schema
from services.bootstrap import ROOT, Settings, bootstrap
from services.demo import load_demo
from services.platform.identity import get_user
from services.platform.sessions import API
from tests.conftest import DATABASES, PG_URL

EXAMPLES = int(os.environ.get("BANJIAN_FUZZ_EXAMPLES", "3"))  # per operation and mode (valid / invalid data)
USERS = ("enterprise", "reviewer", "clerk", "spot_checker", "catalogue_admin", "designer", "admin")
FUZZ_SCHEMA = "banjian_fuzz"  # PostgreSQL: the suite's own tables stay in public


def _database_url(kind: str, tmp_path_factory) -> str:
    if kind == "sqlite":
        return f"sqlite:///{tmp_path_factory.mktemp('fuzz') / 'demo.db'}"
    engine = make_engine(PG_URL)
    with engine.begin() as conn:
        conn.execute(text(f"DROP SCHEMA IF EXISTS {FUZZ_SCHEMA} CASCADE"))
        conn.execute(text(f"CREATE SCHEMA {FUZZ_SCHEMA}"))
    engine.dispose()
    url = make_url(PG_URL)
    return url.set(query={**url.query, "options": f"-csearch_path={FUZZ_SCHEMA}"}).render_as_string(
        hide_password=False)


@pytest.fixture(scope="module", params=DATABASES)
def fuzzed_app(request, tmp_path_factory) -> Iterator:
    from web import create_app

    runtime = bootstrap(Settings(database_url=_database_url(request.param, tmp_path_factory)))
    database_schema.upgrade(runtime.db)
    with runtime.unit_of_work() as uow:
        runtime.deployer.deploy(uow.session, files_under([ROOT / "processes"]), "fuzz")
        load_demo(uow, runtime.engine, runtime.modules)
        uow.commit()
    yield create_app(runtime, {"TESTING": True})
    runtime.db.dispose()


@pytest.fixture(scope="module")
def tokens(fuzzed_app) -> dict[str, dict[str, str]]:
    """A bearer token per user, issued as POST /api/auth/token does (without its argon2 check)."""
    runtime = fuzzed_app.extensions["banjian"]
    with runtime.unit_of_work() as uow:
        secrets = {user: runtime.sessions.start(uow.session, get_user(uow.session, user), API) for user in USERS}
        uow.commit()
    return {user: {"Authorization": f"Bearer {secret}"} for user, secret in secrets.items()}


# Operations that would end the fuzzer's own credentials halfway (covered by tests/web/test_sessions.py).
ENDS_OWN_SESSION = {"DELETE /api/auth/token", "POST /api/auth/password"}


# Every check of schemathesis but positive_data_acceptance: business rules (a citizen ID number's check
# digit, an enterprise of the user's region, no control characters in text) are no JSON Schema, so
# schema-valid data may rightly be refused with a 400.
CONFIG = schemathesis.Config.from_dict({"checks": {"positive_data_acceptance": {"enabled": False}}})
FUZZING = settings(max_examples=EXAMPLES, derandomize=True, deadline=None, database=None,
                   suppress_health_check=list(HealthCheck))


def test_the_api_keeps_its_openapi_document(fuzzed_app, tokens):
    """Every operation with valid and with invalid data, each example as one of the users; the
    failures of all operations are reported together."""
    schema = schemathesis.openapi.from_wsgi("/api/openapi.json", fuzzed_app, config=CONFIG)
    failures: list[str] = []
    for result in schema.get_all_operations():
        operation = result.ok()
        if operation.label in ENDS_OWN_SESSION:
            continue
        for mode in GenerationMode:

            @FUZZING
            @given(case=operation.as_strategy(mode), user=st.sampled_from(USERS))
            def answers_as_documented(case, user):
                case.call_and_validate(headers=tokens[user])

            try:
                answers_as_documented()
            except Unsatisfiable:  # nothing of this operation can be made schema-invalid (and still be sent)
                continue
            except (Exception, BaseExceptionGroup) as failure:  # collected: every operation is tried
                failures.append(f"{operation.label} ({mode}): {failure}")
    assert not failures, "\n\n".join(failures)


def test_the_openapi_document_states_envelopes_files_errors_and_path_types(client):
    """The facts schemathesis holds the answers to, spelt out for a few operations."""
    spec = client.get("/api/openapi.json").json
    paths = spec["paths"]
    tasks = paths["/api/tasks"]["get"]["responses"]["200"]["content"]["application/json"]["schema"]
    assert tasks["required"] == ["items", "total", "page", "per_page"]
    assert tasks["properties"]["items"] == {"type": "array", "items": {"$ref": "#/components/schemas/Task"}}
    natures = paths["/api/catalogue/natures"]["get"]["responses"]["200"]["content"]["application/json"]["schema"]
    assert natures["required"] == ["items"]
    assert set(paths["/api/declarations/upload"]["post"]["responses"]) >= {"202", "400", "401", "413"}
    assert "multipart/form-data" in paths["/api/declarations/upload"]["post"]["requestBody"]["content"]
    export = paths["/api/declarations/{batch_id}/export"]["get"]
    assert list(export["responses"]["200"]["content"]) == [
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"]
    assert export["parameters"] == [{"in": "path", "name": "batch_id", "required": True, "schema": {
        "type": "integer", "minimum": 1, "maximum": 2**31 - 1}}]
    assert set(paths["/api/attachments/{attachment_id}"]["get"]["responses"]["200"]["content"]) == {
        "application/pdf", "image/png", "image/jpeg"}
    assert paths["/api/catalogue/work-types/{code}"]["delete"]["responses"]["204"] == {"description": "No Content"}
    assert paths["/api/instances"]["get"]["responses"]["404"]["content"]["application/json"]["schema"] == {
        "$ref": "#/components/schemas/Error"}
    assert set(spec["components"]["schemas"]["Error"]["required"]) == {"error", "message"}
    page = next(p for p in paths["/api/instances"]["get"]["parameters"] if p["name"] == "page")
    assert page["schema"]["maximum"] == 100_000
