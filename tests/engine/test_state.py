"""What a case's variables may hold survives being stored: dates too (a form's date field, an
expression's ``date(…)``), not only SpiffWorkflow's own datetime and timedelta."""
from __future__ import annotations

from datetime import date, datetime, timedelta

from tests.bpmn_factory import linear_process
from tests.conftest import actor


def test_dates_datetimes_and_durations_are_stored_and_read_back(runtime):
    values = {"day": date(2026, 10, 8), "moment": datetime(2026, 10, 8, 9, 30), "span": timedelta(days=3),
              "nested": {"days": [date(2026, 1, 1)]}}
    with runtime.unit_of_work() as uow:
        runtime.deployer.deploy(uow.session, [(linear_process("dated"), "dated.bpmn")], "test")
        instance = runtime.engine.start(uow, "dated", business_key="D-1", region_code="110000", data=values,
                                        actor=actor("reviewer"))
        uow.commit()
    runtime.engine.workflows._items.clear()  # read from the database, not the process's cache
    with runtime.unit_of_work() as uow:
        assert runtime.engine.instance_data(uow.session, instance) == values
