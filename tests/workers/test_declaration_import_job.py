"""Excel declarations are imported by a background job (embedded mode, direct job execution)."""
from __future__ import annotations

import pytest
from sqlalchemy import func, select

from engine.errors import InvalidData, NotFound
from services import declaration_import, declarations, workbooks
from services.declaration_import import DeclarationUpload
from services.declarations import DeclarationBatch
from services.jobs import Job
from tests.import_files import bad_row, good_row, workbook
from tests.workers.helpers import open_tasks, sleep_past

ENTERPRISE = "110101000001"


def queue(rt, actors, content: bytes, *, good_rows_only: bool = False, who: str = "enterprise",
          letter: bytes | None = None) -> int:
    with rt.unit_of_work() as uow:
        job = declaration_import.queue_import(uow, rt.jobs, actors[who], ENTERPRISE, "first", "申报.xlsx", content,
                                              import_valid_rows=good_rows_only, letter_filename="承诺书.pdf",
                                              letter=letter)
        uow.commit()
        return job.id


def job(rt, job_id: int) -> Job:
    with rt.unit_of_work() as uow:
        return uow.session.get(Job, job_id)


def count(rt, model) -> int:
    with rt.unit_of_work() as uow:
        return uow.session.scalar(select(func.count()).select_from(model))


def test_upload_only_queues_and_the_job_imports_a_clean_file(runtime, actors):
    job_id = queue(runtime, actors, workbook(good_row(401), good_row(402)), letter=b"%PDF-1.7\n%%EOF")
    queued = job(runtime, job_id)
    assert (queued.status, queued.progress_done, queued.progress_total) == ("queued", 0, 2)
    assert count(runtime, DeclarationBatch) == 0

    assert runtime.jobs.execute(job_id) == "done"
    done = job(runtime, job_id)
    assert (done.progress_done, done.progress_total) == (2, 2)
    assert done.result["imported"] is True and done.result["problems"] == []
    with runtime.unit_of_work() as uow:
        batch = declarations.get_batch(uow.session, done.result["batch_id"])
        assert [p.name for p in batch.persons] == ["导入401", "导入402"]
        letters = declaration_import.attachments.list_attachments(uow.session, runtime.engine, actors["enterprise"],
                                                                 batch.id)
        assert [a.filename for a in letters] == ["承诺书.pdf"]
    assert open_tasks(runtime, batch.instance_id) == ["review"]  # the review case has started
    assert count(runtime, DeclarationUpload) == 0  # the stored workbook is gone with the import
    assert runtime.jobs.execute(job_id) == "skipped"  # a second delivery does nothing


def test_a_file_with_errors_imports_nothing_and_lists_rows_and_columns(runtime, actors):
    job_id = queue(runtime, actors, workbook(good_row(410), bad_row(), good_row(411)[:4] + ["XX999", "", ""]))
    runtime.jobs.execute(job_id)
    result = job(runtime, job_id).result
    assert result["imported"] is False and count(runtime, DeclarationBatch) == 0
    assert {(p["row"], p["column"]) for p in result["problems"]} >= {
        (3, "公民身份号码"), (4, "特殊工种"), (4, "开始日期"), (4, "结束日期")}
    assert "未导入任何数据" in result["message"]


def test_import_good_rows_only_imports_the_persons_without_errors(runtime, actors):
    job_id = queue(runtime, actors, workbook(good_row(420), bad_row(), good_row(421)), good_rows_only=True)
    runtime.jobs.execute(job_id)
    result = job(runtime, job_id).result
    assert (result["imported"], result["valid_persons"], result["invalid_persons"]) == (True, 2, 1)
    with runtime.unit_of_work() as uow:
        names = [p.name for p in declarations.get_batch(uow.session, result["batch_id"]).persons]
    assert names == ["导入420", "导入421"]


def test_progress_is_visible_while_the_rows_are_read(runtime, actors, monkeypatch):
    monkeypatch.setattr(workbooks, "PROGRESS_EVERY", 2)
    job_id = queue(runtime, actors, workbook(*[good_row(470 + n) for n in range(6)]))
    seen: list[tuple[int, int]] = []
    original = workbooks._add_row

    def watching(*args, **kwargs):  # what a user polling GET /api/jobs/<id> would see meanwhile
        current = job(runtime, job_id)
        seen.append((current.progress_done, current.progress_total))
        return original(*args, **kwargs)

    monkeypatch.setattr(workbooks, "_add_row", watching)
    runtime.jobs.execute(job_id)
    assert any(0 < done < total == 6 for done, total in seen), seen
    assert (job(runtime, job_id).progress_done, job(runtime, job_id).progress_total) == (6, 6)


def test_cancelling_a_running_import_stops_it_and_imports_nothing(runtime, actors, monkeypatch):
    monkeypatch.setattr(workbooks, "PROGRESS_EVERY", 2)
    job_id = queue(runtime, actors, workbook(*[good_row(430 + n) for n in range(6)]))
    original = workbooks.parse_declaration

    def user_cancels_meanwhile(*args, **kwargs):
        with runtime.unit_of_work() as uow:
            runtime.jobs.cancel(uow, job_id, actors["enterprise"], runtime.engine.applicant_roles)
            uow.commit()
        assert job(runtime, job_id).status == "running"  # a running job stops at its next progress report
        return original(*args, **kwargs)

    monkeypatch.setattr(workbooks, "parse_declaration", user_cancels_meanwhile)
    assert runtime.jobs.execute(job_id) == "cancelled"
    assert job(runtime, job_id).status == "cancelled"
    assert count(runtime, DeclarationBatch) == 0 and count(runtime, DeclarationUpload) == 0


def test_an_import_killed_before_its_commit_runs_again_without_a_second_batch(background, actors, monkeypatch):
    job_id = queue(background, actors, workbook(good_row(440), good_row(441)))

    class Killed(BaseException):
        """What the runner sees of a process that dies in the middle of the final transaction."""

    original = declarations.submit_declaration

    def dies_after_storing_the_batch(*args, **kwargs):
        original(*args, **kwargs)
        raise Killed()

    monkeypatch.setattr(declarations, "submit_declaration", dies_after_storing_the_batch)
    with pytest.raises(Killed):
        background.jobs.execute(job_id)
    interrupted = job(background, job_id)
    assert interrupted.status == "running" and count(background, DeclarationBatch) == 0

    monkeypatch.setattr(declarations, "submit_declaration", original)
    sleep_past(interrupted.lease_until)
    assert background.jobs.run_pending() == 1
    done = job(background, job_id)
    assert (done.status, done.attempts, done.result["valid_persons"]) == ("done", 2, 2)
    assert count(background, DeclarationBatch) == 1


def test_another_enterprise_cannot_see_the_import(runtime, actors):
    job_id = queue(runtime, actors, workbook(good_row(450)))
    with runtime.unit_of_work() as uow:
        applicants = runtime.engine.applicant_roles
        assert declaration_import.get_import(uow.session, runtime.jobs, actors["enterprise"], job_id, applicants)
        with pytest.raises(NotFound):
            declaration_import.get_import(uow.session, runtime.jobs, actors["tj_enterprise"], job_id, applicants)


def test_a_malformed_workbook_is_refused_at_once_in_chinese(runtime, actors):
    with pytest.raises(InvalidData) as refused:
        queue(runtime, actors, b"PK\x03\x04 truncated")
    assert refused.value.message == workbooks.BAD_WORKBOOK
    with pytest.raises(InvalidData) as wrong_header:
        queue(runtime, actors, workbook(good_row(460), header=["姓名", "公民身份号码"]))
    assert wrong_header.value.message == "表头与模板不一致，请使用下载的模板"
    assert count(runtime, Job) == 0 and count(runtime, DeclarationUpload) == 0
