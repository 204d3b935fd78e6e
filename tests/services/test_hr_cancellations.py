"""注销单位行政许可 (seed 003 §2.13): the authority cancels some or all items of a licence at once,
audited; the licence ends with its last item; a cancelled licence cannot be cancelled again; only
the deciding staff of the licence's region may do it."""
from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import select

from engine.errors import Conflict, Forbidden, InvalidData, NotFound
from services.hr_market import cancellations
from services.hr_market.models import HrLicence, HrLicenceCancellation
from services.platform.audit import AuditEntry
from tests.conftest import actor
from tests.processes.hr_helpers import act, apply, register_organisation


def granted(runtime) -> str:
    register_organisation(runtime)
    case = apply(runtime)  # 为用人单位推荐劳动者 and 组织开展招聘会
    act(runtime, case.id, "acceptor", {"decision": "approve"})
    act(runtime, case.id, "approver", {"decision": "approve"})
    with runtime.unit_of_work() as uow:
        return uow.session.scalars(select(HrLicence.licence_number)).one()


def cancel(runtime, who: str, number: str, items: list[str], reason: str = "revoked"):
    with runtime.unit_of_work() as uow:
        done = cancellations.cancel(uow.session, actor(who), cancellations.CancellationInput(
            number, items, reason, "京人社罚〔2026〕1号", date(2026, 12, 1), "现场检查发现违规"))
        uow.commit()
        return done


def test_some_items_then_the_rest_end_the_licence(runtime):
    number = granted(runtime)
    first = cancel(runtime, "approver", number, ["job_fairs"])
    assert not first.whole
    with runtime.unit_of_work() as uow:
        licence = uow.session.scalars(select(HrLicence)).one()
        assert (licence.status, licence.items) == ("active", ["recommend_workers"])
    last = cancel(runtime, "admin", number, [])
    assert last.whole and last.items == ["recommend_workers"]
    with runtime.unit_of_work() as uow:
        licence = uow.session.scalars(select(HrLicence)).one()
        assert (licence.status, licence.cancel_mode, licence.cancelled_on) == ("cancelled", "authority",
                                                                               date(2026, 12, 1))
        entries = uow.session.scalars(select(AuditEntry).where(AuditEntry.action == "hr_licence.cancel")
                                      .order_by(AuditEntry.id)).all()
        assert [e.details["whole"] for e in entries] == [False, True]
    with pytest.raises(Conflict, match="已注销"):
        cancel(runtime, "approver", number, [])


def test_refusals_change_nothing(runtime):
    number = granted(runtime)
    with pytest.raises(InvalidData) as wrong:
        cancel(runtime, "approver", number, ["headhunting"], reason="because")
    assert set(wrong.value.fields) == {"items", "reason"}
    with pytest.raises(Forbidden):
        cancel(runtime, "acceptor", number, [])  # the 受理 desk does not cancel licences
    district = actor("tj_reviewer")
    with runtime.unit_of_work() as uow, pytest.raises((Forbidden, NotFound)):
        cancellations.licence_by_number(uow.session, district, number)
    with runtime.unit_of_work() as uow:
        assert uow.session.scalars(select(HrLicenceCancellation)).all() == []
        assert uow.session.scalars(select(HrLicence.status)).one() == "active"
