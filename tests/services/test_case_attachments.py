"""Case attachments (申请材料) as the platform keeps them: a user may hold only so many uploads not yet
part of a case, uploads never used are removed after a day, and a case's materials are read by its
applicant, the staff whose roles handle it and its supervisors — not by every staff role of the region."""
from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select

from engine.db import utcnow
from engine.errors import InvalidData, NotFound
from services.platform import attachments
from services.platform.attachments import CaseAttachment
from services.platform.background import purge_staged_uploads
from tests.conftest import actor
from tests.processes.hr_helpers import PDF, apply, register_organisation


def staged(runtime) -> int:
    with runtime.unit_of_work() as uow:
        return uow.session.scalar(select(func.count()).select_from(CaseAttachment).where(
            CaseAttachment.instance_id.is_(None))) or 0


def test_a_user_holds_only_so_many_uploads_not_yet_submitted(runtime):
    with runtime.unit_of_work() as uow:
        for _ in range(attachments.MAX_STAGED_FILES):
            attachments.stage(uow.session, actor("hr_org"), "letter", "申请书", "a.pdf", PDF)
        with pytest.raises(InvalidData, match="尚未提交的附件过多"):
            attachments.stage(uow.session, actor("hr_org"), "letter", "申请书", "a.pdf", PDF)
        attachments.stage(uow.session, actor("hr_org_chaoyang"), "letter", "申请书", "a.pdf", PDF)  # another user
        uow.commit()


def test_uploads_never_used_are_removed_after_a_day(runtime):
    with runtime.unit_of_work() as uow:
        old = attachments.stage(uow.session, actor("hr_org"), "letter", "申请书", "old.pdf", PDF)
        old.uploaded_at = utcnow() - timedelta(days=2)
        attachments.stage(uow.session, actor("hr_org"), "letter", "申请书", "new.pdf", PDF)
        uow.commit()
    assert purge_staged_uploads(runtime) == 1
    assert staged(runtime) == 1


def test_materials_are_read_by_the_applicant_the_handling_staff_and_supervisors_only(runtime):
    register_organisation(runtime)
    case = apply(runtime)
    with runtime.unit_of_work() as uow:
        file_id = uow.session.scalars(select(CaseAttachment.id).where(CaseAttachment.instance_id == case.id)).first()
    for who in ("hr_org", "acceptor", "supervisor", "admin"):
        with runtime.unit_of_work() as uow:
            assert attachments.get_visible(uow.session, runtime.engine, actor(who), case.id, file_id).content == PDF
    for who in ("reviewer", "designer", "catalogue_admin", "hr_org_chaoyang"):
        with runtime.unit_of_work() as uow, pytest.raises(NotFound):
            attachments.get_visible(uow.session, runtime.engine, actor(who), case.id, file_id)
