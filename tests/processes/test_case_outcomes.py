"""What a case's outcomes do around it: the applicant is told of each one, and a terminated case's
module ends its domain rows with the reason (services/platform/case_updates.py)."""
from __future__ import annotations

from sqlalchemy import select

from services.platform import supervision
from services.platform.notifications import Notification
from services.special_work import declarations
from tests.conftest import actor, person
from tests.services.review_helpers import complete, statuses, submit


def notices(runtime, username):
    with runtime.unit_of_work() as uow:
        return [(n.kind, n.subject, n.body) for n in uow.session.scalars(
            select(Notification).where(Notification.recipient == username).order_by(Notification.id))]


def terminate(runtime, instance_id, reason):
    with runtime.unit_of_work() as uow:
        supervision.terminate_case(uow, runtime.engine, actor("supervisor"), instance_id, reason)
        uow.commit()


def test_termination_ends_the_batch_and_its_open_persons_with_the_reason(runtime):
    batch_id, instance_id = submit(runtime, [person(1), person(2)])
    complete(runtime, instance_id, "reviewer", {"decision": "approve"})
    assert statuses(runtime, batch_id) == ("rechecking", ["reviewed", "reviewed"])

    terminate(runtime, instance_id, "申报单位已注销")

    assert statuses(runtime, batch_id) == ("terminated", ["terminated", "terminated"])
    with runtime.unit_of_work() as uow:
        batch = declarations.get_batch(uow.session, batch_id)
        assert {p.conclusion for p in batch.persons} == {"申报单位已注销"}
        assert declarations.STATUS_LABELS[batch.status] == "已终止"


def test_the_applicant_is_told_of_every_outcome_but_not_of_their_own_actions(runtime):
    _, instance_id = submit(runtime, [person(3)])
    assert notices(runtime, "enterprise") == []  # submitting is the applicant's own action

    complete(runtime, instance_id, "reviewer", {"decision": "approve"})
    complete(runtime, instance_id, "rechecker", {"decision": "reject", "conclusion": "工作经历证明不全"})
    received = notices(runtime, "enterprise")
    assert [kind for kind, _, _ in received] == ["case_update", "case_update"]
    assert "初审" in received[0][1] and "通过" in received[0][1]
    assert "复核：不通过" in received[1][1] and "办理意见：工作经历证明不全" in received[1][2]

    terminate(runtime, instance_id, "重复申报")
    subject, body = notices(runtime, "enterprise")[-1][1:]
    assert "已终止" in subject and "终止原因：重复申报" in body
    assert notices(runtime, "reviewer") == [] and notices(runtime, "supervisor") == []


def test_closing_a_case_tells_the_applicant_it_is_done(runtime):
    _, instance_id = submit(runtime, [person(4)])
    complete(runtime, instance_id, "reviewer", {"decision": "approve"})
    complete(runtime, instance_id, "rechecker", {"decision": "approve"})
    subjects = [subject for _, subject, _ in notices(runtime, "enterprise")]
    assert subjects[-1].startswith("【办结】")
    assert len(subjects) == 3  # 初审, 复核, 办结
