"""好差评: the applicant rates a closed case once (the rule lives in the DMN table officials edit), a 差评 needs
a reason and opens 核实 → 整改 → 反馈 for a supervisor of the region, whose answer the applicant then reads."""
from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select, update

from engine.db import utcnow
from engine.definitions import files_under
from engine.models import HumanTask, ProcessInstance, TaskStatus
from services.bootstrap import ROOT
from services.platform import ratings
from tests.conftest import actor
from tests.services.review_helpers import complete, request_certificate


def closed_case(runtime) -> ProcessInstance:
    instance = request_certificate(runtime)
    complete(runtime, instance.id, "clerk", {"decision": "approve"})
    complete(runtime, instance.id, "approver", {"decision": "approve"})
    return instance


def open_followup_task(runtime, followup_id: int) -> HumanTask:
    with runtime.unit_of_work() as uow:
        return uow.session.scalars(select(HumanTask).where(HumanTask.instance_id == followup_id,
                                                           HumanTask.status == TaskStatus.OPEN)).one()


def test_a_good_rating_is_given_once(runtime, client, login):
    instance = closed_case(runtime)
    url = f"/api/instances/{instance.id}/ratings"
    answer = client.post(url, json={"grade": 5, "comment": "办得快"}, headers=login("enterprise"))
    assert answer.status_code == 201
    [given] = answer.json["items"]
    assert given["grade_label"] == "非常满意" and given["followup_status"] is None
    again = client.post(url, json={"grade": 4}, headers=login("enterprise"))
    assert again.status_code == 409 and again.json["message"] == "您已评价过本办件"


def test_only_the_applicant_rates_and_only_after_the_case_ends(runtime, client, login):
    running = request_certificate(runtime)
    early = client.post(f"/api/instances/{running.id}/ratings", json={"grade": 5}, headers=login("enterprise"))
    assert early.status_code == 409 and early.json["message"] == "办件办结后才能评价"
    closed = closed_case(runtime)
    url = f"/api/instances/{closed.id}/ratings"
    assert client.post(url, json={"grade": 1, "comment": "x"}, headers=login("clerk")).status_code == 403
    assert client.post(url, json={"grade": 1, "comment": "x"}, headers=login("tj_enterprise")).status_code == 404
    assert client.post(url, json={"grade": 9}, headers=login("enterprise")).status_code == 400
    with runtime.unit_of_work() as uow:
        assert ratings.ratings_of(uow.session, closed.id) == []


def test_the_rating_window_closes_after_fifteen_working_days(runtime, client, login):
    instance = closed_case(runtime)
    with runtime.unit_of_work() as uow:
        uow.session.execute(update(ProcessInstance).where(ProcessInstance.id == instance.id)
                            .values(ended_at=utcnow() - timedelta(days=40)))
        uow.commit()
    late = client.post(f"/api/instances/{instance.id}/ratings", json={"grade": 5}, headers=login("enterprise"))
    assert late.status_code == 409 and "评价渠道已关闭" in late.json["message"]


def test_a_poor_rating_needs_a_reason_and_opens_verify_rectify_feedback(runtime, client, login, browser):
    instance = closed_case(runtime)
    url = f"/api/instances/{instance.id}/ratings"
    bare = client.post(url, json={"grade": 2}, headers=login("enterprise"))
    assert bare.status_code == 400 and "原因" in bare.json["message"]
    applicant = browser("enterprise")
    applicant.get(f"/my/cases/{instance.id}")
    assert applicant.post(f"/my/cases/{instance.id}/rating",
                          {"grade": "1", "comment": "窗口人员态度差"}).status_code == 302
    with runtime.unit_of_work() as uow:
        rating = uow.session.scalars(select(ratings.CaseRating)).one()
        followup = uow.session.get(ProcessInstance, rating.followup_instance_id)
        assert followup.process_key == "rating_followup" and followup.region_code == "110101"
        assert followup.title == f"差评整改：{instance.business_key}（非常不满意）"
    page = applicant.get(f"/my/cases/{instance.id}").get_data(as_text=True)
    assert "正在核实整改" in page and "提交评价" not in page
    for step, text in (("verify", "属实"), ("rectify", "已约谈窗口人员"), ("feedback", "已整改，欢迎监督")):
        task = open_followup_task(runtime, followup.id)
        assert task.name == step and task.lane == "supervisor"
        with runtime.unit_of_work() as uow:
            runtime.engine.complete_task(uow, task.id, actor("supervisor"), {"conclusion": text})
            uow.commit()
    page = applicant.get(f"/my/cases/{instance.id}").get_data(as_text=True)
    assert "督办答复：已整改，欢迎监督" in page


def test_officials_change_the_rule_by_deploying_a_new_table(runtime, client, login):
    rules = (ROOT / "processes" / "platform" / "rating_rules.dmn").read_bytes()
    twice = rules.replace(b"?.startswith('xf_')", b"?.startswith('work_')")
    with runtime.unit_of_work() as uow:
        runtime.deployer.deploy(uow.session, [(twice, "rating_rules.dmn")], "designer")
        uow.commit()
    try:
        instance = closed_case(runtime)
        url = f"/api/instances/{instance.id}/ratings"
        assert client.post(url, json={"grade": 4}, headers=login("enterprise")).status_code == 201
        assert client.post(url, json={"grade": 5}, headers=login("enterprise")).status_code == 201
        assert client.post(url, json={"grade": 5}, headers=login("enterprise")).status_code == 409
    finally:  # the suite's other tests expect the rule as shipped
        with runtime.unit_of_work() as uow:
            runtime.deployer.deploy(uow.session, files_under([ROOT / "processes" / "platform"]), "designer")
            uow.commit()


def test_ratings_are_counted_in_the_lifecycle_statistics(runtime, client, login):
    for grade, comment in ((5, "好"), (2, "慢")):
        instance = closed_case(runtime)
        client.post(f"/api/instances/{instance.id}/ratings", json={"grade": grade, "comment": comment},
                    headers=login("enterprise"))
    [counted] = client.get("/api/statistics/lifecycle", headers=login("supervisor")).json["ratings"]
    assert counted["process_key"] == "work_history_certificate" and counted["total"] == 2
    assert counted["grades"] == {"5": 1, "4": 0, "3": 0, "2": 1, "1": 0} and counted["poor_rate"] == 0.5
