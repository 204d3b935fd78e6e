"""Excel declarations are imported by a background job (embedded mode: direct job execution and the
embedded runner's threads): the workbook caps, cancel within a heartbeat, the time limit, and
imports that never keep other kinds of job waiting."""
from __future__ import annotations

import io
import threading
import time
import zipfile
from collections.abc import Callable, Iterator
from types import SimpleNamespace

import pytest
from sqlalchemy import func, select

from engine.errors import InvalidData, NotFound
from services.bootstrap import Runtime, Settings, bootstrap
from services.platform.background import EmbeddedRunner
from services.platform.jobs import Job, JobContext, time_limit_message
from services.platform.xlsx_stream import Limits, Meter, iter_rows
from services.special_work import declaration_import, declarations, workbooks
from services.special_work.models import DeclarationBatch, DeclarationUpload, DeclaredPerson
from tests.import_files import bad_row, good_row, repacked, same_numbered_rows, workbook
from tests.workers.conftest import persons_with_one_error, submit_batch
from tests.workers.helpers import open_tasks, sleep_past, wait_until

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
    monkeypatch.setattr(JobContext, "HEARTBEAT_UNITS", 2)
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
    monkeypatch.setattr(JobContext, "HEARTBEAT_UNITS", 2)
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


def stored(rt) -> tuple[int, int, int]:
    """Batches, declared persons and stored uploads."""
    return count(rt, DeclarationBatch), count(rt, DeclaredPerson), count(rt, DeclarationUpload)


@pytest.fixture
def runtime_with(runtime) -> Iterator[Callable[..., Runtime]]:
    """Runtimes over the test database with settings of their own (caps, time limits)."""
    built: list[Runtime] = []

    def make(**settings) -> Runtime:
        built.append(bootstrap(Settings(database_url=runtime.settings.database_url, script_time_limit=0.5,
                                        **settings)))
        return built[-1]

    yield make
    for rt in built:
        rt.db.dispose()


def many_empty_rows() -> bytes:  # 1,000,000 rows, five times the cap: 16 MB, 16 KB compressed
    return repacked(workbook(), rows=b"<row><c/></row>" * 1_000_000)


def huge_shared_strings() -> bytes:  # 1,000 strings of 30,000 characters: 90 MB, 90 KB compressed
    table = (b'<sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
             + (b"<si><t>" + "工".encode() * 30_000 + b"</t></si>") * 1000 + b"</sst>")
    return repacked(workbook(), rows=b'<row><c t="s"><v>999</v></c></row>', shared=table)


@pytest.mark.parametrize(("bomb", "message"), [
    (many_empty_rows, "工作簿超过 20 万 行，请拆分后分批上传"),
    (huge_shared_strings, "工作簿共享字符串总长超过 2000 万 字，请拆分后分批上传"),
], ids=["millions of rows", "huge shared strings"])
def test_a_zip_bomb_is_refused_with_its_cap_and_nothing_is_stored(runtime, actors, bomb, message):
    content = bomb()
    assert len(content) < 300 * 1024
    job_id = queue(runtime, actors, content)  # the upload reads only as far as the header
    assert runtime.jobs.execute(job_id) == "done"
    result = job(runtime, job_id).result
    assert (result["imported"], result["message"]) == (False, f"{message}，未导入任何数据")
    assert stored(runtime) == (0, 0, 0)


def test_a_workbook_at_the_caps_imports_and_one_cell_more_is_refused(runtime_with, actors):
    content = workbook(*[good_row(480 + n) for n in range(10)])
    used = Meter(Limits())
    list(iter_rows(zipfile.ZipFile(io.BytesIO(content)), workbooks.SHEET, used, len(workbooks.COLUMNS)))
    at_caps = Limits(inflated_mb=1, elements=used.elements, rows=used.rows, cells=used.cells)

    exact = runtime_with(workbook_limits=at_caps)
    job_id = queue(exact, actors, content)
    assert exact.jobs.execute(job_id) == "done"
    assert job(exact, job_id).result["valid_persons"] == 10 and stored(exact) == (1, 10, 0)

    tighter = runtime_with(workbook_limits=Limits(inflated_mb=1, elements=used.elements, rows=used.rows,
                                                  cells=used.cells - 1))
    job_id = queue(tighter, actors, content)
    assert tighter.jobs.execute(job_id) == "done"
    refused = job(tighter, job_id).result["message"]
    assert refused == f"工作簿单元格超过 {used.cells - 1} 个，请拆分后分批上传，未导入任何数据"
    assert stored(tighter) == (1, 10, 0)  # the first import's batch only


def test_a_cancel_during_a_long_import_stops_it_at_its_next_heartbeat(runtime, actors, monkeypatch):
    """Every row is numbered 2, as a hostile writer may choose: progress and the cancel check count
    rows read, not row numbers."""
    rows = 20_000
    job_id = queue(runtime, actors, repacked(workbook(), rows=same_numbered_rows(rows), dimension=rows))
    original = JobContext.progress

    def user_cancels_on_seeing_progress(self, done, total):
        if done > 0 and not job(runtime, job_id).cancel_requested:
            with runtime.unit_of_work() as uow:
                runtime.jobs.cancel(uow, job_id, actors["enterprise"], runtime.engine.applicant_roles)
                uow.commit()
        return original(self, done, total)

    monkeypatch.setattr(JobContext, "progress", user_cancels_on_seeing_progress)
    assert runtime.jobs.execute(job_id) == "cancelled"
    stopped = job(runtime, job_id)
    assert (stopped.status, stopped.progress_total) == ("cancelled", rows)
    assert 0 < stopped.progress_done <= rows // 10  # stopped at the first report after the cancel
    assert stored(runtime) == (0, 0, 0)


def test_an_import_over_its_time_limit_fails_with_the_message_and_stores_nothing(runtime_with, actors, monkeypatch):
    limited = runtime_with(job_time_limits={"declaration.import": 1})
    job_id = queue(limited, actors, workbook(*[good_row(490 + n) for n in range(5)]))
    original = workbooks._add_row

    def slow(*args, **kwargs):  # five rows of 0.35 s: longer than the limit, whatever the machine
        time.sleep(0.35)
        return original(*args, **kwargs)

    monkeypatch.setattr(workbooks, "_add_row", slow)
    assert limited.jobs.execute(job_id) == "failed"
    failed = job(limited, job_id)
    assert failed.error == time_limit_message(1) == "后台任务超过时限（1 秒）仍未完成，已停止，没有保存任何结果"
    assert stored(limited) == (0, 0, 1)  # the workbook is kept for a retry


@pytest.fixture
def stuck_parse(monkeypatch) -> Iterator[SimpleNamespace]:
    """An import whose workbook carries a part named stuck.txt stops in its parse, reporting nothing
    (like a parser stuck in C code), until the test releases it."""
    gate = SimpleNamespace(entered=threading.Event(), release=threading.Event())
    original = workbooks.parse_declaration

    def parse(content, *args, **kwargs):
        if b"stuck.txt" in content:
            gate.entered.set()
            assert gate.release.wait(60)
        return original(content, *args, **kwargs)

    monkeypatch.setattr(workbooks, "parse_declaration", parse)
    yield gate
    gate.release.set()


def stuck_workbook(serial: int) -> bytes:
    return repacked(workbook(good_row(serial)), extra={"stuck.txt": b"1"})


def test_a_stuck_import_keeps_no_other_kind_of_job_waiting_in_the_embedded_runner(background, actors, stuck_parse):
    import_id = queue(background, actors, stuck_workbook(495))
    runner = EmbeddedRunner(background, poll_seconds=0.2)
    runner.start()
    try:
        assert stuck_parse.entered.wait(30)
        _, instance_id = submit_batch(background, actors, persons_with_one_error(3, first_serial=360))
        wait_until(lambda: open_tasks(background, instance_id) == ["review"], timeout=30)  # its 校验 job ran
        assert job(background, import_id).status == "running"
    finally:
        stuck_parse.release.set()
        runner.stop()


def test_the_embedded_runner_fails_a_stuck_import_at_its_time_limit(runtime_with, actors, stuck_parse):
    limited = runtime_with(job_time_limits={"declaration.import": 1})  # stopped from outside after 1 + 2 × 1 s
    import_id = queue(limited, actors, stuck_workbook(496))
    runner = EmbeddedRunner(limited, poll_seconds=0.2)
    runner.start()
    try:
        wait_until(lambda: job(limited, import_id).status == "failed", timeout=30,
                   seen=lambda: job(limited, import_id).status)
        assert job(limited, import_id).error == time_limit_message(1)
    finally:
        stuck_parse.release.set()  # the parse returns at last: what the job would commit is refused
        runner.stop()
    assert not any(lane.is_alive() for lane in runner.lanes)
    assert job(limited, import_id).status == "failed" and stored(limited) == (0, 0, 1)


def test_imports_run_one_at_a_time_and_the_next_starts_when_one_ends(runtime, actors, stuck_parse):
    first = queue(runtime, actors, stuck_workbook(497))
    second = queue(runtime, actors, workbook(good_row(498)))
    running = threading.Thread(target=runtime.jobs.execute, args=(first,))
    running.start()
    assert stuck_parse.entered.wait(30)
    assert runtime.jobs.execute(second) == "deferred"
    assert job(runtime, second).status == "queued"
    stuck_parse.release.set()
    running.join(30)
    assert job(runtime, first).status == "done"
    assert runtime.jobs.run_pending() == 1 and job(runtime, second).status == "done"
