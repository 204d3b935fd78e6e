"""Error pages (HTML for pages, JSON for /api, never a stack trace), language, static assets."""
from __future__ import annotations

import re
from pathlib import Path

from babel.messages.mofile import read_mo
from babel.messages.pofile import read_po

from tests.web.conftest import submit

WEB = Path(__file__).resolve().parents[2] / "web"


def test_unknown_page_is_an_html_404_and_unknown_api_path_is_json(browser, client):
    page = browser("reviewer").get("/no/such/page")
    assert page.status_code == 404 and "text/html" in page.content_type
    assert "页面不存在" in page.get_data(as_text=True)
    api = client.get("/api/no/such/thing")
    assert api.status_code == 404 and api.is_json and api.json["error"] == "not_found"


def test_an_unexpected_error_shows_no_stack_trace(runtime):
    from web import create_app

    app = create_app(runtime, {"TESTING": False})

    @app.get("/boom")
    def boom():
        raise RuntimeError("secret internals /work/main/engine")

    @app.get("/api/boom")
    def api_boom():
        raise RuntimeError("secret internals /work/main/engine")

    client = app.test_client()
    page, api = client.get("/boom"), client.get("/api/boom")
    assert page.status_code == 500 and "系统内部错误" in page.get_data(as_text=True)
    assert api.status_code == 500 and api.json["error"] == "internal_error"
    for response in (page, api):
        body = response.get_data(as_text=True)
        assert "Traceback" not in body and "secret internals" not in body and ".py" not in body


def test_english_can_be_chosen_and_chinese_is_the_default(runtime, browser):
    submit(runtime)
    reviewer = browser("reviewer")
    chinese = reviewer.get("/inbox").get_data(as_text=True)
    assert '<html lang="zh-CN">' in chinese and "批量通过" in chinese
    assert reviewer.get("/lang/en?next=/inbox").headers["Location"] == "/inbox"
    english = reviewer.get("/inbox").get_data(as_text=True)
    assert '<html lang="en">' in english
    assert "Approve selected" in english and "批量通过" not in english
    reviewer.get("/lang/zh_CN")
    assert "批量通过" in reviewer.get("/inbox").get_data(as_text=True)


def test_english_catalogue_is_compiled_and_complete():
    folder = WEB / "translations" / "en" / "LC_MESSAGES"
    with open(folder / "messages.po", "rb") as po_file:
        po = read_po(po_file)
    with open(folder / "messages.mo", "rb") as mo_file:
        mo = read_mo(mo_file)
    untranslated = [m.id for m in po if m.id and not m.string and not m.fuzzy]
    assert untranslated == []
    assert {m.id: m.string for m in po if m.id} == {m.id: m.string for m in mo if m.id}, \
        "messages.mo is stale: run `make translations`"


def test_templates_load_nothing_from_other_hosts():
    offenders = []
    for path in list((WEB / "templates").rglob("*.html")) + list((WEB / "static").rglob("*.css")) \
            + list((WEB / "static" / "js").rglob("*.js")):
        text = path.read_text(encoding="utf-8")
        offenders += [f"{path.name}: {m}" for m in re.findall(r'(?:src|href)=["\']?(?:https?:)?//[^"\' >]+', text)]
        offenders += [f"{path.name}: {m}" for m in re.findall(r'url\(["\']?(?:https?:)?//[^)]+\)', text)]
    assert offenders == []


def test_vendored_bpmn_viewer_is_served(client):
    response = client.get("/static/vendor/bpmn-js/bpmn-navigated-viewer.production.min.js")
    assert response.status_code == 200 and b"BpmnJS" in response.data
    response.close()
    css = client.get("/static/vendor/bpmn-js/bpmn-js.css")
    assert css.status_code == 200
    css.close()


def test_pages_send_security_headers(browser):
    response = browser("reviewer").get("/inbox")
    assert response.headers["X-Frame-Options"] == "DENY"
    assert "default-src 'self'" in response.headers["Content-Security-Policy"]
    assert response.headers["X-Content-Type-Options"] == "nosniff"


def test_english_tells_a_case_from_the_brand_and_a_button_from_an_event(runtime, browser):
    from tests.services.review_helpers import request_certificate

    instance = request_certificate(runtime)
    supervisor = browser("supervisor")
    supervisor.get("/lang/en?next=/")
    page = supervisor.get(f"/cases/{instance.id}").get_data(as_text=True)
    assert f"<h1>Case {instance.business_key}" in page and f"Banjian {instance.business_key}" not in page
    assert ">Terminate</button>" in page
    assert supervisor.post(f"/cases/{instance.id}/terminate", {"reason": "duplicate"}).status_code == 302
    assert "<td>Terminated</td>" in supervisor.get(f"/cases/{instance.id}").get_data(as_text=True)


def test_a_refusal_formatted_from_a_pattern_is_shown_in_english_with_its_values(runtime, browser):
    from sqlalchemy import select

    from services.platform.identity import User

    with runtime.unit_of_work() as uow:
        county = uow.session.scalar(select(User.id).where(User.username == "county_reviewer"))
    admin = browser("admin")
    admin.get("/lang/en?next=/admin/users")
    admin.get(f"/admin/users/{county}")
    refused = admin.post(f"/admin/users/{county}/grants", {"role": "reviewer", "region_code": "120000"})
    text = refused.get_data(as_text=True)
    assert refused.status_code == 403
    assert "You are not an administrator of region <span data-user>120000</span>" in text
    assert "系统管理员" not in text
