"""What the machines around a deployment read: health and readiness, Prometheus metrics, the request
id, and the structured log line of each request (web/operations.py, services/platform/telemetry.py)."""
from __future__ import annotations

import io
import json
import logging
import re

import pytest

from services.bootstrap import Settings
from services.platform import telemetry
from tests.web.conftest import open_task, submit


def test_health_and_readiness(client):
    assert client.get("/healthz").json == {"status": "ok"}
    ready = client.get("/readyz")
    assert ready.status_code == 200
    assert ready.json == {"status": "ready", "checks": {"database": "ok", "broker": "not configured"}}


def test_a_worker_whose_broker_does_not_answer_is_not_ready(client, runtime, monkeypatch):
    monkeypatch.setattr(runtime.settings, "broker_url", "redis://127.0.0.1:1/0")
    ready = client.get("/readyz")
    assert ready.status_code == 503
    assert ready.json["checks"] == {"database": "ok", "broker": "unavailable"}
    assert client.get("/healthz").status_code == 200  # alive all the same: nothing to restart


def test_metrics_count_requests_and_read_the_work_waiting(client, runtime):
    submit(runtime)  # an open 初审 step
    client.get("/healthz")
    body = client.get("/metrics").get_data(as_text=True)
    assert re.search(r'banjian_http_request_duration_seconds_count\{endpoint="ops.healthz",method="GET",'
                     r'status="2xx"\} [1-9]', body)
    assert re.search(r'banjian_open_tasks\{process_key="first_declaration_review"\} 1\.0', body)
    for gauge in ("banjian_overdue_tasks", 'banjian_jobs{status="queued"}', "banjian_open_incidents"):
        assert gauge in body


def test_metrics_answer_only_loopback_or_the_metrics_token(client, monkeypatch):
    outside = {"REMOTE_ADDR": "10.1.2.3"}
    assert client.get("/metrics", environ_base=outside).status_code == 403
    monkeypatch.setenv("BANJIAN_METRICS_TOKEN", "s3cret-token")
    assert client.get("/metrics", environ_base=outside, headers={"Authorization": "Bearer wrong"}).status_code == 403
    answer = client.get("/metrics", environ_base=outside, headers={"Authorization": "Bearer s3cret-token"})
    assert answer.status_code == 200 and answer.mimetype == "text/plain"


def test_decided_steps_are_counted_once_committed(runtime, browser):
    case = submit(runtime)
    completions = telemetry.TASK_COMPLETIONS.labels("first_declaration_review")
    before = completions._value.get()
    reviewer = browser("reviewer")
    task_id = open_task(runtime, case.instance_id).id
    assert reviewer.post(f"/tasks/{task_id}", {"decision": "maybe"}).status_code == 400  # refused: not counted
    assert completions._value.get() == before
    assert reviewer.post(f"/tasks/{task_id}", {"decision": "approve", "conclusion": "同意"}).status_code == 302
    assert completions._value.get() == before + 1


def test_every_answer_names_its_request_id(client):
    made = client.get("/healthz").headers["X-Request-Id"]
    assert re.fullmatch(r"[0-9a-f]{32}", made)
    assert client.get("/healthz", headers={"X-Request-Id": "lb-4711-abcdef"}).headers["X-Request-Id"] == \
        "lb-4711-abcdef"  # a proxy's id is kept, so both logs name the same request
    forged = client.get("/healthz", headers={"X-Request-Id": "x\" injected=1 <b>"}).headers["X-Request-Id"]
    assert re.fullmatch(r"[0-9a-f]{32}", forged)


@pytest.fixture
def json_log():
    """The request logger's lines as the production handler writes them."""
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.addFilter(telemetry.RequestIdFilter())
    handler.setFormatter(telemetry.JsonFormatter())
    logger = logging.getLogger("banjian.request")
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)
    yield stream
    logger.removeHandler(handler)


def test_each_request_writes_one_json_line_with_its_id_and_user(browser, json_log):
    reviewer = browser("reviewer")
    answer = reviewer.get("/inbox")
    lines = [json.loads(line) for line in json_log.getvalue().splitlines()]
    entry = next(line for line in lines if line.get("path") == "/inbox")
    assert entry["request_id"] == answer.headers["X-Request-Id"]
    assert entry | {"duration_ms": 0, "time": ""} == {
        "time": "", "level": "INFO", "logger": "banjian.request", "message": "request",
        "request_id": answer.headers["X-Request-Id"], "method": "GET", "endpoint": "pages.inbox",
        "path": "/inbox", "status": 200, "duration_ms": 0, "user": "reviewer"}
    assert telemetry.request_id.get() == "-"  # nothing of the request is left on the thread


def test_cookies_are_https_only_in_production_unless_turned_off(monkeypatch):
    assert Settings(environment="production", secret_key="k" * 32).secure_cookies is True
    assert Settings().secure_cookies is False
    monkeypatch.setenv("BANJIAN_ENV", "production")
    monkeypatch.setenv("BANJIAN_SECRET_KEY", "k" * 32)
    monkeypatch.setenv("BANJIAN_SECURE_COOKIES", "0")
    assert Settings.from_env().secure_cookies is False
