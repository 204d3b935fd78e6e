"""办件查询 by 查询码: anyone holding a case's code follows its public status without an account —
never a name, ID number or conclusion; a wrong code and a malformed one get the same answer; lookups
are limited per client address."""
from __future__ import annotations

import pytest
from sqlalchemy import select

from engine import query_code
from engine.models import ProcessInstance
from services.bootstrap import Settings, bootstrap
from tests.conftest import TEST_SIGNIN_LIMITS
from tests.services.review_helpers import CERTIFICATE_REQUEST, complete, request_certificate
from tests.web.conftest import Browser


def look_up(visitor: Browser, code: str):
    visitor.get("/track")
    return visitor.post("/track", {"code": code})


def test_the_code_shows_the_public_status_and_nothing_personal(runtime, browser):
    instance = request_certificate(runtime)
    complete(runtime, instance.id, "clerk", {"decision": "approve", "conclusion": "王井下材料齐全"})
    code = query_code.shown(instance.query_code)
    assert len(instance.query_code) == 12 and code.count("-") == 2
    visitor = browser()  # nobody signed in
    for typed in (code, code.lower(), instance.query_code, f"  {code.replace('-', ' ')} "):
        answer = look_up(visitor, typed)
        page = answer.get_data(as_text=True)
        assert answer.status_code == 200, typed
        assert instance.business_key in page and "已受理" in page and "审批出具" in page
        for personal in ("王井下", CERTIFICATE_REQUEST["id_number"], "材料齐全", "enterprise", "clerk", "示范煤矿"):
            assert personal not in page, personal


def test_a_wrong_code_and_a_malformed_one_get_the_same_answer(runtime, browser):
    instance = request_certificate(runtime)
    visitor = browser()
    wrong = "".join("2" if c != "2" else "3" for c in instance.query_code)
    answers = [look_up(visitor, text) for text in (wrong, "x' OR 1=1 --", "")]
    assert [a.status_code for a in answers] == [404, 404, 404]
    assert all("查询码不正确，或没有对应的办件" in a.get_data(as_text=True) for a in answers)
    assert all(instance.business_key not in a.get_data(as_text=True) for a in answers)


def test_the_applicant_sees_the_code_of_a_case_it_started(runtime, browser):
    instance = request_certificate(runtime)
    page = browser("enterprise").get(f"/my/cases/{instance.id}").get_data(as_text=True)
    assert query_code.shown(instance.query_code) in page
    with runtime.unit_of_work() as uow:  # every started case has its own code
        codes = list(uow.session.scalars(select(ProcessInstance.query_code)))
    assert len(codes) == len(set(codes))


@pytest.fixture
def strict_app(runtime):
    """The application with a lookup limit of 3 a minute per address."""
    other = bootstrap(Settings(database_url=runtime.settings.database_url, script_time_limit=0.5,
                               query_code_limit_per_ip="3/minute", **TEST_SIGNIN_LIMITS))
    from web import create_app

    yield create_app(other, {"TESTING": True})
    other.db.dispose()


def test_lookups_are_limited_per_address(runtime, strict_app):
    instance = request_certificate(runtime)
    visitor = Browser(strict_app.test_client())
    statuses = [look_up(visitor, "AAAA-BBBB-CCCC").status_code for _ in range(3)]
    refused = look_up(visitor, instance.query_code)  # even the right code, once the limit is reached
    assert statuses == [404, 404, 404]
    assert refused.status_code == 429 and "查询过于频繁" in refused.get_data(as_text=True)
    assert instance.business_key not in refused.get_data(as_text=True)
