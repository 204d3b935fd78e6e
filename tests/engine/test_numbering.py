"""Numbers drawn from patterns: gap-free and unique under concurrent draws, given back by a rollback,
reset by their year or day, never a number that history already holds (engine/numbering.py)."""
from __future__ import annotations

import threading
from datetime import datetime

import pytest

from engine import numbering
from engine.db import utcnow
from engine.errors import InvalidData

AT = datetime(2026, 12, 2, 3, 0)  # 11:00 in China


def draw(runtime, pattern, at=AT, region="", taken=None, commit=True):
    with runtime.unit_of_work() as uow:
        number = numbering.draw(uow.session, pattern, at=at, region=region, taken=taken)
        if commit:
            uow.commit()
        return number


def test_fields_are_filled_in_china_standard_time_and_the_sequence_is_padded(runtime):
    assert draw(runtime, "SD-{region}-{date}-{seq:4}", region="370100") == "SD-370100-20261202-0001"
    assert draw(runtime, "SD-{region}-{date}-{seq:4}", region="370100") == "SD-370100-20261202-0002"
    assert draw(runtime, "SD-{region}-{date}-{seq:4}", region="370200") == "SD-370200-20261202-0001"
    late = datetime(2026, 12, 31, 17, 0)  # 1 January 2027, 01:00 in China: a new year's counter
    assert draw(runtime, "津人社许字〔{year}〕第{seq:4}号", at=late) == "津人社许字〔2027〕第0001号"
    assert draw(runtime, "津人社许字〔{year}〕第{seq:4}号") == "津人社许字〔2026〕第0001号"


def test_a_rolled_back_draw_gives_its_number_back(runtime):
    assert draw(runtime, "R{seq:3}", commit=False) == "R001"
    assert draw(runtime, "R{seq:3}") == "R001"
    assert draw(runtime, "R{seq:3}") == "R002"


def test_numbers_history_already_holds_are_skipped(runtime):
    imported = {"H0001", "H0002", "H0004"}
    assert [draw(runtime, "H{seq:4}", taken=imported.__contains__) for _ in range(3)] == ["H0003", "H0005", "H0006"]


@pytest.mark.parametrize("pattern", ["X{seq}", "X{seq:4}{seq:2}", "X{year}", "X{foo}{seq:3}", "X{seq:20}"])
def test_a_pattern_that_cannot_number_is_refused(runtime, pattern):
    assert numbering.problems(pattern)
    with pytest.raises(InvalidData):
        draw(runtime, pattern)


def test_fifty_concurrent_draws_give_fifty_numbers_without_a_gap(runtime):
    """50 threads, each its own transaction, draw at once (PostgreSQL: row lock on the counter;
    SQLite: the write lock of BEGIN IMMEDIATE)."""
    numbers: list[str] = []
    errors: list[BaseException] = []
    start = threading.Barrier(50)

    def one() -> None:
        try:
            start.wait()
            numbers.append(draw(runtime, "RACE-{seq:3}"))
        except BaseException as error:  # noqa: BLE001 (reported below)
            errors.append(error)

    threads = [threading.Thread(target=one) for _ in range(50)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert sorted(numbers) == [f"RACE-{n:03d}" for n in range(1, 51)]


def test_a_process_whose_business_key_pattern_cannot_number_is_not_deployed(runtime):
    from engine.definitions import DefinitionInvalid
    from tests.bpmn_factory import linear_process

    xml = linear_process("numbered").replace(
        b'<spiffworkflow:property name="startableBy" value="reviewer" />',
        b'<spiffworkflow:property name="startableBy" value="reviewer" />'
        b'<spiffworkflow:property name="businessKeyPattern" value="N-{seq:4}-{seq:2}" />')
    with runtime.unit_of_work() as uow, pytest.raises(DefinitionInvalid) as refused:
        runtime.deployer.deploy(uow.session, [(xml, "numbered.bpmn")], "test")
    assert any("businessKeyPattern" in p.message and "{seq:N}" in p.message for p in refused.value.problems)


def test_a_service_task_draws_the_number_of_its_case(runtime):
    from tests.bpmn_factory import linear_process
    from tests.conftest import actor

    step = ('<bpmn:serviceTask id="mid" name="生成许可编号"><bpmn:extensionElements>'
            '<spiffworkflow:serviceTaskOperator id="numbering.draw" resultVariable="licence_no">'
            '<spiffworkflow:parameters><spiffworkflow:parameter id="pattern" type="str" '
            'value="\'XK-{region}-{year}-{seq:3}\'" /></spiffworkflow:parameters>'
            '</spiffworkflow:serviceTaskOperator></bpmn:extensionElements></bpmn:serviceTask>')
    with runtime.unit_of_work() as uow:
        runtime.deployer.deploy(uow.session, [(linear_process("granting", step), "granting.bpmn")], "test")
        uow.commit()
    numbers = []
    for key in ("G-1", "G-2"):
        with runtime.unit_of_work() as uow:
            instance = runtime.engine.start(uow, "granting", business_key=key, region_code="110101", data={},
                                            actor=actor("reviewer"))
            uow.commit()
            numbers.append(runtime.engine.instance_data(uow.session, instance)["licence_no"])
    year = (utcnow() + numbering.CST).year  # the year in China
    assert numbers == [f"XK-110101-{year}-001", f"XK-110101-{year}-002"]
